// kubectl's JSONPath templates (k8s.io/client-go/util/jsonpath), the common
// forms: {.a.b}, {.items[*].metadata.name}, {.items[0]}, {[?(@.k=="v")]},
// {range .items[*]}...{end}, {"\n"} literals and plain text between actions.

type Node = { t: 'text'; s: string } | { t: 'path'; p: string } | { t: 'range'; p: string; body: Node[] };

function parse(tpl: string): Node[] {
  const stack: Node[][] = [[]];
  const ranges: Array<{ p: string }> = [];
  let i = 0;
  while (i < tpl.length) {
    const open = tpl.indexOf('{', i);
    if (open < 0) { stack.at(-1)!.push({ t: 'text', s: tpl.slice(i) }); break; }
    if (open > i) stack.at(-1)!.push({ t: 'text', s: tpl.slice(i, open) });
    let depth = 0, j = open, inStr = false;
    for (; j < tpl.length; j++) {
      const c = tpl[j];
      if (c === '"' && tpl[j - 1] !== '\\') inStr = !inStr;
      if (inStr) continue;
      if (c === '{') depth++;
      else if (c === '}' && --depth === 0) break;
    }
    if (j >= tpl.length) throw new Error(`error parsing jsonpath ${tpl}, unclosed action`);
    const inner = tpl.slice(open + 1, j).trim();
    i = j + 1;
    if (inner.startsWith('range ')) { ranges.push({ p: inner.slice(6).trim() }); stack.push([]); continue; }
    if (inner === 'end') {
      const r = ranges.pop();
      if (!r) throw new Error(`error parsing jsonpath ${tpl}, not in range, nothing to end`);
      const body = stack.pop()!;
      stack.at(-1)!.push({ t: 'range', p: r.p, body });
      continue;
    }
    if (/^".*"$/s.test(inner)) { stack.at(-1)!.push({ t: 'text', s: JSON.parse(inner) as string }); continue; }
    stack.at(-1)!.push({ t: 'path', p: inner });
  }
  if (ranges.length) throw new Error(`error parsing jsonpath ${tpl}, unclosed range`);
  return stack[0]!;
}

/** Evaluate one path expression against `cur`, returning every match. */
export function evalPath(expr: string, root: unknown, cur: unknown = root): unknown[] {
  let vals: unknown[] = [cur];
  let e = expr.trim();
  if (e.startsWith('$')) { vals = [root]; e = e.slice(1); } else if (e.startsWith('@')) e = e.slice(1);
  const re = /^(\.\.?)([A-Za-z0-9_\-/]+)|^\.?\[\s*(\*|-?\d+|'[^']*'|"[^"]*"|\?\((.*?)\))\s*\]|^\.$/;
  while (e.length) {
    const m = re.exec(e);
    if (!m) throw new Error(`unrecognized identifier ${e}`);
    e = e.slice(m[0].length);
    if (m[0] === '.') continue;
    const next: unknown[] = [];
    for (const v of vals) {
      if (m[2] !== undefined) {
        if (m[1] === '..') collectDeep(v, m[2], next);
        else if (v && typeof v === 'object' && !Array.isArray(v) && m[2] in v) next.push((v as Record<string, unknown>)[m[2]]);
      } else if (m[4] !== undefined) {
        if (Array.isArray(v)) for (const x of v) if (filterMatch(m[4], root, x)) next.push(x);
      } else if (m[3] === '*') {
        if (Array.isArray(v)) next.push(...v); else if (v && typeof v === 'object') next.push(...Object.values(v));
      } else if (m[3] !== undefined && /^['"]/.test(m[3])) {
        const k = m[3].slice(1, -1);
        if (v && typeof v === 'object' && k in v) next.push((v as Record<string, unknown>)[k]);
      } else if (m[3] !== undefined && Array.isArray(v)) {
        const n = Number(m[3]);
        const x = v[n < 0 ? v.length + n : n];
        if (x !== undefined) next.push(x);
      }
    }
    vals = next;
  }
  return vals;
}

function collectDeep(v: unknown, key: string, out: unknown[]): void {
  if (Array.isArray(v)) { for (const x of v) collectDeep(x, key, out); return; }
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (key in o) out.push(o[key]);
    for (const x of Object.values(o)) collectDeep(x, key, out);
  }
}

function filterMatch(f: string, root: unknown, item: unknown): boolean {
  const m = /^\s*(@[^=!<>\s]*)\s*(==|!=|<=|>=|<|>)?\s*(.*?)\s*$/.exec(f);
  if (!m) return false;
  const left = evalPath(m[1]!, root, item);
  if (!m[2]) return left.length > 0;
  const rv = m[3]!;
  const right: unknown = /^['"]/.test(rv) ? rv.slice(1, -1) : Number(rv);
  const l = left[0];
  switch (m[2]) {
    case '==': return l === right || String(l) === String(right);
    case '!=': return String(l) !== String(right);
    case '<': return Number(l) < Number(right);
    case '>': return Number(l) > Number(right);
    case '<=': return Number(l) <= Number(right);
    default: return Number(l) >= Number(right);
  }
}

function show(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function run(nodes: Node[], root: unknown, cur: unknown): string {
  let out = '';
  for (const n of nodes) {
    if (n.t === 'text') out += n.s;
    else if (n.t === 'path') out += evalPath(n.p, root, cur).map(show).join(' ');
    else for (const item of evalPath(n.p, root, cur)) out += run(n.body, root, item);
  }
  return out;
}

/** Render a kubectl -o jsonpath template against obj. Throws Error with kubectl's wording on parse errors. */
export function renderJsonPath(template: string, obj: unknown): string {
  return run(parse(template), obj, obj);
}
