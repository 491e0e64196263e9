// The pod IPs in use as a two-level bitmap: 1,024-address blocks of 32-bit
// words, each block with its count. IPAM's "first free address at or after a
// random start" skips a full block or word at once, so a draw costs at most
// the range's blocks plus 32 words plus 32 bits (a /18 is 16 blocks) however
// full the range is, instead of one probe per address.

const BLOCK_BITS = 10;
const BLOCK = 1 << BLOCK_BITS;

interface Block { used: number; words: Uint32Array }

export class IpBitmap {
  private readonly blocks = new Map<number, Block>();

  has(ip: number): boolean {
    const b = this.blocks.get(ip >>> BLOCK_BITS);
    return b !== undefined && (b.words[(ip >>> 5) & 31]! & (1 << (ip & 31))) !== 0;
  }

  add(ip: number): void {
    const bi = ip >>> BLOCK_BITS;
    let b = this.blocks.get(bi);
    if (!b) { b = { used: 0, words: new Uint32Array(BLOCK / 32) }; this.blocks.set(bi, b); }
    const w = (ip >>> 5) & 31, bit = 1 << (ip & 31);
    if (b.words[w]! & bit) return;
    b.words[w] = b.words[w]! | bit;
    b.used++;
  }

  delete(ip: number): void {
    const bi = ip >>> BLOCK_BITS;
    const b = this.blocks.get(bi);
    const w = (ip >>> 5) & 31, bit = 1 << (ip & 31);
    if (!b || !(b.words[w]! & bit)) return;
    b.words[w] = b.words[w]! & ~bit;
    if (--b.used === 0) this.blocks.delete(bi);
  }

  /** The first address in [from, hi], then in [lo, from), that is neither used nor in `skip`; undefined when none is. */
  nextFree(lo: number, hi: number, from: number, skip: ReadonlySet<number>): number | undefined {
    return this.firstFree(from, hi, skip) ?? (from > lo ? this.firstFree(lo, from - 1, skip) : undefined);
  }

  private firstFree(a: number, b: number, skip: ReadonlySet<number>): number | undefined {
    let ip = a;
    while (ip <= b) {
      const blk = this.blocks.get(ip >>> BLOCK_BITS);
      if (blk && blk.used === BLOCK) { ip = ((ip >>> BLOCK_BITS) + 1) * BLOCK; continue; }
      if (blk && blk.words[(ip >>> 5) & 31] === 0xffffffff) { ip = ((ip >>> 5) + 1) * 32; continue; }
      if ((!blk || !(blk.words[(ip >>> 5) & 31]! & (1 << (ip & 31)))) && !skip.has(ip)) return ip;
      ip++;
    }
    return undefined;
  }
}
