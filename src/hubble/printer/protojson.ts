// protojson as the hubble CLI prints it: Go's protojson with proto field
// names (UseProtoNames), enums as names, 64-bit integers as strings,
// Timestamps as RFC 3339, wrappers as bare values, default values left out,
// fields in declaration order; then re-encoded by encoding/json, which
// compacts it and escapes <, >, & and U+2028/2029.

import protobuf from 'protobufjs';
import { protojsonTime } from './time.ts';
import { toBigInt, toNum, type Int64Like } from './values.ts';

type Obj = Record<string, unknown>;

const INT64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const WRAPPERS = new Set(['BoolValue', 'StringValue', 'BytesValue', 'Int32Value', 'UInt32Value', 'Int64Value', 'UInt64Value', 'FloatValue', 'DoubleValue']);

/** A JSON string as Go writes it (protojson's escapes plus encoding/json's HTML-safe ones). */
export function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c < 0x20) {
      out += ch === '\b' ? '\\b' : ch === '\f' ? '\\f' : ch === '\n' ? '\\n' : ch === '\r' ? '\\r' : ch === '\t' ? '\\t' : `\\u${c.toString(16).padStart(4, '0')}`;
    } else if (ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

function goFloat(n: number): string {
  if (Number.isNaN(n)) return '"NaN"';
  if (!Number.isFinite(n)) return n > 0 ? '"Infinity"' : '"-Infinity"';
  return String(n);
}

function bytesBase64(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return '';
}

function scalar(type: string, v: unknown): string {
  if (INT64.has(type)) return `"${toBigInt(v as Int64Like)}"`;
  switch (type) {
    case 'bool': return v ? 'true' : 'false';
    case 'string': return goJsonString(String(v ?? ''));
    case 'bytes': return goJsonString(bytesBase64(v));
    case 'double': case 'float': return goFloat(Number(v));
    default: return String(toNum(v as Int64Like));
  }
}

function isDefault(type: string, v: unknown, e: protobuf.Enum | undefined): boolean {
  if (v === undefined || v === null) return true;
  if (e) return (typeof v === 'string' ? e.values[v] : Number(v)) === 0;
  if (INT64.has(type)) return toBigInt(v as Int64Like) === 0n;
  switch (type) {
    case 'bool': return v === false;
    case 'string': return v === '';
    case 'bytes': return (v instanceof Uint8Array ? v.length : String(v).length) === 0;
    default: return Number(v) === 0;
  }
}

function enumValue(e: protobuf.Enum, v: unknown): string {
  if (typeof v === 'string') return goJsonString(v);
  const n = Number(v);
  const name = e.valuesById[n];
  return name !== undefined ? goJsonString(name) : String(n);
}

function lowerCamel(path: string): string {
  return path.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** A message's value with the well-known types' special JSON forms. */
function messageValue(t: protobuf.Type, v: Obj): string {
  switch (t.fullName) {
    case '.google.protobuf.Timestamp': return `"${protojsonTime(toNum(v.seconds as Int64Like), Number(v.nanos ?? 0))}"`;
    case '.google.protobuf.FieldMask': return goJsonString(((v.paths as string[] | undefined) ?? []).map(lowerCamel).join(','));
    default:
      if (t.fullName.startsWith('.google.protobuf.') && WRAPPERS.has(t.name)) {
        const f = t.fields.value!;
        return f.type === 'bytes' ? goJsonString(bytesBase64(v.value)) : scalar(f.type, v.value ?? (f.type === 'bool' ? false : f.type === 'string' ? '' : 0));
      }
      return encodeMessage(t, v);
  }
}

function fieldValue(f: protobuf.Field, v: unknown): string {
  const rt = f.resolvedType;
  if (rt instanceof protobuf.Enum) return enumValue(rt, v);
  if (rt instanceof protobuf.Type) return messageValue(rt, (v ?? {}) as Obj);
  return scalar(f.type, v);
}

/** A message as protojson (proto names), its fields in declaration order. */
export function encodeMessage(type: protobuf.Type, obj: Obj): string {
  const parts: string[] = [];
  for (const f of type.fieldsArray) {
    f.resolve();
    const v = obj[f.name];
    const rt = f.resolvedType;
    if (f.repeated) {
      if (!Array.isArray(v) || v.length === 0) continue;
      parts.push(`${goJsonString(f.name)}:[${v.map((x) => fieldValue(f, x)).join(',')}]`);
      continue;
    }
    if (rt instanceof protobuf.Type || f.partOf) {
      if (v === undefined || v === null) continue;
    } else if (isDefault(f.type, v, rt instanceof protobuf.Enum ? rt : undefined)) continue;
    parts.push(`${goJsonString(f.name)}:${fieldValue(f, v)}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * encoding/json's MarshalIndent layout of compact JSON (prefix "", indent
 * two spaces): one member per line, "key": value, empty {} and [] kept whole.
 */
export function indentJson(compact: string, indent = '  '): string {
  let out = '', depth = 0, inStr = false, pendingOpen = false;
  const nl = (): string => '\n' + indent.repeat(depth);
  for (let i = 0; i < compact.length; i++) {
    const c = compact[i]!;
    if (inStr) {
      out += c;
      if (c === '\\') { out += compact[++i] ?? ''; } else if (c === '"') inStr = false;
      continue;
    }
    if (pendingOpen && c !== '}' && c !== ']') { depth++; out += nl(); }
    if (pendingOpen && (c === '}' || c === ']')) { pendingOpen = false; out += c; continue; }
    pendingOpen = false;
    switch (c) {
      case '"': inStr = true; out += c; break;
      case '{': case '[': out += c; pendingOpen = true; break;
      case '}': case ']': depth--; out += nl() + c; break;
      case ',': out += ',' + nl(); break;
      case ':': out += ': '; break;
      default: out += c;
    }
  }
  return out;
}
