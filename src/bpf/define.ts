// Builds BpfProgram objects the way the loader registers them: id, tag, map ids, load time.

import { createHash } from 'node:crypto';
import type { SkBuff } from '../wire/skb.ts';
import type { BpfProgram, ProgType, Runtime } from './program.ts';

/** A program plus the optional sizes `bpftool prog show` prints. */
export interface DefinedProgram<C = SkBuff> extends BpfProgram<C> {
  readonly xlatedBytes?: number;
  readonly jitedBytes?: number;
  readonly btfId?: number;
}

/** Inputs for defineProgram; `id` comes from the node's IdAllocator.nextProgId(). */
export interface ProgramDef<C = SkBuff> {
  id: number;
  name: string;
  type?: ProgType;
  run: (ctx: C, rt: Runtime) => number;
  mapIds?: number[];
  loadedAtMs?: number;
  xlatedBytes?: number;
  jitedBytes?: number;
  btfId?: number;
}

/** BPF_OBJ_NAME_LEN: a program's or map's name in the kernel is 16 bytes with the NUL. */
export const BPF_OBJ_NAME_LEN = 16;
/**
 * The name the kernel keeps (bpf_prog_info / bpf_map_info .name): loaders cut it
 * to 15 characters (cilium/ebpf's NewBPFObjName; the kernel refuses longer).
 */
export function bpfObjName(name: string): string { return name.length < BPF_OBJ_NAME_LEN ? name : name.slice(0, BPF_OBJ_NAME_LEN - 1); }

/** Deterministic 16-hex-digit tag from the program name (the kernel hashes instructions; we have none). */
export function progTag(name: string): string {
  let t = tags.get(name);
  if (t === undefined) { t = createHash('sha1').update(name).digest('hex').slice(0, 16); tags.set(name, t); }
  return t;
}
/** Tags by name: an endpoint loads the same few programs, 10k endpoints would hash them 50k times. */
const tags = new Map<string, string>();

/** Create a BpfProgram; type defaults to sched_cls. */
export function defineProgram<C = SkBuff>(d: ProgramDef<C>): DefinedProgram<C> {
  const p: DefinedProgram<C> = {
    id: d.id,
    name: d.name,
    type: d.type ?? 'sched_cls',
    tag: progTag(d.name),
    mapIds: d.mapIds ?? [],
    loadedAtMs: d.loadedAtMs ?? 0,
    run: d.run,
    ...(d.xlatedBytes !== undefined ? { xlatedBytes: d.xlatedBytes } : {}),
    ...(d.jitedBytes !== undefined ? { jitedBytes: d.jitedBytes } : {}),
    ...(d.btfId !== undefined ? { btfId: d.btfId } : {}),
  };
  return p;
}
