// A fast path for the manifests most requests carry: ASCII block mappings and
// sequences of single-line scalars and single-line flow collections. The
// `yaml` library (the full parser) costs ~100 µs a small document, a 10,000-pod
// apply over a second; this reads the same text in a few ms. It answers only
// what it is sure of and returns undefined for anything else (anchors, tags,
// block or multi-line scalars, escapes, numbers other than plain integers,
// duplicate or non-string keys, deep nesting, odd indentation, any character
// outside printable ASCII), and the caller parses the whole text with `yaml`
// then, so errors, line numbers and every subtle case stay that library's. A
// differential test (test/control_plane.yaml.test.ts) holds the two equal.

import type { Any } from './types.ts';

/** Nesting (block and flow) beyond which the full parser and its guards take over. */
const FAST_DEPTH = 64;

class Bail extends Error {}
const bail = (): never => { throw new Bail(); };

interface Line { indent: number; text: string }

/** Every document's value (null for an empty one), or undefined: parse the text with `yaml`. */
export function fastDocuments(text: string): Any[] | undefined {
  // Printable ASCII and newlines only: no tabs, CR, BOM, control or non-ASCII characters.
  if (/[^\n\x20-\x7e]/.test(text)) return undefined;
  try {
    const out: Any[] = [];
    let doc: Line[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!;
      if (raw.startsWith('---') || raw.startsWith('...') || raw.startsWith('%')) {
        if (!/^---\s*$/.test(raw)) return undefined;
        // A leading `---` opens the first document; later ones close the one before.
        if (i > 0 || doc.length > 0) out.push(documentValue(doc));
        doc = [];
        continue;
      }
      let indent = 0;
      while (raw.charCodeAt(indent) === 0x20) indent++;
      if (indent === raw.length || raw.charCodeAt(indent) === 0x23 /* # */) continue;
      doc.push({ indent, text: raw.slice(indent).trimEnd() });
    }
    out.push(documentValue(doc));
    return out;
  } catch (e) {
    if (e instanceof Bail) return undefined;
    throw e;
  }
}

/** A document: nothing (null) or a block mapping at column 0 that uses every line. */
function documentValue(lines: Line[]): Any {
  if (lines.length === 0) return null;
  if (lines[0]!.indent !== 0 || isSeqItem(lines[0]!.text)) bail();
  const p = { lines, i: 0 };
  const v = blockMap(p, 0, 1);
  if (p.i !== lines.length) bail();
  return v;
}

interface Cursor { lines: Line[]; i: number }

function isSeqItem(t: string): boolean { return t.charCodeAt(0) === 0x2d && (t.length === 1 || t.charCodeAt(1) === 0x20); }

/** The block node starting at the current line (a sequence or a mapping at its indent). */
function blockNode(p: Cursor, depth: number): Any {
  if (depth > FAST_DEPTH) bail();
  const l = p.lines[p.i]!;
  return isSeqItem(l.text) ? blockSeq(p, l.indent, depth) : blockMap(p, l.indent, depth);
}

/** The value of a key or item with nothing after it on its line: a deeper block, a sequence at the key's own indent, or null. */
function nestedValue(p: Cursor, indent: number, seqAtSameIndent: boolean, depth: number): Any {
  const next = p.lines[p.i];
  if (next && next.indent > indent) return blockNode(p, depth + 1);
  if (next && seqAtSameIndent && next.indent === indent && isSeqItem(next.text)) return blockSeq(p, indent, depth + 1);
  return null;
}

function blockMap(p: Cursor, indent: number, depth: number): Any {
  const obj: Record<string, Any> = {};
  while (p.i < p.lines.length) {
    const l = p.lines[p.i]!;
    if (l.indent < indent) break;
    if (l.indent > indent || isSeqItem(l.text)) bail();
    const { key, rest } = splitKey(l.text);
    if (Object.hasOwn(obj, key)) bail();
    p.i++;
    obj[key] = rest === '' ? nestedValue(p, indent, true, depth) : inlineValue(p, rest, indent, depth);
  }
  return obj;
}

