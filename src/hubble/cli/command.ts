// The `hubble` command line (observe, status, list nodes) parsed with
// commander into what to ask the server and how to print it, with hubble's
// defaults and its error messages (cmd/observe/flows.go, cmd/status,
// cmd/list of the 0.11.6 CLI). No I/O: `dplab hubble` and the `hubble` inside
// the agent pods run the result their own way.

import { Command, CommanderError, Option } from 'commander';
import type { FlowFilterObject, GetFlowsRequestObject } from '../proto.ts';
import type { FlowOutput, FlowPrintOptions } from '../printer/flows.ts';
import { timeLayout } from '../printer/time.ts';
import { FILTER_FLAGS, FilterError, FlowFilterBuilder, parseUintGo } from './filters.ts';
import { parseRawFilters, rawFiltersYaml } from './raw_filters.ts';
import { parseTimeArg } from './since.ts';

/** A usage error: printed as the one line hubble prints, exit 1. */
export class HubbleUsageError extends Error {}

/** hubble's FlowPrintCount: what a plain `hubble observe` asks for. */
export const DEFAULT_FLOW_COUNT = 20;
/** hubble's default --server. */
export const DEFAULT_HUBBLE_SERVER = 'localhost:4245';

interface Conn { server: string; timeoutMs: number }
export type HubbleInvocation =
  | ({ cmd: 'observe'; request: GetFlowsRequestObject; print: FlowPrintOptions; silentErrors: boolean } & Conn)
  | ({ cmd: 'status'; output: string } & Conn)
  | ({ cmd: 'nodes'; output: string } & Conn)
  /** Help, or --print-raw-filters: text to print, nothing to ask. */
  | { cmd: 'text'; stdout: string };

export interface HubbleEnv {
  /** Wall-clock now (ms) for relative --since / --until. */
  nowMs: number;
  /** $HUBBLE_SERVER, if set. */
  serverEnv?: string;
}

/** Short flag of the filter flags that have one. */
const SHORT: Readonly<Record<string, string>> = { type: 't', namespace: 'n', label: 'l', ipv4: '4', ipv6: '6' };
const BOOL_FILTERS = new Set(['not', 'ipv4', 'ipv6']);
const HELP: Readonly<Record<string, string>> = {
  not: 'Reverses the next filter to be blacklist i.e. --not --from-ip 2.2.2.2',
  'node-name': 'Show all flows which match the given node names (e.g. "k8s*", "test-cluster/*.company.com")',
  protocol: 'Show only flows which match the given L4/L7 flow protocol (e.g. "udp", "http")',
  'tcp-flags': 'Show only flows which match the given TCP flags (e.g. "syn", "ack", "fin")',
  type: 'Filter by event types TYPE[:SUBTYPE] (capture, drop, l7, policy-verdict, trace[:to-endpoint|to-network|...], trace-sock)',
  verdict: 'Show only flows with this verdict [FORWARDED, DROPPED, AUDIT, REDIRECTED, ERROR, TRACED, TRANSLATED]',
  pod: 'Show all flows related to the given pod name prefix ([namespace/]<pod-name>). If namespace is not provided, \'default\' is used.',
  namespace: 'Show all flows related to the given Kubernetes namespace.',
  ip: 'Show all flows related to the given IP address (exact, or a CIDR range)',
  port: 'Show only flows with given port in either source or destination (e.g. 8080)',
  label: 'Show only flows related to an endpoint with the given labels (e.g. "key1=value1", "reserved:world")',
  identity: 'Show all flows related to an endpoint with the given security identity',
  service: 'Shows flows where either the source or destination IP address matches the ClusterIP address of the given service name prefix',
};

function flagDisplay(name: string): string { return SHORT[name] ? `-${SHORT[name]}, --${name}` : `--${name}`; }

function helpFor(name: string): string {
  if (HELP[name]) return HELP[name]!;
  const base = name.replace(/^(from|to)-/, '');
  const side = name.startsWith('from-') ? 'originating at' : name.startsWith('to-') ? 'terminating at' : 'related to';
  return `Show all flows ${side} the given ${base}`;
}

/** pflag's complaint about a value: `invalid argument "V" for "--flag" flag: why`. */
function invalid(name: string, v: string, why: string): HubbleUsageError {
  return new HubbleUsageError(`invalid argument "${v}" for "${flagDisplay(name)}" flag: ${why}`);
}

function uint64Flag(name: string): (v: string) => bigint {
  return (v) => { try { return parseUintGo(v, 64); } catch (e) { throw invalid(name, v, (e as Error).message); } };
}

