// Kubernetes label selectors over Cilium labels (`source:key=value`), as
// Hubble's label filters use them: a key with a source (`k8s:app`) matches
// only that source, a bare key (or `any:`) matches every source.

import { invalid } from './errors.ts';

type Op = 'exists' | '!exists' | '=' | '!=' | 'in' | 'notin';
interface Requirement { source: string | null; key: string; op: Op; values: string[] }

/** A parsed selector: true when a label list satisfies every requirement. */
export type LabelSelector = (labels: readonly string[]) => boolean;

const KEY = /^[A-Za-z0-9][-A-Za-z0-9_./:]*$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const MAX_SELECTOR = 4096;

function splitSource(k: string): { source: string | null; key: string } {
  const i = k.indexOf(':');
  if (i <= 0) return { source: null, key: k };
  const source = k.slice(0, i);
  return { source: source === 'any' ? null : source, key: k.slice(i + 1) };
}

/** Top-level commas split requirements; commas inside `( )` belong to a set. */
function splitRequirements(s: string): string[] {
  const out: string[] = [];
  let depth = 0, cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim());
}

function parseRequirement(r: string, whole: string): Requirement {
  let m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(r);
  if (m) {
    const values = m[3]!.split(',').map((v) => v.trim());
    return { ...checkedKey(m[1]!, whole), op: m[2] as Op, values: values.map((v) => checkedValue(v, whole)) };
  }
  m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(r);
  if (m) return { ...checkedKey(m[1]!, whole), op: m[2] === '!=' ? '!=' : '=', values: [checkedValue(m[3]!, whole)] };
  m = /^(!?)\s*([^=!\s]+)$/.exec(r);
  if (m) return { ...checkedKey(m[2]!, whole), op: m[1] ? '!exists' : 'exists', values: [] };
  throw invalid(`failed to parse label selector "${whole}": unable to parse requirement "${r}"`);
}
function checkedKey(k: string, whole: string): { source: string | null; key: string } {
  if (!KEY.test(k) || k.length > 317) throw invalid(`failed to parse label selector "${whole}": invalid label key "${k}"`);
  return splitSource(k);
}
function checkedValue(v: string, whole: string): string {
  if (v.length > 63 || !VALUE.test(v)) throw invalid(`failed to parse label selector "${whole}": invalid label value "${v}"`);
  return v;
}

/** Parse a selector (`app=web`, `k8s:app in (a,b)`, `!reserved:world`, ...); throws INVALID_ARGUMENT. */
export function parseLabelSelector(selector: string): LabelSelector {
  if (selector.length > MAX_SELECTOR) throw invalid(`label selector longer than ${MAX_SELECTOR} characters`);
  const reqs = selector.trim() === '' ? [] : splitRequirements(selector).map((r) => parseRequirement(r, selector));
  return (labels) => {
    // Values per bare key (any source) and per source:key.
    const bare = new Map<string, string[]>(), full = new Map<string, string[]>();
    for (const l of labels) {
      const colon = l.indexOf(':'), eq = l.indexOf('=', colon + 1);
      const source = colon > 0 ? l.slice(0, colon) : '';
      const key = l.slice(colon + 1, eq < 0 ? undefined : eq), value = eq < 0 ? '' : l.slice(eq + 1);
      (bare.get(key) ?? bare.set(key, []).get(key)!).push(value);
      const fk = `${source}:${key}`;
      (full.get(fk) ?? full.set(fk, []).get(fk)!).push(value);
    }
    return reqs.every((r) => {
      const vals = r.source === null ? bare.get(r.key) : full.get(`${r.source}:${r.key}`);
      switch (r.op) {
        case 'exists': return vals !== undefined;
        case '!exists': return vals === undefined;
        case '=': return vals !== undefined && vals.includes(r.values[0]!);
        case '!=': return vals === undefined || !vals.includes(r.values[0]!);
        case 'in': return vals !== undefined && vals.some((v) => r.values.includes(v));
        case 'notin': return vals === undefined || !vals.some((v) => r.values.includes(v));
        default: return false;
      }
    });
  };
}
