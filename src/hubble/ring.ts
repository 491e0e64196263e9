// Hubble's ring buffer (pkg/hubble/container): the last `capacity` events,
// addressed by a sequence number that only grows, so a reader knows when the
// writer has overtaken it (and how many events it lost).

/** Capacities Hubble accepts: 2^n - 1, at most 65535 (hubble-event-buffer-capacity). */
export function validCapacity(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535 && ((n + 1) & n) === 0;
}
export const DEFAULT_CAPACITY = 4095;

export class Ring<T> {
  private readonly buf: Array<T | undefined>;
  /** Sequence number of the next write (= events ever written). */
  private nextSeq = 0;

  constructor(readonly capacity: number) {
    if (!validCapacity(capacity)) throw new Error(`ring capacity must be 2^n-1 and at most 65535, got ${capacity}`);
    this.buf = new Array(capacity);
  }

  /** Events ever written. */
  get written(): number { return this.nextSeq; }
  /** Sequence number the next write gets. */
  get next(): number { return this.nextSeq; }
  /** Sequence number of the oldest event still held. */
  get oldest(): number { return Math.max(0, this.nextSeq - this.capacity); }
  /** Events held now. */
  get length(): number { return this.nextSeq - this.oldest; }

  /** Called with each event the ring overwrites, oldest first (the flow store). */
  onEvict: ((seq: number, v: T) => void) | undefined;

  write(v: T): void {
    const i = this.nextSeq % this.capacity;
    if (this.onEvict && this.nextSeq >= this.capacity) this.onEvict(this.nextSeq - this.capacity, this.buf[i]!);
    this.buf[i] = v;
    this.nextSeq++;
  }

  /** The event with this sequence number, if still held. */
  at(seq: number): T | undefined {
    return seq >= this.oldest && seq < this.nextSeq ? this.buf[seq % this.capacity] : undefined;
  }
}
