// One API request over many documents, all-or-nothing: every document is
// admitted and the controllers run on a copy; the caller commits the copy
// only if nothing threw.

import { parseAllDocuments } from 'yaml';
import { ClusterError } from '../facade.ts';
import { admit } from './admit.ts';
import { yamlParseError } from './yaml_errors.ts';
import { reconcile } from './controllers.ts';
import { cloneState, delObj, getObj, listObjs, putObj, type KubeEnv, type KubeState } from './state.ts';
import { clone, kindInfo, KINDS, type Any, type KObject } from './types.ts';

/** Parse multi-document YAML (or JSON) manifests; `List` documents expand to their items. */
export function parseManifests(text: string): KObject[] {
  return manifestsFromDocuments(parseAllDocuments(text), text);
}

/** parseManifests over documents already parsed (the cluster's YAML is parsed once for both the Cluster doc and the manifests); `text` numbers error lines as kubectl does. */
export function manifestsFromDocuments(docs: ReturnType<typeof parseAllDocuments>, text?: string): KObject[] {
  const out: KObject[] = [];
  docs.forEach((d, i) => {
    if (d.errors.length > 0) throw new ClusterError(yamlParseError(text, d.errors), 400, 'yaml');
    const v = d.toJS() as Any;
    if (v === null || v === undefined) return;
    if (typeof v !== 'object' || Array.isArray(v)) throw new ClusterError(`error parsing manifests: document ${i + 1} is not an object`, 400, 'yaml');
    if (v.kind === 'List' || (typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items))) out.push(...v.items);
    else out.push(v);
  });
  return out;
}

function checkShape(o: KObject, i: number): void {
  if (typeof o.kind !== 'string' || o.kind === '') throw new ClusterError(`error validating document ${i + 1}: kind not set`, 400, 'kind');
  if (typeof o.apiVersion !== 'string' || o.apiVersion === '') throw new ClusterError(`error validating document ${i + 1}: apiVersion not set`, 400, 'apiVersion');
  const info = KINDS.find((k) => k.kind === o.kind);
  if (!info) throw new ClusterError(`resource mapping not found for name: "${o.metadata?.name ?? ''}" namespace: "${o.metadata?.namespace ?? ''}" from "STDIN": no matches for kind "${o.kind}" in version "${o.apiVersion}"`, 400, 'kind');
  if (o.apiVersion !== info.apiVersion) throw new ClusterError(`resource mapping not found for name: "${o.metadata?.name ?? ''}": no matches for kind "${o.kind}" in version "${o.apiVersion}"`, 400, 'apiVersion');
  if (!o.metadata || typeof o.metadata !== 'object') throw new ClusterError(`The ${o.kind} "" is invalid: metadata.name: Required value: name or generateName is required`, 422, 'metadata.name');
}

/** kubectl's resource label: `pod`, `deployment.apps`, `ciliumnetworkpolicy.cilium.io`. */
export function kindLabel(kind: string): string {
  const i = kindInfo(kind)!;
  return `${i.kind.toLowerCase()}${i.apiVersion.includes('/') ? `.${i.apiVersion.split('/')[0]}` : ''}`;
}
function label(o: KObject): string { return `${kindLabel(o.kind)}/${o.metadata.name}`; }
function resource(o: KObject): string { return kindInfo(o.kind)!.resource; }

/** apply (create or update) or create (409 on existing); returns kubectl's lines. */
export function applyDocs(state: KubeState, env: KubeEnv, docs: KObject[], mode: 'apply' | 'create'): { state: KubeState; lines: string[] } {
  const s = cloneState(state);
  const lines: string[] = [];
  docs.forEach((raw, i) => {
    checkShape(raw, i);
    const obj = clone(raw);
    if (kindInfo(obj.kind)!.namespaced) obj.metadata.namespace ??= 'default';
    const old = getObj(s, obj.kind, obj.metadata.namespace, obj.metadata.name);
    if (old && mode === 'create') throw new ClusterError(`Error from server (AlreadyExists): ${resource(obj)} "${obj.metadata.name}" already exists`, 409, 'metadata.name');
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp'] as const) delete obj.metadata[k];
    admit(s, env, obj, old);
    if (old) {
      const before = JSON.stringify({ ...old, metadata: { ...old.metadata, resourceVersion: '' } });
      putObj(s, env, obj);
      reconcile(s, env);
      const after = getObj(s, obj.kind, obj.metadata.namespace, obj.metadata.name)!;
      lines.push(`${label(obj)} ${before === JSON.stringify({ ...after, metadata: { ...after.metadata, resourceVersion: '' } }) ? 'unchanged' : 'configured'}`);
    } else {
      putObj(s, env, obj);
      reconcile(s, env);
      lines.push(`${label(obj)} created`);
    }
  });
  return { state: s, lines };
}