function blockSeq(p: Cursor, indent: number, depth: number): Any {
  const arr: Any[] = [];
  while (p.i < p.lines.length) {
    const l = p.lines[p.i]!;
    if (l.indent < indent || (l.indent === indent && !isSeqItem(l.text))) break;
    if (l.indent > indent) bail();
    let skip = 1;
    while (l.text.charCodeAt(skip) === 0x20) skip++;
    const rest = l.text.slice(skip);
    if (rest === '' || rest.startsWith('#')) { p.i++; arr.push(nestedValue(p, indent, false, depth)); continue; }
    if (isSeqItem(rest) || keyEnd(rest) >= 0) {
      // `- a: 1` / `- - x`: a compact node whose column is where it starts on the item's line.
      p.lines[p.i] = { indent: indent + skip, text: rest };
      arr.push(blockNode(p, depth + 1));
      continue;
    }
    p.i++;
    arr.push(inlineValue(p, rest, indent, depth));
  }
  return arr;
}

/** A scalar or flow collection after `key: ` or `- `; a deeper line after it would continue it (multi-line): not handled. */
function inlineValue(p: Cursor, rest: string, indent: number, depth: number): Any {
  const next = p.lines[p.i];
  if (next && next.indent > indent) bail();
  const c = rest.charCodeAt(0);
  if (c === 0x23 /* # */) bail();
  if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
    const f = { s: rest, i: 0 };
    const v = flowNode(f, depth + 1);
    afterValue(rest, f.i);
    return v;
  }
  if (c === 0x22 /* " */ || c === 0x27 /* ' */) {
    const q = quoted(rest, 0);
    afterValue(rest, q.end);
    return q.value;
  }
  return plainBlockScalar(rest);
}

