// Wakes waiting readers after writes: one microtask per burst of writes, so a
// follower reads everything a synchronous run of the datapath produced at once.

export class Notifier {
  private waiters: Array<() => void> = [];
  private scheduled = false;

  /** Call after a write. */
  notify(): void {
    if (this.waiters.length === 0 || this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    });
  }

  /** Resolves after the next write, or at once when signal aborts. */
  wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) { resolve(); return; }
      const done = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => { this.waiters = this.waiters.filter((f) => f !== done); resolve(); };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(done);
    });
  }

  /** Readers waiting now (tests, metrics). */
  get waiting(): number { return this.waiters.length; }
}
