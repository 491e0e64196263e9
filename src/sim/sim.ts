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
  /** The stream's position, to continue it after a restart (restore). */
  save(): number[] { return [this.a, this.b, this.c, this.d]; }
  restore(state: readonly number[]): void {
    if (state.length !== 4 || !state.every((v) => Number.isInteger(v))) throw new Error(`bad random stream state ${JSON.stringify(state)}`);
    [this.a, this.b, this.c, this.d] = state.map((v) => v | 0) as [number, number, number, number];
  }
}

/** Handle returned by Sim.schedule. */
export interface TimerHandle { cancel(): void }

/**
 * One queued event; it is its own cancel handle. Packet hops store a
 * two-argument callback and its arguments instead of a closure, so the hot
 * path allocates one object per event.
 */
class Timer implements TimerHandle {
  /** QUEUED, then DONE once popped; CANCELLED while it still sits in the heap. */
  state = QUEUED;
  constructor(readonly owner: Sim, readonly at: number, readonly seq: number, readonly fn: ((a: unknown, b: unknown) => void) | null,
    readonly a: unknown, readonly b: unknown, readonly fn0: (() => void) | null) {}
  cancel(): void {
    if (this.state !== QUEUED) return;
    this.state = CANCELLED;
    this.owner.timerCancelled();
  }
  fire(): void { if (this.fn0 !== null) this.fn0(); else this.fn!(this.a, this.b); }
}

const QUEUED = 0, DONE = 1, CANCELLED = 2;

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

/** Date.now() as performance.now() counts it: monotonic, sub-millisecond, and agreeing with Date.now(). */
const WALL_BASE_MS = Date.now() - performance.now();

/** Wall mode: a gap shorter than this is waited out by event-loop turns, not a timer. */
const SPIN_NS = 2_000_000;

/** At most this many distinct hop delays get a lane; others use the heap. */
const MAX_LANES = 8;
/** next() result: the heap's top is next. */
const HEAP = -1;
/** next() result: nothing is queued. */
const NONE = -2;

/** How virtual time relates to the wall clock. */
export type ClockMode = 'fast' | 'wall';

/**
 * A piece of work outside the simulation (an exec's shell) that the clock must
 * wait for: in fast mode virtual time never moves while an actor is runnable,
 * only while every actor is parked in wait() on something the simulation
 * resolves (a socket, a sleep, a network command).
 */
export interface SimActor {
  /** p resolves through simulation events: the actor is parked until then. */
  wait<T>(p: Promise<T>): Promise<T>;
  /** The work ended. */
  done(): void;
}

/**
 * Discrete-event simulation with a virtual clock in nanoseconds.
 * Packets hop through the emulated network as scheduled events; apps await
 * promises that those events resolve.
 *
 * Fast mode (the library, tests, `serve --clock fast`): `settle()` drives the
 * loop as fast as the CPU allows, yielding to the JS event loop between
 * instants so app continuations at time T run before anything at T+1, and
 * moving the clock only when no actor is runnable. Wall mode (`serve`):
 * virtual time is the wall clock; an event fires when the wall clock reaches
 * it, whoever waits. A cancelled timer never moves the clock.
 */
export class Sim {
  /** Wall-clock milliseconds that virtual time 0 corresponds to. */
  readonly epochMs: number;
  readonly rng: Rng;
  private nowNs = 0;
  private seq = 0;
  private heap: Timer[] = [];
  private cancelledInHeap = 0;
  private readonly lanes: Lane[] = [];
  private driving: Promise<void> | null = null;
  private waiters = 0;
  private actors = 0;
  private parked = 0;
  private mode: ClockMode = 'fast';
  /** Wall mode and no event running: now() reads the wall clock. */
  private wallIdle = false;
  private wallUsers = 0;
  private wallLoop: Promise<void> | null = null;
  /** Wall mode: the wall driver sleeps until this virtual time; an earlier event wakes it. */
  private wakeAt = -Infinity;
  private wake: (() => void) | null = null;

  constructor(seed = 1, epochMs = Date.UTC(2024, 9, 21, 11, 10, 0)) {
    this.rng = new Rng(seed);
    this.epochMs = epochMs;
  }

  /**
   * Virtual nanoseconds since the cluster started (ktime). In wall mode, read
   * outside an event it is the wall clock (unless events are overdue).
   */
  now(): number {
    if (this.wallIdle) this.syncToWall();
    return this.nowNs;
  }
  /** Virtual wall-clock time in milliseconds since the Unix epoch. */
  wallMs(): number { return this.epochMs + this.now() / 1e6; }

