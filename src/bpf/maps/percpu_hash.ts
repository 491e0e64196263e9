// BPF_MAP_TYPE_PERCPU_HASH: a hash map with one value copy per emulated CPU; programs see CPU 0's.

import { E2BIG, type MapSpec } from '../map.ts';
import { DEFAULT_NCPUS, htabMemlock } from './base.ts';
import { SlabHashMap } from './slab_hash.ts';

/**
 * lookup/update from programs act on CPU 0's copy; an update whose value holds
 * valueSize * nCpus bytes (userspace style) sets every CPU's copy.
 * entries() values hold all CPUs' copies back to back.
 */
export class PercpuHashMap extends SlabHashMap {
  readonly nCpus: number;

  constructor(spec: MapSpec, id: number, nCpus = DEFAULT_NCPUS) {
    super(spec, id, spec.valueSize * nCpus);
    this.nCpus = nCpus;
  }

  get memlock(): number { return htabMemlock(this.spec, this.t.count, true, false, this.nCpus); }

  protected makeRoom(): number { return -E2BIG; }

  protected override store(s: number, value: Uint8Array): void {
    const full = this.t.fullValue(s);
    full.set(value.subarray(0, value.length >= full.length ? full.length : this.spec.valueSize));
  }

  protected override dumpValue(s: number): Uint8Array { return this.t.fullValue(s); }
  protected override readonly dumpView = true;

  /** Copies of each CPU's value for key, for dumps (cilium-dbg sums them). */
  perCpuValues(key: Uint8Array): Uint8Array[] | undefined {
    const s = key.length < this.spec.keySize ? -1 : this.t.find(key);
    if (s < 0) return undefined;
    const full = this.t.fullValue(s), vs = this.spec.valueSize, out: Uint8Array[] = [];
    for (let c = 0; c < this.nCpus; c++) out.push(full.slice(c * vs, (c + 1) * vs));
    return out;
  }
}
