// BPF_MAP_TYPE_PERCPU_HASH: a hash map with one value copy per emulated CPU; programs see CPU 0's.

import { BPF_EXIST, BPF_NOEXIST, E2BIG, EEXIST, EINVAL, ENOENT, type BpfMap, type MapSpec } from '../map.ts';
import { DEFAULT_NCPUS, htabMemlock } from './base.ts';
import { SlabTable } from './slab_table.ts';

/**
 * lookup/update from programs act on CPU 0's copy; an update whose value holds
 * valueSize * nCpus bytes (userspace style) sets every CPU's copy.
 * entries() values hold all CPUs' copies back to back.
 */
export class PercpuHashMap implements BpfMap {
  readonly id: number;
  readonly spec: MapSpec;
  readonly nCpus: number;
  private readonly t: SlabTable;

  constructor(spec: MapSpec, id: number, nCpus = DEFAULT_NCPUS) {
    this.spec = spec; this.id = id; this.nCpus = nCpus;
    this.t = new SlabTable(spec.keySize, spec.valueSize * nCpus, spec.maxEntries, spec.valueSize);
  }

  get size(): number { return this.t.count; }
  get memlock(): number { return htabMemlock(this.spec, this.t.count, true, false, this.nCpus); }

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
    const full = this.t.fullValue(s);
    full.set(value.subarray(0, value.length >= full.length ? full.length : this.spec.valueSize));
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
    for (const s of this.t.slots()) out.push([this.t.keyOf(s), this.t.fullValue(s).slice()]);
    return out;
  }

  /** Copies of each CPU's value for key, for dumps (cilium-dbg sums them). */
  perCpuValues(key: Uint8Array): Uint8Array[] | undefined {
    const s = key.length < this.spec.keySize ? -1 : this.t.find(key);
    if (s < 0) return undefined;
    const full = this.t.fullValue(s), vs = this.spec.valueSize, out: Uint8Array[] = [];
    for (let c = 0; c < this.nCpus; c++) out.push(full.slice(c * vs, (c + 1) * vs));
    return out;
  }
}