  /** Run fn after delayNs of virtual time (0 = after events already due now). */
  schedule(delayNs: number, fn: () => void): TimerHandle {
    const t = new Timer(this, (this.wallIdle ? this.now() : this.nowNs) + Math.max(0, Math.round(delayNs)), this.seq++, null, undefined, undefined, fn);
    this.push(t);
    return t;
  }

  /** schedule(delayNs, () => fn(a, b)) without allocating a closure (the per-hop path). */
  schedule2<A, B>(delayNs: number, fn: (a: A, b: B) => void, a: A, b: B): void {
    const d = Math.max(0, Math.round(delayNs));
    const at = (this.wallIdle ? this.now() : this.nowNs) + d;
    if (at < this.wakeAt) this.wake!();
    const lanes = this.lanes;
    for (let i = 0; i < lanes.length; i++) {
      const l = lanes[i]!;
      if (l.delay === d) { l.push(at, this.seq++, fn as (a: unknown, b: unknown) => void, a, b); return; }
    }
    if (lanes.length < MAX_LANES) {
      const l = new Lane(d); lanes.push(l);
      l.push(at, this.seq++, fn as (a: unknown, b: unknown) => void, a, b);
      return;
    }
    this.push(new Timer(this, at, this.seq++, fn as (a: unknown, b: unknown) => void, a, b, null));
  }

  /** Resolves after delayNs of virtual time. */
  sleep(delayNs: number): Promise<void> {
    return new Promise((resolve) => this.schedule(delayNs, resolve));
  }

  /** Register work outside the simulation; see SimActor. */
  actor(): SimActor {
    this.actors++;
    let ended = false;
    return {
      wait: <T>(p: Promise<T>): Promise<T> => {
        this.parked++;
        return p.finally(() => { this.parked--; });
      },
      done: () => { if (!ended) { ended = true; this.actors--; } },
    };
  }

  /** Some actor is doing work of its own (not parked on the simulation). */
  private runnable(): boolean { return this.actors > this.parked; }

  /** Live events queued (cancelled timers do not count). */
  pending(): number {
    let n = this.heap.length - this.cancelledInHeap;
    for (let i = 0; i < this.lanes.length; i++) n += this.lanes[i]!.size;
    return n;
  }

