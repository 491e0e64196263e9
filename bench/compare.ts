// Before/after on one machine in one run: today's bench cases against an
// older revision (a worktree under /tmp, see bench/lib/checkout.ts) and this
// working tree, processes interleaved (old new, new old, ...) so drift in the
// machine's load falls on both sides alike. Prints, per figure, both medians,
// new/old, and the calibrated figures' ratio.
// Run: node --import tsx bench/compare.ts <old-rev> [--new <rev>] [--pairs N] [--rounds N] [--json FILE] [bench...]
//   e.g. node --import tsx bench/compare.ts d83b5ef datapath maps

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchExisted, benchNames, prepareCheckout, repoRoot } from './lib/checkout.ts';
import { median } from './lib/reference.ts';
import type { Samples } from './lib/stats.ts';

interface Side { label: string; dir: string }
interface Opts { oldRev: string; newRev?: string; pairs: number; rounds: number; json?: string; benches: string[] }

function parse(argv: string[]): Opts {
  const o: Opts = { oldRev: '', pairs: 3, rounds: 2, benches: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--new') o.newRev = argv[++i];
    else if (a === '--pairs') o.pairs = Number(argv[++i]);
    else if (a === '--rounds') o.rounds = Number(argv[++i]);
    else if (a === '--json') o.json = argv[++i];
    else if (o.oldRev === '') o.oldRev = a;
    else o.benches.push(a);
  }
  if (o.oldRev === '') throw new Error('usage: compare.ts <old-rev> [--new <rev>] [--pairs N] [--rounds N] [--json FILE] [bench...]');
  if (!(o.pairs > 0 && o.rounds > 0)) throw new Error('--pairs and --rounds take positive integers');
  return o;
}

/** One process of one bench in one checkout: its per-run samples, or the error it died of. */
function runOnce(side: Side, bench: string, rounds: number): Record<string, Samples> | Error {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', `bench/${bench}.bench.ts`, '--samples', '--rounds', String(rounds)],
    { cwd: side.dir, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) return new Error(`${side.label} ${bench}: exit ${r.status}\n${(r.stderr ?? '').split('\n').slice(0, 8).join('\n')}`);
  const samples = (JSON.parse(r.stdout) as { samples?: Record<string, Samples> }).samples;
  return samples ?? new Error(`${side.label} ${bench}: printed no samples (not run by bench/lib/harness.ts)`);
}

type Pool = Map<string, { better: 'higher' | 'lower'; values: number[]; calibrated: number[] }>;

function pour(pool: Pool, bench: string, s: Record<string, Samples>): void {
  for (const [fig, x] of Object.entries(s)) {
    const key = `${bench} ${fig}`;
    const p = pool.get(key) ?? { better: x.better, values: [], calibrated: [] };
    p.values.push(...x.values); p.calibrated.push(...(x.calibrated ?? []));
    pool.set(key, p);
  }
}

const fmt = (x: number): string => (Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : Number(x.toPrecision(3)).toString());

type Pooled = Pool extends Map<string, infer V> ? V : never;
const stats = (p: Pooled) => ({ median: median(p.values), min: Math.min(...p.values), max: Math.max(...p.values), runs: p.values.length,
  calibrated: p.calibrated.length ? median(p.calibrated) : undefined });

/** One figure old vs new: the JSON row and its table line. */
function compareFigure(key: string, o: Pooled, n: Pooled): { row: unknown; line: string } {
  const so = stats(o), sn = stats(n), ratio = sn.median / so.median;
  // Goodness > 1 is better whichever way the figure points (rates up, costs and sizes down).
  const goodness = o.better === 'higher' ? ratio : 1 / ratio;
  const flag = goodness < 0.9 ? 'WORSE >10%' : goodness > 1.1 ? 'better >10%' : '';
  const side = (x: typeof so) => `${fmt(x.median)} [${fmt(x.min)}-${fmt(x.max)}]`;
  const cal = so.calibrated !== undefined && sn.calibrated !== undefined ? `${fmt(so.calibrated)}→${fmt(sn.calibrated)} (${(so.calibrated / sn.calibrated).toFixed(3)})` : '-';
  return { row: { figure: key, better: o.better, old: so, new: sn, newOverOld: ratio, flag }, line: [key, side(so), side(sn), ratio.toFixed(3), cal, flag].join(' | ') };
}

function report(pools: [Pool, Pool], labels: [string, string]): { rows: unknown[]; text: string } {
  const rows: unknown[] = [];
  const lines = [['figure', `${labels[0]} median [min-max]`, `${labels[1]} median [min-max]`, 'new/old', 'calibrated old→new (old/new)', ''].join(' | ')];
  for (const [key, o] of pools[0]) {
    const n = pools[1].get(key);
    if (n === undefined) continue;
    const { row, line } = compareFigure(key, o, n);
    rows.push(row); lines.push(line);
  }
  return { rows, text: lines.join('\n') };
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const root = repoRoot(fileURLToPath(new URL('.', import.meta.url)));
  const old = prepareCheckout(root, o.oldRev);
  const neu = o.newRev === undefined ? { dir: root, sha: 'working tree' } : prepareCheckout(root, o.newRev);
  const sides: [Side, Side] = [{ label: `old ${o.oldRev}`, dir: old.dir }, { label: `new ${o.newRev ?? 'working tree'}`, dir: neu.dir }];
  // By default the benches the old revision had too: those are the figures a change must not drop.
  const benches = o.benches.length ? o.benches : benchNames(root).filter((b) => benchExisted(root, old.sha, b));
  const pools: [Pool, Pool] = [new Map(), new Map()];
  const errors: string[] = [];
  console.error(`old = ${old.sha} in ${old.dir}; new = ${neu.sha} in ${neu.dir}; ${o.pairs} pairs x ${o.rounds} rounds; benches: ${benches.join(' ')}`);
  for (let i = 0; i < o.pairs; i++) {
    for (const b of benches) {
      for (const s of i % 2 === 0 ? [0, 1] : [1, 0]) { // ABBA: neither side always runs first
        const t0 = Date.now();
        const res = runOnce(sides[s]!, b, o.rounds);
        console.error(`pair ${i + 1}/${o.pairs} ${b} ${sides[s]!.label}: ${res instanceof Error ? 'FAILED' : 'ok'} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        if (res instanceof Error) errors.push(res.message); else pour(pools[s]!, b, res);
      }
    }
  }
  const { rows, text } = report(pools, [sides[0].label, sides[1].label]);
  console.log(text);
  if (errors.length) console.log(`\nfailed runs (${errors.length}):\n${[...new Set(errors)].join('\n')}`);
  if (o.json) writeFileSync(o.json, JSON.stringify({ old: old.sha, new: neu.sha, pairs: o.pairs, rounds: o.rounds, rows, errors }, null, 2));
}

await main();
