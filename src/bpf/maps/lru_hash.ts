// BPF_MAP_TYPE_LRU_HASH: like HASH, but a full map evicts its least recently used entry.

import { BPF_EXIST, BPF_NOEXIST, EEXIST, EINVAL, ENOENT, type BpfMap, type MapSpec } from '../map.ts';
import { DEFAULT_NCPUS, htabMemlock } from './base.ts';
import { SlabTable } from './slab_table.ts';

/**
 * Exact LRU (the kernel's is approximate, per-CPU lists): program lookups and
 * updates refresh recency; `peek` (dumps, agent reads) does not.
 * entries() lists least recently used first.
 */
export class LruHashMap implements BpfMap {
  readonly id: number;
  readonly spec: MapSpec;
  protected readonly t: SlabTable;
  /** Entries dropped to make room, for diagnostics. */
  evictions = 0;

  constructor(spec: MapSpec, id: number) {
    this.spec = spec; this.id = id;
    this.t = new SlabTable(spec.keySize, spec.valueSize, spec.maxEntries);
  }

  get size(): number { return this.t.count; }
  get memlock(): number { return htabMemlock(this.spec, this.t.count, false, true, DEFAULT_NCPUS); }

  lookup(key: Uint8Array): Uint8Array | undefined {
    if (key.length < this.spec.keySize) return undefined;
    const s = this.t.find(key);
    if (s < 0) return undefined;
    this.t.touch(s);
    return this.t.value(s);
  }

  /** Lookup without refreshing recency. */
  peek(key: Uint8Array): Uint8Array | undefined {
    const s = key.length < this.spec.keySize ? -1 : this.t.find(key);
    return s < 0 ? undefined : this.t.value(s);
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    if (key.length < this.spec.keySize || value.length < this.spec.valueSize || flags > BPF_EXIST) return -EINVAL;
    let s = this.t.find(key);
    if (s >= 0) {
      if (flags === BPF_NOEXIST) return -EEXIST;
      this.t.touch(s);
    } else {
      if (flags === BPF_EXIST) return -ENOENT;
      if (this.t.count >= this.spec.maxEntries) { this.t.remove(this.t.head); this.evictions++; }
      s = this.t.insert(key);
    }
    this.t.writeValue(s, value, this.spec.valueSize);
    return 0;
  }

  delete(key: Uint8Array): number {
    if (key.length < this.spec.keySize) return -EINVAL;
    const s = this.t.find(key);
    if (s < 0) return -ENOENT;
    this.t.remove(s);
    return 0;
  }

  entries(): Array<[Uint8Array, Uint8Array]> {
    const out: Array<[Uint8Array, Uint8Array]> = [];
    for (const s of this.t.slots()) out.push([this.t.keyOf(s), this.t.value(s).slice()]);
    return out;
  }

  /** Visit live entries without copying (GC sweeps over CT): return true from fn to delete the entry. */
  sweep(fn: (key: Uint8Array, value: Uint8Array) => boolean): number {
    let removed = 0;
    for (let s = this.t.head; s >= 0;) {
      const n = this.t.next[s]!;
      if (fn(this.t.keyOf(s), this.t.value(s))) { this.t.remove(s); removed++; }
      s = n;
    }
    return removed;
  }

  clear(): void {
    for (let s = this.t.head; s >= 0; s = this.t.head) this.t.remove(s);
  }
}
