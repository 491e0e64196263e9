// Cilium's own control-plane contract, behind the datapath seam
// (src/datapath): the node, pod and service snapshots come from the seam;
// frontends are Cilium's expansion of service ports (src/cilium/frontends.ts).

import type { KernelNode } from '../kernel/api.ts';
import type { L4Proto, NodeInfo, PodInfo, PodNetwork } from '../datapath/contract.ts';

export type { NodeInfo, PodInfo, PodNetwork, L4Proto } from '../datapath/contract.ts';

/** Cluster-wide Cilium settings (the Cluster spec's datapath fields). */
export interface CiliumConfig {
  routing: 'native' | 'tunnel';
  socketLB: boolean;
  /** Underlay device name on every node (eth0, ens5...). */
  netdev: string;
  /** Underlay MTU; pods get mtu - 50 in tunnel mode. */
  mtu: number;
  clusterCIDR: { ip: number; prefixLen: number };
  monitorAggregation: 'none' | 'medium';
  clusterName: string;
  /**
   * kubeProxyReplacement (default true). False when kube-proxy runs beside Cilium: no socket LB,
   * no NodePort/ExternalIPs/LoadBalancer frontends, legacy (stack) host routing.
   */
  kubeProxyReplacement?: boolean;
}

/** CNI ADD's result from Cilium: every pod is an endpoint with a security identity. */
export interface CiliumPodNetwork extends PodNetwork { endpointId: number; identity: number }

export type FrontendType = 'ClusterIP' | 'NodePort' | 'ExternalIPs' | 'LoadBalancer';

/** One service frontend (VIP:port/proto) and its backends: one row of `cilium service list`. */
export interface LbFrontend {
  /** Stable key: namespace/name/portName/type/ip. */
  key: string;
  namespace: string;
  name: string;
  type: FrontendType;
  ip: number;
  port: number;
  proto: L4Proto;
  backends: Array<{ ip: number; port: number; nodeName: string; ready: boolean }>;
  /** sessionAffinity: ClientIP timeout in seconds; 0 = none. */
  affinityTimeoutSec: number;
  externalTrafficPolicy: 'Cluster' | 'Local';
  internalTrafficPolicy: 'Cluster' | 'Local';
}

/**
 * The Cilium control plane for the whole emulated cluster: one agent per
 * node plus the shared identity allocator and ipcache (what the kvstore /
 * CRDs do on a real cluster).
 */
export interface CiliumControl {
  /** Start the node's agent; node.routerIP / healthIP pin cilium_host's and the health endpoint's addresses. */
  addNode(kernel: KernelNode, node: NodeInfo): void;
  /** CNI ADD: the plugin plumbs the pod (netns, veth, address, routes), the agent makes the endpoint (identity, programs, maps). */
  addPod(pod: PodInfo): CiliumPodNetwork;
  /** CNI DEL. */
  deletePod(namespace: string, name: string): void;
  /** Replace the whole set of service frontends (the agent diffs). */
  syncServices(frontends: LbFrontend[]): void;
}
