// One iptables command line parsed as iptables 1.8.9's do_parse does
// (xshared.c): the command, the table, the chain, a rule built from the
// generic options (-s -d -i -o -p), the -m modules and the -j target, with
// iptables' own texts for every parameter problem.

import { IptError, paramError } from './errors.ts';
import { MATCH_MODULES, type MatchBuilder } from './matches.ts';
import { isTableName, MAX_CHAIN_NAME } from './ruleset.ts';
import { TARGET_MODULES, type TargetBuilder } from './targets.ts';
import { parseHostNet, parseProto, parseUint, PROTO_NAME } from './text.ts';
import type { IfaceMatch, Match, Rule, TableName } from './types.ts';

export type Op = 'A' | 'I' | 'D' | 'N' | 'X' | 'F' | 'P' | 'Z' | 'L' | 'S' | 'C';

export interface Command {
  op: Op;
  table: TableName;
  chain?: string;
  /** -I/-D/-L/-S/-Z rule number. */
  num?: number;
  rule?: Rule;
  policy?: string;
  numeric: boolean; verbose: boolean; exact: boolean; lineNumbers: boolean;
  /** --set-counters / -c. */
  counters?: [number, number];
}

const CMD_LONG: Record<string, Op> = {
  append: 'A', insert: 'I', delete: 'D', 'new-chain': 'N', new: 'N', 'delete-chain': 'X', flush: 'F', policy: 'P', zero: 'Z',
  list: 'L', 'list-rules': 'S', check: 'C',
};
const OPT_LONG: Record<string, string> = {
  table: 't', numeric: 'n', verbose: 'v', exact: 'x', source: 's', src: 's', destination: 'd', dst: 'd', 'in-interface': 'i',
  'out-interface': 'o', protocol: 'p', jump: 'j', goto: 'g', match: 'm', 'set-counters': 'c', wait: 'w', 'wait-interval': 'W',
};
/** Short options that take an argument. */
const WITH_ARG = new Set(['t', 's', 'd', 'i', 'o', 'p', 'j', 'g', 'm', 'c', 'W']);
const STANDARD = new Set(['ACCEPT', 'DROP', 'RETURN']);

/** A new rule with nothing set. */
export function emptyRule(): Rule {
  return { src: null, dst: null, inIf: null, outIf: null, proto: 0, protoInv: false, fragment: 0, matches: [], tests: [], verdict: null,
    jump: null, goto: false, target: null, pkts: 0, bytes: 0 };
}

function iface(s: string, inv: boolean): IfaceMatch {
  if (s.length > 15) throw paramError(`interface name \`${s}' must be shorter than IFNAMSIZ (15)`);
  const wildcard = s.endsWith('+');
  return { name: wildcard ? s.slice(0, -1) : s, inv, wildcard };
}

export function checkChainName(name: string): void {
  if (name.length > MAX_CHAIN_NAME) throw paramError(`chain name \`${name}' too long (must be under ${MAX_CHAIN_NAME + 1} chars)`);
  if (name.startsWith('-') || name.startsWith('!')) throw paramError(`chain name not allowed to start with \`${name[0]}'`);
}

interface Loaded { name: string; builder: MatchBuilder; opts: Record<string, boolean> }

/**
 * Parses argv (without the program name). Throws IptError with iptables'
 * text. Every loop is bounded by argv's length.
 */
