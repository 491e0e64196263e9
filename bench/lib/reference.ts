// The fixed reference loop every bench divides by: lookups in a JS Map of
// 1e5 numeric keys, in a fixed pseudo-random order. It exercises what the
// datapath is made of (hashing, memory loads, branches) and nothing of
// dplab, so its cost moves with the machine and the load on it but not with
// our code; cost/reference then compares across machines and commits.

import { performance } from 'node:perf_hooks';

const KEYS = 100_000;
const LOOKUPS = 300_000;
const REPS = 5;

export interface ReferenceCost {
  /** ns per Map lookup by the wall clock. */
  wallNs: number;
  /** ns per Map lookup in CPU time of this process. */
  cpuNs: number;
}

let table: Map<number, number> | undefined;
let order: Int32Array | undefined;
/** Results flow here so the JIT cannot drop the loop. */
let sink = 0;

function build(): void {
  table = new Map();
  // Keys spread over a wide range (not 0..n-1) but small integers (no boxed doubles, no allocation).
  for (let i = 0; i < KEYS; i++) table.set(i * 7_919 + 17, i);
  order = new Int32Array(LOOKUPS);
  let x = 12_345;
  for (let i = 0; i < LOOKUPS; i++) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    order[i] = (x % KEYS) * 7_919 + 17;
  }
}

function pass(m: Map<number, number>, keys: Int32Array): number {
  let s = 0;
  for (let i = 0; i < keys.length; i++) s += m.get(keys[i]!)!;
  return s;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b), h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};

/** Times the reference loop now (median of a few passes, each ~10-20 ms). */
export function timeReference(): ReferenceCost {
  if (table === undefined) { build(); sink += pass(table!, order!); } // first call: build and warm up
  const wall: number[] = [], cpu: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const w0 = performance.now(), c0 = process.cpuUsage();
    sink += pass(table!, order!);
    const c = process.cpuUsage(c0);
    wall.push((performance.now() - w0) * 1e6 / LOOKUPS);
    cpu.push((c.user + c.system) * 1e3 / LOOKUPS);
  }
  if (sink === -1) console.error(sink);
  return { wallNs: median(wall), cpuNs: median(cpu) };
}

export const REFERENCE_METHOD = `lookups in a JS Map of ${KEYS} numeric keys in a fixed pseudo-random order, median of ${REPS} passes of ${LOOKUPS} lookups, timed just before and just after each run of each case`;
export { median };
