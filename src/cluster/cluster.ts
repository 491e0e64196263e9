// The Cluster: one Sim, an underlay with the emulated internet, one kernel
// per node, the chosen CNI and service proxy (src/datapath contracts), and the
// Kubernetes API whose committed changes drive CNI ADD/DEL, containers and
// service sync.

import { parseAllDocuments } from 'yaml';
import type { Cni, EventStream, FollowHandle, NodeApi, NodeInfo, NodeTool, PodNetwork, ServiceProxy } from '../datapath/contract.ts';
import { DatapathError } from '../datapath/registry.ts';
import type { KernelNode, TcpConnection } from '../kernel/api.ts';
import { createNode, type LinuxNode } from '../kernel/node.ts';
import { Sim } from '../sim/sim.ts';
import { Underlay } from '../kernel/underlay.ts';
import { inPrefix, u32ToIp } from '../wire/addr.ts';
import { defaultDeps, type ClusterDeps } from './deps.ts';
import { hubbleFor } from './datapaths.ts';
import type { HubbleCluster, HubbleOptions } from '../hubble/hubble.ts';
import type { HubbleService } from '../hubble/service.ts';
import { ClusterError, type CapturedFrame, type ClusterFacade, type ExecResult, type MonitorLine } from './facade.ts';
import { KubeApi } from './kube/api.ts';
import { serviceIp, type CorednsPin } from './kube/bootstrap.ts';
import { manifestsFromDocuments, runSteps, type Steps } from './kube/request.ts';
import { listObjs, newState, type KubeState } from './kube/state.ts';
import type { Any, KObject } from './kube/types.ts';
import { runKubectl } from './kubectl/index.ts';
import { podConnect, portForwardPlan, type PortForwardPlan } from './kubectl/port_forward.ts';
import { runKubectlStream, type StreamWrite } from './kubectl/exec_stream.ts';
import { datapathMemory, restoreDatapath, storeOwner } from './store/persist.ts';
import { StoreError, type KubeStore } from './store/store.ts';
import { LABS } from './labs/index.ts';
import { buildDns, EXTERNAL_HOSTS } from './dns.ts';
import { agentHubbleTool } from './exec/hubble.ts';
import type { RemoteEnv } from './exec/hubble_remote.ts';
import { lazyPodEnv, podFiles } from './podenv.ts';
import { servicePorts } from './service_ports.ts';
import { INTERNET_IMAGE, type ClusterDns, type NodeExecContext, type PodApps, type PodRuntimeContext, type RunningPod } from './runtime_contract.ts';
import { dockerUplink, isClusterDoc, resolveClusterDoc, type ClusterSpec } from './spec.ts';
import { startDockerDns } from './images/docker_dns.ts';
import { NODE_APPARMOR, appArmorConfined } from './apparmor.ts';

export interface ClusterOptions {
  seed?: number;
  deps?: Partial<ClusterDeps>;
  /** Wall-clock ms of virtual time 0. A server passes Date.now() so ages and timestamps read as now; tests keep the fixed default. */
  epochMs?: number;
  /** Keep the objects here and start from what it holds (none: in memory only). The caller closes it. */
  store?: KubeStore;
  /** Hubble's settings (ring capacity); false: no Hubble. Only a Cilium CNI has one. */
  hubble?: HubbleOptions | false;
}

interface LivePod { uid: string; net?: PodNetwork; ctx?: PodRuntimeContext; running?: RunningPod }

