// The seam between the cluster and its datapaths, cut where real clusters are
// cut: a CNI plugs pods into the node network (netns, veth, addresses, routes,
// per-node routing) and a service proxy turns Services and EndpointSlices into
// datapath state (Cilium's kube-proxy replacement, kube-proxy's iptables or
// IPVS rules). Plain snapshots go down; the cluster never sees what is behind.

import type { KernelNode, Netns } from '../kernel/api.ts';
import type { Sim } from '../sim/sim.ts';

export interface Cidr { ip: number; prefixLen: number }

/** Output of a command (a node tool, kubectl, exec). */
export interface ExecResult { stdout: string; stderr: string; exitCode: number }

/** A node as the datapath sees it (the Node object plus the cluster file's pins). */
export interface NodeInfo {
  name: string;
  /** Underlay (InternalIP) address. */
  ip: number;
  podCIDR: Cidr;
  controlPlane: boolean;
  /** Node labels (node-role.kubernetes.io/control-plane...). */
  labels: Record<string, string>;
  /** Pinned pod-CIDR addresses for the CNI's router and health endpoint (Cilium's cilium_host and lxc_health), if the CNI has them. */
  routerIP?: number;
  healthIP?: number;
}

/** What CNI ADD gets for a pod: CNI_ARGS (K8S_POD_*) plus what the plugin reads from the API server. The IP comes from IPAM. */
export interface PodInfo {
  namespace: string;
  name: string;
  uid: string;
  nodeName: string;
  ip: number;
  labels: Record<string, string>;
  namespaceLabels: Record<string, string>;
  serviceAccount: string;
  /** The pod was there before the CNI's agent (re)started (Cilium prints it `[restored]`). */
  restored?: boolean;
}

/** Result of CNI ADD: the pod's netns with eth0 configured. */
export interface PodNetwork {
  netns: Netns;
  /** Host-side veth name (lxc<12 hex>, veth<8 hex>, cali<11 hex>). */
  hostIfName: string;
  /** Endpoint id and security identity, for CNIs that model endpoints (Cilium: `kubectl get ciliumendpoints`). */
  endpointId?: number;
  identity?: number;
}

export type L4Proto = 'TCP' | 'UDP';

