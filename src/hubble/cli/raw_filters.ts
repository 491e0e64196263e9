// --allowlist / --denylist (FlowFilters as JSON, proto or lowerCamel names)
// and --print-raw-filters (the lists as YAML, each filter as one JSON string),
// as the hubble CLI reads and prints them.

import protobuf from 'protobufjs';
import { FlowFilter, type FlowFilterObject } from '../proto.ts';
import { encodeMessage } from '../printer/protojson.ts';

/** Renames lowerCamel keys to the proto names protobufjs was loaded with; throws on unknown fields, as protojson does. */
function protoNames(type: protobuf.Type, v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) {
    const f = type.fields[k] ?? type.fieldsArray.find((x) => x.name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) === k);
    if (!f) throw new Error(`proto: unknown field "${k}"`);
    f.resolve();
    const sub = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
    out[f.name] = sub ? (Array.isArray(val) ? val.map((x) => protoNames(sub, x)) : protoNames(sub, val)) : val;
  }
  return out;
}

/** The FlowFilters one --allowlist/--denylist value holds (one or more JSON objects). */
export function parseRawFilters(text: string): FlowFilterObject[] {
  const out: FlowFilterObject[] = [];
  // Concatenated objects ({...}{...}, or separated by whitespace) decode one after another, as Go's json.Decoder reads them.
  const docs = text.trim() === '' ? [] : splitJsonValues(text);
  for (const d of docs) {
    const obj = JSON.parse(d) as unknown;
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new Error('proto: syntax error: expected a JSON object');
    const msg = FlowFilter.fromObject(protoNames(FlowFilter, obj) as Record<string, unknown>);
    out.push(FlowFilter.toObject(msg, { enums: Number, longs: Number, defaults: false }) as FlowFilterObject);
  }
  return out;
}

/** Splits concatenated JSON values at top level. */
function splitJsonValues(text: string): string[] {
  const out: string[] = [];
  let depth = 0, start = -1, inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inStr) { if (c === '\\') i++; else if (c === '"') inStr = false; continue; }
    if (c === '"') { inStr = true; if (start < 0) start = i; continue; }
    if (c === '{' || c === '[') { if (depth++ === 0) start = i; continue; }
    if (c === '}' || c === ']') { if (--depth === 0) { out.push(text.slice(start, i + 1)); start = -1; } continue; }
    if (!/\s/.test(c) && depth === 0) throw new Error(`invalid character '${c}' looking for beginning of value`);
  }
  if (depth !== 0 || inStr) throw new Error('unexpected EOF');
  return out;
}

/** yaml.v2's single-quoted scalar. */
const yamlQuote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** --print-raw-filters: `allowlist:` / `denylist:` lists of JSON strings, `{}` when both are empty. */
export function rawFiltersYaml(whitelist: FlowFilterObject[], blacklist: FlowFilterObject[]): string {
  const list = (name: string, fs: FlowFilterObject[]): string =>
    (fs.length ? `${name}:\n${fs.map((f) => `- ${yamlQuote(encodeMessage(FlowFilter, f as Record<string, unknown>))}\n`).join('')}` : '');
  const out = list('allowlist', whitelist) + list('denylist', blacklist);
  return out === '' ? '{}\n' : out;
}
