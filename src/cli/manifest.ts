// `-f`: kubectl parses YAML on the client and sends the API server JSON, and
// so does dplab (the `yaml` library here, JSON.parse on the server). A text
// the client cannot turn into plain JSON objects exactly as the server's YAML
// path would (a parse error, an alias bomb, deep nesting, a prototype key, a
// document that is not an object, a value JSON has no spelling for) is sent
// as YAML instead, so the server answers it in kubectl's words as before.

import { parseAllDocuments } from 'yaml';

/** The server's nesting limit (go-yaml's words beyond it come from the server). */
const MAX_DEPTH = 512;
/** Aliases the server resolves per document (go-yaml's "excessive aliasing" beyond). */
const MAX_ALIASES = 100;

/** Plain JSON all the way down: objects, arrays, strings, finite numbers, booleans, null; walked without recursion. */
function plainJson(root: unknown): boolean {
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v === 'number') { if (Number.isFinite(v)) continue; return false; }
    if (typeof v !== 'object' || d > MAX_DEPTH) return false;
    if (Array.isArray(v)) { for (const x of v) stack.push([x, d + 1]); continue; }
    if (Object.getPrototypeOf(v) !== Object.prototype) return false;
    for (const x of Object.values(v)) stack.push([x, d + 1]);
  }
  return true;
}

/** More `[`/`{` than the limit: the server decides (its lexer measures the nesting; the parser here would recurse). */
function manyBrackets(text: string): boolean {
  let opens = 0;
  for (let i = 0; i < text.length; i++) { const c = text.charCodeAt(i); if ((c === 0x5b || c === 0x7b) && ++opens > MAX_DEPTH) return true; }
  return false;
}

/** The documents' objects (empty documents left out), or undefined when the text goes to the server as YAML. */
export function manifestObjects(text: string): object[] | undefined {
  if (manyBrackets(text) || /__proto__|constructor|prototype/.test(text)) return undefined;
  const out: object[] = [];
  try {
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) return undefined;
      const v: unknown = doc.toJS({ maxAliasCount: MAX_ALIASES });
      if (v === null || v === undefined) continue;
      if (typeof v !== 'object' || Array.isArray(v) || !plainJson(v)) return undefined;
      out.push(v);
    }
  } catch { return undefined; } // too deep for the parser, too many aliases: the server's words
  return out;
}

/** The body of POST /v1/apply and /v1/delete: the objects as JSON, else `{yaml}`. */
export function manifestBody(text: string): object[] | { yaml: string } {
  return manifestObjects(text) ?? { yaml: text };
}

/** kubectl's stdin as sent to the server's kubectl: one JSON `List` of the objects, else the YAML as given. */
export function manifestStdin(text: string): string {
  const items = manifestObjects(text);
  return items ? JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) : text;
}