export class Cluster implements ClusterFacade {
  readonly name: string;
  readonly sim: Sim;
  readonly underlay = new Underlay();
  readonly api: KubeApi;
  /** Pod plumbing (CNI ADD/DEL, node routes). */
  readonly cni: Cni;
  /** Services and EndpointSlices -> datapath state. */
  readonly serviceProxy: ServiceProxy;
  readonly dns: ClusterDns;
  /** The emulated internet: default gateway and upstream resolver of the nodes. */
  readonly internet: LinuxNode;
  private readonly kernels = new Map<string, LinuxNode>();
  private readonly live = new Map<string, LivePod>();
  private readonly deps: ClusterDeps;
  private internetApp?: RunningPod;
  /** Docker's embedded DNS in each kind node (spec.provider: docker). */
  private readonly dockerDns: Array<{ close(): void }> = [];
  /** Hubble's observers and relay (Cilium only), reading cilium_events from the first packet on. */
  private readonly hubbleCluster: HubbleCluster | undefined;
  /**
   * agentIps per node, for one synchronous run (a request: IPAM asks once per
   * pod placed); cleared on the next microtask, and by sync() (the datapath
   * changes there), so a node exec between requests is seen.
   */
  private readonly agentIpCache = new Map<string, Set<number>>();
  /**
   * True while the constructor starts the pods bootstrap made (coredns). They
   * were there before the datapath agent's restart that the lab replays, so
   * CNI ADD gets them as restored (Cilium marks their IPs `[restored]`).
   */
  private bootstrapping = true;
  /** Servers outside the model that images hand connections to (the hubble-relay image's gRPC API); `dplab serve` fills them in. */
  readonly podApps: PodApps = {};
  /** The sliced commit's datapath sync under way, if any (syncSliced). */
  private pendingSync: Steps<void> | undefined;

  /** Parse a Cluster document (dplab or kind) plus manifests, and build the cluster. */
  static fromYaml(text: string, opts: ClusterOptions = {}): Cluster {
    let docs: Any[];
    let parsed: ReturnType<typeof parseAllDocuments>;
    try {
      parsed = parseAllDocuments(text);
      docs = parsed.map((d, i) => {
        if (d.errors.length) throw new ClusterError(`error parsing cluster YAML: document ${i + 1}: ${d.errors[0]!.message.split('\n')[0]}`, 400, 'yaml');
        return d.toJS();
      }).filter((d) => d !== null && d !== undefined);
    } catch (e) { if (e instanceof ClusterError) throw e; throw new ClusterError(`error parsing cluster YAML: ${(e as Error).message}`, 400, 'yaml'); }
    const clusterDoc = docs.find((d) => d && typeof d === 'object' && isClusterDoc(d));
    const spec = resolveClusterDoc(clusterDoc, opts.deps?.datapaths);
    const manifests = manifestsFromDocuments(parsed).filter((d) => !(d && isClusterDoc(d as Any)));
    const pin = clusterDoc?.spec?.coredns as CorednsPin | undefined;
    return new Cluster(spec, { ...opts, manifests, coredns: pin });
  }

  /** An embedded lab by name (`cilium` is the seed lab). */
  static lab(name = 'cilium', opts: ClusterOptions = {}): Cluster {
    const text = LABS[name];
    if (text === undefined) throw new ClusterError(`unknown lab "${name}" (known: ${Object.keys(LABS).join(', ')})`, 404, 'lab');
    return Cluster.fromYaml(text, opts);
  }

