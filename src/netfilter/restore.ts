// iptables-restore [--noflush] [--counters] [--test] [-T table]
// (xtables-restore.c, 1.8.9): each *table ... COMMIT block is applied to a
// copy of the table and swapped in at COMMIT, so a failing block leaves its
// table as it was while earlier blocks stay committed, as with the kernel.

import { splitArgs } from './args.ts';
import { applyCommand } from './exec.ts';
import { parseCommand } from './command.ts';
import { IptError, IPT_VERSION } from './errors.ts';
import { BUILTIN, BusyChain, isTableName, MAX_CHAIN_NAME, Table, type Ruleset } from './ruleset.ts';
import type { TableName } from './types.ts';

export interface RestoreOptions { noflush?: boolean; counters?: boolean; test?: boolean; table?: TableName; program?: string }
export interface ToolResult { stdout: string; stderr: string; code: number }

/** Input bounds: a restore never holds more than this. */
export const MAX_RESTORE_BYTES = 64 * 1024 * 1024;

class Fail extends Error {
  constructor(readonly text: string, readonly code: number) { super(text); }
}

/** Runs iptables-restore on `input` against `rs`. */
export function restore(rs: Ruleset, input: string, o: RestoreOptions = {}): ToolResult {
  const prog = o.program ?? 'iptables-restore';
  const tail = `Try \`${prog} -h' or '${prog} --help' for more information.\n`;
  if (input.length > MAX_RESTORE_BYTES) return { stdout: '', stderr: `${prog}: input too large\n`, code: 1 };
  const lines = input.split('\n');
  // A trailing newline does not make a line of its own.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  let cur: Table | null = null;
  let curName: TableName | null = null;
  /** Chains a rule may jump to in this block: those existing plus those declared so far. */
  let lineNo = 0;
  let pendingJumpError: string | null = null;
  try {
    for (const raw of lines) {
      lineNo++;
      const line = raw + '\n';
      if (line[0] === '\n' || line[0] === '#') continue;
      if (cur && /^COMMIT(\n|$)/.test(line)) {
        if (pendingJumpError) throw new Fail(`${prog} ${IPT_VERSION}: ${pendingJumpError}\nError occurred at line: ${lineNo}\n${tail}`, 2);
        if (!o.test) rs.replace(cur);
        cur = null; curName = null;
        continue;
      }
      if (line[0] === '*' && !cur) {
        const name = line.slice(1).split(/[ \t\n]/)[0] ?? '';
        if (!isTableName(name)) throw new Fail(`${prog} ${IPT_VERSION}: ${prog}: line ${lineNo} table name '${name}' invalid\nError occurred at line: ${lineNo}\n${tail}`, 2);
        if (o.table && o.table !== name) { cur = null; continue; }
        curName = name;
        cur = rs.tables[name].copy();
        cur.exists = true;
        if (!o.noflush) flushTable(cur);
        continue;
      }
      if (!cur || !curName) {
        if (o.table) continue;
        throw new Fail(`${prog}: line ${lineNo} failed\n`, 1);
      }
      if (line[0] === ':') {
        const words = line.slice(1).split(/[ \t\n]+/).filter((w) => w !== '');
        const [chain, policy, ctrs] = words;
        if (!chain) throw new Fail(`${prog} ${IPT_VERSION}: ${prog}: line ${lineNo} chain name invalid\nError occurred at line: ${lineNo}\n${tail}`, 2);
        if (chain.length > MAX_CHAIN_NAME) throw new Fail(`${prog} ${IPT_VERSION}: Invalid chain name \`${chain}'\nError occurred at line: ${lineNo}\n${tail}`, 2);
        if (!policy) throw new Fail(`${prog} ${IPT_VERSION}: ${prog}: line ${lineNo} policy invalid\nError occurred at line: ${lineNo}\n${tail}`, 2);
        if ((BUILTIN[curName] as readonly string[]).includes(chain)) {
          let pc: [number, number] | undefined;
          if (o.counters) {
            const m = /^\[(\d+):(\d+)\]$/.exec(ctrs ?? '');
            if (!m) throw new Fail(`${prog} ${IPT_VERSION}: invalid policy counters for chain '${chain}'\nError occurred at line: ${lineNo}\n${tail}`, 2);
            pc = [Number(m[1]), Number(m[2])];
          }
          try {
            cur.setPolicy(chain, policy, pc?.[0] ?? 0, pc?.[1] ?? 0);
          } catch (e) { throw commitFail(prog, lineNo, e); }
        } else if (cur.chains.has(chain)) {
          // Declaring an existing user chain flushes it (the --noflush contract kube-proxy relies on).
          cur.chains.get(chain)!.rules = [];
        } else {
          try { cur.newChain(chain); } catch (e) { throw commitFail(prog, lineNo, e); }
        }
        continue;
      }
      // A rule line: optional [pkts:bytes] then iptables arguments.
      let rest = line;
      let ctr: [number, number] | undefined;
      if (rest[0] === '[') {
        const m = /^\[(\d+):(\d+)\]/.exec(rest);
        if (!m) throw new Fail(`${prog} ${IPT_VERSION}: Bad line ${lineNo}: need ]\nError occurred at line: ${lineNo}\n${tail}`, 2);
        ctr = [Number(m[1]), Number(m[2])];
        rest = rest.slice(m[0].length);
      }
      const argv = ['-t', curName, ...(o.counters && ctr ? ['-c', String(ctr[0]), String(ctr[1])] : []), ...splitArgs(rest)];
      let cmd;
      try { cmd = parseCommand(argv); } catch (e) {
        if (e instanceof IptError) {
          if (e.kind === 'bare') throw new Fail(`${e.message}\nError occurred at line: ${lineNo}\n${tail}`, 2);
          if (e.kind === 'param') throw new Fail(`${prog} ${IPT_VERSION}: ${e.message}\n${e.extraNewline ? '\n' : ''}Error occurred at line: ${lineNo}\n${tail}`, 2);
        }
        throw e;
      }
      if (cmd.op === 'L' || cmd.op === 'S') throw new Fail(`${prog}: line ${lineNo} failed\n`, 1);
      // nft checks jump targets when it builds the batch, at COMMIT.
      const j = cmd.rule?.jump;
      if (j && !cur.chains.has(j) && pendingJumpError === null) pendingJumpError = `Chain '${j}' does not exist`;
      try { applyCommand(cur, cmd); } catch (e) { throw commitFail(prog, lineNo, e); }
    }
    if (cur) throw new Fail(`${prog}: COMMIT expected at line ${lineNo + 1}\n`, 1);
  } catch (e) {
    if (e instanceof Fail) return { stdout: '', stderr: e.text, code: e.code };
    throw e;
  }
  return { stdout: '', stderr: '', code: 0 };
}

function commitFail(prog: string, line: number, e: unknown): Fail {
  if (e instanceof BusyChain) return new Fail(`${prog} ${IPT_VERSION}: \nline ${line}: ${e.message}\n`, 4);
  if (e instanceof IptError) return new Fail(`${prog}: line ${line} failed: ${e.message}.\n`, 1);
  throw e;
}

/** Without --noflush a *table line empties the table: rules, user chains, policies back to ACCEPT. */
function flushTable(t: Table): void {
  for (const c of [...t.chains.values()]) {
    if (c.builtin) { c.rules = []; c.policy = 'ACCEPT'; c.pkts = 0; c.bytes = 0; } else t.chains.delete(c.name);
  }
}
