// Cilium behind the datapath seam: one control plane (an agent per node) is
// both the CNI and, with kube-proxy replacement, the service proxy, as one
// Helm install of Cilium is on a real cluster. With another service proxy
// (kube-proxy), Cilium runs without socket LB and leaves Services alone.

import type { Cni, CniPlugin, DatapathConfig, EventStream, NodeTool, ServiceProxy, ServiceProxyPlugin, ServicePort } from '../datapath/contract.ts';
import type { DatapathBundle } from '../datapath/registry.ts';
import type { Sim } from '../sim/sim.ts';
import type { CiliumConfig } from './api.ts';
import { createCiliumControl, type CiliumCluster } from './control.ts';
import { runCiliumDbg } from './dbg/index.ts';
import { agentApi } from './rest/router.ts';
import { NODE_CPUS } from './dbg/status.ts';
import { expandFrontends } from './frontends.ts';
import { ciliumSystemObjects, TC_GLOBALS } from './install.ts';
import { pinMapsUnder } from '../kernel/bpffs.ts';
import { monitorHeader } from './monitor.ts';

const ROUTINGS = ['tunnel', 'native'] as const;

/** The control plane behind a Cilium CNI or service proxy (tests and benchmarks read agents through it). */
const controls = new WeakMap<Cni | ServiceProxy, CiliumCluster>();
export function ciliumOf(part: Cni | ServiceProxy): CiliumCluster | undefined { return controls.get(part); }

function ciliumConfig(c: DatapathConfig): CiliumConfig {
  const kubeProxyReplacement = c.serviceProxy === 'cilium';
  return {
    routing: c.routing === 'native' ? 'native' : 'tunnel', socketLB: c.socketLB && kubeProxyReplacement, netdev: c.netdev, mtu: c.mtu,
    clusterCIDR: c.podCIDR, monitorAggregation: 'medium', clusterName: 'default', kubeProxyReplacement,
  };
}

/**
 * With kubeProxyReplacement=false the agent still programs ClusterIP frontends:
 * bpf_lxc's per-packet LB translates pod -> ClusterIP before the stack sees it
 * (cilium/cilium#10651; #16197 explains why: a redirected reply to a same-node
 * client would bypass kube-proxy's reverse DNAT). NodePort, ExternalIPs and
 * LoadBalancer stay kube-proxy's (no ENABLE_NODEPORT).
 */
function clusterIpFrontends(ports: ServicePort[]) {
  return expandFrontends(ports, []).filter((f) => f.type === 'ClusterIP');
}

/** cilium-dbg (alias cilium) on nodes that run an agent. */
function tools(ctl: CiliumCluster, sim: Sim, node: string): Record<string, NodeTool> {
  if (!ctl.nodeNames().includes(node)) return {};
  const run: NodeTool = async (argv) => runCiliumDbg(ctl, node, argv, { nowNs: sim.now(), wallMs: sim.wallMs() });
  return { 'cilium-dbg': run, cilium: run };
}

/** `cilium-dbg monitor`: its two header lines, then one line per cilium_events record. */
function streams(ctl: CiliumCluster, node: string): Record<string, EventStream> {
  if (!ctl.nodeNames().includes(node)) return {};
  return {
    monitor: (cb) => {
      for (const line of monitorHeader(NODE_CPUS)) cb(line);
      return ctl.subscribeMonitor(node, cb);
    },
  };
}

export const ciliumCni: CniPlugin = {
  name: 'cilium',
  routings: ROUTINGS,
  create({ sim, config }) {
    const cfg = ciliumConfig(config);
    const ctl = createCiliumControl(cfg, sim);
    const cni: Cni = {
      name: 'cilium',
      // The agent pins every map it creates under bpffs' tc/globals (bpf.TCGlobalsPath()).
      addNode: (kernel, node) => { ctl.addNode(kernel, node); pinMapsUnder(kernel, TC_GLOBALS); },
      addPod: (pod) => ctl.addPod(pod),
      deletePod: (namespace, name) => ctl.deletePod(namespace, name),
      nodeTools: (node) => tools(ctl, sim, node),
      eventStreams: (node) => streams(ctl, node),
      // The agent's REST API (`/v1/...`) on each node with an agent.
      nodeApi: (node) => (ctl.nodeNames().includes(node) ? agentApi(ctl, node, { wallMs: () => sim.wallMs(), nowNs: () => sim.now() }) : undefined),
      // The agent DaemonSet, Envoy and the operator, as the Helm chart installs them.
      systemObjects: () => ciliumSystemObjects(),
      // Identities live in etcd (CiliumIdentity objects) on a real cluster: they survive a restart.
      memory: cfg.kubeProxyReplacement ? { save: () => ctl.identityAllocator.save(), restore: (saved) => ctl.identityAllocator.restore(saved) } : {
        // Beside kube-proxy no Cilium service proxy keeps the service and backend ids: the CNI keeps them with the identities.
        save: () => ({ identities: ctl.identityAllocator.save(), lbIds: ctl.lbIds.save() }),
        restore: (saved) => {
          const s = saved as { identities?: unknown; lbIds?: unknown } | null;
          ctl.identityAllocator.restore(s?.identities);
          ctl.lbIds.restore(s?.lbIds);
        },
      },
      // Beside kube-proxy the agent still watches Services (ClusterIPs only); with its own proxy, that proxy syncs.
      ...(cfg.kubeProxyReplacement ? {} : { syncServices: (ports: ServicePort[]) => ctl.syncServices(clusterIpFrontends(ports)) }),
    };
    controls.set(cni, ctl);
    return cni;
  },
};

/** Kube-proxy replacement: the same agents program the LB maps (and socket LB) from service ports. */
export const ciliumServiceProxy: ServiceProxyPlugin = {
  name: 'cilium',
  cnis: ['cilium'],
  create(_ctx, cni) {
    const ctl = controls.get(cni);
    if (!ctl) throw new Error(`service proxy cilium needs Cilium's own CNI, not "${cni.name}"`);
    const proxy: ServiceProxy = {
      name: 'cilium',
      // The agent that CNI started on the node is the proxy too.
      addNode: () => {},
      syncServices: (ports) => ctl.syncServices(expandFrontends(ports, ctl.nodeNames().map((n) => ctl.agent(n).node.ip))),
      // cilium-dbg and the monitor are the CNI's (one agent); nothing more to offer.
      nodeTools: () => ({}),
      eventStreams: () => ({}),
      // Service and backend ids stay what `cilium-dbg service list` showed before a restart.
      memory: { save: () => ctl.lbIds.save(), restore: (saved) => ctl.lbIds.restore(saved) },
    };
    controls.set(proxy, ctl);
    return proxy;
  },
};

export const ciliumDatapaths: DatapathBundle = {
  cnis: [ciliumCni],
  serviceProxies: [ciliumServiceProxy],
  shortForms: { cilium: { cni: 'cilium', serviceProxy: 'cilium' } },
};
