// kube-proxy in IPVS mode behind the datapath seam. On each node: kubelet's
// and kube-proxy's start (as in iptables mode, with the IPVS proxier's jump
// rules), IPVS loaded in the kernel with the kube-ipvs0 dummy, and on every
// Service/EndpointSlice change one full sync as proxier.go's syncProxyRules
// does it: the ipsets filled (`ipset restore`), the iptables rules restored
// (nat then filter, --noflush), the service addresses bound to kube-ipvs0
// (stale ones unbound), the virtual and real servers programmed (stale ones
// deleted; graceful termination's weight 0 is not modelled). The nodes get
// ipvsadm and ipset beside iptables, iptables-save, iptables-restore and conntrack.

import type { DatapathConfig, NodeInfo, NodeTool, PluginConfig, ServicePort, ServiceProxy, ServiceProxyPlugin } from '../datapath/contract.ts';
import type { KernelNode } from '../kernel/api.ts';
import { bindAddress, enableIpvs, timeoutLine, unbindAddress, type IpvsNs } from '../kernel/ipvs.ts';
import { KUBE_PROXY_SETTINGS } from '../netfilter/conntrack.ts';
import { IpsetError, ipsetTool } from '../netfilter/ipset.ts';
import { ipvsadm, SCHEDULERS, type IpvsProto, type Scheduler } from '../netfilter/ipvs.ts';
import type { Netfilter } from '../netfilter/netfilter.ts';
import { restore } from '../netfilter/restore.ts';
import type { Sim } from '../sim/sim.ts';
import { ipToU32 } from '../wire/addr.ts';
import { KubeProxyInputError } from './adapter.ts';
import { ipvsJumps } from './ipvs_rules.ts';
import { syncIpvs, type IpvsSync } from './ipvs.ts';
import { conntrackSurfaces, ensureJumps, kubeProxySystemObjects, MAX_ERRORS, nodeConfig, result, startNode, tools, type ProxyNode } from './plugin.ts';
import { proxyConfigFromKubeProxyConfiguration, stateFromServicePorts } from './seam.ts';
import { restoreText } from './text.ts';

interface IpvsNode extends ProxyNode { v: IpvsNs; ours: Set<string> }

const JUMPS = ipvsJumps();

/** The ipsets as `ipset restore -exist` leaves them: created if missing, members replaced (kube-proxy's syncIPSetEntries). */
function syncSets(nf: Netfilter, s: IpvsSync): void {
  for (const spec of s.ipsets) {
    const opts = spec.type === 'bitmap:port' ? ['range', '0-65535'] : ['family', 'inet', 'hashsize', '1024', 'maxelem', '65536'];
    nf.ipsets.create(spec.name, spec.type, opts, true);
    const set = nf.ipsets.get(spec.name);
    const want = new Set(spec.entries);
    for (const k of [...set.members.keys()]) if (!want.has(k)) set.del(k, true);
    for (const e of spec.entries) set.add(e, true);
  }
}

const vsKey = (proto: string, addr: number, port: number) => `${proto}:${addr}:${port}`;

/** Virtual and real servers as the sync wants them; the proxy's own stale ones deleted (a user's ipvsadm -A stays). */
function syncServers(n: IpvsNode, s: IpvsSync): void {
  const ipvs = n.v.ipvs;
  const now = new Set<string>();
  for (const vs of s.virtualServers) {
    const proto = vs.protocol as IpvsProto, addr = ipToU32(vs.address), key = vsKey(proto, addr, vs.port);
    now.add(key);
    const sched = (SCHEDULERS as readonly string[]).includes(vs.scheduler) ? vs.scheduler as Scheduler : 'rr';
    const svc = ipvs.find(proto, addr, vs.port) ?? ipvs.addService(proto, addr, vs.port, sched, vs.persistent ?? 0);
    svc.scheduler = sched;
    svc.persistent = vs.persistent ?? 0;
    const want = new Map(vs.realServers.map((r) => [`${ipToU32(r.address)}:${r.port}`, r]));
    for (const d of [...svc.dests]) if (!want.has(`${d.addr}:${d.port}`)) ipvs.delDest(svc, d.addr, d.port);
    for (const r of vs.realServers) {
      const a = ipToU32(r.address);
      const d = svc.dests.find((x) => x.addr === a && x.port === r.port);
      if (d) { d.weight = r.weight; d.fwd = 'Masq'; } else ipvs.addDest(svc, a, r.port, r.weight, 'Masq');
    }
  }
  for (const key of n.ours) {
    if (now.has(key)) continue;
    const [proto, addr, port] = key.split(':');
    if (ipvs.find(proto as IpvsProto, Number(addr), Number(port))) ipvs.delService(proto as IpvsProto, Number(addr), Number(port));
  }
  n.ours.clear();
  for (const k of now) n.ours.add(k);
}

/** kube-ipvs0 holds exactly the sync's addresses (ClusterIPs, externalIPs, LB IPs), in binding order. */
function syncDummy(v: IpvsNs, s: IpvsSync): void {
  const want = new Set(s.dummyAddresses.map(ipToU32));
  for (const a of [...v.dummy.addrs]) if (!want.has(a.ip)) unbindAddress(v, a.ip);
  for (const ip of want) bindAddress(v, ip);
}

