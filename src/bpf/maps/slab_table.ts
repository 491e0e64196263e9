// Byte-keyed hash table over typed-array slabs: the storage behind every
// hash-like BPF map. No per-entry JS objects except a cached value view, and
// no allocation on lookup, so the packet path stays cheap and 500k CT entries
// fit in a small heap.

/** Slots per value chunk: value bytes never move once allocated, so views handed to programs stay valid. */
const CHUNK_SHIFT = 12;
const CHUNK_SLOTS = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_SLOTS - 1;
const NIL = -1;

/** FNV-1a over key bytes with a murmur finaliser (linear probing wants well-mixed low bits). */
export function hashBytes(k: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < len; i++) h = Math.imul(h ^ k[off + i]!, 0x01000193);
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16;
  return h | 0;
}

/**
 * Open-addressing (linear probing, backward-shift delete) index from key bytes
 * to slots. Slots keep a doubly linked order list (insertion order, or
 * recency for LRU). Capacity grows by doubling up to `maxSlots`.
 */
export class SlabTable {
  readonly keySize: number;
  /** Bytes per slot in the value slab (valueSize, or valueSize * nCpus for per-CPU maps). */
  readonly stride: number;
  readonly maxSlots: number;
  count = 0;
  head = NIL;
  tail = NIL;
  private cap: number;
  private used = 0;
  private freeList = NIL;
  private keys: Uint8Array;
  private hashes: Int32Array;
  /** prev/next of the order list; `next` also chains the free list. */
  prev: Int32Array;
  next: Int32Array;
  private index: Int32Array;
  private mask: number;
  private chunks: Uint8Array[] = [];
  private views: Array<Uint8Array | undefined> = [];
  private readonly viewLen: number;
  /** Hash of the last find(), valid for insert() while lastKey is that key (cleared by insert). */
  private lastKey: Uint8Array | null = null;
  private lastOff = 0;
  private lastHash = 0;

  constructor(keySize: number, stride: number, maxSlots: number, viewLen = stride, initial = 64) {
    this.keySize = keySize; this.stride = stride; this.maxSlots = maxSlots; this.viewLen = viewLen;
    this.cap = Math.max(1, Math.min(initial, maxSlots));
    this.keys = new Uint8Array(this.cap * keySize);
    this.hashes = new Int32Array(this.cap);
    this.prev = new Int32Array(this.cap);
    this.next = new Int32Array(this.cap);
    const isz = pow2AtLeast(this.cap * 2);
    this.index = new Int32Array(isz);
    this.mask = isz - 1;
  }

  /** Slot of key (bytes key[off..off+keySize)), or -1. */
  find(key: Uint8Array, off = 0): number {
    const ks = this.keySize, keys = this.keys, index = this.index, mask = this.mask;
    const h = hashBytes(key, off, ks);
    this.lastKey = key; this.lastOff = off; this.lastHash = h;
    let i = h & mask;
    for (;;) {
      const e = index[i]!;
      if (e === 0) return NIL;
      const s = e - 1;
      if (this.hashes[s] === h) {
        const base = s * ks;
        let j = 0;
        while (j < ks && keys[base + j] === key[off + j]) j++;
        if (j === ks) return s;
      }
      i = (i + 1) & mask;
    }
  }

  /** Add a key known to be absent (caller checks count < maxSlots); returns its zeroed slot, appended at the tail. */
  insert(key: Uint8Array, off = 0): number {
    let s: number;
    if (this.freeList !== NIL) { s = this.freeList; this.freeList = this.next[s]!; }
    else { if (this.used === this.cap) this.grow(); s = this.used++; }
    const ks = this.keySize, base = s * ks, keys = this.keys;
    // find() of the same key bytes just ran (update = find + insert): reuse its hash.
    const h = this.lastKey === key && this.lastOff === off ? this.lastHash : hashBytes(key, off, ks);
    this.lastKey = null;
    for (let i = 0; i < ks; i++) keys[base + i] = key[off + i]!;
    this.hashes[s] = h;
    let i = h & this.mask;
    while (this.index[i] !== 0) i = (i + 1) & this.mask;
    this.index[i] = s + 1;
    const v = this.views[s];
    if (v !== undefined) v.fill(0);
    else { const off = (s & CHUNK_MASK) * this.stride; this.chunkOf(s).fill(0, off, off + this.viewLen); }
    this.linkTail(s);
    this.count++;
    return s;
  }