  constructor(readonly spec: ClusterSpec, opts: ClusterOptions & { manifests?: KObject[]; coredns?: CorednsPin } = {}) {
    const seed = opts.seed ?? 1;
    const saved = opts.store?.load(storeOwner(spec, opts.manifests ?? [], opts.coredns, seed));
    this.name = spec.name;
    this.sim = new Sim(seed, opts.epochMs);
    this.deps = { ...defaultDeps, ...(opts.deps ?? {}) };
    const prefixLen = spec.underlay.prefixLen;
    for (const n of spec.nodes) {
      this.kernels.set(n.name, createNode(n.name, this.sim, { underlay: this.underlay, netdevName: spec.netdev, nodeIp: n.ip, prefixLen, gateway: spec.gateway, mtu: spec.mtu, dockerVeth: dockerUplink(spec, n), appArmor: NODE_APPARMOR }));
    }
    this.internet = createNode('internet', this.sim, { underlay: this.underlay, netdevName: 'eth0', nodeIp: spec.gateway, prefixLen, mtu: spec.mtu });
    this.internet.hostNs.acceptAnyDestination = true;
    // Outside hosts sit ~16 routers away, as 8.8.8.8 did in the seed (ttl=47 at the pod).
    this.internet.hostNs.defaultTtl = 48;
    if (spec.provider === 'docker') for (const n of spec.nodes) this.dockerDns.push(startDockerDns(this.kernels.get(n.name)!, spec.gateway, this.internet.hostNs, this.sim));
    ({ cni: this.cni, serviceProxy: this.serviceProxy } = this.buildDatapath());
    for (const n of spec.nodes) this.cni.addNode(this.kernels.get(n.name)!, nodeInfo(n));
    for (const n of spec.nodes) this.serviceProxy.addNode(this.kernels.get(n.name)!, nodeInfo(n));
    this.hubbleCluster = opts.hubble === false ? undefined : hubbleFor(this.cni, this.sim, opts.hubble ?? {});
    this.api = new KubeApi(spec, this.sim, { seed: this.sim.rng.u32(), reservedIPs: (node) => this.agentIps(node), coredns: opts.coredns, restore: saved?.state,
      systemObjects: [...(this.cni.systemObjects?.() ?? []), ...(this.serviceProxy.systemObjects?.() ?? [])] as KObject[] });
    this.dns = buildDns(this.api, spec);
    if (this.deps.startContainers) {
      this.internetApp = this.deps.startContainers({
        namespace: '', name: 'internet', hostname: 'internet', podIP: spec.gateway, nodeName: 'internet', nodeIP: spec.gateway, netns: this.internet.hostNs,
        // The cluster's own ranges: nothing on the internet owns them, so it never answers for them.
        labels: {}, env: { DPLAB_CLUSTER_CIDRS: [spec.podCIDR, spec.serviceCIDR, spec.loadBalancerIPs].map((c) => `${u32ToIp(c.ip)}/${c.prefixLen}`).join(',') }, files: { '/etc/hostname': 'internet\n' }, containers: [{ name: 'internet', image: INTERNET_IMAGE, ports: [], env: {} }], dns: this.dns, sim: this.sim,
      });
    }
    if (saved) restoreDatapath(this.cni, this.serviceProxy, saved.datapath, opts.store!.path);
    this.api.watch((before, after) => this.sync(before, after), (before, after) => this.syncSliced(before, after));
    this.sync(newState(0), this.api.snapshot());
    this.bootstrapping = false;
    // The manifests are the store's first content; once saved, the store holds what is left of them.
    if (!saved && opts.manifests?.length) this.api.applyObjects(opts.manifests, 'create');
    if (opts.store) this.keepIn(opts.store, !saved);
  }

  /** Saves the first state of a new store, then every commit before its request returns. */
  private keepIn(store: KubeStore, fresh: boolean): void {
    const save = (s: KubeState): void => store.save(s, datapathMemory(this.cni, this.serviceProxy));
    if (fresh) save(this.api.snapshot());
    this.api.persistWith((s) => {
      try { save(s); } catch (e) { throw e instanceof StoreError ? new ClusterError(`storage: ${e.message}`, 503, 'store') : e; }
    });
  }

  /** The spec's CNI and service proxy from the registry; a choice it cannot build is a 400 on the spec field. */
  private buildDatapath(): { cni: Cni; serviceProxy: ServiceProxy } {
    const s = this.spec;
    try {
      return this.deps.datapaths.build({ sim: this.sim, config: {
        cni: s.cni, serviceProxy: s.serviceProxy, routing: s.routing, netdev: s.netdev, mtu: s.mtu, socketLB: s.socketLB, podCIDR: s.podCIDR, serviceCIDR: s.serviceCIDR,
        cniConfig: s.cniConfig, serviceProxyConfig: s.serviceProxyConfig,
      } });
    } catch (e) {
      if (e instanceof DatapathError) throw new ClusterError(`spec.${e.problem.field}: ${e.message}`, 400, `spec.${e.problem.field}`);
      throw e;
    }
  }

  nodeNames(): string[] { return this.spec.nodes.map((n) => n.name); }

