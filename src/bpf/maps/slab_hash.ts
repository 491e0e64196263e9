// What the hash-table map types share: a SlabTable, key-size checks, the
// update-flag rules and dumps. Subclasses say what a hit, a full table and a
// stored value mean for them.

import { BPF_EXIST, BPF_NOEXIST, EEXIST, EINVAL, ENOENT, type BpfMap, type MapSpec, type MapWatcher } from '../map.ts';
import { SlabTable } from './slab_table.ts';
import { Watchers } from './watch.ts';

export abstract class SlabHashMap implements BpfMap {
  readonly id: number;
  readonly spec: MapSpec;
  protected readonly t: SlabTable;
  /** What the map calls after a change; null while nobody listens (watch()). */
  protected emit: MapWatcher | null = null;
  private readonly watchers = new Watchers((e) => { this.emit = e; });

  constructor(spec: MapSpec, id: number, slotValueSize = spec.valueSize) {
    this.spec = spec; this.id = id;
    this.t = new SlabTable(spec.keySize, slotValueSize, spec.maxEntries, spec.valueSize);
  }

  get size(): number { return this.t.count; }

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
      this.onUpdateHit(s);
    } else {
      if (flags === BPF_EXIST) return -ENOENT;
      if (this.t.count >= this.spec.maxEntries) {
        const err = this.makeRoom();
        if (err < 0) return err;
      }
      s = this.t.insert(key);
    }
    this.store(s, value);
    const e = this.emit;
    if (e !== null) e('update', key, this.dumpValue(s));
    return 0;
  }

  delete(key: Uint8Array): number {
    if (key.length < this.spec.keySize) return -EINVAL;
    const s = this.t.find(key);
    if (s < 0) return -ENOENT;
    this.t.remove(s);
    // A removed slot's bytes stay readable until the slot is reused.
    const e = this.emit;
    if (e !== null) e('delete', key, this.dumpValue(s));
    return 0;
  }

  watch(fn: MapWatcher): () => void { return this.watchers.add(fn); }

  entries(): Array<[Uint8Array, Uint8Array]> {
    const out: Array<[Uint8Array, Uint8Array]> = [];
    for (const s of this.t.slots()) out.push([this.t.keyOf(s), this.dumpValue(s).slice()]);
    return out;
  }

  /**
   * Visit every entry in list order without copies: key and value are scratch
   * buffers reused for the next entry (per-CPU maps: every CPU's copy). fn
   * must not change the map.
   */
  forEach(fn: (key: Uint8Array, value: Uint8Array) => void): void {
    const key = new Uint8Array(this.spec.keySize), val = new Uint8Array(this.t.stride);
    const view = this.dumpView ? val : val.subarray(0, this.spec.valueSize);
    for (let s = this.t.head; s >= 0; s = this.t.next[s]!) { this.t.readEntry(s, key, val); fn(key, view); }
  }

  /** Remove every entry. */
  clear(): void {
    for (let s = this.t.head; s >= 0; s = this.t.head) this.removeSlot(s);
  }

  /** Remove a live slot, telling the watchers (evictions, sweeps, clear). */
  protected removeSlot(s: number): void {
    const e = this.emit;
    const key = e !== null ? this.t.keyOf(s) : null;
    this.t.remove(s);
    if (e !== null) e('delete', key!, this.dumpValue(s));
  }

  /** An update found the key (LRU: refresh recency). */
  protected onUpdateHit(_slot: number): void {}
  /** The table is full and a new key arrives: 0 once there is room, or a negative errno. */
  protected abstract makeRoom(): number;
  /** Write an update's value into slot s. */
  protected store(s: number, value: Uint8Array): void { this.t.writeValue(s, value, this.spec.valueSize); }
  /** Dumps show the whole slot (per-CPU maps: every CPU's copy), not only the first valueSize bytes. */
  protected readonly dumpView: boolean = false;
  /** The bytes a dump shows for slot s. */
  protected dumpValue(s: number): Uint8Array { return this.t.value(s); }
}
