// Server mode: keeps the virtual clock level with the wall clock and runs due
// events even when no request is driving the simulation, so streams
// (capture, monitor, demo traffic, timers) progress on their own.

import type { Sim } from '../sim/sim.ts';

/** A background loop you can stop; stop() waits for the turn in progress. */
export interface Background { stop(): Promise<void> }

/** Every intervalMs, runs all events due up to the wall clock (never two turns at once). */
export function startSimDriver(sim: Sim, intervalMs = 50): Background {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let turn: Promise<void> = Promise.resolve();

  const tick = async (): Promise<void> => {
    sim.syncToWall();
    if (sim.pending() === 0) return;
    // Sleeping until "now on the wall" runs every event due by then, in order,
    // through the same shared driver that exec calls use.
    const behindNs = sim.followWallClock ? (Date.now() - sim.epochMs) * 1e6 - sim.now() : 0;
    await sim.settle(sim.sleep(Math.max(0, behindNs)));
  };
  const loop = (): void => {
    if (stopped) return;
    turn = tick().catch(() => {}).then(() => { if (!stopped) timer = setTimeout(loop, intervalMs); });
  };
  timer = setTimeout(loop, intervalMs);
  return {
    async stop() { stopped = true; if (timer) clearTimeout(timer); await turn; },
  };
}
