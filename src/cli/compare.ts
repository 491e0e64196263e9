// `dplab compare --cluster FILE [--traffic FILE] [--datapaths a,b] [--seed N] [-o json]`.
// Runs in this process, as `serve` does: it builds its own clusters (one per
// datapath) and talks to no server. It imports src/compare, which sits at the
// API's rank (DESIGN.md: api, grpc, compare <- cli), so the layer rule "nothing
// below the API" holds without an exception.

import type { Command } from 'commander';
import { CliError } from './errors.ts';
import { readManifest } from './io.ts';

interface CompareOpts { cluster?: string; traffic?: string; datapaths: string; seed: string; output?: string }

export function addCompareVerb(program: Command, exit: (code: number) => void): void {
  program.command('compare').description('build a cluster once per datapath, run the same traffic, report side by side')
    .requiredOption('--cluster <file>', 'cluster YAML (a Cluster document and manifests); its datapath is replaced per run')
    .option('--traffic <file>', 'YAML list of steps: - exec: {pod, command, repeat} (default: 10 curls to each service of the default namespace)')
    .option('--datapaths <list>', 'two to four datapaths, comma-separated (cilium:socketLB=false for Cilium without socket LB)', 'cilium,iptables')
    .option('--seed <n>', 'random seed (same seed, same report)', '1')
    .option('-o, --output <format>', 'json for the report as JSON (default: tables)')
    .action(async (opts: CompareOpts) => { exit(await runCompare(opts)); });
}

async function runCompare(opts: CompareOpts): Promise<number> {
  if (opts.output !== undefined && opts.output !== 'json') throw new CliError(`--output: unknown format "${opts.output}" (want json)`);
  const seed = Number(opts.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new CliError(`--seed: want an integer in 0..4294967295, got "${opts.seed}"`);
  const { compare, parseVariants, parseTraffic, formatReport } = await import('../compare/index.ts');
  const yaml = await readManifest(opts.cluster!);
  let variants, traffic;
  try {
    variants = parseVariants(opts.datapaths);
    traffic = opts.traffic === undefined ? undefined : parseTraffic(await readManifest(opts.traffic));
  } catch (e) { throw new CliError((e as Error).message); }
  const rep = await compare(yaml, { variants, seed, ...(traffic ? { traffic } : {}) });
  process.stdout.write(opts.output === 'json' ? `${JSON.stringify(rep, null, 2)}\n` : formatReport(rep));
  return 0;
}