  kernel(node: string): KernelNode { return this.kernelOf(node); }

  private kernelOf(node: string): LinuxNode {
    const k = this.kernels.get(node) ?? (node === 'internet' ? this.internet : undefined);
    if (!k) throw new ClusterError(`node "${node}" not found`, 404, 'node');
    return k;
  }

  /** Pod-CIDR addresses configured on the node by the agent (cilium_host router IP, health endpoint). */
  private agentIps(node: string): Set<number> {
    let out = this.agentIpCache.get(node);
    if (!out) {
      if (this.agentIpCache.size === 0) queueMicrotask(() => this.agentIpCache.clear());
      out = this.scanAgentIps(node);
      this.agentIpCache.set(node, out);
    }
    return new Set(out);
  }

  private scanAgentIps(node: string): Set<number> {
    const out = new Set<number>(this.cni.reservedPodIps?.(node));
    const k = this.kernels.get(node);
    const n = this.spec.nodes.find((x) => x.name === node);
    if (!k || !n) return out;
    const podNs = new Set([...this.live.values()].map((l) => l.net?.netns));
    for (const ns of [k.hostNs, ...k.netnses.values()]) {
      if (podNs.has(ns)) continue;
      for (const d of ns.devices.values()) for (const a of d.addrs) if (inPrefix(a.ip, n.podCIDR.ip, n.podCIDR.prefixLen)) out.add(a.ip);
    }
    return out;
  }

  apply(yaml: string): string[] { return this.api.apply(yaml, 'apply'); }
  delete(yaml: string): string[] { return this.api.delete(yaml); }
  applySliced(yaml: string): Promise<string[]> { return this.api.applySliced(yaml); }
  deleteSliced(yaml: string): Promise<string[]> { return this.api.deleteSliced(yaml); }

  kubectl(argv: string[], stdin = ''): Promise<ExecResult> { return this.sim.settle(runKubectl(this, argv, stdin)); }

  /** Where the agent pod's `hubble --server HOST:PORT` dials from: the node's network, names through cluster DNS (ClusterFirstWithHostNet). */
  hubbleRemoteEnv(node: string): RemoteEnv | undefined {
    const clusterDns = this.api.get('Service', 'kube-system', 'kube-dns')?.spec.clusterIP;
    return clusterDns ? { netns: this.kernelOf(node).hostNs, sim: this.sim, clusterDns } : undefined;
  }

  /** kubectl with its output streamed (an agent pod's `hubble observe -f` until signal aborts); the exit code. */
  kubectlStream(argv: string[], write: StreamWrite, signal: AbortSignal): Promise<number> { return runKubectlStream(this, argv, write, signal); }

  /** The pod's runtime context (for exec); ClusterError 404 if it does not exist. */
  podContext(namespace: string, pod: string): PodRuntimeContext {
    const obj = this.api.get('Pod', namespace, pod);
    if (!obj) throw new ClusterError(`Error from server (NotFound): pods "${pod}" not found`, 404, 'pod');
    const ctx = this.live.get(`${namespace}/${pod}`)?.ctx;
    if (!ctx) throw new ClusterError(`error: unable to upgrade connection: pod ${namespace}/${pod} has no running containers (no datapath plugged in)`, 500, 'pod');
    return ctx;
  }

  async exec(namespace: string, pod: string, argv: string[], stdin = ''): Promise<ExecResult> {
    // A host-network pod (Cilium's agent) shares the node's network and UTS namespaces: it runs on its node, as kubectl exec does.
    const obj = this.api.get('Pod', namespace || 'default', pod);
    if (obj?.spec.hostNetwork && obj.spec.nodeName && obj.status?.podIP) return this.nodeExec(obj.spec.nodeName, argv, stdin);
    const ctx = this.podContext(namespace || 'default', pod);
    if (!this.deps.execInPod) throw new ClusterError('exec is not available (no exec runtime)', 501, 'exec');
    return this.sim.settle(this.deps.execInPod(ctx, argv, stdin));
  }