/** Delete the named objects (404 if one is missing); namespaces take their contents along. */
export function deleteObjects(state: KubeState, env: KubeEnv, refs: Array<{ kind: string; namespace?: string; name: string }>): { state: KubeState; lines: string[] } {
  const s = cloneState(state);
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
    reconcile(s, env);
    lines.push(`${kindLabel(info.kind)} "${r.name}" deleted`);
  }
  return { state: s, lines };
}

export function deleteDocs(state: KubeState, env: KubeEnv, docs: KObject[]): { state: KubeState; lines: string[] } {
  docs.forEach(checkShape);
  return deleteObjects(state, env, docs.map((d) => ({ kind: d.kind, namespace: d.metadata.namespace, name: d.metadata.name })));
}

/** `kubectl patch`: merge (RFC 7386; strategic treated alike) or json (RFC 6902). */
export function patchObject(state: KubeState, env: KubeEnv, kind: string, namespace: string | undefined, name: string, type: 'merge' | 'strategic' | 'json', patch: string): { state: KubeState; lines: string[] } {
  const info = kindInfo(kind);
  if (!info) throw new ClusterError(`error: the server doesn't have a resource type "${kind}"`, 404, 'kind');
  const ns = info.namespaced ? namespace ?? 'default' : undefined;
  const old = getObj(state, info.kind, ns, name);
  if (!old) throw new ClusterError(`Error from server (NotFound): ${info.resource} "${name}" not found`, 404, 'metadata.name');
  let p: Any;
  try { p = JSON.parse(patch); } catch { throw new ClusterError(`error: unable to parse "${patch}": yaml: did not find expected node content`, 400, 'patch'); }
  const next = type === 'json' ? jsonPatch(clone(old), p) : mergePatch(clone(old), p);
  if (next.kind !== old.kind || next.metadata?.name !== name) throw new ClusterError('error: patch may not change kind or name', 400, 'metadata.name');
  const res = applyDocs(state, env, [next], 'apply');
  const unchanged = res.lines[0]?.endsWith('unchanged');
  return { state: res.state, lines: [`${kindLabel(info.kind)}/${name} ${unchanged ? 'patched (no change)' : 'patched'}`] };
}

export function mergePatch(target: Any, patch: Any): Any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out = target && typeof target === 'object' && !Array.isArray(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function jsonPatch(doc: Any, ops: Any): Any {
  if (!Array.isArray(ops)) throw new ClusterError('error: json patch must be a list of operations', 400, 'patch');
  for (const op of ops) {
    const path = String(op.path ?? '').split('/').slice(1).map((x) => x.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = path.pop();
    if (last === undefined) throw new ClusterError(`error: invalid json patch path "${op.path}"`, 400, 'patch');
    let parent = doc;
    for (const seg of path) {
      parent = parent?.[Array.isArray(parent) ? Number(seg) : seg];
      if (parent === undefined) throw new ClusterError(`The request is invalid: the server rejected our request due to an error in our request: path ${op.path} not found`, 400, 'patch');
    }
    const idx = Array.isArray(parent) ? (last === '-' ? parent.length : Number(last)) : last;
    switch (op.op) {
      case 'add': if (Array.isArray(parent)) parent.splice(idx as number, 0, op.value); else parent[idx] = op.value; break;
      case 'replace': if (!(idx in parent)) throw new ClusterError(`The request is invalid: replace operation does not apply: doc is missing key: ${op.path}`, 400, 'patch'); parent[idx] = op.value; break;
      case 'remove': if (!(idx in parent)) throw new ClusterError(`The request is invalid: remove operation does not apply: doc is missing path: ${op.path}`, 400, 'patch'); if (Array.isArray(parent)) parent.splice(idx as number, 1); else delete parent[idx]; break;
      case 'test': if (JSON.stringify(parent[idx]) !== JSON.stringify(op.value)) throw new ClusterError(`The request is invalid: testing value ${op.path} failed`, 400, 'patch'); break;
      default: throw new ClusterError(`error: unsupported json patch operation ${JSON.stringify(op.op)}`, 400, 'patch');
    }
  }
  return doc;
}
