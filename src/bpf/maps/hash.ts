// BPF_MAP_TYPE_HASH: fixed max_entries, update of a new key into a full map fails with -E2BIG.

import { E2BIG } from '../map.ts';
import { DEFAULT_NCPUS, htabMemlock } from './base.ts';
import { SlabHashMap } from './slab_hash.ts';

/** Kernel hash map semantics over a SlabTable; entries() in insertion order. */
export class HashMap extends SlabHashMap {
  /** Bytes `bpftool map show` reports as memlock. */
  get memlock(): number { return htabMemlock(this.spec, this.t.count, false, false, DEFAULT_NCPUS); }

  protected makeRoom(): number { return -E2BIG; }

  /** Become a copy of other (same spec): its entries, in its order (bulk agent syncs). */
  copyFrom(other: HashMap): void {
    if (other.spec.keySize !== this.spec.keySize || other.spec.valueSize !== this.spec.valueSize || other.spec.maxEntries !== this.spec.maxEntries) throw new Error('HashMap.copyFrom: spec differs');
    if (this.emit === null) { this.t.copyFrom(other.t); return; }
    // Followed: the same result told entry by entry, deletes first.
    this.clear();
    for (const [k, v] of other.entries()) this.update(k, v);
  }
}
