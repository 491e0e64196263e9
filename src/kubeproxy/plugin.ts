// kube-proxy in iptables mode behind the datapath seam: on each node it asks
// the kernel for its netfilter, sets the conntrack timeouts kube-proxy sets,
// plays kubelet's and kube-proxy's start (KUBE-FIREWALL, the jump rules, the
// canaries), and on every Service/EndpointSlice change loads one full sync
// with `iptables-restore --noflush --counters`, as the proxier re-syncs. The
// nodes get iptables, iptables-save, iptables-restore and conntrack.

import type { DatapathConfig, EventStream, FollowTool, SystemObject, ExecResult, NodeInfo, NodeTool, PluginConfig, ServicePort, ServiceProxy, ServiceProxyPlugin } from '../datapath/contract.ts';
import type { DatapathBundle } from '../datapath/registry.ts';
import type { KernelNode } from '../kernel/api.ts';
import type { Netfilter } from '../netfilter/netfilter.ts';
import { KUBE_PROXY_SETTINGS, type CtListener } from '../netfilter/conntrack.ts';
import { conntrackEvents, conntrackTool, entryLine, eventsShownLine } from '../netfilter/conntrack_cli.ts';
import { iptables, iptablesSave } from '../netfilter/exec.ts';
import { restore, type RestoreOptions, type ToolResult } from '../netfilter/restore.ts';
import { splitArgs } from '../netfilter/args.ts';
import type { Sim } from '../sim/sim.ts';
import { KubeProxyInputError } from './adapter.ts';
import { intToIPv4 } from './ip.ts';
import { restoreLine } from './rule.ts';
import { proxyConfigFromKubeProxyConfiguration, stateFromServicePorts, type NodeFacts } from './seam.ts';
import { syncIptables, type JumpRule } from './iptables.ts';
import { restoreText } from './text.ts';
import { ipvsServiceProxyPlugin } from './plugin_ipvs.ts';
import type { ProxyConfig } from './types.ts';

// kube-proxy as kubeadm installs it (kubeadm's proxy addon): a host-network
// DaemonSet in kube-system. The image tag is the release whose rules src/kubeproxy writes (v1.30).
export const KUBE_PROXY_IMAGE = 'registry.k8s.io/kube-proxy:v1.30.4';

export function kubeProxySystemObjects(): SystemObject[] {
  const labels = { 'k8s-app': 'kube-proxy' };
  return [{
    apiVersion: 'apps/v1', kind: 'DaemonSet',
    metadata: { name: 'kube-proxy', namespace: 'kube-system', labels },
    spec: {
      selector: { matchLabels: labels },
      updateStrategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 }, type: 'RollingUpdate' },
      template: {
        metadata: { labels },
        spec: {
          containers: [{
            name: 'kube-proxy', image: KUBE_PROXY_IMAGE, imagePullPolicy: 'IfNotPresent',
            command: ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=$(NODE_NAME)'],
            securityContext: { privileged: true },
          }],
          hostNetwork: true, priorityClassName: 'system-node-critical', serviceAccountName: 'kube-proxy',
          nodeSelector: { 'kubernetes.io/os': 'linux' }, tolerations: [{ operator: 'Exists' }],
        },
      },
    },
  }];
}

export interface ProxyNode { info: NodeInfo; nf: Netfilter; cfg: ProxyConfig; syncErrors: string[] }

const facts = (n: NodeInfo): NodeFacts => ({ name: n.name, ip: intToIPv4(n.ip >>> 0), podCIDR: `${intToIPv4(n.podCIDR.ip >>> 0)}/${n.podCIDR.prefixLen}` });

/** The node's proxier settings: the spec's KubeProxyConfiguration, clusterCIDR defaulting to the cluster's pod CIDR (kind sets it so). */
export function nodeConfig(c: DatapathConfig, n: NodeInfo): ProxyConfig {
  const kpc = { clusterCIDR: `${intToIPv4(c.podCIDR.ip >>> 0)}/${c.podCIDR.prefixLen}`, ...c.serviceProxyConfig };
  return proxyConfigFromKubeProxyConfiguration(kpc, facts(n)).config;
}

/** Runs one iptables command on the node; kube-proxy's start never fails on a fresh node. */
function must(nf: Netfilter, argv: string[]): void {
  const r = iptables(nf.rules, argv);
  if (r.code !== 0) throw new Error(`kube-proxy start: iptables ${argv.join(' ')}: ${r.stderr.trim()}`);
}

