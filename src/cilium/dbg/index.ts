// `cilium-dbg` (alias `cilium`) on a node: cobra-style dispatch. Commands that
// use the agent API in Cilium read it here too (the node's NodeApi, the same
// answers the HTTP routes give); `bpf ...` commands read the maps directly.

import { Validator } from 'ip-num';
import { ipToU32 } from '../../wire/addr.ts';
import type { CiliumCluster } from '../control.ts';
import { agentApi } from '../rest/router.ts';
import { explainEntries } from '../rest/explain.ts';
import { agentMap } from '../rest/maps.ts';
import type { BPFMap, BPFMapList, ClusterNodeStatus, Endpoint, Identity, IPListEntry, MapEvent, Service } from '../rest/models.ts';
import { CILIUM_COMMIT, CILIUM_VERSION, formatStatus } from './status.ts';
import { ApiError, DbgClient, goJson } from './client.ts';
import { formatEndpointList, formatIdentities, formatIpList, formatMapEntries, formatMapEvent, formatMapList, formatNodeList, formatServiceList, identityLabels } from './rest_cmds.ts';
import { bpfCtList, bpfEndpointList, bpfIpcacheGet, bpfIpcacheList, bpfLbList, bpfMetricsList, bpfNatList, bpfPolicyTable, bpfTunnelList, type Explain, type LbView, type Out } from './bpf.ts';

export interface DbgResult { stdout: string; stderr: string; exitCode: number }
/** What the command reads besides the agents: the clock. */
export interface DbgEnv { nowNs: number; wallMs: number }

const ok = (stdout: string, stderr = ''): DbgResult => ({ stdout, stderr, exitCode: 0 });
const fatal = (msg: string): DbgResult => ({ stdout: '', stderr: `Error: ${msg}\n`, exitCode: 1 });
const out = (o: Out): DbgResult => ({ stdout: o.stdout, stderr: o.stderr, exitCode: o.exitCode ?? 0 });

/** What a command gets: the agent, its API client, args, flags (value flags keep their value). */
interface Ctx { ctl: CiliumCluster; node: string; api: DbgClient; args: string[]; flags: Map<string, string>; env: DbgEnv }
type Run = (c: Ctx) => DbgResult;
interface Cmd { short: string; aliases?: string[]; flags?: string[]; run?: Run; sub?: Record<string, Cmd> }

/** Flags that take a value, and their long forms. */
const VALUE_FLAGS: Record<string, string> = { '-o': '-o', '--output': '-o' };
const OUTPUT = ['-o', '--output'];
const json = (c: Ctx): boolean => c.flags.get('-o') === 'json';

const list = (short: string, run: Run, flags: string[] = []): Cmd => ({ short, aliases: ['ls'], flags, run });

/** -o json prints the model, else the table. */
const modelOr = (c: Ctx, model: unknown, text: () => string): DbgResult => ok(json(c) ? goJson(model) : text());

/** The API answer, or the client's error as cilium-dbg prints it (with its own prefix). */
function call<T>(fn: () => T, prefix = ''): T | DbgResult {
  try { return fn(); } catch (e) { if (e instanceof ApiError) return fatal(prefix + e.message); throw e; }
}
const isResult = (x: unknown): x is DbgResult => typeof x === 'object' && x !== null && 'exitCode' in x && 'stderr' in x;

/** --explain (beyond Cilium): notes per entry of a map, by key string. */
function explainOf(c: Ctx, name: string): Explain {
  if (!c.flags.has('--explain')) return undefined;
  const m = agentMap(c.ctl.agent(c.node), name);
  if (!m) return undefined;
  return explainEntries(c.ctl, c.node, m, { nowNs: () => c.env.nowNs });
}

function parseIp(s: string): number | undefined { return Validator.isValidIPv4String(s)[0] ? ipToU32(s) : undefined; }

