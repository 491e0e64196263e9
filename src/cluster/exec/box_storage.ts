// just-bash's defense-in-depth box runs every exec inside one
// AsyncLocalStorage. Once an AsyncLocalStorage has run, Node 20 keeps its
// promise hooks on for every promise of the process, execs or not: after the
// first exec each API answer cost half as much CPU again (/healthz: 21 to
// 32 us). We find the box's storage during a probe exec and disable it
// whenever no exec runs; the next exec's run() enables it again. The box is
// inactive between execs anyway, so nothing it guards changes.

import { AsyncLocalStorage } from 'node:async_hooks';

let storage: AsyncLocalStorage<unknown> | undefined;
let running = 0;

/** Run probe (an exec) and keep the first AsyncLocalStorage it runs: the box's. */
export async function findBoxStorage(probe: () => Promise<unknown>): Promise<void> {
  const proto = AsyncLocalStorage.prototype;
  const run = proto.run;
  proto.run = function (this: AsyncLocalStorage<unknown>, store: unknown, callback: (...a: unknown[]) => unknown, ...args: unknown[]) {
    storage ??= this;
    return run.call(this, store, callback, ...args);
  } as typeof run;
  try { await probe(); } finally { proto.run = run; }
}

/** An exec starts; the returned function ends it, and the last one to end disables the storage. */
export function execRunning(): () => void {
  running++;
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    if (--running === 0) storage?.disable();
  };
}
