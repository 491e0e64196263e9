// Contract between the Kubernetes side (src/cluster) and the Cilium agents.
// The cluster owns Kubernetes objects; these types are the plain snapshots it
// hands down (never cluster objects themselves).

import type { KernelNode, Netns } from '../kernel/api.ts';

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
}

/** A node as the agent sees it. */
export interface NodeInfo {
  name: string;
  /** Underlay (InternalIP) address. */
  ip: number;
  podCIDR: { ip: number; prefixLen: number };
  controlPlane: boolean;
  /** Node labels (node-role.kubernetes.io/control-plane...). */
  labels: Record<string, string>;
}

/** What CNI ADD gets for a pod. */
export interface PodInfo {
  namespace: string;
  name: string;
  uid: string;
  nodeName: string;
  ip: number;
  labels: Record<string, string>;
  namespaceLabels: Record<string, string>;
  serviceAccount: string;
  /** "[restored]" in `status --verbose` for pods the agent found at start-up. */
  restored?: boolean;
}

/** Result of CNI ADD: the pod's netns with eth0 configured. */
export interface PodNetwork {
  netns: Netns;
  endpointId: number;
  identity: number;
  /** Host-side veth name, lxc<12 hex>. */
  hostIfName: string;
}

export type L4Proto = 'TCP' | 'UDP';
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
  addNode(kernel: KernelNode, node: NodeInfo): void;
  /** CNI ADD: create the pod netns, veth, endpoint, identity, map entries. */
  addPod(pod: PodInfo): PodNetwork;
  /** CNI DEL. */
  deletePod(namespace: string, name: string): void;
  /** Replace the whole set of service frontends (the agent diffs). */
  syncServices(frontends: LbFrontend[]): void;
  /** Pin a node's router / health IPs before addNode (optional). */
  pinAddresses?(node: string, a: { routerIp?: number; healthIp?: number }): void;
}
