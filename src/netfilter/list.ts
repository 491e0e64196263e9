// `iptables -L [CHAIN [N]] [-v] [-n] [-x] [--line-numbers]` as iptables
// 1.8.9 (nf_tables) prints it (xshared.c print_header, print_rule_details,
// print_ifaces, print_ipv4_addresses; xtables_print_num), trailing spaces
// and the numeric protocol column with -n included.

import { u32ToIp } from '../wire/addr.ts';
import type { Ruleset, Chain } from './ruleset.ts';
import { incompatible } from './save.ts';
import { PROTO_NAME } from './text.ts';
import type { AddrMatch, Rule, TableName } from './types.ts';

export interface ListOptions { verbose: boolean; numeric: boolean; exact: boolean; lineNumbers: boolean }

/** xtables_print_num: %8llu with -x, else K/M/G/T above 99999. */
export function printNum(n: number, exact: boolean): string {
  if (exact) return String(n).padStart(8) + ' ';
  if (n <= 99999) return String(n).padStart(5) + ' ';
  for (const unit of ['K', 'M', 'G']) {
    n = Math.floor((n + 500) / 1000);
    if (n <= 9999) return String(n).padStart(4) + unit + ' ';
  }
  n = Math.floor((n + 500) / 1000);
  return String(n).padStart(4) + 'T ';
}
/** The same in NOTABLE form (chain header): no padding. */
function printNumNoTable(n: number, exact: boolean): string {
  if (exact || n <= 99999) return `${n} `;
  for (const unit of ['K', 'M', 'G']) {
    n = Math.floor((n + 500) / 1000);
    if (n <= 9999) return `${n}${unit} `;
  }
  return `${Math.floor((n + 500) / 1000)}T `;
}

/** Names a stock Debian node resolves without DNS (/etc/hosts, /etc/networks). */
const HOSTS: Record<string, string> = { '127.0.0.1': 'localhost' };
const NETWORKS: Record<string, string> = { '0.0.0.0': 'default', '127.0.0.0': 'loopback', '169.254.0.0': 'link-local' };

function addrText(a: AddrMatch | null, numeric: boolean): string {
  if (!a || a.mask === 0) return numeric ? '0.0.0.0/0' : 'anywhere';
  const ip = u32ToIp(a.ip);
  const name = numeric ? ip : HOSTS[ip] ?? (a.len < 32 ? NETWORKS[ip] : undefined) ?? ip;
  return a.len === 32 ? name : `${name}/${a.len}`;
}

function header(c: Chain, refs: Map<string, number>, o: ListOptions): string {
  let s = `Chain ${c.name}`;
  if (c.builtin) {
    s += ` (policy ${c.policy}`;
    if (o.verbose) s += ` ${printNumNoTable(c.pkts, o.exact)}packets, ${printNumNoTable(c.bytes, o.exact)}bytes`;
    s += ')\n';
  } else s += ` (${refs.get(c.name) ?? 0} references)\n`;
  if (o.lineNumbers) s += 'num  ';
  if (o.verbose) s += o.exact ? '    pkts      bytes ' : ' pkts bytes ';
  s += 'target'.padEnd(9) + ' ' + ' prot ' + 'opt';
  if (o.verbose) s += ' ' + 'in'.padEnd(6) + ' ' + 'out'.padEnd(6) + ' ';
  s += ' ' + 'source'.padEnd(19) + ' ' + ' ' + 'destination'.padEnd(19) + ' \n';
  return s;
}

function targetName(r: Rule): string {
  return r.target?.name ?? r.verdict ?? r.jump ?? '';
}

/** One rule line, newline included. */
export function ruleLine(r: Rule, num: number, o: ListOptions): string {
  let s = '';
  if (o.lineNumbers) s += String(num).padEnd(4) + ' ';
  if (o.verbose) s += printNum(r.pkts, o.exact) + printNum(r.bytes, o.exact);
  s += targetName(r).padEnd(9) + ' ';
  s += r.protoInv ? '!' : ' ';
  const pname = PROTO_NAME[r.proto];
  s += (o.numeric || pname === undefined ? String(r.proto) : pname).padEnd(4) + ' ';
  s += '-- ';
  if (o.verbose) {
    const any = o.numeric ? '*' : 'any';
    const ifs = (f: Rule['inIf']) => f ? `${f.inv ? '!' : ''}${f.name}${f.wildcard ? '+' : ''}` : any;
    s += ' ' + ifs(r.inIf).padEnd(6) + ' ' + ifs(r.outIf).padEnd(6) + ' ';
  }
  s += (r.src?.inv ? '!' : ' ') + addrText(r.src, o.numeric).padEnd(19) + ' ';
  s += (r.dst?.inv ? '!' : ' ') + addrText(r.dst, o.numeric).padEnd(19) + ' ';
  if (r.goto) s += '[goto] ';
  for (const m of r.matches) s += m.list(o.numeric);
  if (r.target) s += r.target.list(o.numeric);
  return s + '\n';
}

/** The whole listing; throws iptables' text for an unknown chain. */
export function list(rs: Ruleset, table: TableName, o: ListOptions, chain?: string, num?: number): string {
  const t = rs.tables[table];
  if (chain !== undefined) {
    const c = t.chains.get(chain);
    if (!c) throw incompatible(chain, table);
    if (num !== undefined) { const r = c.rules[num - 1]; return r ? ruleLine(r, num, o) : ''; }
    return chainText(c, t.referenceCounts(), o);
  }
  const refs = t.referenceCounts();
  return t.ordered().map((c) => chainText(c, refs, o)).join('\n');
}

function chainText(c: Chain, refs: Map<string, number>, o: ListOptions): string {
  let s = header(c, refs, o);
  for (let i = 0; i < c.rules.length; i++) s += ruleLine(c.rules[i]!, i + 1, o);
  return s;
}