/** A uint64 for the request: a number when exact, else the Long form protobufjs encodes. */
function uint64(v: bigint): GetFlowsRequestObject['number'] {
  if (v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  return { low: Number(v & 0xffffffffn) | 0, high: Number((v >> 32n) & 0xffffffffn) | 0, unsigned: true };
}

const boolArg = (name: string) => (v: string): boolean => {
  if (/^(1|t|T|TRUE|true|True)$/.test(v)) return true;
  if (/^(0|f|F|FALSE|false|False)$/.test(v)) return false;
  throw invalid(name, v, `strconv.ParseBool: parsing "${v}": invalid syntax`);
};

interface ObserveOpts {
  all?: boolean; last?: bigint; first?: bigint; follow?: boolean; since?: string; until?: string;
  output: string; printNodeName?: boolean; timeFormat: string; numeric?: boolean; ipTranslation: boolean; color: string;
  silentErrors?: boolean; printRawFilters?: boolean; allowlist: string[]; denylist: string[];
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function observeCommand(env: HubbleEnv, conn: () => Conn, done: (r: HubbleInvocation) => void): Command {
  const filters = new FlowFilterBuilder();
  const cmd = new Command('observe').description('Observe flows of a Hubble server').allowExcessArguments()
    .option('--all', 'Get all flows stored in Hubble\'s buffer')
    .option('--last <N>', `Get last N flows stored in Hubble's buffer (default ${DEFAULT_FLOW_COUNT})`, uint64Flag('last'))
    .option('--first <N>', 'Get first N flows stored in Hubble\'s buffer', uint64Flag('first'))
    .option('-f, --follow', 'Follow flows output')
    .option('--since <time>', 'Filter flows since a specific date: relative (e.g. 3s, 4m, 1h43m) or RFC 3339 and the other layouts of --time-format')
    .option('--until <time>', 'Filter flows until a specific date (same formats as --since)');
  for (const name of FILTER_FLAGS) {
    const flags = `${SHORT[name] ? `-${SHORT[name]}, ` : ''}--${name}${BOOL_FILTERS.has(name) ? '' : ' <value>'}`;
    const set = (v: string): void => {
      try { filters.set(name, v); } catch (e) { if (e instanceof FilterError) throw invalid(name, v, e.message); throw e; }
    };
    if (BOOL_FILTERS.has(name)) {
      cmd.option(flags, helpFor(name));
      cmd.on(`option:${name}`, () => set(name === 'not' ? 'true' : name === 'ipv4' ? 'v4' : 'v6'));
    } else cmd.option(flags, helpFor(name), (v: string) => { set(v); return v; });
  }
  cmd.option('--allowlist <json>', 'Specify allowlist as JSON encoded FlowFilters', collect, [])
    .option('--denylist <json>', 'Specify denylist as JSON encoded FlowFilters', collect, [])
    .option('--numeric', 'Display all information in numeric form')
    .addOption(new Option('--ip-translation [bool]', 'Translate IP addresses to logical names such as pod name, FQDN, ...').default(true).argParser(boolArg('ip-translation')))
    .option('--color <when>', 'Colorize the output: auto, always or never (dplab never colours)', 'auto')
    .option('-o, --output <format>', 'Specify the output format, one of: compact, dict, jsonpb, json, table', 'compact')
    .option('--print-node-name', 'Print node name in output')
    .option('--time-format <name>', 'Specify the time format for printing: StampMilli, YearMonthDay, YearMonthDayHour, YearMonthDayHourMinute, RFC3339, RFC3339Milli, RFC3339Micro, RFC3339Nano, RFC1123Z', 'StampMilli')
    .option('-s, --silent-errors', 'Silently ignores errors and warnings')
    .option('--print-raw-filters', 'Print allowlist/denylist filters and exit without sending the request to Hubble server')
    .action((o: ObserveOpts) => done(observeInvocation(o, filters, env, conn())));
  return cmd;
}

/** handleFlowArgs + getFlowsRequest, in hubble's order of checks. */
function observeInvocation(o: ObserveOpts, filters: FlowFilterBuilder, env: HubbleEnv, c: Conn): HubbleInvocation {
  if (filters.trailingNot) throw new HubbleUsageError('trailing --not found in the arguments');
  let output: FlowOutput;
  switch (o.output) {
    case 'compact': output = 'compact'; break;
    case 'dict': output = 'dict'; break;
    case 'json': case 'JSON': case 'jsonpb': output = 'jsonpb'; break;
    case 'tab': case 'table':
      if (o.follow) throw new HubbleUsageError('table output format is not compatible with follow mode');
      output = 'table'; break;
    default: throw new HubbleUsageError(`invalid output format: ${o.output}`);
  }
  const print: FlowPrintOptions = { output, timeLayout: timeLayout(o.timeFormat), nodeName: !!o.printNodeName, ipTranslation: o.ipTranslation && !o.numeric };

  const first = (o.first ?? 0n) > 0n, last = (o.last ?? 0n) > 0n;
  if (first && last) throw new HubbleUsageError('cannot set both --first and --last');
  if (first && o.all) throw new HubbleUsageError('cannot set both --first and --all');
  if (first && o.follow) throw new HubbleUsageError('cannot set both --first and --follow');
  if (last && o.all) throw new HubbleUsageError('cannot set both --last and --all');
  const time = (what: string, v: string | undefined) => {
    if (!v) return undefined;
    try { return parseTimeArg(v, env.nowMs); } catch (e) { throw new HubbleUsageError(`failed to parse the ${what} time: ${(e as Error).message}`); }
  };
  const since = time('since', o.since);
  // With --follow, --until is dropped (the server would stop following).
  const until = o.follow ? undefined : time('until', o.until);
  let number = o.last ?? 0n;
  if (!since && !until && !first) {
    if (o.all) number = (1n << 64n) - 1n;
    else if (number === 0n && !o.follow) number = BigInt(DEFAULT_FLOW_COUNT);
  }
  if (first) number = o.first!;

  const raw = (flag: string, values: string[]): FlowFilterObject[] => values.flatMap((v) => {
    try { return parseRawFilters(v); } catch (e) { throw new HubbleUsageError(`invalid --${flag} flag: failed to decode '${v}': ${(e as Error).message}`); }
  });
  const whitelist = [...filters.whitelist(), ...raw('allowlist', o.allowlist)];
  const blacklist = [...filters.blacklist(), ...raw('denylist', o.denylist)];
  if (o.printRawFilters) return { cmd: 'text', stdout: rawFiltersYaml(whitelist, blacklist) };

  const request: GetFlowsRequestObject = {};
  if (number > 0n) request.number = uint64(number);
  if (o.follow) request.follow = true;
  if (whitelist.length) request.whitelist = whitelist;
  if (blacklist.length) request.blacklist = blacklist;
  if (since) request.since = since;
  if (until) request.until = until;
  if (first) request.first = true;
  return { cmd: 'observe', request, print, silentErrors: !!o.silentErrors, ...c };
}

/** cobra's wording for commander's own parse errors. */
function cobraMessage(err: CommanderError): string {
  const m = /'(-{1,2}[^' <[]+)/.exec(err.message);
  const flag = m?.[1] ?? '';
  switch (err.code) {
    case 'commander.unknownOption':
      return flag.startsWith('--') ? `unknown flag: ${flag}` : `unknown shorthand flag: '${flag.slice(1, 2)}' in ${flag}`;
    case 'commander.optionMissingArgument': {
      const long = /--([\w-]+)/.exec(err.message)?.[1] ?? flag;
      return `flag needs an argument: --${long}`;
    }
    case 'commander.unknownCommand': return err.message.replace(/^error: unknown command '([^']*)'.*/s, 'unknown command "$1" for "hubble"');
    default: return err.message.replace(/^error: /, '');
  }
}

