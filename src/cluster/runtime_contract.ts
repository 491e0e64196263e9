// Contract between the Kubernetes side (src/cluster) and the container
// "images" and exec shell (src/cluster/images, src/cluster/exec). The cluster
// builds these contexts; images/exec only read them. Plain data plus a few
// lookups: images never see cluster objects.

import type { Duplex } from 'node:stream';
import type { KernelNode, Netns } from '../kernel/api.ts';
import type { Sim } from '../sim/sim.ts';
import type { ExecResult } from './facade.ts';

/** A container port as in the Pod spec. */
export interface ContainerPort { containerPort: number; protocol: 'TCP' | 'UDP'; name?: string }

/** One container of a pod. `image` is the reference as written (traefik/whoami, nicolaka/netshoot:latest...). */
export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports: ContainerPort[];
  /** Container env from the manifest (value form only), before the service vars. */
  env: Record<string, string>;
  /**
   * AppArmor confines the container's processes: the runtime's default profile (containerd's
   * cri-containerd.apparmor.d) unless the container is privileged or its profile is Unconfined.
   */
  confined?: boolean;
}

/** A service as DNS (coredns) sees it. */
export interface DnsService {
  namespace: string;
  name: string;
  /** Dotted ClusterIP, or null for headless and ExternalName services. */
  clusterIP: string | null;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  externalName?: string;
  ports: Array<{ name: string; port: number; protocol: 'TCP' | 'UDP' }>;
  /** Ready endpoints (headless A records, SRV targets). */
  endpoints: Array<{ ip: string; hostname?: string; podName?: string; nodeName?: string }>;
}

/** What coredns (and the upstream resolver) need from the cluster; lookups read live state. */
export interface ClusterDns {
  /** "cluster.local". */
  clusterDomain: string;
  lookupService(namespace: string, name: string): DnsService | undefined;
  /** Pod by dotted IP (reverse lookups, `pods insecure` A records). */
  lookupPodByIp(ip: string): { namespace: string; name: string; hostname: string; subdomain?: string } | undefined;
  /** Namespace exists (NXDOMAIN vs NODATA decisions). */
  hasNamespace(namespace: string): boolean;
  /** Where coredns forwards non-cluster names (the emulated internet resolver). */
  upstream: { ip: number; port: number };
  /** Fixed answers of the upstream resolver: lowercase FQDN without trailing dot -> dotted IPv4. */
  externalHosts: Record<string, string>;
}

/**
 * Servers that live outside the cluster model and that an image hands its
 * accepted connections to (each as a node Duplex over the emulated socket):
 * the hubble-relay image's gRPC API, served by src/grpc. Filled in by whoever
 * serves them (`dplab serve`); an image finds a slot empty until then.
 */
export interface PodApps { hubbleRelay?: (conn: Duplex) => void }

/** Everything a pod's containers run with. */
export interface PodRuntimeContext {
  namespace: string;
  name: string;
  /** spec.hostname or the pod name. */
  hostname: string;
  podIP: number;
  nodeName: string;
  nodeIP: number;
  /** The pod netns (eth0 configured by CNI ADD). */
  netns: Netns;
  labels: Record<string, string>;
  /** Service-link and KUBERNETES_* vars plus container env (container env wins), as `env` prints them. */
  env: Record<string, string>;
  /** /etc/resolv.conf, /etc/hostname, /etc/hosts. */
  files: Record<string, string>;
  containers: ContainerSpec[];
  dns: ClusterDns;
  sim: Sim;
  /**
   * Extra commands the exec shell should offer (e.g. `kubectl` on a node).
   * Keyed by command name; argv excludes the command name.
   */
  commands?: Record<string, (argv: string[], stdin: string) => Promise<ExecResult>>;
  /** The cluster's PodApps, read when a connection arrives (they may be filled in after the pod started). */
  apps?: PodApps;
}

/** A node's host netns, for `nodeExec` (ip, route, ping, curl... on the node). */
export interface NodeExecContext {
  nodeName: string;
  nodeIP: number;
  kernel: KernelNode;
  netns: Netns;
  /** Resolver the node uses (the internet resolver: nodes are not cluster DNS clients). */
  files: Record<string, string>;
  dns: ClusterDns;
  sim: Sim;
  /** Extra commands on the node: kubectl and the datapath's node tools (cilium-dbg...), plugged by the cluster. */
  commands?: Record<string, (argv: string[], stdin: string) => Promise<ExecResult>>;
}

/** Running containers of one pod. */
export interface RunningPod {
  /** Stop listeners and timers (pod deleted). */
  stop(): void;
  /** Container ready (whoami listening...). Defaults to true when absent. */
  ready?(): boolean;
}

/** Implemented by src/cluster/images/index.ts as `startContainers(ctx)`. */
export type StartContainers = (ctx: PodRuntimeContext) => RunningPod;

/** Implemented by src/cluster/exec/index.ts as `execInPod(ctx, argv, stdin?)` and `execOnNode(ctx, argv, stdin?)`. */
export type ExecInPod = (ctx: PodRuntimeContext, argv: string[], stdin?: string) => Promise<ExecResult>;
export type ExecOnNode = (ctx: NodeExecContext, argv: string[], stdin?: string) => Promise<ExecResult>;

/**
 * The emulated internet host: the cluster starts it in its own netns on the
 * underlay (the nodes' default gateway, accepting any destination) with image
 * INTERNET_IMAGE. The images runtime answers HTTP on :80 for any IP (a fixed
 * body; a weather report when Host is wttr.in) and DNS on :53 from
 * `dns.externalHosts` (NXDOMAIN otherwise). ICMP echo is the kernel's.
 */
export const INTERNET_IMAGE = 'dplab/internet';
