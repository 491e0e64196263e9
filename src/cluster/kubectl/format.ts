// kubectl's output primitives: the tabwriter (padding 3), HumanDuration for
// AGE, and sorted-key YAML/JSON like kubectl's printers.

import { Scalar, stringify } from 'yaml';

/** Rows joined with tabs through tabwriter(minwidth 0, tabwidth 8, padding 3): every cell but the last padded. */
export function tabwrite(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { if (i < r.length - 1) widths[i] = Math.max(widths[i] ?? 0, c.length); });
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]! + 3) : c)).join('')).join('\n') + (rows.length ? '\n' : '');
}

/** k8s.io/apimachinery duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) { const s = seconds % 60; return s === 0 ? `${minutes}m` : `${minutes}m${s}s`; }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) { const m = minutes % 60; return m === 0 ? `${hours}h` : `${hours}h${m}m`; }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) { const h = hours % 24; return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`; }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) { const d = Math.floor(hours / 24) % 365; return d === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${d}d`; }
  return `${Math.floor(hours / 24 / 365)}y`;
}

export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

/** `-o json`: Go's MarshalIndent with 4 spaces, keys sorted. */
export function toJson(v: unknown): string { return JSON.stringify(sortKeys(v), null, 4) + '\n'; }

/**
 * `-o yaml`: sigs.k8s.io/yaml style (sorted keys, block sequences not
 * indented). Its go-yaml v2 quotes a string that YAML 1.1 would read as
 * something else (`creationTimestamp: "2024-09-23T09:00:00Z"`, "on", "0755").
 */
export function toYaml(v: unknown): string { return stringify(quote11(sortKeys(v)), { indentSeq: false, lineWidth: 0 }); }

/** Plain strings YAML 1.1 resolves to another type (timestamps, yes/no/on/off, octal, binary, base 60); YAML 1.2's own ones the printer quotes itself. */
const YAML11_NOT_STRING = /^(?:\d{4}-\d\d?-\d\d?(?:(?:[Tt]|[ \t]+)\d\d?:\d\d:\d\d(?:\.\d*)?(?:[ \t]*(?:Z|[-+]\d\d?(?::\d\d)?))?)?|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|[-+]?0[0-7_]+|[-+]?0b[01_]+|[-+]?[1-9][0-9_]*(?::[0-5]?\d)+(?:\.[0-9_]*)?)$/;

function quote11(v: unknown): unknown {
  if (typeof v === 'string' && YAML11_NOT_STRING.test(v)) { const s = new Scalar(v); s.type = Scalar.QUOTE_DOUBLE; return s; }
  if (Array.isArray(v)) return v.map(quote11);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, quote11(x)]));
  return v;
}
