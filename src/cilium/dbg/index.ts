// `cilium-dbg` (alias `cilium`) on a node: cobra-style dispatch over the agent's state.

import type { CiliumCluster } from '../control.ts';
import { CILIUM_COMMIT, CILIUM_VERSION, formatStatus } from './status.ts';
import { formatEndpointList, formatIdentityList, formatIpList, formatServiceList } from './lists.ts';
import { formatBpfCtList, formatBpfEndpointList, formatBpfIpcacheList, formatBpfLbList, formatBpfMetricsList, formatBpfNatList, formatMapGet, formatMapList } from './bpf.ts';

export interface DbgResult { stdout: string; stderr: string; exitCode: number }
/** What the command reads besides the agents: the clock. */
export interface DbgEnv { nowNs: number; wallMs: number }

const ok = (stdout: string, stderr = ''): DbgResult => ({ stdout, stderr, exitCode: 0 });
const fatal = (msg: string): DbgResult => ({ stdout: '', stderr: `Error: ${msg}\n`, exitCode: 1 });

type Run = (ctl: CiliumCluster, node: string, args: string[], flags: Set<string>, env: DbgEnv) => DbgResult;
interface Cmd { short: string; aliases?: string[]; flags?: string[]; run?: Run; sub?: Record<string, Cmd> }

const list = (short: string, run: Run, flags: string[] = []): Cmd => ({ short, aliases: ['ls'], flags, run });

const TREE: Record<string, Cmd> = {
  status: { short: 'Display status of daemon', flags: ['--verbose', '--all-addresses', '--brief'], run: (c, n, _a, f, e) => {
    if (f.has('--brief')) return ok('OK\n');
    return ok(formatStatus(c, n, { verbose: f.has('--verbose') || f.has('--all-addresses'), wallMs: e.wallMs, uptimeNs: e.nowNs }));
  } },
  version: { short: 'Print version information', run: () => {
    const v = `${CILIUM_VERSION} ${CILIUM_COMMIT} 2024-10-15T13:47:42+00:00 go version go1.22.8 linux/amd64`;
    return ok(`Client: ${v}\nDaemon: ${v}\n`);
  } },
  endpoint: { short: 'Manage endpoints', aliases: ['ep'], sub: { list: list('List all endpoints', (c, n, _a, f) => ok(formatEndpointList(c, n, f.has('--no-headers'))), ['--no-headers']) } },
  identity: { short: 'Manage security identities', sub: { list: list('List identities', (c, n) => ok(formatIdentityList(c, n))) } },
  ip: { short: 'Manage IP addresses and associated information', sub: { list: list('List IP addresses in the userspace IPcache', (c, n, _a, f) => ok(formatIpList(c, n, f.has('-n') || f.has('--numeric'))), ['-n', '--numeric', '-v', '--verbose']) } },
  service: { short: 'Manage services & loadbalancers', sub: { list: list('List services', (c, n) => ok(formatServiceList(c, n))) } },
  map: { short: 'Access userspace cached content of BPF maps', sub: {
    list: list('List all open BPF maps', (c, n, _a, f) => ok(formatMapList(c.agent(n), f.has('--verbose'))), ['--verbose']),
    get: { short: 'Display cached content of given BPF map', run: (c, n, a) => {
      if (!a[0]) return fatal('map name must be specified');
      const m = c.agent(n).maps.byName(a[0]);
      return m ? ok(formatMapGet(m)) : fatal('[GET /map/{name}][404] getMapNameNotFound ');
    } },
  } },
  bpf: { short: 'Direct access to local BPF maps', sub: {
    endpoint: { short: 'Local endpoint map', sub: { list: list('List local endpoint entries', (c, n) => ok(formatBpfEndpointList(c.agent(n).maps.lxc))) } },
    ipcache: { short: 'Manage the IPCache mappings for IP/CIDR <-> Identity', sub: { list: list('List endpoint IPs (local and remote) and their corresponding security identities', (c, n) => { const r = formatBpfIpcacheList(c.agent(n).maps.ipcache); return ok(r.stdout, r.stderr); }) } },
    lb: { short: 'Load-balancing configuration', sub: { list: list('List load-balancing configuration', (c, n) => { const r = formatBpfLbList(c.agent(n)); return ok(r.stdout, r.stderr); }) } },
    ct: { short: 'Connection tracking tables', sub: { list: { short: 'List connection tracking entries', aliases: ['ls'], flags: ['-d', '--time-diff'], run: (c, n, a) => {
      if (a[0] !== 'global') return fatal(a[0] === undefined ? 'Please specify a CT map type: global, endpoint or cluster' : `Unknown type: ${a[0]}`);
      return ok(formatBpfCtList(c.agent(n)));
    } } } },
    metrics: { short: 'BPF datapath traffic metrics', sub: { list: list('List BPF datapath traffic metrics', (c, n) => { const r = formatBpfMetricsList(c.agent(n)); return ok(r.stdout, r.stderr); }) } },
    nat: { short: 'NAT mapping tables', sub: { list: list('List all NAT mapping entries', (c, n, _a, _f, e) => ok(formatBpfNatList(c.agent(n), Math.floor(e.nowNs / 1e9)))) } },
  } },
};

