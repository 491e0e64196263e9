// BPF_MAP_TYPE_LPM_TRIE: key = u32 prefixlen (host order, struct bpf_lpm_trie_key) + data;
// lookups return the longest matching prefix, update/delete match exactly.

import { BPF_EXIST, BPF_NOEXIST, EEXIST, EINVAL, ENOENT, ENOSPC, type BpfMap, type MapSpec, type MapWatcher } from '../map.ts';
import { lpmMemlock, readU32LE } from './base.ts';
import { SlabTable } from './slab_table.ts';
import { Watchers } from './watch.ts';

/**
 * One hash table per prefix length present; lookup probes the present lengths
 * from longest to shortest with the data masked to that length (no trie walk,
 * no allocation). Stored keys keep only the prefix bits, as the kernel compares.
 */
export class LpmTrieMap implements BpfMap {
  readonly id: number;
  readonly spec: MapSpec;
  private readonly dataSize: number;
  private readonly maxPrefix: number;
  private readonly tables: Array<SlabTable | undefined> = [];
  /** Prefix lengths with at least one entry, descending. */
  private lengths: number[] = [];
  private readonly scratch: Uint8Array;
  private count = 0;
  /** What the map calls after a change; null while nobody listens (watch()). */
  protected emit: MapWatcher | null = null;
  private readonly watchers = new Watchers((e) => { this.emit = e; });

  constructor(spec: MapSpec, id: number) {
    if (spec.keySize <= 4) throw new Error(`lpm_trie ${spec.name}: key must hold prefixlen + data`);
    this.spec = spec; this.id = id;
    this.dataSize = spec.keySize - 4;
    this.maxPrefix = this.dataSize * 8;
    this.scratch = new Uint8Array(this.dataSize);
  }

  get size(): number { return this.count; }
  get memlock(): number { return lpmMemlock(this.spec, this.count); }

  lookup(key: Uint8Array): Uint8Array | undefined {
    if (key.length < this.spec.keySize) return undefined;
    const plen = readU32LE(key, 0);
    const lens = this.lengths;
    for (let i = 0; i < lens.length; i++) {
      const L = lens[i]!;
      if (L > plen) continue;
      const t = this.tables[L]!;
      // A full-length prefix keeps every data bit: probe with the key's own bytes.
      let s: number;
      if (L === this.maxPrefix) s = t.find(key, 4);
      else { this.mask(key, L); s = t.find(this.scratch); }
      if (s >= 0) return t.value(s);
    }
    return undefined;
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    if (key.length < this.spec.keySize || value.length < this.spec.valueSize || flags > BPF_EXIST) return -EINVAL;
    const L = readU32LE(key, 0);
    if (L > this.maxPrefix) return -EINVAL;
    // A full-length prefix keeps every data bit: use the key's own bytes (no masked copy).
    const full = L === this.maxPrefix;
    const data = full ? key : this.scratch, off = full ? 4 : 0;
    if (!full) this.mask(key, L);
    let t = this.tables[L];
    let s = t ? t.find(data, off) : -1;
    if (s >= 0) {
      if (flags === BPF_NOEXIST) return -EEXIST;
    } else {
      if (flags === BPF_EXIST) return -ENOENT;
      if (this.count >= this.spec.maxEntries) return -ENOSPC;
      if (!t) {
        t = new SlabTable(this.dataSize, this.spec.valueSize, this.spec.maxEntries, this.spec.valueSize, 8);
        this.tables[L] = t;
      }
      if (t.count === 0) this.lengths = [...this.lengths, L].sort((a, b) => b - a);
      s = t.insert(data, off);
      this.count++;
    }
    t!.writeValue(s, value, this.spec.valueSize);
    const e = this.emit;
    if (e !== null) e('update', key, t!.value(s));
    return 0;
  }

  delete(key: Uint8Array): number {
    if (key.length < this.spec.keySize) return -EINVAL;
    const L = readU32LE(key, 0);
    if (L > this.maxPrefix) return -EINVAL;
    const t = this.tables[L];
    if (!t) return -ENOENT;
    this.mask(key, L);
    const s = t.find(this.scratch);
    if (s < 0) return -ENOENT;
    t.remove(s);
    this.count--;
    if (t.count === 0) this.lengths = this.lengths.filter((x) => x !== L);
    const e = this.emit;
    if (e !== null) e('delete', key, t.value(s));
    return 0;
  }

  watch(fn: MapWatcher): () => void { return this.watchers.add(fn); }

  /** Entries by prefix length (longest first), then insertion order. */
  entries(): Array<[Uint8Array, Uint8Array]> {
    const out: Array<[Uint8Array, Uint8Array]> = [];
    for (const L of this.lengths) {
      const t = this.tables[L]!;
      for (const s of t.slots()) {
        const k = new Uint8Array(this.spec.keySize);
        k[0] = L & 255; k[1] = (L >>> 8) & 255; k[2] = (L >>> 16) & 255; k[3] = L >>> 24;
        k.set(t.keyOf(s), 4);
        out.push([k, t.value(s).slice()]);
      }
    }
    return out;
  }

  /** Copy key's data (after the prefixlen) into scratch, keeping only the first L bits. */
  private mask(key: Uint8Array, L: number): void {
    const sc = this.scratch, n = this.dataSize;
    const full = L >>> 3, rem = L & 7;
    let i = 0;
    for (; i < full; i++) sc[i] = key[4 + i]!;
    if (rem !== 0) { sc[i] = key[4 + i]! & (0xff << (8 - rem)); i++; }
    for (; i < n; i++) sc[i] = 0;
  }
}
