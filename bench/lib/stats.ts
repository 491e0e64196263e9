// Reducing several runs of a case to one figure each: median, min-max, runs,
// and the calibrated cost (median of the per-run cost / reference ratios).

import { isMeasured, type Figure, type Figures, type Measured } from './figures.ts';
import { median, type ReferenceCost } from './reference.ts';

export interface Run { figures: Figures; ref: ReferenceCost }

export interface Summary { median: number; min: number; max: number; runs: number; calibrated?: number }

/** One measured figure across runs, flat: what `--samples` prints and compare.ts reads. */
export interface Samples { better: 'higher' | 'lower'; values: number[]; calibrated?: number[] }

export const sig3 = (x: number): number => Number(x.toPrecision(3));

/** Median, min, max; the median keeps the inputs' precision (integers stay integers). */
export function summarize(xs: number[]): Summary {
  const m = median(xs);
  return { median: xs.every(Number.isInteger) ? Math.round(m) : sig3(m), min: Math.min(...xs), max: Math.max(...xs), runs: xs.length };
}

function calibrate(m: Measured, ref: ReferenceCost): number | undefined {
  if (m.nsPerOp === undefined) return undefined;
  return m.nsPerOp / (m.clock === 'cpu' ? ref.cpuNs : ref.wallNs);
}

/** Every measured figure of a case's runs, keyed by dotted path under `prefix`. */
export function collectSamples(prefix: string, runs: Run[], out: Record<string, Samples>): void {
  const walk = (path: string, pick: (f: Figures) => Figure | Figures | undefined): void => {
    const first = pick(runs[0]!.figures);
    if (isMeasured(first)) {
      const ms = runs.map((r) => pick(r.figures) as Measured);
      const cal = runs.map((r, i) => calibrate(ms[i]!, r.ref));
      out[path] = { better: first.better, values: ms.map((m) => m.value), ...(cal[0] !== undefined ? { calibrated: cal as number[] } : {}) };
    } else if (typeof first === 'object' && first !== null) {
      for (const k of Object.keys(first)) walk(path === '' ? k : `${path}.${k}`, (f) => (pick(f) as Figures | undefined)?.[k]);
    }
  };
  walk(prefix, (f) => f);
}

/** The case's output: figures as in one run, measured ones replaced by their Summary. */
export function reduceRuns(runs: Run[]): Record<string, unknown> {
  const reduce = (pick: (f: Figures) => Figure | Figures | undefined): unknown => {
    const first = pick(runs[0]!.figures);
    if (isMeasured(first)) {
      const ms = runs.map((r) => pick(r.figures) as Measured);
      const s = summarize(ms.map((m) => m.value));
      const cal = runs.map((r, i) => calibrate(ms[i]!, r.ref));
      return cal[0] === undefined ? s : { ...s, calibrated: sig3(median(cal as number[])) };
    }
    if (typeof first === 'number') {
      const xs = runs.map((r) => pick(r.figures) as number);
      return xs.every((x) => x === first) ? first : summarize(xs); // facts that varied are shown as such
    }
    if (typeof first === 'object' && first !== null) {
      return Object.fromEntries(Object.keys(first).map((k) => [k, reduce((f) => (pick(f) as Figures | undefined)?.[k])]));
    }
    return first;
  };
  return reduce((f) => f) as Record<string, unknown>;
}
