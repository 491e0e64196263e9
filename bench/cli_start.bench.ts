// How fast the `dplab` command starts, against a bare `node -e 0` on the same
// machine (issue 5: `dplab --help` within 3x). Each round spawns the three
// commands one after the other (interleaved, so a slow spell of the machine
// hits all three alike) and times each by the wall clock, spawn included.
// Prints JSON: median, min, max per command, and of the per-round ratio help/bare.
//
//   node --import tsx bench/cli_start.bench.ts [--rounds N]

import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { distIsFresh } from '../scripts/sources_stamp.js';

const root = resolve(import.meta.dirname, '..');
const bin = resolve(root, 'bin/dplab.js');
const WARMUP_ROUNDS = 2; // file cache and the OS's exec path warm, not counted
const CEILING = 3;

const commands = {
  bare: ['-e', '0'],
  version: [bin, '--version'],
  help: [bin, '--help'],
} as const;
type Name = keyof typeof commands;

function timeOnce(args: readonly string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${String(r.stderr)}`);
  return ms;
}

function summary(xs: number[]): { median: number; min: number; max: number; runs: number } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  const r = (x: number): number => Number(x.toPrecision(3));
  return { median: r(median), min: r(s[0]!), max: r(s[s.length - 1]!), runs: s.length };
}

function roundsArg(argv: string[]): number {
  const i = argv.indexOf('--rounds');
  const n = i < 0 ? Number(process.env.BENCH_ROUNDS ?? 15) : Number(argv[i + 1]);
  if (!Number.isInteger(n) || n <= 0) throw new Error('--rounds takes a positive integer');
  return n;
}

// Measure the installed path: build dist/ if an edit made it stale (a no-op otherwise).
const build = spawnSync(process.execPath, [resolve(root, 'scripts/build.js')], { stdio: ['ignore', 'ignore', 'inherit'] });
if (build.status !== 0) throw new Error('npm run build failed');

const rounds = roundsArg(process.argv.slice(2));
const ms: Record<Name, number[]> = { bare: [], version: [], help: [] };
const ratio: number[] = [];
let fromDist = 0;
for (let r = 0; r < WARMUP_ROUNDS + rounds; r++) {
  const fresh = distIsFresh(root);
  const t = Object.fromEntries((Object.keys(commands) as Name[]).map((n) => [n, timeOnce(commands[n])])) as Record<Name, number>;
  if (r < WARMUP_ROUNDS) continue;
  if (fresh) fromDist++;
  for (const n of Object.keys(t) as Name[]) ms[n].push(t[n]);
  ratio.push(t.help / t.bare);
}

console.log(JSON.stringify({
  bench: 'cli_start',
  method: `${rounds} rounds after ${WARMUP_ROUNDS} warm-up rounds; each round spawns \`node -e 0\`, \`dplab --version\`, \`dplab --help\` in turn, timed by the wall clock from spawn to exit`,
  rounds,
  // dplab runs dist/ only when it matches the sources; an edit during the bench sends it back to tsx.
  roundsFromDist: fromDist,
  ms: { bare: summary(ms.bare), version: summary(ms.version), help: summary(ms.help) },
  helpOverBare: { ...summary(ratio), ceiling: CEILING },
}, null, 2));
