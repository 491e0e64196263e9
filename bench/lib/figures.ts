// What a bench case returns for one run: measured figures (a value, which
// way is better, and when it is a cost in time, ns per operation for the
// calibrated figure) and plain facts (counts, sizes, method text).

import { performance } from 'node:perf_hooks';

export type Clock = 'wall' | 'cpu';

export interface Measured {
  readonly kind: 'measured';
  value: number;
  better: 'higher' | 'lower';
  /** Time cost of one operation, by `clock`; absent for non-time figures (bytes). */
  nsPerOp?: number;
  clock?: Clock;
}

export type Figure = Measured | number | string | boolean;
export interface Figures { [name: string]: Figure | Figures }

export const isMeasured = (f: unknown): f is Measured =>
  typeof f === 'object' && f !== null && (f as Measured).kind === 'measured';

/** A rate: `ops` operations in `ms` milliseconds of `clock`. */
export function perSec(ops: number, ms: number, clock: Clock): Measured {
  return { kind: 'measured', value: Math.round(ops / ms * 1000), better: 'higher', nsPerOp: ms * 1e6 / ops, clock };
}

/** A duration in ms for `ops` operations (calibrated per operation). */
export function millis(ms: number, clock: Clock, ops = 1): Measured {
  return { kind: 'measured', value: Math.round(ms), better: 'lower', nsPerOp: ms * 1e6 / ops, clock };
}

/** A size (bytes, MB): no time, so no calibrated figure; lower is better. */
export function size(value: number): Measured {
  return { kind: 'measured', value, better: 'lower' };
}

/** Starts a span; the returned function gives wall and CPU ms since then. */
export function span(): () => { wallMs: number; cpuMs: number } {
  const w0 = performance.now(), c0 = process.cpuUsage();
  return () => { const c = process.cpuUsage(c0); return { wallMs: performance.now() - w0, cpuMs: (c.user + c.system) / 1000 }; };
}
