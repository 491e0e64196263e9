// GetFlowsRequest.field_mask (pkg/hubble/parser/fieldmask): keep only the
// listed paths of each flow (`source.identity`, `l4`, `Summary`). Paths are
// checked against flow.Flow's fields; an unknown one fails the request.

import type protobuf from 'protobufjs';
import { invalid } from './errors.ts';
import { Flow, type FlowObject } from './proto.ts';

type Tree = Map<string, Tree | true>;
export type FlowMask = (f: FlowObject) => FlowObject;

const MAX_PATHS = 256;

function insert(tree: Tree, type: protobuf.Type, parts: string[], path: string): void {
  const [head, ...rest] = parts;
  const field = head === undefined ? undefined : type.fields[head];
  if (!field) throw invalid(`invalid fieldmask: ${JSON.stringify(path)} is not a path of flow.Flow`);
  if (rest.length === 0) { tree.set(head!, true); return; }
  const sub = field.resolve().resolvedType;
  if (!sub || !('fields' in sub)) throw invalid(`invalid fieldmask: ${JSON.stringify(path)} goes below a scalar field`);
  let t = tree.get(head!);
  if (t === true) return; // the whole field is already kept
  if (!t) { t = new Map(); tree.set(head!, t); }
  insert(t, sub as protobuf.Type, rest, path);
}

function apply(src: Record<string, unknown>, tree: Tree): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, t] of tree) {
    const v = src[k];
    if (v === undefined) continue;
    if (t === true) out[k] = v;
    else if (Array.isArray(v)) out[k] = v.map((x) => apply(x as Record<string, unknown>, t));
    else if (v && typeof v === 'object') out[k] = apply(v as Record<string, unknown>, t);
  }
  return out;
}

/** A mask's paths -> a function copying those parts of a flow; undefined for an empty mask (keep everything). */
export function compileFieldMask(mask: { paths?: string[] } | undefined | null): FlowMask | undefined {
  const paths = mask?.paths ?? [];
  if (!Array.isArray(paths)) throw invalid('invalid fieldmask: paths must be a list');
  if (paths.length === 0) return undefined;
  if (paths.length > MAX_PATHS) throw invalid(`invalid fieldmask: more than ${MAX_PATHS} paths`);
  const tree: Tree = new Map();
  for (const p of paths) insert(tree, Flow, String(p).split('.'), String(p));
  return (f) => apply(f as unknown as Record<string, unknown>, tree) as unknown as FlowObject;
}
