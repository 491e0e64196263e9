// BPF_MAP_TYPE_ARRAY: u32 index keys, every slot exists (zeroed), delete is -EINVAL.

import { BPF_EXIST, BPF_NOEXIST, E2BIG, EEXIST, EINVAL, type BpfMap, type MapSpec, type MapWatcher } from '../map.ts';
import { arrayMemlock, DEFAULT_NCPUS, readU32LE, u32Key } from './base.ts';
import { Watchers } from './watch.ts';

/** Array map; with nCpus > 1 it is a per-CPU array whose program view is CPU 0's copy. */
export class ArrayMap implements BpfMap {
  readonly id: number;
  readonly spec: MapSpec;
  readonly nCpus: number;
  private readonly stride: number;
  private readonly data: Uint8Array;
  private readonly views: Array<Uint8Array | undefined>;
  private readonly percpu: boolean;
  /** What the map calls after a change; null while nobody listens (watch()). */
  protected emit: MapWatcher | null = null;
  private readonly watchers = new Watchers((e) => { this.emit = e; });

  constructor(spec: MapSpec, id: number, percpuCpus = 0) {
    this.spec = spec; this.id = id;
    this.percpu = percpuCpus > 0;
    this.nCpus = this.percpu ? percpuCpus : 1;
    this.stride = spec.valueSize * this.nCpus;
    this.data = new Uint8Array(this.stride * spec.maxEntries);
    this.views = new Array(spec.maxEntries);
  }

  get size(): number { return this.spec.maxEntries; }
  get memlock(): number { return arrayMemlock(this.spec, this.percpu, this.percpu ? this.nCpus : DEFAULT_NCPUS); }

  lookup(key: Uint8Array): Uint8Array | undefined {
    if (key.length < 4) return undefined;
    const i = readU32LE(key, 0);
    return i < this.spec.maxEntries ? this.view(i) : undefined;
  }

  /** Program-side lookup by index without building a key. */
  at(i: number): Uint8Array | undefined {
    return i >= 0 && i < this.spec.maxEntries ? this.view(i) : undefined;
  }

  /** Userspace update semantics: a value of valueSize * nCpus bytes sets every CPU's copy, else CPU 0's only. */
  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    if (key.length < 4 || value.length < this.spec.valueSize || flags > BPF_EXIST) return -EINVAL;
    const i = readU32LE(key, 0);
    if (i >= this.spec.maxEntries) return -E2BIG;
    if (flags === BPF_NOEXIST) return -EEXIST;
    const n = value.length >= this.stride ? this.stride : this.spec.valueSize;
    this.data.set(value.subarray(0, n), i * this.stride);
    const e = this.emit;
    if (e !== null) e('update', key, this.data.subarray(i * this.stride, (i + 1) * this.stride));
    return 0;
  }

  delete(_key: Uint8Array): number { return -EINVAL; }

  watch(fn: MapWatcher): () => void { return this.watchers.add(fn); }

  entries(): Array<[Uint8Array, Uint8Array]> {
    const out: Array<[Uint8Array, Uint8Array]> = [];
    for (let i = 0; i < this.spec.maxEntries; i++) out.push([u32Key(i), this.data.slice(i * this.stride, (i + 1) * this.stride)]);
    return out;
  }

  /** Copies of each CPU's value at index i. */
  perCpuValues(key: Uint8Array): Uint8Array[] | undefined {
    const i = key.length >= 4 ? readU32LE(key, 0) : this.spec.maxEntries;
    if (i >= this.spec.maxEntries) return undefined;
    const out: Uint8Array[] = [];
    for (let c = 0; c < this.nCpus; c++) {
      const o = i * this.stride + c * this.spec.valueSize;
      out.push(this.data.slice(o, o + this.spec.valueSize));
    }
    return out;
  }

  private view(i: number): Uint8Array {
    let v = this.views[i];
    if (v === undefined) {
      v = this.data.subarray(i * this.stride, i * this.stride + this.spec.valueSize);
      this.views[i] = v;
    }
    return v;
  }
}
