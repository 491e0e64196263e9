// One API request over many documents, all-or-nothing: every document is
// admitted and the controllers run on a copy; the caller commits the copy
// only if nothing threw.

import { CST, Lexer, parseAllDocuments } from 'yaml';
import { ClusterError } from '../facade.ts';
import { admit } from './admit.ts';
import { yamlParseError } from './yaml_errors.ts';
import { reconcile, settleEndpoints } from './controllers.ts';
import { checkPodQuota, MAX_DOCUMENTS } from './quota.ts';
import { cloneStateSteps, copyJson, delObj, getObj, listObjs, putObj, type KubeEnv, type KubeState } from './state.ts';
import { jsonPatch, mergePatch } from './patch.ts';
import { clone, kindInfo, KINDS, MAX_DEPTH, ownGet, protoKeyPath, type Any, type KObject } from './types.ts';

/** go-yaml's words for a document nested deeper than the parser goes. */
const TOO_DEEP = `error: error parsing STDIN: error converting YAML to JSON: yaml: exceeded max depth of ${MAX_DEPTH}`;

/**
 * Deepest `[`/`{` nesting, as yaml's lexer (iterative, quotes and block
 * scalars understood) sees it: the parser recurses per level and runs out of
 * memory near 50,000, so deeper input is refused before it is parsed. Text
 * with fewer brackets than the limit cannot nest deeper and is not lexed.
 */
function flowDepth(text: string): number {
  let opens = 0;
  for (let i = 0; i < text.length && opens <= MAX_DEPTH; i++) { const c = text.charCodeAt(i); if (c === 0x5b || c === 0x7b) opens++; }
  if (opens <= MAX_DEPTH) return opens;
  let depth = 0, max = 0;
  for (const tok of new Lexer().lex(text)) {
    const type = CST.tokenType(tok);
    if (type === 'flow-seq-start' || type === 'flow-map-start') max = Math.max(max, ++depth);
    else if (type === 'flow-seq-end' || type === 'flow-map-end') depth = Math.max(0, depth - 1);
  }
  return max;
}

/**
 * Parse multi-document YAML manifests; `List` documents expand to their items.
 * A text that is one JSON object (what `dplab kubectl` sends, a `List`) is
 * read with JSON.parse, as kubectl's YAMLOrJSONDecoder reads text starting
 * with `{`; anything JSON.parse refuses goes to the `yaml` library as before.
 */
export function parseManifests(text: string): KObject[] {
  if (/^\s*\{/.test(text)) {
    let v: unknown;
    try { v = JSON.parse(text); } catch { v = undefined; }
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return manifestsFromJson(v);
  }
  if (flowDepth(text) > MAX_DEPTH) throw new ClusterError(TOO_DEEP, 400, 'yaml');
  return manifestsFromDocuments(parseAllDocuments(text), text);
}

/**
 * Container levels of a parsed JSON value, counted without recursion and
 * given up on once past `limit` (JSON.parse itself does not recurse).
 */
function jsonDepth(root: unknown, limit: number): number {
  const stack: Array<[unknown, number]> = [[root, 1]];
  let max = 0;
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) { max = d; if (max > limit) return max; }
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (x !== null && typeof x === 'object') stack.push([x, d + 1]);
  }
  return max;
}

/**
 * A JSON body's objects, as the API server takes them: one object, a `List`,
 * or an array of objects, with the YAML path's limits and words. An array and
 * a List's items add two levels above the objects, whose own depth strict
 * decoding checks as for YAML.
 */
export function manifestsFromJson(v: unknown): KObject[] {
  checkJsonDepth(v);
  return manifestsFromValues(Array.isArray(v) ? v : [v]);
}

function checkJsonDepth(v: unknown): void {
  if (jsonDepth(v, MAX_DEPTH + 2) > MAX_DEPTH + 2) throw new ClusterError(TOO_DEEP, 400, 'yaml');
}

/**
 * A parsed JSON body (an object, a List, an array of objects) as the text
 * parseManifests reads with JSON.parse: the request parses its text itself,
 * again when it is redone over a concurrent write. An array becomes a `List`.
 * Depth is checked first: JSON.stringify recurses.
 */
export function jsonManifestText(body: unknown): string {
  checkJsonDepth(body);
  return JSON.stringify(Array.isArray(body) ? { apiVersion: 'v1', kind: 'List', items: body } : body);
}