  nodeContext(node: string): NodeExecContext {
    const k = this.kernelOf(node);
    const n = this.spec.nodes.find((x) => x.name === node);
    const ctx: NodeExecContext = {
      nodeName: node, nodeIP: n?.ip ?? this.spec.gateway, kernel: k, netns: k.hostNs, dns: this.dns, sim: this.sim,
      files: { '/etc/resolv.conf': `nameserver ${u32ToIp(this.spec.gateway)}\n${this.spec.dnsSearch.length ? `search ${this.spec.dnsSearch.join(' ')}\n` : ''}`, '/etc/hostname': `${node}\n`, '/etc/hosts': `127.0.0.1\tlocalhost\n${u32ToIp(n?.ip ?? this.spec.gateway)}\t${node}\n` },
    };
    ctx.commands = { kubectl: (argv, stdin) => this.kubectl(argv, stdin), ...this.nodeTools(node) };
    // The agent pod's `hubble`, on its node's own observer (host-network: same place as cilium-dbg).
    if (this.hubbleCluster) ctx.commands.hubble = agentHubbleTool(() => this.hubbleNode(node), () => this.sim.wallMs(), () => this.hubbleRemoteEnv(node));
    return ctx;
  }

  async nodeExec(node: string, argv: string[], stdin = ''): Promise<ExecResult> {
    const ctx = this.nodeContext(node);
    if (!this.deps.execOnNode) throw new ClusterError('node exec is not available (no exec runtime)', 501, 'exec');
    return this.sim.settle(this.deps.execOnNode(ctx, argv, stdin));
  }

  capture(node: string, ifname: string, cb: (f: CapturedFrame) => void): () => void {
    const k = this.kernelOf(node);
    const dev = k.hostNs.device(ifname) ?? [...k.netnses.values()].map((ns) => ns.device(ifname)).find((d) => d);
    if (!dev) throw new ClusterError(`${ifname}: No such device exists on node ${node}`, 404, 'ifname');
    return k.capture(dev, (frame, dir, tsNs) => cb({ frame, dir, tsNs, wallMs: this.sim.epochMs + tsNs / 1e6 }));
  }

  /** Commands the datapath installs on a node (cilium-dbg...), the service proxy's last. */
  private nodeTools(node: string): Record<string, NodeTool> {
    return { ...this.cni.nodeTools(node), ...this.serviceProxy.nodeTools(node) };
  }

  /** A datapath's node tool by command name (iptables-save, conntrack...), run without the shell; undefined when the node has none. ClusterError 404 for an unknown node. */
  nodeTool(node: string, name: string): NodeTool | undefined {
    this.kernelOf(node);
    const tools = this.nodeTools(node);
    return Object.hasOwn(tools, name) ? tools[name] : undefined;
  }

  /** Starts a node command that follows (`conntrack -E`): its handle, its usage error, or undefined when argv does not follow. ClusterError 404 for an unknown node. */
  follow(node: string, argv: string[], out: (line: string) => void): FollowHandle | ExecResult | undefined {
    this.kernelOf(node);
    const tools = { ...this.cni.followTools?.(node), ...this.serviceProxy.followTools?.(node) };
    const name = argv[0];
    return name !== undefined && Object.hasOwn(tools, name) ? tools[name]!(argv.slice(1), out) : undefined;
  }

  /** Names of the event streams a node offers (`monitor` with Cilium). */
  eventStreams(node: string): string[] {
    this.kernelOf(node);
    return Object.keys({ ...this.cni.eventStreams(node), ...this.serviceProxy.eventStreams(node) });
  }

  /** Follow a node's event stream by name, each line stamped with the cluster's clock; 501 if the datapath has none. */
  events(node: string, stream: string, cb: (l: MonitorLine) => void): () => void {
    this.kernelOf(node);
    const open: EventStream | undefined = this.cni.eventStreams(node)[stream] ?? this.serviceProxy.eventStreams(node)[stream];
    if (!open) throw new ClusterError(`${stream} is not available on node ${node} (cni ${this.cni.name}, service proxy ${this.serviceProxy.name})`, 501, stream);
    return open((text) => cb({ node, text, wallMs: this.sim.wallMs() }));
  }