export function parseCommand(argv: readonly string[]): Command {
  const cmd: Command = { op: 'L', table: 'filter', numeric: false, verbose: false, exact: false, lineNumbers: false };
  let haveOp = false, inv = false;
  const rule = emptyRule();
  const loaded: Loaded[] = [];
  let target: { name: string; builder: TargetBuilder; opts: Record<string, boolean> } | null = null;
  let jumpName: string | null = null;
  let i = 0;
  const next = () => argv[i++];
  /** An optional non-option argument after a command (-L CHAIN, -I CHAIN N). */
  const optional = () => {
    const a = argv[i];
    if (a !== undefined && !a.startsWith('-') && a !== '!') { i++; return a; }
    return undefined;
  };
  const setOp = (op: Op, flag: string, attached: string | undefined) => {
    if (haveOp) throw paramError(`Cannot use -${op} with -${cmd.op}`);
    haveOp = true; cmd.op = op;
    if (op === 'L' || op === 'S' || op === 'F' || op === 'Z' || op === 'X') {
      cmd.chain = attached ?? optional();
      if (cmd.chain !== undefined && (op === 'L' || op === 'S' || op === 'Z')) {
        const n = optional();
        if (n !== undefined) cmd.num = ruleNum(n);
      }
      return;
    }
    const chain = attached ?? next();
    if (chain === undefined) throw paramError(`option "${flag}" requires an argument`);
    cmd.chain = chain;
    if (op === 'N') checkChainName(chain);
    if (op === 'I') { const n = optional(); cmd.num = n === undefined ? 1 : ruleNum(n); }
    if (op === 'D') { const a = argv[i]; if (a !== undefined && /^\d+$/.test(a)) { i++; cmd.num = ruleNum(a); } }
    if (op === 'P') {
      const p = next();
      if (p === undefined) throw paramError('-P requires a chain and a policy');
      cmd.policy = p;
    }
  };
  const loadMatch = (name: string): Loaded => {
    const mod = MATCH_MODULES[name];
    if (!mod) throw paramError(`Couldn't load match \`${name}':No such file or directory`, true);
    const l = { name, builder: mod.create(rule.proto), opts: mod.opts };
    loaded.push(l);
    return l;
  };

  while (i < argv.length) {
    const a = next()!;
    if (a === '!') {
      if (inv) throw paramError('multiple consecutive ! not allowed');
      inv = true; continue;
    }
    let flag: string | undefined, long: string | undefined, attached: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      long = eq < 0 ? a.slice(2) : a.slice(2, eq);
      if (eq >= 0) attached = a.slice(eq + 1);
      if (long in CMD_LONG) flag = CMD_LONG[long]!;
      else if (long in OPT_LONG) flag = OPT_LONG[long]!;
      else if (long === 'line-numbers') flag = 'line-numbers';
    } else if (a.startsWith('-') && a.length >= 2) {
      flag = a[1]!;
      if (a.length > 2) attached = a.slice(2);
    } else {
      throw new IptError('bare', `Bad argument \`${a}'`);
    }
    if (flag === undefined) {
      // An extension option: the target's, then the newest match's first (xtables_merge_options).
      const opt = long!;
      const owner = target && opt in target.opts ? target : [...loaded].reverse().find((l) => opt in l.opts)
        ?? implicitProtoMatch(opt);
      if (!owner) throw paramError(`unknown option "${a}"`);
      let arg: string | undefined;
      if (owner.opts[opt]) {
        arg = attached ?? next();
        if (arg === undefined) throw paramError(`option "${a}" requires an argument`);
        if (opt === 'match-set') {
          const flags = next();
          arg = flags === undefined ? arg : `${arg} ${flags}`;
        }
      }
      owner.builder.option(opt, arg, inv);
      inv = false;
      continue;
    }
    const takeArg = () => {
      const v = attached ?? next();
      if (v === undefined) throw paramError(`option "${a}" requires an argument`);
      return v;
    };
    switch (flag) {
      case 'A': case 'I': case 'D': case 'N': case 'X': case 'F': case 'P': case 'Z': case 'L': case 'S': case 'C':
        if (inv) throw paramError('unexpected ! flag before --' + a);
        setOp(flag, a, attached); break;
      case 't': {
        const t = takeArg();
        if (inv) throw paramError('unexpected ! flag before --table');
        if (!isTableName(t)) throw new IptError('other', `table '${t}' does not exist\nPerhaps iptables or your kernel needs to be upgraded.`);
        cmd.table = t; break;
      }
      case 'n': cmd.numeric = true; break;
      case 'v': cmd.verbose = true; break;
      case 'x': cmd.exact = true; break;
      case 'line-numbers': cmd.lineNumbers = true; break;
      case 'w': { if (attached === undefined) optional(); break; }
      case 'W': { if (attached === undefined) optional(); break; }
      case 's': case 'd': {
        const h = parseHostNet(takeArg());
        const m = { ...h, inv };
        if (flag === 's') { if (rule.src) throw paramError('multiple -s flags not allowed'); rule.src = m; }
        else { if (rule.dst) throw paramError('multiple -d flags not allowed'); rule.dst = m; }
        break;
      }
      case 'i': if (rule.inIf) throw paramError('multiple -i flags not allowed'); rule.inIf = iface(takeArg(), inv); break;
      case 'o': if (rule.outIf) throw paramError('multiple -o flags not allowed'); rule.outIf = iface(takeArg(), inv); break;
      case 'p': {
        if (rule.proto !== 0 || rule.protoInv) throw paramError('multiple -p flags not allowed');
        rule.proto = parseProto(takeArg()); rule.protoInv = inv;
        if (rule.proto === 0 && inv) throw paramError('rule would never match protocol');
        break;
      }
      case 'm': {
        if (inv) throw paramError('unexpected ! flag before --match');
        loadMatch(takeArg()); break;
      }
      case 'j': case 'g': {
        if (jumpName !== null) throw paramError('multiple -j flags not allowed');
        const t = takeArg();
        jumpName = t;
        rule.goto = flag === 'g';
        if (flag === 'j' && t in TARGET_MODULES) {
          const mod = TARGET_MODULES[t]!;
          target = { name: t, builder: mod.create(rule.proto), opts: mod.opts };
        }
        break;
      }
      case 'c': {
        const p = takeArg(), b = next();
        const pv = parseUint(p, Number.MAX_SAFE_INTEGER), bv = b === undefined ? undefined : parseUint(b, Number.MAX_SAFE_INTEGER);
        if (pv === undefined || bv === undefined) throw paramError(`-c packet counter not numeric`);
        cmd.counters = [pv, bv]; break;
      }
      default:
        throw paramError(`unknown option "${a}"`);
    }
    if (flag !== 's' && flag !== 'd' && flag !== 'i' && flag !== 'o' && flag !== 'p') {
      if (inv) throw paramError(`cannot have ! before -${flag}`);
    }
    inv = false;
  }
  if (!haveOp) throw paramError('no command specified');

  function implicitProtoMatch(opt: string): Loaded | undefined {
    const pname = PROTO_NAME[rule.proto];
    if (rule.protoInv || (pname !== 'tcp' && pname !== 'udp') || loaded.some((l) => l.name === pname)) return undefined;
    const mod = MATCH_MODULES[pname]!;
    if (!(opt in mod.opts)) return undefined;
    return loadMatch(pname);
  }

  const needsRule = cmd.op === 'A' || cmd.op === 'I' || cmd.op === 'C' || (cmd.op === 'D' && cmd.num === undefined);
  if (needsRule) {
    {
      const ms: Match[] = loaded.map((l) => l.builder.finish());
      rule.matches = ms;
      rule.tests = ms.filter((m) => m.test !== undefined);
      if (jumpName !== null) {
        if (STANDARD.has(jumpName)) rule.verdict = jumpName as Rule['verdict'];
        else if (target) {
          const mod = TARGET_MODULES[jumpName]!;
          rule.target = target.builder.finish();
          if (mod.tables && !mod.tables.includes(cmd.table)) {
            throw new IptError('other', ` RULE_APPEND failed (Invalid argument): rule in chain ${cmd.chain}`);
          }
        } else {
          checkChainName(jumpName);
          rule.jump = jumpName;
        }
      }
      if (cmd.counters) { rule.pkts = cmd.counters[0]; rule.bytes = cmd.counters[1]; }
      cmd.rule = rule;
    }
  } else if (loaded.length > 0 || jumpName !== null || rule.src || rule.dst || rule.inIf || rule.outIf || rule.proto) {
    throw paramError(`Illegal option \`-${firstRuleFlag(rule, loaded.length > 0, jumpName)}' with this command`);
  }
  return cmd;
}

function firstRuleFlag(r: Rule, m: boolean, j: string | null): string {
  return r.src ? 's' : r.dst ? 'd' : r.inIf ? 'i' : r.outIf ? 'o' : r.proto ? 'p' : m ? 'm' : j ? 'j' : '?';
}

function ruleNum(s: string): number {
  const v = parseUint(s);
  if (v === undefined || !/^\d+$/.test(s) || v < 1) throw paramError(`Invalid rule number \`${s}'`);
  return v;
}