/** A document's value; an alias bomb or a too deep tree is a 400 with go-yaml's words. */
function toJs(d: ReturnType<typeof parseAllDocuments>[number]): Any {
  try { return d.toJS({ maxAliasCount: 100 }); } catch (e) {
    if (e instanceof ReferenceError && /alias/i.test(e.message)) throw new ClusterError('error: error parsing STDIN: error converting YAML to JSON: yaml: document contains excessive aliasing', 400, 'yaml');
    if (e instanceof RangeError) throw new ClusterError(TOO_DEEP, 400, 'yaml');
    throw e;
  }
}

/** parseManifests over documents already parsed (the cluster's YAML is parsed once for both the Cluster doc and the manifests); `text` numbers error lines as kubectl does. */
export function manifestsFromDocuments(docs: ReturnType<typeof parseAllDocuments>, text?: string): KObject[] {
  type Doc = ReturnType<typeof parseAllDocuments>[number];
  return manifestsFromValues<Doc>(docs as Doc[], (d) => {
    if (d.errors.some((e) => e.code === 'RESOURCE_EXHAUSTION')) throw new ClusterError(TOO_DEEP, 400, 'yaml');
    if (d.errors.length > 0) throw new ClusterError(yamlParseError(text, d.errors), 400, 'yaml');
    return toJs(d);
  });
}

/** The objects of the documents' values: empty documents skipped, `List`s expanded, at most MAX_DOCUMENTS. */
function manifestsFromValues<D>(docs: D[], valueOf: (d: D) => Any = (d) => d): KObject[] {
  const out: KObject[] = [];
  docs.forEach((d, i) => {
    const v = valueOf(d);
    if (v === null || v === undefined) return;
    if (typeof v !== 'object' || Array.isArray(v)) throw new ClusterError(`error parsing manifests: document ${i + 1} is not an object`, 400, 'yaml');
    if (v.kind === 'List' || (typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items))) out.push(...v.items);
    else out.push(v);
    if (out.length > MAX_DOCUMENTS) throw new ClusterError(`Error from server (RequestEntityTooLarge): the request holds more than ${MAX_DOCUMENTS} objects; dplab admits at most ${MAX_DOCUMENTS} per request`, 413, 'yaml');
  });
  return out;
}

/** Go's strict decoding refuses a field no Kubernetes type has; here, one that reaches the prototype chain. */
function strictDecode(o: KObject): void {
  const bad = protoKeyPath(o);
  if (!bad) return;
  const what = `${o.kind} in version "${String(o.apiVersion).split('/').pop()}" cannot be handled as a ${o.kind}`;
  if (bad.depth) throw new ClusterError(TOO_DEEP, 400, 'yaml');
  throw new ClusterError(`Error from server (BadRequest): ${what}: strict decoding error: unknown field "${bad.path}"`, 400, bad.path);
}

/** Top-level fields whose Go type is a struct: any other JSON type fails to decode. */
const STRUCT_FIELDS: Record<string, string> = { spec: 'Spec', status: 'Status' };

function checkTypes(o: KObject): void {
  for (const [f, suffix] of Object.entries(STRUCT_FIELDS)) {
    const v = ownGet(o, f);
    if (v === undefined || v === null || (typeof v === 'object' && !Array.isArray(v))) continue;
    const got = Array.isArray(v) ? 'array' : typeof v;
    if (o.apiVersion.startsWith('cilium.io/')) throw new ClusterError(`The ${o.kind} "${o.metadata.name ?? ''}" is invalid: ${f}: Invalid value: "${got}": ${f} in body must be of type object: "${got}"`, 422, f);
    const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[1] : o.apiVersion;
    throw new ClusterError(`Error from server (BadRequest): ${o.kind} in version "${group}" cannot be handled as a ${o.kind}: json: cannot unmarshal ${got} into Go struct field ${o.kind}.${f} of type ${group}.${o.kind}${suffix}`, 400, f);
  }
}