const TREE: Record<string, Cmd> = {
  status: { short: 'Display status of daemon', flags: ['--verbose', '--all-addresses', '--brief', ...OUTPUT], run: (c) => {
    if (json(c)) return ok(goJson(c.api.get('/healthz')));
    if (c.flags.has('--brief')) return ok('OK\n');
    return ok(formatStatus(c.ctl, c.node, { verbose: c.flags.has('--verbose') || c.flags.has('--all-addresses'), wallMs: c.env.wallMs, uptimeNs: c.env.nowNs }));
  } },
  // An exec answers once; the monitor follows cilium_events until Ctrl-C: `dplab cilium monitor` streams it over a WebSocket.
  monitor: { short: 'Display BPF program events', flags: ['-v', '--verbose', '--type', '-t'], run: () => fatal('monitor streams until Ctrl-C, which an exec cannot: run `dplab cilium --node NODE monitor`') },
  version: { short: 'Print version information', run: () => {
    const v = `${CILIUM_VERSION} ${CILIUM_COMMIT} 2024-10-15T13:47:42+00:00 go version go1.22.8 linux/amd64`;
    return ok(`Client: ${v}\nDaemon: ${v}\n`);
  } },
  endpoint: { short: 'Manage endpoints', aliases: ['ep'], sub: {
    list: list('List all endpoints', (c) => { const eps = c.api.get<Endpoint[]>('/endpoint'); return modelOr(c, eps, () => formatEndpointList(eps, c.flags.has('--no-headers'))); }, ['--no-headers', ...OUTPUT]),
    get: { short: 'Display endpoint information', flags: OUTPUT, run: (c) => {
      if (!c.args[0]) return fatal('Please provide an endpoint ID');
      const ep = call(() => c.api.get<Endpoint>(`/endpoint/${encodeURIComponent(c.args[0]!)}`), `Cannot get endpoint ${c.args[0]}: `);
      // endpoint_get.go prints the endpoints as a JSON list, whatever -o says.
      return isResult(ep) ? ep : ok(goJson([ep]));
    } },
  } },
  identity: { short: 'Manage security identities', sub: {
    list: list('List identities', (c) => {
      const ids = c.api.get<Identity[]>('/identity');
      return modelOr(c, ids, () => formatIdentities(ids));
    }, OUTPUT),
    get: { short: 'Retrieve information about an identity', flags: OUTPUT, run: (c) => {
      if (!c.args[0]) return fatal('Please provide an identity ID');
      const id = call(() => c.api.get<Identity>(`/identity/${encodeURIComponent(c.args[0]!)}`), `Cannot get identity for given ID ${c.args[0]}: `);
      return isResult(id) ? id : modelOr(c, [id], () => formatIdentities([id]));
    } },
  } },
  ip: { short: 'Manage IP addresses and associated information', sub: { list: list('List IP addresses in the userspace IPcache', (c) => {
    const rows = c.api.get<IPListEntry[]>('/ip');
    const cache = new Map<number, string[] | undefined>();
    const labels = (id: number) => (cache.has(id) ? cache.get(id) : cache.set(id, identityLabels(c.api, id)).get(id));
    return modelOr(c, rows, () => formatIpList(rows, labels, c.flags.has('-n') || c.flags.has('--numeric')));
  }, ['-n', '--numeric', '-v', '--verbose', ...OUTPUT]) } },
  service: { short: 'Manage services & loadbalancers', sub: {
    list: list('List services', (c) => { const s = c.api.get<Service[]>('/service'); return modelOr(c, s, () => formatServiceList(s)); }, OUTPUT),
    get: { short: 'Display service information', flags: OUTPUT, run: (c) => {
      if (!c.args[0]) return fatal('Please provide a service ID');
      const s = call(() => c.api.get<Service>(`/service/${encodeURIComponent(c.args[0]!)}`), `Cannot get service: `);
      return isResult(s) ? s : modelOr(c, s, () => formatServiceList([s]));
    } },
  } },
  node: { short: 'Manage cluster nodes', sub: { list: list('List nodes', (c) => {
    const st = c.api.get<ClusterNodeStatus>('/cluster/nodes');
    return modelOr(c, st.nodes, () => formatNodeList(st));
  }, OUTPUT) } },
  map: { short: 'Access userspace cached content of BPF maps', sub: {
    list: list('List all open BPF maps', (c) => { const l = c.api.get<BPFMapList>('/map'); return modelOr(c, l, () => formatMapList(l, c.flags.has('--verbose'))); }, ['--verbose', ...OUTPUT]),
    get: { short: 'Display cached content of given BPF map', flags: ['--explain', ...OUTPUT], run: (c) => {
      if (!c.args[0]) return fatal('map name must be specified');
      const explain = c.flags.has('--explain');
      const m = call(() => c.api.get<BPFMap>(`/map/${encodeURIComponent(c.args[0]!)}`, explain ? { explain: 'true' } : {}));
      return isResult(m) ? m : modelOr(c, m, () => formatMapEntries(m as BPFMap & { cache: Array<{ explain?: string }> | null }, explain));
    } },
    events: { short: 'Display cached list of events for a BPF map', flags: ['-f', '--follow', ...OUTPUT], run: (c) => {
      if (!c.args[0]) return fatal('map name must be specified');
      // An exec answers once: -f prints what the buffer holds (`dplab cilium map events NAME -f` follows over HTTP).
      const events: MapEvent[] = [];
      const r = call(() => c.api.stream(`/map/${encodeURIComponent(c.args[0]!)}/events`, {}, (m) => events.push(m as MapEvent)));
      if (isResult(r)) return r;
      r();
      return ok(json(c) ? events.map((e) => goJson(e)).join('') : events.map(formatMapEvent).join(''));
    } },
  } },
  bpf: { short: 'Direct access to local BPF maps', sub: {
    endpoint: { short: 'Local endpoint map', sub: { list: list('List local endpoint entries', (c) => out(bpfEndpointList(c.ctl.agent(c.node).maps.lxc, json(c), explainOf(c, 'cilium_lxc'))), ['--explain', ...OUTPUT]) } },
    ipcache: { short: 'Manage the IPCache mappings for IP/CIDR <-> Identity', sub: {
      list: list('List endpoint IPs (local and remote) and their corresponding security identities', (c) => out(bpfIpcacheList(c.ctl.agent(c.node).maps.ipcache, json(c), explainOf(c, 'cilium_ipcache'))), ['--explain', ...OUTPUT]),
      get: { short: 'Retrieve identity for an ip', run: (c) => {
        if (c.args.length !== 1) return fatal('usage: cilium-dbg bpf ipcache get <IP>');
        return out(bpfIpcacheGet(c.ctl.agent(c.node).maps.ipcache, c.args[0]!, parseIp(c.args[0]!)));
      } },
    } },
    lb: { short: 'Load-balancing configuration', sub: { list: list('List load-balancing configuration', (c) => {
      const views: Array<[string, LbView]> = [['--backends', 'backends'], ['--frontends', 'frontends'], ['--revnat', 'revnat']];
      const view = views.find(([f]) => c.flags.has(f))?.[1] ?? 'services';
      const map = { services: 'cilium_lb4_services_v2', frontends: 'cilium_lb4_services_v2', backends: 'cilium_lb4_backends_v3', revnat: 'cilium_lb4_reverse_nat' }[view];
      return out(bpfLbList(c.ctl.agent(c.node), view, json(c), explainOf(c, map)));
    }, ['--backends', '--frontends', '--revnat', '--explain', ...OUTPUT]) } },
    ct: { short: 'Connection tracking tables', sub: { list: { short: 'List connection tracking entries', aliases: ['ls'], flags: ['-d', '--time-diff', '--explain'], run: (c) => {
      if (c.args[0] !== 'global') return fatal(c.args[0] === undefined ? 'Please specify a CT map type: global, endpoint or cluster' : `Unknown type: ${c.args[0]}`);
      const ex = explainOf(c, 'cilium_ct4_global');
      const exAny = explainOf(c, 'cilium_ct_any4_global');
      const merged: Explain = ex || exAny ? new Map([...(ex ?? []), ...(exAny ?? [])]) : undefined;
      return ok(bpfCtList(c.ctl.agent(c.node), Math.floor(c.env.nowNs / 1e9), c.flags.has('-d') || c.flags.has('--time-diff'), merged));
    } } } },
    metrics: { short: 'BPF datapath traffic metrics', sub: { list: list('List BPF datapath traffic metrics', (c) => out(bpfMetricsList(c.ctl.agent(c.node), json(c))), OUTPUT) } },
    nat: { short: 'NAT mapping tables', sub: { list: list('List all NAT mapping entries', (c) => ok(bpfNatList(c.ctl.agent(c.node), Math.floor(c.env.nowNs / 1e9)))) } },
    tunnel: { short: 'Tunnel endpoint map', sub: { list: list('List tunnel endpoint entries', (c) => out(bpfTunnelList(c.ctl.agent(c.node), json(c))), OUTPUT) } },
    policy: { short: 'Manage policy related BPF maps', sub: { get: { short: 'List contents of a policy BPF map', flags: ['--all', '-n', '--numeric'], run: (c) => {
      const a = c.ctl.agent(c.node);
      const numeric = c.flags.has('-n') || c.flags.has('--numeric');
      const labels = (id: number) => identityLabels(c.api, id);
      const table = (epId: number) => bpfPolicyTable(a.maps.byName(`cilium_policy_${String(epId).padStart(5, '0')}`), labels, numeric);
      if (c.flags.has('--all')) {
        return ok(c.ctl.endpoints(c.node).map((ep) => `Endpoint ID: ${ep.id}\nPath: /sys/fs/bpf/tc/globals/cilium_policy_${String(ep.id).padStart(5, '0')}\n\n${table(ep.id)}\n\n`).join(''));
      }
      if (c.args.length !== 1) return fatal('Need endpoint ID or --all');
      if (!/^\d{1,5}$/.test(c.args[0]!) || !c.ctl.endpoints(c.node).some((e) => e.id === Number(c.args[0]))) {
        return fatal(`Unable to parse endpoint ID or open the policy map of endpoint "${c.args[0]}"`);
      }
      return ok(table(Number(c.args[0])));
    } } } },
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
  const rest = argv.slice(i), args: string[] = [], flags = new Map<string, string>();
  for (let j = 0; j < rest.length; j++) {
    const w = rest[j]!;
    if (!w.startsWith('-') || w === '-') { args.push(w); continue; }
    if (w === '-h' || w === '--help') return ok(usage(path, cmd));
    const eq = w.indexOf('=');
    const name = eq > 0 ? w.slice(0, eq) : /^-o\S/.test(w) ? '-o' : w;
    if (!(cmd.flags ?? []).includes(name)) {
      const msg = name.startsWith('--') ? `unknown flag: ${name}` : `unknown shorthand flag: '${name[1]}' in ${w}`;
      return { stdout: '', stderr: `Error: ${msg}\n`, exitCode: 1 };
    }
    const canon = VALUE_FLAGS[name];
    if (canon) {
      const v = eq > 0 ? w.slice(eq + 1) : /^-o\S/.test(w) ? w.slice(2) : rest[++j];
      if (v === undefined) return { stdout: '', stderr: `Error: flag needs an argument: ${name.startsWith('--') ? name : `'${name[1]}' in ${name}`}\n`, exitCode: 1 };
      if (v !== 'json') return fatal(`unable to parse output format: ${v} (dplab prints json only)`);
      flags.set(canon, v);
    } else flags.set(name, '');
  }
  if (!cmd.run) return ok(usage(path, cmd));
  const api = new DbgClient(agentApi(ctl, node, { wallMs: () => env.wallMs, nowNs: () => env.nowNs }));
  return cmd.run({ ctl, node, api, args, flags, env });
}