/**
 * Parses `hubble` arguments (after the program name) into an invocation;
 * throws HubbleUsageError with the line hubble would print.
 */
export function parseHubbleArgs(argv: readonly string[], env: HubbleEnv): HubbleInvocation {
  let result: HubbleInvocation | undefined;
  let out = '';
  const done = (r: HubbleInvocation): void => { result = r; };
  const program = new Command('hubble').description('Hubble is a utility to observe and inspect recent Cilium routed traffic in a cluster.')
    .option('--server <address>', `Address of a Hubble server (default: $HUBBLE_SERVER or ${DEFAULT_HUBBLE_SERVER})`)
    .option('--timeout <duration>', 'Hubble server dialing timeout', '5s');
  const conn = (): Conn => {
    const o = program.opts<{ server?: string; timeout: string }>();
    const ms = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(o.timeout);
    if (!ms) throw new HubbleUsageError(`invalid argument "${o.timeout}" for "--timeout" flag: time: invalid duration "${o.timeout}"`);
    return { server: o.server || env.serverEnv || DEFAULT_HUBBLE_SERVER, timeoutMs: Number(ms[1]) * ({ ms: 1, s: 1000, m: 60000 } as const)[ms[2] as 'ms' | 's' | 'm'] };
  };
  program.addCommand(observeCommand(env, conn, done));
  program.command('status').description('Display status of Hubble server')
    .option('-o, --output <format>', 'Specify the output format, one of: compact, dict, json, table', 'compact')
    .action((o: { output: string }) => done({ cmd: 'status', output: o.output, ...conn() }));
  const list = program.command('list').description('List Hubble objects');
  list.command('nodes').alias('node').description('List Hubble nodes')
    .option('-o, --output <format>', 'Specify the output format, one of: json, table, wide', 'table')
    .action((o: { output: string }) => done({ cmd: 'nodes', output: o.output, ...conn() }));
  for (const c of [program, ...program.commands, ...list.commands]) {
    c.exitOverride().configureOutput({ writeOut: (s) => { out += s; }, writeErr: (s) => { out += s; }, outputError: () => {} });
  }
  try {
    program.parse([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version') return { cmd: 'text', stdout: out };
      throw new HubbleUsageError(cobraMessage(e));
    }
    throw e;
  }
  return result ?? { cmd: 'text', stdout: out || program.helpInformation() };
}
