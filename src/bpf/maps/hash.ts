// BPF_MAP_TYPE_HASH: fixed max_entries, update of a new key into a full map fails with -E2BIG.

import { BPF_EXIST, BPF_NOEXIST, E2BIG, EEXIST, EINVAL, ENOENT, type BpfMap, type MapSpec } from '../map.ts';
import { DEFAULT_NCPUS, htabMemlock } from './base.ts';
import { SlabTable } from './slab_table.ts';

/** Kernel hash map semantics over a SlabTable; entries() in insertion order. */
export class HashMap implements BpfMap {
  readonly id: number;
  readonly spec: MapSpec;
  protected readonly t: SlabTable;

  constructor(spec: MapSpec, id: number) {
    this.spec = spec; this.id = id;
    this.t = new SlabTable(spec.keySize, spec.valueSize, spec.maxEntries);
  }

  get size(): number { return this.t.count; }
  /** Bytes `bpftool map show` reports as memlock. */
  get memlock(): number { return htabMemlock(this.spec, this.t.count, false, false, DEFAULT_NCPUS); }

  lookup(key: Uint8Array): Uint8Array | undefined {
    if (key.length < this.spec.keySize) return undefined;
    const s = this.t.find(key);
    return s < 0 ? undefined : this.t.value(s);
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    if (key.length < this.spec.keySize || value.length < this.spec.valueSize || flags > BPF_EXIST) return -EINVAL;
    let s = this.t.find(key);
    if (s >= 0) {
      if (flags === BPF_NOEXIST) return -EEXIST;
    } else {
      if (flags === BPF_EXIST) return -ENOENT;
      if (this.t.count >= this.spec.maxEntries) return -E2BIG;
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

  /** Become a copy of other (same spec): its entries, in its order (bulk agent syncs). */
  copyFrom(other: HashMap): void {
    if (other.spec.keySize !== this.spec.keySize || other.spec.valueSize !== this.spec.valueSize || other.spec.maxEntries !== this.spec.maxEntries) throw new Error('HashMap.copyFrom: spec differs');
    this.t.copyFrom(other.t);
  }

  /** Remove every entry. */
  clear(): void {
    for (let s = this.t.head; s >= 0; s = this.t.head) this.t.remove(s);
  }
}