  /**
   * Drive the loop until p settles, then return p's value. Concurrent callers
   * share one driver, so events always run in (time, seq) order. In fast mode
   * it rejects if the simulation goes idle with p still pending, no actor
   * runnable and nobody else driving. In wall mode the wall driver runs the
   * events; this only keeps it running until p settles.
   */
  async settle<T>(p: Promise<T>): Promise<T> {
    if (this.mode === 'wall') {
      this.syncToWall();
      const release = this.holdWallClock();
      try { return await p; } finally { release(); }
    }
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
          if (this.pending() === 0 && this.waiters === 1 && !this.runnable()) throw new Error('simulation went idle while an operation was still waiting');
          this.driving = this.drive().finally(() => { this.driving = null; });
        }
      }
    } finally { this.waiters--; }
    return watched;
  }

  /** The single fast-mode driver: runs while anyone waits and there is work. */
  private async drive(): Promise<void> {
    let idleTurns = 0;
    while (this.waiters > 0 && this.mode === 'fast') {
      const src = this.next();
      // Events due now always run; the clock moves on only when no actor is busy.
      if (src !== NONE && (this.atOf(src) <= this.nowNs || !this.runnable())) {
        idleTurns = 0;
        await this.step();
        continue;
      }
      await yieldMacrotask();
      if (src === NONE && !this.runnable() && ++idleTurns >= 3) return;
    }
  }

  /**
   * Fast mode, nobody waiting: run the events of the next limitNs of virtual
   * time (a connection's FIN exchange after its curl returned), through the
   * shared driver slot so it never runs beside a settle().
   */
  async drain(limitNs: number): Promise<void> {
    if (this.mode !== 'fast' || this.driving || this.waiters > 0) return;
    const until = this.nowNs + limitNs;
    const run = async (): Promise<void> => {
      for (let src = this.next(); src !== NONE && this.atOf(src) <= until && this.waiters === 0; src = this.next()) await this.step();
    };
    this.driving = run().finally(() => { this.driving = null; });
    await this.driving;
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

  /** Switch to wall mode for good: virtual time from now on is the wall clock. */
  useWallClock(): void {
    this.mode = 'wall';
    this.wallIdle = true;
    this.syncToWall();
  }

  /**
   * Keep the wall driver running (a server does for its lifetime, settle() while
   * it waits); the returned function lets go. The driver stops with the last user.
   */
  holdWallClock(): () => void {
    if (this.mode !== 'wall') this.useWallClock();
    this.wallUsers++;
    if (!this.wallLoop) this.wallLoop = this.driveWall().finally(() => { this.wallLoop = null; });
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      if (--this.wallUsers === 0) this.wake?.();
    };
  }

  /** Resolves when the wall driver stopped (after the last holdWallClock user let go). */
  async wallClockStopped(): Promise<void> { await this.wallLoop; }

  /** Wall-clock time as virtual nanoseconds. */
  private wallNs(): number { return (WALL_BASE_MS + performance.now() - this.epochMs) * 1e6; }

  /**
   * Move the clock up to the wall clock (wall mode). Overdue events (the
   * event loop was busy) keep their order and run at the wall clock's time.
   */
  syncToWall(): void {
    if (this.mode !== 'wall') return;
    const wallNs = this.wallNs();
    if (wallNs > this.nowNs) this.nowNs = wallNs;
  }

  /** The wall driver: each instant runs when the wall clock reaches it. */
  private async driveWall(): Promise<void> {
    while (this.wallUsers > 0) {
      const src = this.next();
      const wait = src === NONE ? Infinity : this.atOf(src) - this.wallNs();
      if (wait <= 0) { await this.step(); continue; }
      this.syncToWall();
      // Packet hops are microseconds apart: a timer (1 ms at best) would make
      // every hop late, so gaps under a millisecond pass turn by turn.
      if (wait < SPIN_NS) await yieldMacrotask();
      else await this.sleepUntil(src === NONE ? Infinity : this.atOf(src));
    }
  }

  /** Real sleep until virtual time atNs is on the wall, or until an earlier event or a stop wakes it. */
  private sleepUntil(atNs: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = (): void => {
        if (timer) clearTimeout(timer);
        this.wakeAt = -Infinity; this.wake = null;
        resolve();
      };
      this.wakeAt = atNs; this.wake = wake;
      if (atNs !== Infinity) timer = setTimeout(wake, Math.max(0, Math.ceil((atNs - this.wallNs()) / 1e6)));
    });
  }

  /** Where the next live event is: a lane index, HEAP or NONE; (at, seq) order across all of them. */
  private next(): number {
    let best = NONE, bAt = 0, bSeq = 0;
    const h = this.heap;
    while (h.length > 0 && h[0]!.state === CANCELLED) this.pop();
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

  /** Remove and run the live event next() returned. */
  private fireNext(src: number): void {
    if (src !== HEAP) { this.lanes[src]!.fire(); return; }
    this.pop()!.fire();
  }

  /** Runs all events due at the next timestamp, then lets the event loop turn. */
  private async step(): Promise<void> {
    const at = this.atOf(this.next());
    this.nowNs = Math.max(this.nowNs, at);
    // Wall mode: an event that runs late (the event loop was busy) runs at the wall clock's
    // time, so what it schedules is not late too and the lag never accumulates.
    this.syncToWall();
    // Events at the same instant run back to back; continuations they
    // trigger in apps get a macrotask turn before the clock moves on.
    const wall = this.mode === 'wall';
    this.wallIdle = false;
    try {
      for (let src = this.next(); src !== NONE && this.atOf(src) <= at; src = this.next()) this.fireNext(src);
    } finally { this.wallIdle = wall; }
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
      this.fireNext(src);
      n++;
    }
    return n;
  }

  /** A queued timer was cancelled: it stays in the heap until it surfaces, or until they pile up. */
  timerCancelled(): void {
    // Retransmit and timeout timers are mostly cancelled; rebuild before they outnumber live ones.
    if (++this.cancelledInHeap > 4096 && this.cancelledInHeap * 2 > this.heap.length) this.compact();
  }

  private compact(): void {
    const live = this.heap.filter((t) => t.state === QUEUED);
    this.heap = [];
    this.cancelledInHeap = 0;
    for (const t of live) this.push(t);
  }

  private push(t: Timer): void {
    if (t.at < this.wakeAt) this.wake!();
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
    if (top) {
      if (top.state === CANCELLED) this.cancelledInHeap--;
      top.state = DONE;
    }
    return top;
  }
}

function less(a: Timer, b: Timer): boolean { return a.at < b.at || (a.at === b.at && a.seq < b.seq); }
function yieldMacrotask(): Promise<void> { return new Promise((r) => setImmediate(r)); }