/** cobra's suggestions: Levenshtein distance <= 2 or a prefix match. */
function lev(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)] as number[]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) {
    d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length]![b.length]!;
}

function usage(path: string[], cmd: Cmd): string {
  const name = ['cilium-dbg', ...path].join(' ');
  const subs = Object.entries(cmd.sub ?? {});
  const w = Math.max(11, ...subs.map(([k]) => k.length + 2));
  return `${cmd.short}\n\nUsage:\n  ${name} [command]\n\nAvailable Commands:\n` +
    subs.map(([k, c]) => `  ${k.padEnd(w)}${c.short}\n`).join('') + `\nUse "${name} [command] --help" for more information about a command.\n`;
}

/** Run `cilium-dbg argv...` against one node's agent. */
export function runCiliumDbg(ctl: CiliumCluster, node: string, argv: string[], env: DbgEnv): DbgResult {
  const root: Cmd = { short: 'CLI for interacting with the local Cilium Agent', sub: TREE };
  const path: string[] = [];
  let cmd = root;
  let i = 0;
  for (; i < argv.length && cmd.sub; i++) {
    const w = argv[i]!;
    if (w.startsWith('-')) break;
    const hit = Object.entries(cmd.sub).find(([k, c]) => k === w || c.aliases?.includes(w));
    if (!hit) {
      if (cmd !== root) return ok(usage(path, cmd));
      const sugg = Object.keys(TREE).filter((k) => lev(w, k) <= 2 || k.startsWith(w));
      const did = sugg.length ? `\nDid you mean this?\n${sugg.map((s) => `\t${s}\n`).join('')}\n` : '';
      return { stdout: '', stderr: `Error: unknown command "${w}" for "cilium-dbg"\n${did}Run 'cilium-dbg --help' for usage.\n`, exitCode: 1 };
    }
    path.push(hit[0]); cmd = hit[1];
  }
  const rest = argv.slice(i), args: string[] = [], flags = new Set<string>();
  for (const w of rest) {
    if (!w.startsWith('-')) { args.push(w); continue; }
    if (w === '-h' || w === '--help') return ok(usage(path, cmd));
    if (!(cmd.flags ?? []).includes(w)) {
      const msg = w.startsWith('--') ? `unknown flag: ${w}` : `unknown shorthand flag: '${w[1]}' in ${w}`;
      return { stdout: '', stderr: `Error: ${msg}\n`, exitCode: 1 };
    }
    flags.add(w);
  }
  if (!cmd.run) return ok(usage(path, cmd));
  return cmd.run(ctl, node, args, flags, env);
}