function checkShape(o: KObject, i: number): void {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new ClusterError(`error validating document ${i + 1}: not an object`, 400, 'yaml');
  if (typeof o.kind !== 'string' || o.kind === '') throw new ClusterError(`error validating document ${i + 1}: kind not set`, 400, 'kind');
  if (typeof o.apiVersion !== 'string' || o.apiVersion === '') throw new ClusterError(`error validating document ${i + 1}: apiVersion not set`, 400, 'apiVersion');
  const info = KINDS.find((k) => k.kind === o.kind);
  if (!info) throw new ClusterError(`resource mapping not found for name: "${o.metadata?.name ?? ''}" namespace: "${o.metadata?.namespace ?? ''}" from "STDIN": no matches for kind "${o.kind}" in version "${o.apiVersion}"`, 400, 'kind');
  if (o.apiVersion !== info.apiVersion) throw new ClusterError(`resource mapping not found for name: "${o.metadata?.name ?? ''}": no matches for kind "${o.kind}" in version "${o.apiVersion}"`, 400, 'apiVersion');
  if (!o.metadata || typeof o.metadata !== 'object' || Array.isArray(o.metadata)) throw new ClusterError(`The ${o.kind} "" is invalid: metadata.name: Required value: name or generateName is required`, 422, 'metadata.name');
  strictDecode(o);
  checkTypes(o);
}

/** kubectl's resource label: `pod`, `deployment.apps`, `ciliumnetworkpolicy.cilium.io`. */
export function kindLabel(kind: string): string {
  const i = kindInfo(kind)!;
  return `${i.kind.toLowerCase()}${i.apiVersion.includes('/') ? `.${i.apiVersion.split('/')[0]}` : ''}`;
}
function label(o: KObject): string { return `${kindLabel(o.kind)}/${o.metadata.name}`; }
function resource(o: KObject): string { return kindInfo(o.kind)!.resource; }

/** A request's work as steps: each yield is a point where the server may answer others in between (api.ts runs them in slices). */
export type Steps<T> = Generator<void, T, void>;

/** Runs steps to the end in one turn. */
export function runSteps<T>(g: Steps<T>): T {
  for (;;) { const r = g.next(); if (r.done) return r.value; }
}

/** apply (create or update) or create (409 on existing); returns kubectl's lines. */
export function applyDocs(state: KubeState, env: KubeEnv, docs: KObject[], mode: 'apply' | 'create', owned = false): { state: KubeState; lines: string[] } {
  return runSteps(applySteps(state, env, docs, mode, owned));
}

/** applyDocs as steps, one document a step. `owned`: the documents are the request's own (just parsed), used as they are instead of copied. */
export function* applySteps(state: KubeState, env: KubeEnv, docs: KObject[], mode: 'apply' | 'create', owned = false): Steps<{ state: KubeState; lines: string[] }> {
  const s = yield* cloneStateSteps(state);
  const lines: string[] = [];
  for (const [i, raw] of docs.entries()) {
    checkShape(raw, i);
    const obj = owned ? raw : copyJson(raw);
    if (kindInfo(obj.kind)!.namespaced) obj.metadata.namespace ??= 'default';
    const old = getObj(s, obj.kind, obj.metadata.namespace, obj.metadata.name);
    if (old && mode === 'create') throw new ClusterError(`Error from server (AlreadyExists): ${resource(obj)} "${obj.metadata.name}" already exists`, 409, 'metadata.name');
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp'] as const) delete obj.metadata[k];
    admit(s, env, obj, old);
    if (old) {
      const before = JSON.stringify({ ...old, metadata: { ...old.metadata, resourceVersion: '' } });
      putObj(s, env, obj);
      reconcile(s, env, true);
      const after = getObj(s, obj.kind, obj.metadata.namespace, obj.metadata.name)!;
      lines.push(`${label(obj)} ${before === JSON.stringify({ ...after, metadata: { ...after.metadata, resourceVersion: '' } }) ? 'unchanged' : 'configured'}`);
    } else {
      checkPodQuota(s, obj);
      putObj(s, env, obj);
      reconcile(s, env, true);
      lines.push(`${label(obj)} created`);
    }
    yield;
  }
  settleEndpoints(s, env);
  return { state: s, lines };
}

/** Delete the named objects (404 if one is missing); namespaces take their contents along. */
export function deleteObjects(state: KubeState, env: KubeEnv, refs: Array<{ kind: string; namespace?: string; name: string }>): { state: KubeState; lines: string[] } {
  return runSteps(deleteSteps(state, env, refs));
}

