// How the current bench files run against an older checkout (bench/compare.ts):
// modules that moved since are given back under their new path as re-export
// shims; a symbol that moved between modules existing in both is imported
// from its old home; anything else is a text edit on the copied bench files.
// When code moves, add a line here.

export interface MovedModule {
  /** Path the bench files import today (relative to the repository root). */
  path: string;
  /** Where older checkouts had it; the first that exists is re-exported. */
  from: string[];
  why: string;
}

export const MOVED_MODULES: MovedModule[] = [
  { path: 'src/sim/sim.ts', from: ['src/kernel/sim.ts'], why: 'c02b582: clock and random source moved to src/sim' },
  { path: 'src/wire/skb.ts', from: ['src/bpf/ctx.ts'], why: 'c02b582: SkBuff and newSkb moved out of src/bpf/ctx.ts' },
];

export interface MovedSymbol {
  symbol: string;
  /** Module the bench files import it from today. */
  path: string;
  /** Its older homes; used when the checkout's `path` does not export it. */
  from: string[];
  why: string;
}

// e.g. { symbol: 'TUPLE_F_OUT', path: 'maps/cilium_ct4_global.ts', from: ['programs/lib/layout.ts'], why: '...' }
export const MOVED_SYMBOLS: MovedSymbol[] = [];

export interface Rewrite {
  /** Bench file name (e.g. 'apply.bench.ts'), or '*' for every copied file. */
  file: string;
  /** Applied only to checkouts that do not have this file (i.e. older than the move). */
  unless: string;
  from: string | RegExp;
  to: string;
  why: string;
}

export const REWRITES: Rewrite[] = [];
