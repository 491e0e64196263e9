// Contract of the emulated cluster as the server (src/api) and the CLI see
// it. src/cluster/cluster.ts implements it.

import type { ExecResult, FollowHandle, NodeApi, NodeTool } from '../datapath/contract.ts';
import type { KernelNode, TcpConnection } from '../kernel/api.ts';
import type { PortForwardPlan } from './kubectl/port_forward.ts';
import type { PodApps } from './runtime_contract.ts';
import type { Sim } from '../sim/sim.ts';
import type { HubbleService } from '../hubble/service.ts';

/** Output of a command run inside the emulation (kubectl, exec, ip, a datapath's node tools). */
export type { ExecResult };

/** A user error: bad input. `status` is the HTTP status the API answers with. */
export class ClusterError extends Error {
  constructor(message: string, readonly status = 400, readonly field?: string) { super(message); }
}

/** A frame seen by a capture. */
export interface CapturedFrame { frame: Uint8Array; tsNs: number; wallMs: number; dir: 'in' | 'out' }

/** One line of a node's event stream (`cilium-dbg monitor` with Cilium), stamped with the cluster's clock. */
export interface MonitorLine { node: string; text: string; wallMs: number }

export interface ClusterFacade {
  readonly name: string;
  readonly sim: Sim;
  /** Node names in spec order. */
  nodeNames(): string[];
  kernel(node: string): KernelNode;
  /** Apply / delete multi-document YAML; all-or-nothing. Returns kubectl's lines ("pod/x created"). Throws ClusterError. */
  apply(yaml: string): string[];
  delete(yaml: string): string[];
  /** apply/delete done in slices between which the server answers other requests; writes queue behind each other. */
  applySliced?(yaml: string): Promise<string[]>;
  deleteSliced?(yaml: string): Promise<string[]>;
  /** `kubectl ...` as the real CLI would print it (get, describe, patch, exec, apply -f -, delete). */
  kubectl(argv: string[], stdin?: string): Promise<ExecResult>;
  /** kubectl with its output streamed as it comes (`exec ... -- hubble observe -f` runs until signal aborts); the exit code. */
  kubectlStream?(argv: string[], write: (fd: 'stdout' | 'stderr', text: string) => void | Promise<void>, signal: AbortSignal): Promise<number>;
  /** Run argv in a pod (namespace default if omitted), as kubectl exec does. */
  exec(namespace: string, pod: string, argv: string[]): Promise<ExecResult>;
  /** Run argv on a node's host netns (ip, route, bpftool, cilium-dbg...), stdin given to the command. */
  nodeExec(node: string, argv: string[], stdin?: string): Promise<ExecResult>;
  /** A datapath's node tool by name (iptables-save, conntrack, ipvsadm...), run without the shell; undefined when the node has none. ClusterError 404 for an unknown node. */
  nodeTool?(node: string, name: string): NodeTool | undefined;
  /** Starts a node command that follows (`conntrack -E`): its handle, its usage error, or undefined when argv does not follow. ClusterError 404 for an unknown node. */
  follow?(node: string, argv: string[], out: (line: string) => void): FollowHandle | ExecResult | undefined;
  /** Capture frames on node/ifname until the returned function is called. Throws ClusterError on unknown node/iface. */
  capture(node: string, ifname: string, cb: (f: CapturedFrame) => void): () => void;
  /** Follow a node's event stream by name (the datapath's: `monitor` with Cilium); ClusterError 404 for the node, 501 for a stream it lacks. */
  events(node: string, stream: string, cb: (l: MonitorLine) => void): () => void;
  /** events(node, 'monitor'): `cilium-dbg monitor` from cilium_events with Cilium. */
  monitor(node: string, cb: (l: MonitorLine) => void): () => void;
  /** kubectl port-forward's API side: the pod and LOCAL/REMOTE ports of TYPE/NAME and the port specs; ClusterError with kubectl's text. */
  portForwardPlan?(namespace: string, resource: string, ports: string[]): PortForwardPlan;
  /** kubelet's port-forward: a TCP connection to localhost:port inside the pod's network namespace; ClusterError when refused. */
  podConnect?(namespace: string, pod: string, port: number): Promise<TcpConnection>;
  /** Servers outside the model that images hand connections to (the hubble-relay pod's gRPC API). */
  readonly podApps?: PodApps;
  /** Hubble Relay (observer.Observer over every node), undefined unless the CNI is Cilium. */
  hubble?(): HubbleService | undefined;
  /** One node's Hubble observer, as `hubble` in that node's agent pod sees it; ClusterError 404 for an unknown node. */
  hubbleNode?(node: string): HubbleService | undefined;
  /** Prometheus text (Hubble's and the agent's metrics) of the cluster, or of one node; undefined without them. ClusterError 404 for an unknown node. */
  metrics?(node?: string): Promise<{ contentType: string; text: string } | undefined>;
  /** The datapath's own API on a node (Cilium's agent REST `/v1/...`); undefined when it has none. Throws ClusterError 404 for an unknown node. */
  nodeApi?(node: string): NodeApi | undefined;
}
