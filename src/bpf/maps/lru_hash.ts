// BPF_MAP_TYPE_LRU_HASH: like HASH, but a full map evicts its least recently used entry.

import { DEFAULT_NCPUS, htabMemlock } from './base.ts';
import { SlabHashMap } from './slab_hash.ts';

/**
 * Exact LRU (the kernel's is approximate, per-CPU lists): program lookups and
 * updates refresh recency; `peek` (dumps, agent reads) does not.
 * entries() lists least recently used first.
 */
export class LruHashMap extends SlabHashMap {
  /** Entries dropped to make room, for diagnostics. */
  evictions = 0;

  get memlock(): number { return htabMemlock(this.spec, this.t.count, false, true, DEFAULT_NCPUS); }

  override lookup(key: Uint8Array): Uint8Array | undefined {
    if (key.length < this.spec.keySize) return undefined;
    const s = this.t.find(key);
    if (s < 0) return undefined;
    this.t.touch(s);
    return this.t.value(s);
  }

  /** Lookup without refreshing recency. */
  peek(key: Uint8Array): Uint8Array | undefined {
    return super.lookup(key);
  }

  protected override onUpdateHit(s: number): void { this.t.touch(s); }
  protected makeRoom(): number {
    if (this.emit === null) this.t.remove(this.t.head); else this.removeSlot(this.t.head);
    this.evictions++;
    return 0;
  }

  /** Visit live entries without copying (GC sweeps over CT): return true from fn to delete the entry. */
  sweep(fn: (key: Uint8Array, value: Uint8Array) => boolean): number {
    let removed = 0;
    for (let s = this.t.head; s >= 0;) {
      const n = this.t.next[s]!;
      if (fn(this.t.keyOf(s), this.t.value(s))) { this.removeSlot(s); removed++; }
      s = n;
    }
    return removed;
  }
}
