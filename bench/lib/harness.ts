// Runs a bench's cases interleaved (A B C A B C ..., never A A A B B B) so
// that a slow spell of the machine spreads over every case instead of
// sinking one, times the reference loop just before each run, and prints
// one JSON object: per figure {median, min, max, runs, calibrated}.
//
// Flags (any bench): --rounds N (or BENCH_ROUNDS), --only a,b (case-name
// prefixes), --samples (add every run's values, for bench/compare.ts);
// BENCH_ARGS adds flags from the environment.

import { type Figures } from './figures.ts';
import { REFERENCE_METHOD, timeReference, type ReferenceCost } from './reference.ts';
import { collectSamples, reduceRuns, sig3, summarize, type Run, type Samples } from './stats.ts';

export interface Case {
  /** Case name for --only, and its dotted output path, e.g. `crossNodeVxlan.udp`. */
  name: string;
  /** Output path when not `name`; '' puts the case's figures at the top level. */
  at?: string;
  run(): Figures | Promise<Figures>;
}

export interface Bench {
  /** Text and constants printed first (method, floors, sizes). */
  header: Record<string, unknown>;
  cases: Case[];
  /** Rounds when no --rounds / BENCH_ROUNDS is given. */
  rounds: number;
  /** Called once after the last round (release labs). */
  done?: () => void;
}

export interface Args { rounds?: number; only: string[]; samples: boolean; rest: string[] }

/** The harness flags of process.argv (then of BENCH_ARGS, space-separated: bench/compare.ts passes them through); `rest` is what the bench itself may read. */
export function benchArgs(argv = [...process.argv.slice(2), ...(process.env.BENCH_ARGS ?? '').split(' ').filter(Boolean)]): Args {
  const a: Args = { only: [], samples: false, rest: [] };
  if (process.env.BENCH_ROUNDS) a.rounds = Number(process.env.BENCH_ROUNDS);
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    if (x === '--rounds') a.rounds = Number(argv[++i]);
    else if (x === '--only') a.only.push(...argv[++i]!.split(','));
    else if (x === '--samples') a.samples = true;
    else a.rest.push(x);
  }
  if (a.rounds !== undefined && !(Number.isInteger(a.rounds) && a.rounds > 0)) throw new Error('--rounds takes a positive integer');
  return a;
}

const gc = (globalThis as { gc?: () => void }).gc;
const selected = (name: string, only: string[]) => only.length === 0 || only.some((o) => name.startsWith(o) || o.startsWith(name));

/** Merges a case's figures into the output at a dotted path ('' = top level; a numeric part indexes an array). */
function place(out: Record<string, unknown>, path: string, figures: Record<string, unknown>): void {
  const parts = path === '' ? [] : path.split('.');
  let o = out;
  parts.forEach((p, i) => { o = (o[p] ??= /^\d+$/.test(parts[i + 1] ?? '') ? [] : {}) as Record<string, unknown>; });
  Object.assign(o, figures);
}

/** Every case once per round, in order, the reference loop timed around each run. */
async function measure(cases: Case[], rounds: number): Promise<{ runs: Map<string, Run[]>; refs: ReferenceCost[] }> {
  const runs = new Map<string, Run[]>(cases.map((c) => [c.name, []]));
  const refs: ReferenceCost[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      gc?.(); // the previous case's garbage is not collected on this one's time
      const before = timeReference();
      const figures = await c.run();
      // Timed again just after: a load change during the run moves both ends of the bracket.
      const after = timeReference();
      const ref = { wallNs: (before.wallNs + after.wallNs) / 2, cpuNs: (before.cpuNs + after.cpuNs) / 2 };
      refs.push(ref);
      runs.get(c.name)!.push({ figures, ref });
    }
  }
  return { runs, refs };
}

export async function runBench(b: Bench, args = benchArgs()): Promise<void> {
  const cases = b.cases.filter((c) => selected(c.name, args.only));
  const rounds = args.rounds ?? b.rounds;
  const { runs, refs } = await measure(cases, rounds);
  b.done?.();
  const out: Record<string, unknown> = {
    ...b.header,
    rounds,
    order: 'interleaved: each round runs every case once, in order; per figure median, min, max of the rounds',
    calibrated: 'median over runs of (ns per operation of the case) / (ns per lookup of the reference loop, same clock, timed just before and just after that run, averaged): the cost in reference lookups, lower is better; compares across machines and commits',
    reference: {
      method: REFERENCE_METHOD,
      wallNsPerLookup: summarize(refs.map((x) => sig3(x.wallNs))),
      cpuNsPerLookup: summarize(refs.map((x) => sig3(x.cpuNs))),
    },
    gcExposed: gc !== undefined,
  };
  const samples: Record<string, Samples> = {};
  for (const c of cases) {
    const at = c.at ?? c.name;
    place(out, at, reduceRuns(runs.get(c.name)!));
    collectSamples(at, runs.get(c.name)!, samples);
  }
  if (args.samples) out.samples = samples;
  console.log(JSON.stringify(out, null, 2));
}
