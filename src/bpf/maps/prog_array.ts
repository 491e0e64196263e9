// BPF_MAP_TYPE_PROG_ARRAY: tail-call slots holding program references.

import { BPF_EXIST, BPF_NOEXIST, E2BIG, EEXIST, EINVAL, ENOENT, type BpfMap, type MapSpec, type MapWatcher } from '../map.ts';
import type { BpfProgram } from '../program.ts';
import { arrayMemlock, DEFAULT_NCPUS, readU32LE, u32Key } from './base.ts';
import { Watchers } from './watch.ts';

/**
 * Slots hold BpfProgram references (setProg/getProg). The userspace view
 * (lookup/entries) shows the program id as a u32, as bpftool dumps it;
 * update() by id needs a resolver, since a raw id is not a program.
 */
export class ProgArrayMap implements BpfMap {
  readonly id: number;
  readonly spec: MapSpec;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  /** Slots up to the highest one ever set (not maxEntries: per-endpoint cilium_calls maps are many and sparse). */
  private readonly progs: Array<BpfProgram<any> | undefined> = [];
  private count = 0;
  /** What the map calls after a change; null while nobody listens (watch()). */
  protected emit: MapWatcher | null = null;
  private readonly watchers = new Watchers((e) => { this.emit = e; });
  /** Resolves a program id for update(key, u32 id); unset = update() fails with -EINVAL. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  resolveProg: ((id: number) => BpfProgram<any> | undefined) | null = null;

  constructor(spec: MapSpec, id: number) {
    this.spec = spec; this.id = id;
  }

  get size(): number { return this.count; }
  get memlock(): number { return arrayMemlock(this.spec, false, DEFAULT_NCPUS); }

  /** Put prog in slot index (undefined clears it). Returns 0 or -E2BIG. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  setProg(index: number, prog: BpfProgram<any> | undefined): number {
    if (index < 0 || index >= this.spec.maxEntries) return -E2BIG;
    const progs = this.progs;
    while (progs.length <= index) progs.push(undefined);
    const old = progs[index];
    if (old !== undefined) this.count--;
    progs[index] = prog;
    if (prog !== undefined) this.count++;
    const e = this.emit;
    if (e !== null && (prog !== undefined || old !== undefined)) e(prog !== undefined ? 'update' : 'delete', u32Key(index), u32Key((prog ?? old)!.id));
    return 0;
  }

  watch(fn: MapWatcher): () => void { return this.watchers.add(fn); }

  /** Program in slot index, for bpf_tail_call. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  getProg(index: number): BpfProgram<any> | undefined {
    return index >= 0 && index < this.progs.length ? this.progs[index] : undefined;
  }

  lookup(key: Uint8Array): Uint8Array | undefined {
    const p = key.length >= 4 ? this.getProg(readU32LE(key, 0)) : undefined;
    return p === undefined ? undefined : u32Key(p.id);
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    if (key.length < 4 || value.length < 4 || flags > BPF_EXIST) return -EINVAL;
    const i = readU32LE(key, 0);
    if (i >= this.spec.maxEntries) return -E2BIG;
    const present = this.progs[i] !== undefined;
    if (flags === BPF_NOEXIST && present) return -EEXIST;
    if (flags === BPF_EXIST && !present) return -ENOENT;
    const prog = this.resolveProg?.(readU32LE(value, 0));
    if (!prog) return -EINVAL;
    return this.setProg(i, prog);
  }

  delete(key: Uint8Array): number {
    if (key.length < 4) return -EINVAL;
    const i = readU32LE(key, 0);
    if (i >= this.spec.maxEntries) return -E2BIG;
    if (this.progs[i] === undefined) return -ENOENT;
    this.setProg(i, undefined);
    return 0;
  }

  entries(): Array<[Uint8Array, Uint8Array]> {
    const out: Array<[Uint8Array, Uint8Array]> = [];
    this.progs.forEach((p, i) => { if (p !== undefined) out.push([u32Key(i), u32Key(p.id)]); });
    return out;
  }
}
