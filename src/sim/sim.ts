// The cluster's one clock and one random source: every timestamp, timer and
// random choice comes from here, so a seed replays byte for byte.

/** Seeded PRNG (sfc32); 32-bit outputs like bpf_get_prandom_u32(). */
export class Rng {
  private a: number; private b: number; private c: number; private d: number;
  constructor(seed: number) {
    this.a = 0x9e3779b9; this.b = 0x243f6a88; this.c = 0xb7e15162; this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.u32();
  }
  /** Next uniformly distributed unsigned 32-bit integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** Integer in [0, n). */
  below(n: number): number { return this.u32() % n; }
  /** A fresh generator derived from this one, for an independent stream. */
  fork(): Rng { return new Rng(this.u32()); }
}

/** Handle returned by Sim.schedule. */
export interface TimerHandle { cancel(): void }

/**
 * One queued event; it is its own cancel handle. Packet hops store a
 * two-argument callback and its arguments instead of a closure, so the hot
 * path allocates one object per event.
 */
class Timer implements TimerHandle {
  cancelled = false;
  constructor(readonly at: number, readonly seq: number, readonly fn: ((a: unknown, b: unknown) => void) | null,
    readonly a: unknown, readonly b: unknown, readonly fn0: (() => void) | null) {}
  cancel(): void { this.cancelled = true; }
  fire(): void { if (this.fn0 !== null) this.fn0(); else this.fn!(this.a, this.b); }
}

/**
 * Events scheduled with one fixed delay (a packet hop's latency): since the
 * clock never goes back, they arrive in (at, seq) order, so a FIFO of
 * parallel arrays keeps them sorted without a heap or a Timer per event.
 */
class Lane {
  readonly at: number[] = [];
  readonly seq: number[] = [];
  readonly fn: Array<((a: unknown, b: unknown) => void) | undefined> = [];
  readonly a: unknown[] = [];
  readonly b: unknown[] = [];
  head = 0;
  constructor(readonly delay: number) {}
  get size(): number { return this.at.length - this.head; }
  push(at: number, seq: number, fn: (a: unknown, b: unknown) => void, a: unknown, b: unknown): void {
    this.at.push(at); this.seq.push(seq); this.fn.push(fn); this.a.push(a); this.b.push(b);
  }
  /** Remove the head event and run it. */
  fire(): void {
    const i = this.head;
    const fn = this.fn[i]!, a = this.a[i], b = this.b[i];
    this.fn[i] = undefined; this.a[i] = undefined; this.b[i] = undefined;
    if (++this.head === this.at.length) {
      this.head = 0; this.at.length = 0; this.seq.length = 0; this.fn.length = 0; this.a.length = 0; this.b.length = 0;
    } else if (this.head >= 4096 && this.head * 2 >= this.at.length) {
      const h = this.head; this.head = 0;
      this.at.splice(0, h); this.seq.splice(0, h); this.fn.splice(0, h); this.a.splice(0, h); this.b.splice(0, h);
    }
    fn(a, b);
  }
}

/** At most this many distinct hop delays get a lane; others use the heap. */
const MAX_LANES = 8;
/** next() result: the heap's top is next. */
const HEAP = -1;
/** next() result: nothing is queued. */
const NONE = -2;

/**
 * Discrete-event simulation with a virtual clock in nanoseconds.
 * Packets hop through the emulated network as scheduled events; apps await
 * promises that those events resolve. `settle()` drives the loop, yielding to
 * the JS microtask queue before the clock advances so that app continuations
 * at time T run before anything at T+1.
 */
export class Sim {
  /** Wall-clock milliseconds that virtual time 0 corresponds to. */
  readonly epochMs: number;
  readonly rng: Rng;
  private nowNs = 0;
  private seq = 0;
  private heap: Timer[] = [];
  private readonly lanes: Lane[] = [];
  private driving: Promise<void> | null = null;
  /** In server mode the clock never falls behind the wall clock. */
  followWallClock = false;

  constructor(seed = 1, epochMs = Date.UTC(2024, 9, 21, 11, 10, 0)) {
    this.rng = new Rng(seed);
    this.epochMs = epochMs;
  }

  /** Virtual nanoseconds since the cluster started (ktime). */
  now(): number { return this.nowNs; }
  /** Virtual wall-clock time in milliseconds since the Unix epoch. */
  wallMs(): number { return this.epochMs + this.nowNs / 1e6; }

  /** Run fn after delayNs of virtual time (0 = after events already due now). */
  schedule(delayNs: number, fn: () => void): TimerHandle {
    const t = new Timer(this.nowNs + Math.max(0, Math.round(delayNs)), this.seq++, null, undefined, undefined, fn);
    this.push(t);
    return t;
  }

  /** schedule(delayNs, () => fn(a, b)) without allocating a closure (the per-hop path). */
  schedule2<A, B>(delayNs: number, fn: (a: A, b: B) => void, a: A, b: B): void {
    const d = Math.max(0, Math.round(delayNs));
    const lanes = this.lanes;
    for (let i = 0; i < lanes.length; i++) {
      const l = lanes[i]!;
      if (l.delay === d) { l.push(this.nowNs + d, this.seq++, fn as (a: unknown, b: unknown) => void, a, b); return; }
    }
    if (lanes.length < MAX_LANES) {
      const l = new Lane(d); lanes.push(l);
      l.push(this.nowNs + d, this.seq++, fn as (a: unknown, b: unknown) => void, a, b);
      return;
    }
    this.push(new Timer(this.nowNs + d, this.seq++, fn as (a: unknown, b: unknown) => void, a, b, null));
  }

