// Server mode: keeps the simulation moving when no request drives it, so
// streams (capture, monitor, demo traffic, timers) progress on their own.

import type { Sim } from '../sim/sim.ts';

/** A background loop you can stop; stop() waits for the turn in progress. */
export interface Background { stop(): Promise<void> }

/** How far a fast-clock server runs ahead on its own after a command: a connection's teardown, retransmits. */
const FAST_LINGER_NS = 1e9;

/**
 * `wall`: virtual time is the wall clock and every event fires when the wall
 * clock reaches it. `fast`: virtual time runs as fast as the CPU allows while
 * a request waits; between requests, every intervalMs, the events of the next
 * virtual second run, so a finished curl's FIN still reaches a capture.
 */
export function startSimDriver(sim: Sim, clock: 'wall' | 'fast', intervalMs = 50): Background {
  if (clock === 'wall') {
    const release = sim.holdWallClock();
    return { async stop() { release(); await sim.wallClockStopped(); } };
  }
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let turn: Promise<void> = Promise.resolve();
  const loop = (): void => {
    if (stopped) return;
    turn = sim.drain(FAST_LINGER_NS).catch(() => {}).then(() => { if (!stopped) timer = setTimeout(loop, intervalMs); });
  };
  timer = setTimeout(loop, intervalMs);
  return { async stop() { stopped = true; if (timer) clearTimeout(timer); await turn; } };
}