/** After a value on its line: nothing, or a comment after a space. */
function afterValue(s: string, i: number): void {
  const tail = s.slice(i);
  if (tail !== '' && !/^ +#/.test(tail)) bail();
}

/** Index of the `:` that ends a plain key (followed by a space or the line's end), or -1. */
function keyEnd(t: string): number {
  // A flow collection is a value here (one used as a key is left to the full parser by inlineValue).
  if (t.charCodeAt(0) === 0x5b || t.charCodeAt(0) === 0x7b) return -1;
  if (t.charCodeAt(0) === 0x22 || t.charCodeAt(0) === 0x27) {
    const q = quoted(t, 0);
    return t.charCodeAt(q.end) === 0x3a && (q.end + 1 === t.length || t.charCodeAt(q.end + 1) === 0x20) ? q.end : -1;
  }
  for (let i = 0; i < t.length; i++) {
    if (t.charCodeAt(i) === 0x3a && (i + 1 === t.length || t.charCodeAt(i + 1) === 0x20)) return i;
    if (t.charCodeAt(i) === 0x23 && i > 0 && t.charCodeAt(i - 1) === 0x20) return -1;
  }
  return -1;
}

function splitKey(t: string): { key: string; rest: string } {
  const end = keyEnd(t);
  if (end < 0) bail();
  const key = t.charCodeAt(0) === 0x22 || t.charCodeAt(0) === 0x27 ? quoted(t, 0).value : plainKey(t.slice(0, end).trimEnd());
  let rest = t.slice(end + 1).trimStart();
  if (rest.startsWith('#')) rest = '';
  return { key, rest };
}

/** Characters that may not start a plain scalar here (YAML's indicators), plus `-` which only `- ` makes one. */
const NOT_FIRST = new Set('-?:,[]{}#&*!|>\'"%@`');

function plainKey(k: string): string {
  if (k === '' || NOT_FIRST.has(k[0]!) || /[:#,[\]{}]/.test(k)) bail();
  const v = resolvePlain(k);
  if (typeof v !== 'string' || v === '__proto__') bail();
  return v;
}

function plainBlockScalar(s: string): Any {
  const hash = s.indexOf(' #');
  const v = (hash >= 0 ? s.slice(0, hash) : s).trimEnd();
  if (v === '' || NOT_FIRST.has(v[0]!) || v.includes(': ') || v.endsWith(':')) bail();
  return resolvePlain(v);
}

/** YAML 1.2 core schema, as `yaml` resolves a plain scalar: null, booleans, plain integers; any other number form goes to the full parser. */
function resolvePlain(v: string): Any {
  switch (v) {
    case '~': case 'null': case 'Null': case 'NULL': return null;
    case 'true': case 'True': case 'TRUE': return true;
    case 'false': case 'False': case 'FALSE': return false;
    default: break;
  }
  if (/^[0-9]{1,15}$/.test(v)) return Number(v);
  // Signs, dots, digits, 0o/0x, .inf/.nan: a number form this path does not resolve.
  if (/^[-+.0-9]/.test(v) && /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)$/.test(v)) bail();
  return v;
}

/** A quoted scalar on one line without escapes: its value and the index after the closing quote. */
function quoted(s: string, at: number): { value: string; end: number } {
  const q = s[at]!;
  if (q === '"') {
    const close = s.indexOf('"', at + 1);
    if (close < 0) bail();
    const value = s.slice(at + 1, close);
    if (value.includes('\\')) bail();
    return { value, end: close + 1 };
  }
  let value = '';
  let i = at + 1;
  for (;;) {
    const close = s.indexOf("'", i);
    if (close < 0) bail();
    value += s.slice(i, close);
    if (s[close + 1] === "'") { value += "'"; i = close + 2; continue; }
    return { value, end: close + 1 };
  }
}

interface Flow { s: string; i: number }

/** Character-code tables (ASCII) for the flow scanners. */
function charTable(chars: string): boolean[] {
  const t: boolean[] = new Array(128).fill(false);
  for (const c of chars) t[c.charCodeAt(0)] = true;
  return t;
}
/** Where a plain key in a flow mapping ends (or cannot go on). */
const KEY_STOP = charTable(':,[]{}#');
/** Where a plain scalar in a flow collection ends. */
const FLOW_END = charTable(',]}');
/** After a `:` inside a flow scalar: these make it an indicator, not part of the scalar. */
const AFTER_COLON_STOP = charTable(' ,]}[{');

function skipSpaces(f: Flow): void { while (f.s.charCodeAt(f.i) === 0x20) f.i++; }

/** A flow node (collection, quoted or plain scalar) that ends on this line. */
function flowNode(f: Flow, depth: number): Any {
  if (depth > FAST_DEPTH) bail();
  const c = f.s[f.i];
  if (c === '[') return flowSeq(f, depth);
  if (c === '{') return flowMap(f, depth);
  if (c === '"' || c === "'") { const q = quoted(f.s, f.i); f.i = q.end; return q.value; }
  return plainFlowScalar(f);
}

function flowSeq(f: Flow, depth: number): Any[] {
  const arr: Any[] = [];
  f.i++;
  skipSpaces(f);
  if (f.s[f.i] === ']') { f.i++; return arr; }
  for (;;) {
    skipSpaces(f);
    arr.push(flowNode(f, depth + 1));
    skipSpaces(f);
    const c = f.s[f.i++];
    if (c === ']') return arr;
    if (c !== ',') bail();
  }
}

function flowMap(f: Flow, depth: number): Record<string, Any> {
  const obj: Record<string, Any> = {};
  f.i++;
  skipSpaces(f);
  if (f.s[f.i] === '}') { f.i++; return obj; }
  for (;;) {
    skipSpaces(f);
    let key: string;
    if (f.s[f.i] === '"' || f.s[f.i] === "'") { const q = quoted(f.s, f.i); key = q.value; f.i = q.end; } else {
      const start = f.i;
      while (f.i < f.s.length && !KEY_STOP[f.s.charCodeAt(f.i)]) f.i++;
      key = plainKey(f.s.slice(start, f.i).trimEnd());
    }
    if (key === '__proto__' || Object.hasOwn(obj, key)) bail();
    if (f.s[f.i] !== ':' || f.s[f.i + 1] !== ' ') bail();
    f.i += 2;
    skipSpaces(f);
    obj[key] = flowNode(f, depth + 1);
    skipSpaces(f);
    const c = f.s[f.i++];
    if (c === '}') return obj;
    if (c !== ',') bail();
  }
}

/** A plain scalar inside a flow collection: up to `,`, `]` or `}`; a `:` only when a non-space follows (nginx:1.25). */
function plainFlowScalar(f: Flow): Any {
  const start = f.i;
  for (let c = f.s.charCodeAt(f.i); f.i < f.s.length && !FLOW_END[c]; c = f.s.charCodeAt(++f.i)) {
    if (c === 0x5b || c === 0x7b || c === 0x23) bail();
    if (c === 0x3a && (f.i + 1 === f.s.length || AFTER_COLON_STOP[f.s.charCodeAt(f.i + 1)])) bail();
  }
  const v = f.s.slice(start, f.i).trimEnd();
  if (v === '' || NOT_FIRST.has(v[0]!)) bail();
  return resolvePlain(v);
}