  /** Where the next event is: a lane index, HEAP or NONE; (at, seq) order across all of them. */
  private next(): number {
    let best = NONE, bAt = 0, bSeq = 0;
    const h = this.heap;
    if (h.length > 0) { best = HEAP; bAt = h[0]!.at; bSeq = h[0]!.seq; }
    const lanes = this.lanes;
    for (let i = 0; i < lanes.length; i++) {
      const l = lanes[i]!;
      if (l.head === l.at.length) continue;
      const at = l.at[l.head]!;
      if (best === NONE || at < bAt || (at === bAt && l.seq[l.head]! < bSeq)) { best = i; bAt = at; bSeq = l.seq[l.head]!; }
    }
    return best;
  }

  /** Time of the event next() points at. */
  private atOf(src: number): number { return src === HEAP ? this.heap[0]!.at : this.lanes[src]!.at[this.lanes[src]!.head]!; }

  /** Remove and run the event next() returned; false if it was a cancelled timer. */
  private fireNext(src: number): boolean {
    if (src !== HEAP) { this.lanes[src]!.fire(); return true; }
    const t = this.pop()!;
    if (t.cancelled) return false;
    t.fire();
    return true;
  }

  /** Resolves after delayNs of virtual time. */
  sleep(delayNs: number): Promise<void> {
    return new Promise((resolve) => this.schedule(delayNs, resolve));
  }

  /**
   * Drive the loop until p settles, then return p's value. Concurrent callers
   * share one driver, so events always run in (time, seq) order. Rejects if
   * the simulation goes idle with p still pending and nobody else driving.
   */
  async settle<T>(p: Promise<T>): Promise<T> {
    let done = false;
    const watched = p.finally(() => { done = true; });
    watched.catch(() => {});
    this.waiters++;
    try {
      if (!this.driving) this.driving = this.drive().finally(() => { this.driving = null; });
      while (!done) {
        await Promise.race([watched.then(() => {}, () => {}), this.driving ?? Promise.resolve()]);
        if (done) break;
        if (!this.driving) {
          if (this.pending() === 0 && this.waiters === 1) throw new Error('simulation went idle while an operation was still waiting');
          this.driving = this.drive().finally(() => { this.driving = null; });
        }
      }
    } finally { this.waiters--; }
    return watched;
  }

  private waiters = 0;

  /** The single driver: runs while anyone waits and there is work. */
  private async drive(): Promise<void> {
    let idleTurns = 0;
    while (this.waiters > 0) {
      if (this.pending() === 0) {
        await yieldMacrotask();
        if (this.pending() === 0 && ++idleTurns >= 3) return;
        continue;
      }
      idleTurns = 0;
      await this.step();
    }
  }

  /** Run every event until none is left. Used by tests and benchmarks. */
  async runUntilIdle(maxNs = Number.MAX_SAFE_INTEGER): Promise<void> {
    for (;;) {
      if (this.pending() === 0) {
        await yieldMacrotask();
        if (this.pending() === 0) return;
      }
      if (this.atOf(this.next()) > maxNs) return;
      await this.step();
    }
  }

  /** Advance the clock to at least the wall clock (server mode). */
  syncToWall(): void {
    if (!this.followWallClock) return;
    const wallNs = (Date.now() - this.epochMs) * 1e6;
    const src = this.next();
    if (wallNs > this.nowNs && (src === NONE || this.atOf(src) >= wallNs)) this.nowNs = wallNs;
  }

  /** Runs all events due at the next timestamp, then lets microtasks run. */
  private async step(): Promise<void> {
    const at = this.atOf(this.next());
    this.nowNs = Math.max(this.nowNs, at);
    // Events at the same instant run back to back; continuations they
    // trigger in apps get a macrotask turn before the clock moves on.
    for (let src = this.next(); src !== NONE && this.atOf(src) <= at; src = this.next()) this.fireNext(src);
    await yieldMacrotask();
  }

  /** Synchronously run everything due now (used by the packet path in benchmarks). */
  runDueNow(): void {
    for (let src = this.next(); src !== NONE && this.atOf(src) <= this.nowNs; src = this.next()) this.fireNext(src);
  }

  /** Synchronously run all events, advancing virtual time (no app continuations run). */
  runSync(limit = Infinity): number {
    let n = 0;
    while (n < limit) {
      const src = this.next();
      if (src === NONE) break;
      const at = this.atOf(src);
      if (at > this.nowNs) this.nowNs = at;
      if (this.fireNext(src)) n++;
    }
    return n;
  }

  pending(): number {
    let n = this.heap.length;
    for (let i = 0; i < this.lanes.length; i++) n += this.lanes[i]!.size;
    return n;
  }

  private push(t: Timer): void {
    const h = this.heap; h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p]!, t)) break;
      h[i] = h[p]!; i = p;
    }
    h[i] = t;
  }
  private pop(): Timer | undefined {
    const h = this.heap; const top = h[0]; const last = h.pop();
    if (h.length > 0 && last) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i; let mv = last;
        if (l < h.length && less(h[l]!, mv)) { m = l; mv = h[l]!; }
        if (r < h.length && less(h[r]!, mv)) { m = r; mv = h[r]!; }
        if (m === i) break;
        h[i] = h[m]!; i = m;
      }
      h[i] = last;
    }
    return top;
  }
}

function less(a: Timer, b: Timer): boolean { return a.at < b.at || (a.at === b.at && a.seq < b.seq); }
function yieldMacrotask(): Promise<void> { return new Promise((r) => setImmediate(r)); }