/** kubelet's start (KUBE-FIREWALL, canaries), then the proxier's jump rules (ensured: -C, else -I) and its canaries. */
export function startNode(nf: Netfilter, jumps: readonly JumpRule[] = JUMPS): void {
  must(nf, ['-t', 'mangle', '-N', 'KUBE-IPTABLES-HINT']);
  must(nf, ['-N', 'KUBE-FIREWALL']);
  must(nf, ['-A', 'KUBE-FIREWALL', '-m', 'comment', '--comment', 'block incoming localnet connections', '--dst', '127.0.0.0/8', '!', '--src', '127.0.0.0/8',
    '-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT', '-j', 'DROP']);
  must(nf, ['-I', 'OUTPUT', '-j', 'KUBE-FIREWALL']);
  must(nf, ['-I', 'INPUT', '-j', 'KUBE-FIREWALL']);
  for (const t of ['mangle', 'nat', 'filter']) must(nf, ['-t', t, '-N', 'KUBE-KUBELET-CANARY']);
  const err = ensureJumps(nf, jumps);
  if (err) throw new Error(`kube-proxy start: ${err}`);
  for (const t of ['mangle', 'nat', 'filter']) must(nf, ['-t', t, '-N', 'KUBE-PROXY-CANARY']);
}

const JUMPS = syncIptables({ services: [], endpointSlices: [] }, { nodeName: 'n', nodeIP: '127.0.0.1' }).jumps;

/** kube-proxy's jump chains, ensured at every sync (-N if missing, -C else -I), as a user may have flushed them; the first failure, if any. */
export function ensureJumps(nf: Netfilter, jumps: readonly JumpRule[] = JUMPS): string | undefined {
  for (const j of jumps) {
    const target = j.rule.target!.name;
    if (!nf.rules.tables[j.table].chains.has(target)) {
      const r = iptables(nf.rules, ['-t', j.table, '-N', target]);
      if (r.code !== 0) return r.stderr.trim();
    }
    const args = splitArgs(restoreLine(j.rule).replace(/^-A \S+ /, ''));
    if (iptables(nf.rules, ['-t', j.table, '-C', j.rule.chain, ...args]).code === 0) continue;
    const r = iptables(nf.rules, ['-t', j.table, '-I', j.rule.chain, ...args]);
    if (r.code !== 0) return r.stderr.trim();
  }
  return undefined;
}

/** Failed syncs kept per node (kube-proxy logs them and retries at the next change). */
export const MAX_ERRORS = 10;

/** One full sync on one node: the generator's restore input, stale service chains deleted. */
function syncNode(n: ProxyNode, ports: ServicePort[]): void {
  const jumpErr = ensureJumps(n.nf);
  const text = restoreText(syncIptables(stateFromServicePorts(ports), n.cfg, { natChains: n.nf.rules.tables.nat.chains.keys() }));
  const r = restore(n.nf.rules, text, { noflush: true, counters: true });
  // A user's own rules can make a sync fail (a jump into a chain kube-proxy deletes): the change
  // still commits in the API, the tables keep what loaded (each table's block is atomic), as on a node.
  for (const e of [jumpErr, r.code !== 0 ? `iptables-restore: ${r.stderr.trim()}` : undefined]) {
    if (e === undefined) continue;
    n.syncErrors.push(e);
    if (n.syncErrors.length > MAX_ERRORS) n.syncErrors.shift();
  }
}

export const result = (r: ToolResult): ExecResult => ({ stdout: r.stdout, stderr: r.stderr, exitCode: r.code });

/** `iptables-restore [-n|--noflush] [-c|--counters] [-t|--test] [-T TABLE]` reading stdin. */
function restoreTool(nf: Netfilter, argv: string[], stdin: string): ExecResult {
  const o: RestoreOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-n' || a === '--noflush') o.noflush = true;
    else if (a === '-c' || a === '--counters') o.counters = true;
    else if (a === '-t' || a === '--test') o.test = true;
    else if (a === '-T' || a === '--table') {
      const t = argv[++i];
      if (t !== 'raw' && t !== 'mangle' && t !== 'nat' && t !== 'filter') return { stdout: '', stderr: `iptables-restore: table '${t ?? ''}' does not exist\n`, exitCode: 1 };
      o.table = t;
    } else return { stdout: '', stderr: `iptables-restore: unrecognized option '${a}'\n`, exitCode: 1 };
  }
  return result(restore(nf.rules, stdin, o));
}

export function tools(nf: Netfilter, sim: Sim): Record<string, NodeTool> {
  return {
    iptables: async (argv) => result(iptables(nf.rules, argv)),
    'iptables-save': async (argv) => result(iptablesSave(nf.rules, argv, new Date(sim.wallMs()))),
    'iptables-restore': async (argv, stdin) => restoreTool(nf, argv, stdin),
    conntrack: async (argv) => result(conntrackTool(nf.conntrack, argv, sim.now())),
  };
}