  /** Remove slot s (must be live). Its value bytes stay readable until the slot is reused. */
  remove(s: number): void {
    const mask = this.mask, index = this.index;
    let i = this.hashes[s]! & mask;
    while (index[i] !== s + 1) i = (i + 1) & mask;
    // Backward-shift deletion keeps probe chains intact without tombstones.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const e = index[j]!;
      if (e === 0) break;
      const k = this.hashes[e - 1]! & mask;
      if (j > i ? (k <= i || k > j) : (k <= i && k > j)) { index[i] = e; i = j; }
    }
    index[i] = 0;
    this.unlink(s);
    this.next[s] = this.freeList;
    this.freeList = s;
    this.count--;
  }

  /**
   * Become a copy of src (same key size, stride and capacity limit): the same
   * entries in the same order, from a few typed-array copies instead of an
   * insert per entry. Views handed out before are no longer this table's.
   */
  copyFrom(src: SlabTable): void {
    if (src.keySize !== this.keySize || src.stride !== this.stride || src.maxSlots !== this.maxSlots || src.viewLen !== this.viewLen) throw new Error('SlabTable.copyFrom: shape differs');
    this.count = src.count; this.head = src.head; this.tail = src.tail;
    this.cap = src.cap; this.used = src.used; this.freeList = src.freeList;
    this.keys = src.keys.slice(); this.hashes = src.hashes.slice(); this.prev = src.prev.slice(); this.next = src.next.slice();
    this.index = src.index.slice(); this.mask = src.mask;
    this.chunks = src.chunks.map((c) => c.slice());
    this.views = [];
    this.lastKey = null;
  }

  /** Live view of slot s's value bytes (the first `viewLen` bytes of its stride). Cached per slot. */
  value(s: number): Uint8Array {
    let v = this.views[s];
    if (v === undefined) {
      const off = (s & CHUNK_MASK) * this.stride;
      v = this.chunkOf(s).subarray(off, off + this.viewLen);
      this.views[s] = v;
    }
    return v;
  }

  /**
   * Copy n bytes of src into slot s's value without creating its view: map
   * updates from user space (agent syncs of ~1M ipcache/LB entries) would
   * otherwise pin a Uint8Array per entry that no program ever reads.
   */
  writeValue(s: number, src: Uint8Array, n: number): void {
    const v = this.views[s];
    if (v !== undefined) { for (let i = 0; i < n; i++) v[i] = src[i]!; return; }
    const chunk = this.chunkOf(s), off = (s & CHUNK_MASK) * this.stride;
    for (let i = 0; i < n; i++) chunk[off + i] = src[i]!;
  }

  private chunkOf(s: number): Uint8Array {
    const c = s >>> CHUNK_SHIFT;
    let chunk = this.chunks[c];
    if (chunk === undefined) {
      chunk = new Uint8Array(Math.min(CHUNK_SLOTS, this.maxSlots) * this.stride);
      this.chunks[c] = chunk;
    }
    return chunk;
  }

  /** All stride bytes of slot s (per-CPU maps: every CPU's copy). */
  fullValue(s: number): Uint8Array {
    if (this.viewLen === this.stride) return this.value(s);
    const v = this.value(s);
    return new Uint8Array(v.buffer, v.byteOffset, this.stride);
  }

  /** Copy slot s's key into out (keySize bytes) and its value into val (stride bytes): dumps without an allocation per entry. */
  readEntry(s: number, out: Uint8Array, val: Uint8Array): void {
    const ks = this.keySize, keys = this.keys, base = s * ks;
    for (let i = 0; i < ks; i++) out[i] = keys[base + i]!;
    const chunk = this.chunkOf(s), off = (s & CHUNK_MASK) * this.stride;
    val.set(chunk.subarray(off, off + this.stride));
  }

  /** Copy of slot s's key. */
  keyOf(s: number): Uint8Array {
    return this.keys.slice(s * this.keySize, (s + 1) * this.keySize);
  }

  /** Move s to the tail of the order list (LRU touch). */
  touch(s: number): void {
    if (this.tail === s) return;
    this.unlink(s);
    this.linkTail(s);
  }

  /** Slots in list order (head first). */
  *slots(): Generator<number> {
    for (let s = this.head; s !== NIL; s = this.next[s]!) yield s;
  }

  private linkTail(s: number): void {
    this.prev[s] = this.tail; this.next[s] = NIL;
    if (this.tail !== NIL) this.next[this.tail] = s; else this.head = s;
    this.tail = s;
  }

  private unlink(s: number): void {
    const p = this.prev[s]!, n = this.next[s]!;
    if (p !== NIL) this.next[p] = n; else this.head = n;
    if (n !== NIL) this.prev[n] = p; else this.tail = p;
  }

  private grow(): void {
    const cap = Math.min(this.cap * 2, this.maxSlots);
    if (cap <= this.cap) throw new Error('SlabTable full (caller must enforce maxSlots)');
    const keys = new Uint8Array(cap * this.keySize); keys.set(this.keys); this.keys = keys;
    const hashes = new Int32Array(cap); hashes.set(this.hashes); this.hashes = hashes;
    const prev = new Int32Array(cap); prev.set(this.prev); this.prev = prev;
    const next = new Int32Array(cap); next.set(this.next); this.next = next;
    this.cap = cap;
    const isz = pow2AtLeast(cap * 2);
    if (isz > this.index.length) {
      const index = new Int32Array(isz), mask = isz - 1;
      for (let s = this.head; s !== NIL; s = this.next[s]!) {
        let i = this.hashes[s]! & mask;
        while (index[i] !== 0) i = (i + 1) & mask;
        index[i] = s + 1;
      }
      this.index = index; this.mask = mask;
    }
  }
}

function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
