// `ebtables -L` as ebtables-nft 1.8.9 prints it on a node without bridges
// (a kind node: seed 000 lists it): the filter and nat tables with their
// built-in chains, empty, policy ACCEPT. Texts and exit codes are those of
// ebtables 1.8.9 (nf_tables) in a fresh network namespace; broute is absent
// there (its nft support needs a newer kernel), so it is here too.

import type { ToolResult } from './restore.ts';

const VERSION = 'ebtables 1.8.9 (nf_tables)';
const PREFIX = 'ebtables v1.8.9 (nf_tables): ';
const TABLES: Record<string, string[]> = { filter: ['INPUT', 'FORWARD', 'OUTPUT'], nat: ['PREROUTING', 'OUTPUT', 'POSTROUTING'] };

const fail = (code: number, msg: string): ToolResult => ({ stdout: '', stderr: PREFIX + msg + '\n', code });

/** Runs `ebtables ARGS...` (argv without the program name); only listing is emulated. */
export function ebtables(argv: readonly string[]): ToolResult {
  let table = 'filter', list = false, chain: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-V' || a === '--version') return { stdout: VERSION + '\n', stderr: '', code: 0 };
    if (a === '-t' || a === '--table') {
      const t = argv[++i];
      if (t === undefined) return fail(2, "option '--table' requires an argument");
      table = t;
    } else if (a === '-L' || a === '--list') {
      list = true;
      if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) chain = argv[++i];
    } else return fail(2, `only -L [CHAIN] and -t TABLE are emulated here, got '${a}'`);
  }
  const chains = TABLES[table];
  if (!chains) return { stdout: '', stderr: `${PREFIX}table '${table}' does not exist\nPerhaps ebtables or your kernel needs to be upgraded.\n`, code: 3 };
  if (!list) return fail(2, 'no command given (only -L is emulated)');
  if (chain !== undefined && !chains.includes(chain)) return fail(1, `chain \`${chain}' in table \`${table}' is incompatible, use 'nft' tool.`);
  const shown = chain === undefined ? chains : [chain];
  return { stdout: `Bridge table: ${table}\n${shown.map((c) => `\nBridge chain: ${c}, entries: 0, policy: ACCEPT\n`).join('')}`, stderr: '', code: 0 };
}