/**
 * A listener on the node's conntrack events. The table gets the simulation's timers first: while someone
 * listens, an expired entry is destroyed (DESTROY event) when it expires, as Linux's conntrack GC does,
 * not when the table is next read.
 */
function onConntrackEvent(nf: Netfilter, sim: Sim, l: CtListener): () => void {
  nf.conntrack.setScheduler((delayNs, fn) => sim.schedule(delayNs, fn));
  return nf.conntrack.onEvent(l);
}

/** `conntrack -E [filters] [-e MASK]`: the node's events that pass the filters, one line each, until stopped. */
function conntrackFollow(nf: Netfilter, sim: Sim): FollowTool {
  return (argv, out) => {
    const sel = conntrackEvents(argv);
    if (sel === undefined || 'code' in sel) return sel && result(sel);
    let shown = 0;
    const off = onConntrackEvent(nf, sim, (type, e, nowNs) => { if (sel.accept(type, e)) { shown++; out(entryLine(e, nowNs, type)); } });
    return { stop: () => { off(); return { stdout: '', stderr: eventsShownLine(shown), exitCode: 0 }; } };
  };
}

/** The failed syncs of an iptables service proxy's node, oldest first (what kube-proxy's log would show). */
const proxyNodes = new WeakMap<ServiceProxy, Map<string, ProxyNode>>();

/** `conntrack -E` on a proxy's nodes: the event stream (one line per NEW / UPDATE / DESTROY) and the follow tool with conntrack's filters. */
export function conntrackSurfaces(nodes: ReadonlyMap<string, { nf: Netfilter }>, sim: Sim): Pick<ServiceProxy, 'eventStreams' | 'followTools'> {
  return {
    eventStreams: (node): Record<string, EventStream> => {
      const n = nodes.get(node);
      if (!n) return {};
      const follow: EventStream = (cb) => onConntrackEvent(n.nf, sim, (type, e, nowNs) => cb(entryLine(e, nowNs, type)));
      return { conntrack: follow };
    },
    followTools: (node): Record<string, FollowTool> => { const n = nodes.get(node); return n ? { conntrack: conntrackFollow(n.nf, sim) } : {}; },
  };
}
export function syncErrorsOf(proxy: ServiceProxy, node: string): string[] { return [...(proxyNodes.get(proxy)?.get(node)?.syncErrors ?? [])]; }

function createProxy(sim: Sim, config: DatapathConfig): ServiceProxy {
  const nodes = new Map<string, ProxyNode>();
  let ports: ServicePort[] = [];
  const proxy: ServiceProxy = {
    name: 'iptables',
    // kubeadm's kube-proxy DaemonSet: a host-network pod per node (`kubectl exec` into it runs on the node).
    systemObjects: () => kubeProxySystemObjects(),
    addNode(kernel: KernelNode, info: NodeInfo) {
      const nf = kernel.enableNetfilter();
      // kube-proxy's conntrack setup: nf_conntrack_tcp_timeout_established 86400, close_wait 3600, nf_conntrack_max.
      Object.assign(nf.conntrack.settings, KUBE_PROXY_SETTINGS);
      startNode(nf);
      const n: ProxyNode = { info, nf, cfg: nodeConfig(config, info), syncErrors: [] };
      nodes.set(info.name, n);
      syncNode(n, ports);
    },
    syncServices(next) {
      ports = next;
      for (const n of nodes.values()) syncNode(n, ports);
    },
    nodeTools: (node) => { const n = nodes.get(node); return n ? tools(n.nf, sim) : {}; },
    ...conntrackSurfaces(nodes, sim),
  };
  proxyNodes.set(proxy, nodes);
  return proxy;
}

/** Why a KubeProxyConfiguration cannot be used by the iptables proxy (mode ipvs is the ipvs proxy's). */
function configError(c: PluginConfig): string | undefined {
  try {
    const { mode } = proxyConfigFromKubeProxyConfiguration(c, { name: 'node', ip: '10.0.0.1', podCIDR: '10.244.0.0/24' });
    return mode === 'iptables' ? undefined : `service proxy iptables: mode "${mode}" is the ipvs service proxy's`;
  } catch (e) {
    if (e instanceof KubeProxyInputError) return `service proxy iptables: ${e.message}`;
    throw e;
  }
}

export const iptablesServiceProxy: ServiceProxyPlugin = {
  name: 'iptables',
  configError,
  create: ({ sim, config }) => createProxy(sim, config),
};

/** kube-proxy in IPVS mode (plugin_ipvs.ts). */
export const ipvsServiceProxy = ipvsServiceProxyPlugin();

export const kubeProxyDatapaths: DatapathBundle = { serviceProxies: [iptablesServiceProxy, ipvsServiceProxy] };
