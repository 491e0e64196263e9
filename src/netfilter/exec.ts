// The `iptables` and `iptables-save` tools over a Ruleset: parse, apply,
// print, with iptables' exit codes (1 kernel error, 2 parameter problem)
// and texts on stderr.

import { parseCommand, type Command } from './command.ts';
import { ENOENT_CHAIN, IptError, IPT_VERSION } from './errors.ts';
import { list } from './list.ts';
import { BusyChain, type Ruleset, type Table } from './ruleset.ts';
import { listRules, ruleText, save } from './save.ts';
import type { ToolResult } from './restore.ts';
import type { TableName } from './types.ts';

/** Applies a modifying command to a table (throws IptError / BusyChain). */
export function applyCommand(t: Table, cmd: Command): void {
  const chain = cmd.chain;
  switch (cmd.op) {
    case 'A': t.append(chain!, cmd.rule!); break;
    case 'I': t.insert(chain!, cmd.num ?? 1, cmd.rule!); break;
    case 'D':
      if (cmd.num !== undefined) t.deleteAt(chain!, cmd.num);
      else t.deleteMatching(chain!, ruleText(cmd.rule!), (r) => ruleText(r));
      break;
    case 'N': t.newChain(chain!); break;
    case 'X': if (chain === undefined) t.deleteAllUserChains(); else t.deleteChain(chain); break;
    case 'F': t.flush(chain); break;
    case 'P': t.setPolicy(chain!, cmd.policy!); break;
    case 'Z': t.zero(chain); break;
    case 'C': if (!t.chain(chain!).rules.some((r) => ruleText(r) === ruleText(cmd.rule!))) throw new IptError('commit', 'Bad rule (does a matching rule exist in that chain?)'); break;
    case 'L': case 'S': break;
  }
}

const HELP_TAIL = "Try `iptables -h' or 'iptables --help' for more information.\n";

/** Runs `iptables ARGS...` (argv without the program name). */
export function iptables(rs: Ruleset, argv: readonly string[]): ToolResult {
  let cmd: Command;
  try { cmd = parseCommand(argv); } catch (e) { return toolError(e); }
  const t = rs.tables[cmd.table];
  try {
    if (cmd.op === 'L' || cmd.op === 'S') return { stdout: printCmd(rs, cmd), stderr: '', code: 0 };
    if (cmd.op === 'Z' && cmd.num !== undefined) throw new IptError('commit', ENOENT_CHAIN);
    if (cmd.rule?.jump && !t.chains.has(cmd.rule.jump)) throw new IptError('param', `Chain '${cmd.rule.jump}' does not exist`);
    // A change runs on a copy swapped in whole, as one nft transaction.
    const copy = t.copy();
    applyCommand(copy, cmd);
    copy.exists = true;
    rs.replace(copy);
    return { stdout: '', stderr: '', code: 0 };
  } catch (e) { return toolError(e); }
}

function printCmd(rs: Ruleset, cmd: Command): string {
  if (cmd.op === 'S') return listRules(rs, cmd.table, cmd.chain, cmd.num, cmd.verbose);
  const o = { verbose: cmd.verbose, numeric: cmd.numeric, exact: cmd.exact, lineNumbers: cmd.lineNumbers };
  return list(rs, cmd.table, o, cmd.chain, cmd.num);
}

function toolError(e: unknown): ToolResult {
  if (e instanceof BusyChain) return { stdout: '', stderr: `iptables ${IPT_VERSION}:  ${e.message}\n`, code: 4 };
  if (!(e instanceof IptError)) throw e;
  switch (e.kind) {
    case 'bare': return { stdout: '', stderr: `${e.message}\n${HELP_TAIL}`, code: 2 };
    case 'param': return { stdout: '', stderr: `iptables ${IPT_VERSION}: ${e.message}\n${e.extraNewline ? '\n' : ''}${HELP_TAIL}`, code: 2 };
    case 'commit': return { stdout: '', stderr: `iptables: ${e.message}.${e.message === 'Bad policy name' ? " Run `dmesg' for more information." : ''}\n`, code: 1 };
    default: return { stdout: '', stderr: `iptables ${IPT_VERSION}: ${e.message}\n`, code: e.exitCode ?? (e.message.startsWith(' RULE_') ? 4 : 3) };
  }
}

/** `iptables-save [-c] [-t T]`. */
export function iptablesSave(rs: Ruleset, argv: readonly string[], date?: Date): ToolResult {
  let counters = false, table: TableName | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c' || a === '--counters') counters = true;
    else if (a === '-t' || a === '--table') {
      const v = argv[++i];
      if (v !== 'raw' && v !== 'mangle' && v !== 'nat' && v !== 'filter') {
        return { stdout: '', stderr: `iptables-save ${IPT_VERSION}: table '${v ?? ''}' does not exist\n`, code: 1 };
      }
      table = v;
    } else return { stdout: '', stderr: `Unknown arguments found on commandline\n`, code: 1 };
  }
  return { stdout: save(rs, { counters, table, date }), stderr: '', code: 0 };
}