/** deleteObjects as steps, one object a step. */
export function* deleteSteps(state: KubeState, env: KubeEnv, refs: Array<{ kind: string; namespace?: string; name: string }>): Steps<{ state: KubeState; lines: string[] }> {
  const s = yield* cloneStateSteps(state);
  const lines: string[] = [];
  for (const r of refs) {
    const info = kindInfo(r.kind);
    if (!info) throw new ClusterError(`error: the server doesn't have a resource type "${r.kind}"`, 404, 'kind');
    const ns = info.namespaced ? r.namespace ?? 'default' : undefined;
    if (!getObj(s, info.kind, ns, r.name)) throw new ClusterError(`Error from server (NotFound): ${info.resource} "${r.name}" not found`, 404, 'metadata.name');
    if (info.kind === 'Namespace' && ['default', 'kube-system', 'kube-public', 'kube-node-lease'].includes(r.name)) throw new ClusterError(`Error from server (Forbidden): namespaces "${r.name}" is forbidden: this namespace may not be deleted`, 403, 'metadata.name');
    if (info.kind === 'Node') throw new ClusterError(`Error from server (Forbidden): nodes "${r.name}" cannot be deleted in dplab`, 403, 'metadata.name');
    if (info.kind === 'Service' && ns === 'default' && r.name === 'kubernetes') throw new ClusterError('Error from server (Forbidden): services "kubernetes" is protected', 403, 'metadata.name');
    delObj(s, info.kind, ns, r.name);
    if (info.kind === 'Namespace') for (const k of KINDS) if (k.namespaced) for (const o of listObjs(s, k.kind, r.name)) delObj(s, k.kind, r.name, o.metadata.name);
    if (info.kind === 'Service') delObj(s, 'Endpoints', ns, r.name);
    reconcile(s, env, true);
    lines.push(`${kindLabel(info.kind)} "${r.name}" deleted`);
    yield;
  }
  settleEndpoints(s, env);
  return { state: s, lines };
}

export function deleteDocs(state: KubeState, env: KubeEnv, docs: KObject[]): { state: KubeState; lines: string[] } {
  return runSteps(deleteDocsSteps(state, env, docs));
}

export function deleteDocsSteps(state: KubeState, env: KubeEnv, docs: KObject[]): Steps<{ state: KubeState; lines: string[] }> {
  docs.forEach(checkShape);
  return deleteSteps(state, env, docs.map((d) => ({ kind: d.kind, namespace: d.metadata.namespace, name: d.metadata.name })));
}

/** `kubectl patch`: merge (RFC 7386; strategic treated alike) or json (RFC 6902), then admitted as an apply of the result. */
export function patchObject(state: KubeState, env: KubeEnv, kind: string, namespace: string | undefined, name: string, type: 'merge' | 'strategic' | 'json', patch: string): { state: KubeState; lines: string[] } {
  const info = kindInfo(kind);
  if (!info) throw new ClusterError(`error: the server doesn't have a resource type "${kind}"`, 404, 'kind');
  const ns = info.namespaced ? namespace ?? 'default' : undefined;
  const old = getObj(state, info.kind, ns, name);
  if (!old) throw new ClusterError(`Error from server (NotFound): ${info.resource} "${name}" not found`, 404, 'metadata.name');
  let p: Any;
  try { p = JSON.parse(patch); } catch { throw new ClusterError(`error: unable to parse "${patch}": yaml: did not find expected node content`, 400, 'patch'); }
  const deep = protoKeyPath(p);
  if (deep?.depth) throw new ClusterError(`error: unable to parse the patch: exceeded max depth of ${MAX_DEPTH}`, 400, 'patch');
  const next = type === 'json' ? jsonPatch(clone(old), p) : mergePatch(clone(old), p);
  if (next === null || typeof next !== 'object' || Array.isArray(next)) throw new ClusterError(`Error from server (BadRequest): ${old.kind} in version "${old.apiVersion.split('/').pop()}" cannot be handled as a ${old.kind}: the patched object is not an object`, 400, 'patch');
  if (next.kind !== old.kind || next.metadata?.name !== name) throw new ClusterError('error: patch may not change kind or name', 400, 'metadata.name');
  const res = applyDocs(state, env, [next], 'apply', true);
  const unchanged = res.lines[0]?.endsWith('unchanged');
  return { state: res.state, lines: [`${kindLabel(info.kind)}/${name} ${unchanged ? 'patched (no change)' : 'patched'}`] };
}