/** One full sync of the IPVS proxier on one node. */
function syncNode(n: IpvsNode, ports: ServicePort[]): void {
  const s = syncIpvs(stateFromServicePorts(ports), n.cfg);
  const errs: string[] = [];
  try { syncSets(n.nf, s); } catch (e) { if (e instanceof IpsetError) errs.push(`ipset: ${e.message}`); else throw e; }
  const jumpErr = ensureJumps(n.nf, JUMPS);
  if (jumpErr) errs.push(jumpErr);
  const r = restore(n.nf.rules, restoreText(s, ['nat', 'filter']), { noflush: true, counters: true });
  if (r.code !== 0) errs.push(`iptables-restore: ${r.stderr.trim()}`);
  syncDummy(n.v, s);
  syncServers(n, s);
  for (const e of errs) {
    n.syncErrors.push(e);
    if (n.syncErrors.length > MAX_ERRORS) n.syncErrors.shift();
  }
}

/** ipset's short command forms (-L, -S, -F, -X, -T, -A, -D, -N) as the long ones the engine takes. */
const IPSET_ALIASES: Record<string, string> = { '-L': 'list', '-S': 'save', '-F': 'flush', '-X': 'destroy', '-T': 'test', '-A': 'add', '-D': 'del', '-N': 'create' };

function ipvsTools(n: IpvsNode, sim: Sim): Record<string, NodeTool> {
  return {
    ...tools(n.nf, sim),
    ipvsadm: async (argv) => {
      n.v.sweep();
      if (argv.includes('--timeout') && argv.every((a) => ['--timeout', '-L', '-l', '-n', '-Ln', '-ln', '--list', '--numeric'].includes(a))) {
        return { stdout: timeoutLine(), stderr: '', exitCode: 0 };
      }
      // -c / --connection with a listing: the kernel's connection table (the engine has only services).
      const conn = argv.some((a) => a === '-c' || a === '--connection' || /^-[lL][a-zA-Z]*c/.test(a) || /^-c[a-zA-Z]*[lL]/.test(a));
      if (conn) {
        const rest = argv.map((a) => (/^-[a-zA-Z]+$/.test(a) && !a.startsWith('--') ? a.replace(/c/g, '') : a)).filter((a) => a !== '-' && a !== '--connection');
        const ok = rest.every((a) => ['-L', '-l', '-n', '--list', '--numeric', '-Ln', '-nL', '-ln', '-nl'].includes(a));
        if (ok && rest.some((a) => /^-n?[lL]n?$/.test(a) || a === '--list')) return { stdout: n.v.connList(), stderr: '', exitCode: 0 };
      }
      return result(ipvsadm(n.v.ipvs, argv, sim.now()));
    },
    ipset: async (argv) => result(ipsetTool(n.nf.ipsets, argv.map((a, i) => (i === 0 ? IPSET_ALIASES[a] ?? a : a)))),
  };
}

function createProxy(sim: Sim, config: DatapathConfig): ServiceProxy {
  const nodes = new Map<string, IpvsNode>();
  let ports: ServicePort[] = [];
  return {
    name: 'ipvs',
    systemObjects: () => kubeProxySystemObjects(),
    addNode(kernel: KernelNode, info: NodeInfo) {
      const v = enableIpvs(kernel);
      const nf = v.nf;
      Object.assign(nf.conntrack.settings, KUBE_PROXY_SETTINGS);
      startNode(nf, JUMPS);
      const n: IpvsNode = { info, nf, cfg: nodeConfig(config, info), syncErrors: [], v, ours: new Set() };
      nodes.set(info.name, n);
      syncNode(n, ports);
    },
    syncServices(next) {
      ports = next;
      for (const n of nodes.values()) syncNode(n, ports);
    },
    nodeTools: (node) => { const n = nodes.get(node); return n ? ipvsTools(n, sim) : {}; },
    // `conntrack -E` with its filters, as on an iptables node.
    ...conntrackSurfaces(nodes, sim),
  };
}

/** Why a KubeProxyConfiguration cannot be used by the IPVS proxy. */
function configError(c: PluginConfig): string | undefined {
  try {
    const { mode, config } = proxyConfigFromKubeProxyConfiguration({ mode: 'ipvs', ...c }, { name: 'node', ip: '10.0.0.1', podCIDR: '10.244.0.0/24' });
    if (mode !== 'ipvs') return `service proxy ipvs: mode "${mode}" is the iptables service proxy's`;
    const s = config.ipvsScheduler;
    if (s !== undefined && !(SCHEDULERS as readonly string[]).includes(s)) {
      return `service proxy ipvs: ipvs.scheduler: Unsupported value: "${s}": supported values: ${SCHEDULERS.map((x) => `"${x}"`).join(', ')}`;
    }
    return undefined;
  } catch (e) {
    if (e instanceof KubeProxyInputError) return `service proxy ipvs: ${e.message}`;
    throw e;
  }
}

/**
 * The `ipvs` service proxy. A function (hoisted) rather than a constant:
 * plugin.ts, whose helpers this file uses, registers it in kube-proxy's bundle.
 */
export function ipvsServiceProxyPlugin(): ServiceProxyPlugin {
  return { name: 'ipvs', configError, create: ({ sim, config }) => createProxy(sim, config) };
}
