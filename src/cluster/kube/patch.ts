// Patches on a stored object's JSON: RFC 7386 merge patch (strategic merge
// is treated alike) and RFC 6902 JSON patch. Both read and write an object's
// own properties only, so no key or path (`__proto__`, `constructor`,
// `prototype`) reaches JavaScript's prototypes; admission then refuses such
// keys as unknown fields.

import { ClusterError } from '../facade.ts';
import { ownGet, setOwn, type Any } from './types.ts';

/** RFC 7386 merge patch; reads and writes own properties only, so `__proto__` or `constructor` in a patch is just a key. */
export function mergePatch(target: Any, patch: Any): Any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out = target && typeof target === 'object' && !Array.isArray(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) { if (Object.hasOwn(out, k)) delete out[k]; } else setOwn(out, k, mergePatch(ownGet(out, k), v));
  }
  return out;
}

const notFound = (path: unknown) => new ClusterError(`The request is invalid: the server rejected our request due to an error in our request: path ${String(path)} not found`, 400, 'patch');

/** RFC 6902 JSON patch; paths walk own properties only (`/constructor/prototype/x` is a missing path, as on a JSON document). */
export function jsonPatch(doc: Any, ops: Any): Any {
  if (!Array.isArray(ops)) throw new ClusterError('error: json patch must be a list of operations', 400, 'patch');
  for (const op of ops) {
    if (op === null || typeof op !== 'object' || typeof op.path !== 'string' || (op.path !== '' && !op.path.startsWith('/'))) throw new ClusterError(`error: invalid json patch operation ${JSON.stringify(op)}`, 400, 'patch');
    const path = op.path.split('/').slice(1).map((x: string) => x.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = path.pop();
    if (last === undefined) throw new ClusterError(`error: invalid json patch path "${op.path}"`, 400, 'patch');
    let parent = doc;
    for (const seg of path) {
      parent = Array.isArray(parent) ? parent[arrayIndex(parent, seg, op.path, false)] : ownGet(parent, seg);
      if (parent === null || typeof parent !== 'object') throw notFound(op.path);
    }
    const has = Array.isArray(parent) ? /^\d+$/.test(last) && Number(last) < parent.length : Object.hasOwn(parent, last);
    switch (op.op) {
      case 'add':
        if (!('value' in op)) throw new ClusterError(`The request is invalid: add operation does not apply: missing value: ${op.path}`, 400, 'patch');
        if (Array.isArray(parent)) parent.splice(last === '-' ? parent.length : arrayIndex(parent, last, op.path, true), 0, op.value); else setOwn(parent, last, op.value);
        break;
      case 'replace':
        if (!has) throw new ClusterError(`The request is invalid: replace operation does not apply: doc is missing key: ${op.path}`, 400, 'patch');
        if (Array.isArray(parent)) parent[Number(last)] = op.value; else setOwn(parent, last, op.value);
        break;
      case 'remove':
        if (!has) throw new ClusterError(`The request is invalid: remove operation does not apply: doc is missing path: ${op.path}`, 400, 'patch');
        if (Array.isArray(parent)) parent.splice(Number(last), 1); else delete parent[last];
        break;
      case 'test':
        if (JSON.stringify(has ? (Array.isArray(parent) ? parent[Number(last)] : parent[last]) : undefined) !== JSON.stringify(op.value)) throw new ClusterError(`The request is invalid: testing value ${op.path} failed`, 400, 'patch');
        break;
      default: throw new ClusterError(`error: unsupported json patch operation ${JSON.stringify(op.op)}`, 400, 'patch');
    }
  }
  return doc;
}

/** An array index segment: digits within bounds (one past the end for add). */
function arrayIndex(arr: unknown[], seg: string, path: unknown, forAdd: boolean): number {
  const n = /^\d+$/.test(seg) ? Number(seg) : NaN;
  if (!(n < arr.length || (forAdd && n === arr.length))) throw notFound(path);
  return n;
}