/** One endpoint of a service port, from its EndpointSlices. */
export interface ServiceEndpoint {
  ip: number;
  /** The slice's port for this service port. */
  port: number;
  nodeName: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/**
 * One port of one Service with its endpoints: kube-proxy's ServicePort (keyed
 * `namespace/name:portName` + protocol) and what Cilium's service cache reads.
 */
export interface ServicePort {
  namespace: string;
  name: string;
  /** spec.ports[].name, '' when unnamed. */
  portName: string;
  protocol: L4Proto;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  clusterIP: number;
  port: number;
  /** 0 when the service has no node port. */
  nodePort: number;
  externalIPs: number[];
  /** status.loadBalancer.ingress IPs. */
  loadBalancerIPs: number[];
  loadBalancerSourceRanges: Cidr[];
  /** sessionAffinity ClientIP timeout in seconds; 0 = none. */
  affinityTimeoutSec: number;
  externalTrafficPolicy: 'Cluster' | 'Local';
  internalTrafficPolicy: 'Cluster' | 'Local';
  endpoints: ServiceEndpoint[];
}

/** A command a datapath installs on its nodes (`cilium-dbg`, later `iptables`, `conntrack`): argv excludes the name. */
export type NodeTool = (argv: string[], stdin: string) => Promise<ExecResult>;

/** A live stream of printed lines (`cilium-dbg monitor`, later `conntrack -E`); returns unsubscribe. */
export type EventStream = (cb: (line: string) => void) => () => void;

/** A running followed command: stop() ends it as SIGINT would and returns what the tool prints last and its exit code. */
export interface FollowHandle { stop(): ExecResult }

/**
 * A node command that follows (`conntrack -E [filters]`): prints lines (without
 * their newline) through `out` until stopped. Answers the tool's own result when
 * argv is wrong (its usage error), undefined when argv is not a following form
 * (run it as the NodeTool of the same name).
 */
export type FollowTool = (argv: string[], out: (line: string) => void) => FollowHandle | ExecResult | undefined;

/** A GET to a datapath's own per-node API (Cilium's agent REST, `/v1/...`): path under the API root, query parameters. */
export interface NodeApiRequest { path: string; query: Record<string, string | undefined> }

/**
 * The answer: a status and a JSON body, or (a followed stream) a status and a
 * function that starts sending JSON messages, calls `end` if the stream ends
 * on its own, and returns the function that stops it. A message may be given
 * as a function that builds it, called only if the message goes out (a reader
 * that fell behind skips it).
 */
export type NodeApiAnswer =
  | { status: number; body: unknown }
  /** The body already serialised (large map dumps built as text, never as objects). */
  | { status: number; json: string }
  | { status: number; stream: (send: (msg: unknown) => void, end: () => void) => () => void };

/** A node's API: one function from request to answer. */
export type NodeApi = (req: NodeApiRequest) => NodeApiAnswer;

/** What a datapath offers on one node beside its state: tools by command name, event streams by name. */
export interface NodeSurface {
  nodeTools(node: string): Record<string, NodeTool>;
  /** Streams by name; `monitor` is what `dplab cilium monitor` and `/v1/nodes/:node/monitor` follow. */
  eventStreams(node: string): Record<string, EventStream>;
  /** Commands that follow, by command name (`conntrack` for `conntrack -E`); absent = none. */
  followTools?(node: string): Record<string, FollowTool>;
  /** The datapath's own API on the node, if it has one (Cilium's agent REST). */
  nodeApi?(node: string): NodeApi | undefined;
  /** Objects its installation adds to a fresh cluster (bootstrap applies them, pods per node as their controllers would); absent = none. */
  systemObjects?(): SystemObject[];
}

/**
 * A Kubernetes object a datapath's installation puts in the cluster (Cilium's
 * agent DaemonSet and operator Deployment, kube-proxy's DaemonSet), as plain
 * manifest JSON: the seam stays free of the cluster's object types.
 */
export interface SystemObject { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: unknown }

/**
 * What a datapath keeps in the cluster's store beside the objects, as JSON
 * (Cilium: its identities, CiliumIdentity objects in etcd on a real cluster).
 */
export interface DatapathMemory {
  /** The state to keep, after each committed change. */
  save(): unknown;
  /** On start, before any pod is added: what save() returned before the restart. Throws on a value it cannot use. */
  restore(saved: unknown): void;
}

/** Pod plumbing: node routing at join, netns/veth/addresses/routes at CNI ADD, teardown at CNI DEL. */
export interface Cni extends NodeSurface {
  readonly name: string;
  /** State to keep across a restart, if the CNI has any. */
  readonly memory?: DatapathMemory;
  /** A node joins: host devices and routes to the other nodes' pod CIDRs. Nodes join in spec order. */
  addNode(kernel: KernelNode, node: NodeInfo): void;
  /** Pod-CIDR addresses the CNI's IPAM never hands out on a node (host-local's gateway); absent = none beyond what the node's devices hold. */
  reservedPodIps?(node: string): number[];
  /** CNI ADD. */
  addPod(pod: PodInfo): PodNetwork;
  /** CNI DEL; unknown pods are ignored, as the spec requires. */
  deletePod(namespace: string, name: string): void;
  /** The whole set of service ports after a change, for a CNI that also reads Services beside another proxy (Cilium without kube-proxy replacement); absent = none. */
  syncServices?(services: ServicePort[]): void;
}

/** Services and EndpointSlices -> datapath state, on every node. */
export interface ServiceProxy extends NodeSurface {
  readonly name: string;
  /** State to keep across a restart, if the proxy has any. */
  readonly memory?: DatapathMemory;
  /** A node joins (after the CNI has plumbed it). */
  addNode(kernel: KernelNode, node: NodeInfo): void;
  /** The whole set of service ports after a change (the proxy diffs or rewrites). */
  syncServices(services: ServicePort[]): void;
}

/** A plugin's own settings from the Cluster spec (`cniConfig:`, `serviceProxyConfig:`), as a KubeProxyConfiguration or Helm values would hold them. */
export type PluginConfig = Record<string, unknown>;

/** Cluster-wide settings a datapath reads (the Cluster spec's datapath fields). */
export interface DatapathConfig {
  /** Chosen CNI and service proxy names (a CNI may change behaviour when it is also the proxy). */
  cni: string;
  serviceProxy: string;
  /** One of the CNI's routing modes. */
  routing: string;
  /** Underlay device name on every node (eth0, ens5...). */
  netdev: string;
  mtu: number;
  /** Translate ClusterIPs at connect()/sendmsg() where the proxy can. */
  socketLB: boolean;
  podCIDR: Cidr;
  serviceCIDR: Cidr;
  /** The chosen plugins' own settings, checked by their configError(). */
  cniConfig: PluginConfig;
  serviceProxyConfig: PluginConfig;
}

export interface DatapathContext { sim: Sim; config: DatapathConfig }

/** A CNI implementation under its name. */
export interface CniPlugin {
  readonly name: string;
  /** Routing modes it supports; the first is the default. */
  readonly routings: readonly string[];
  /** Why its settings are wrong, naming the key; absent = it takes none. */
  configError?(config: PluginConfig): string | undefined;
  create(ctx: DatapathContext): Cni;
}

/** A service proxy implementation under its name. */
export interface ServiceProxyPlugin {
  readonly name: string;
  /** CNIs it can run with; absent = any (kube-proxy runs beside every CNI). */
  readonly cnis?: readonly string[];
  /** Why its settings are wrong, naming the key; absent = it takes none. */
  configError?(config: PluginConfig): string | undefined;
  /** Built after the CNI, which it may share state with (Cilium's agent is both). */
  create(ctx: DatapathContext, cni: Cni): ServiceProxy;
}