  monitor(node: string, cb: (l: MonitorLine) => void): () => void { return this.events(node, 'monitor', cb); }

  /** kubectl port-forward's API side: the pod and ports TYPE/NAME and [LOCAL:]REMOTE give; ClusterError with kubectl's text. */
  portForwardPlan(namespace: string, resource: string, ports: string[]): PortForwardPlan { return portForwardPlan(this.api, namespace, resource, ports); }

  /** kubelet's port-forward: a TCP connection to localhost:port in the pod's netns (the node's for a host-network pod). */
  podConnect(namespace: string, pod: string, port: number): Promise<TcpConnection> {
    const obj = this.api.get('Pod', namespace, pod);
    const netns = obj?.spec.hostNetwork && obj.spec.nodeName ? this.kernelOf(obj.spec.nodeName).hostNs : this.podContext(namespace, pod).netns;
    return podConnect(netns, pod, port);
  }

  /** Hubble Relay over every node's observer; undefined unless the CNI is Cilium. */
  hubble(): HubbleService | undefined { return this.hubbleCluster?.relay; }

  /** A node's own Hubble observer (the agent pod's `hubble`); undefined without Hubble. ClusterError 404 for an unknown node. */
  hubbleNode(node: string): HubbleService | undefined {
    this.kernelOf(node);
    return this.hubbleCluster?.node(node);
  }

  /** Hubble's observers and relay themselves (metrics), undefined without Hubble. */
  hubbleState(): HubbleCluster | undefined { return this.hubbleCluster; }

  /** Prometheus text of the cluster, or of one node (as its agent serves it); undefined without Hubble. ClusterError 404 for an unknown node. */
  async metrics(node?: string): Promise<{ contentType: string; text: string } | undefined> {
    if (node !== undefined) this.kernelOf(node);
    return this.hubbleCluster?.metrics(node);
  }

  /** The datapath's own API on a node (Cilium's agent REST), undefined when it has none. */
  nodeApi(node: string): NodeApi | undefined {
    this.kernelOf(node);
    return this.cni.nodeApi?.(node) ?? this.serviceProxy.nodeApi?.(node);
  }

  /** Security identity of a pod's endpoint (kubectl get cep), for CNIs that have endpoints. */
  identityOf(namespace: string, pod: string): number | undefined {
    return this.live.get(`${namespace}/${pod}`)?.net?.identity;
  }

  /** Apply committed changes to the datapath in one turn: CNI DEL/ADD, containers, services. */
  private sync(before: KubeState, after: KubeState): void {
    runSteps(this.syncSliced(before, after));
  }

  /**
   * sync as steps, one pod a step (a sliced write's commit runs them in
   * slices, so /healthz and reads are answered meanwhile; writes stay queued
   * behind it). A commit in one turn (kubectl in an exec) during the yields
   * first finishes the sync under way, so two syncs never interleave and the
   * datapath always catches up in commit order.
   */
  syncSliced(before: KubeState, after: KubeState): Steps<void> {
    if (this.pendingSync) runSteps(this.pendingSync);
    const g = this.syncSteps(before, after);
    this.pendingSync = g;
    return g;
  }

  /** True while a sliced commit's datapath sync is under way (tests wait for that phase). */
  get datapathSyncing(): boolean { return this.pendingSync !== undefined; }

  private *syncSteps(before: KubeState, after: KubeState): Steps<void> {
    try {
      this.agentIpCache.clear();
      const pods = new Map(listObjs(after, 'Pod').map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
      for (const [key, l] of [...this.live]) {
        const p = pods.get(key);
        if (p && p.metadata.uid === l.uid) continue;
        l.running?.stop();
        if (l.net) this.cni.deletePod(key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1));
        this.live.delete(key);
        yield;
      }
      // A Pending pod (no node or address yet) has no sandbox to start.
      const namespaces = new Map(listObjs(after, 'Namespace').map((n) => [n.metadata.name, n]));
      for (const [key, p] of pods) {
        if (this.live.has(key) || !p.status?.podIP) continue;
        this.startPod(after, key, p, namespaces);
        yield;
      }
      this.agentIpCache.clear();
      if (servicesChanged(before, after)) {
        const ports = servicePorts(after);
        this.serviceProxy.syncServices(ports);
        this.cni.syncServices?.(ports);
      }
    } finally {
      this.pendingSync = undefined;
    }
  }

  private startPod(s: KubeState, key: string, p: KObject, namespaces: Map<string, KObject>): void {
    const l: LivePod = { uid: p.metadata.uid! };
    this.live.set(key, l);
    if (p.spec.hostNetwork) return;
    const ns = namespaces.get(p.metadata.namespace!);
    const ip = ipNum(p.status.podIP);
    l.net = this.cni.addPod({
      namespace: p.metadata.namespace!, name: p.metadata.name, uid: p.metadata.uid!, nodeName: p.spec.nodeName, ip,
      labels: { ...(p.metadata.labels ?? {}) }, namespaceLabels: { ...(ns?.metadata.labels ?? {}) }, serviceAccount: p.spec.serviceAccountName ?? 'default',
      ...(this.bootstrapping ? { restored: true } : {}),
    });
    const node = this.spec.nodes.find((n) => n.name === p.spec.nodeName)!;
    const containers = p.spec.containers.map((c: Any) => ({
      name: c.name, image: c.image, command: c.command, args: c.args, ports: (c.ports ?? []).map((x: Any) => ({ ...x })),
      env: Object.fromEntries((c.env ?? []).map((e: Any) => [e.name, e.value])), confined: appArmorConfined(p, c),
    }));
    l.ctx = {
      namespace: p.metadata.namespace!, name: p.metadata.name, hostname: p.spec.hostname ?? p.metadata.name, podIP: ip, nodeName: node.name, nodeIP: node.ip,
      netns: l.net.netns, labels: { ...(p.metadata.labels ?? {}) }, env: lazyPodEnv(s, p, p.spec.containers[0]?.env ?? []),
      files: podFiles(p, serviceIp(this.spec, 10), undefined, this.spec.dnsSearch), containers, dns: this.dns, sim: this.sim, apps: this.podApps,
    };
    l.running = this.deps.startContainers?.(l.ctx);
  }

  /** Stop every app (tests). */
  close(): void {
    for (const l of this.live.values()) l.running?.stop();
    this.internetApp?.stop();
    for (const d of this.dockerDns) d.close();
    this.hubbleCluster?.close();
  }
}

function nodeInfo(n: ClusterSpec['nodes'][number]): NodeInfo {
  return { name: n.name, ip: n.ip, podCIDR: n.podCIDR, controlPlane: n.controlPlane, labels: n.labels, routerIP: n.routerIP, healthIP: n.healthIP };
}

/**
 * Whether Services or EndpointSlices differ (what the service proxy reads).
 * A key added or gone, or a new resourceVersion, answers at once (putObj
 * bumps it only on a change; a needless sync would rewrite the same
 * entries); only tables that look alike are compared in full, as JSON (a
 * big apply's 10,000-endpoint slices are 2 MB of it, twice).
 */
function servicesChanged(before: KubeState, after: KubeState): boolean {
  for (const kind of ['Service', 'EndpointSlice']) {
    const b = before.objects[kind] ?? {}, a = after.objects[kind] ?? {};
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return true;
    for (const k of keys) if (b[k]?.metadata.resourceVersion !== a[k]!.metadata.resourceVersion) return true;
  }
  return JSON.stringify([before.objects.Service, before.objects.EndpointSlice]) !== JSON.stringify([after.objects.Service, after.objects.EndpointSlice]);
}

function ipNum(ip: string): number { return ip.split('.').reduce((v, o) => v * 256 + Number(o), 0) >>> 0; }

export { EXTERNAL_HOSTS };
