// The cluster's Cilium control plane: one NodeAgent per node plus what the
// kvstore/CRDs share on a real cluster (identities, ipcache, service ids).

import { createHash } from 'node:crypto';
import type { KernelNode } from '../kernel/api.ts';
import type { Sim } from '../sim/sim.ts';
import type { CiliumConfig, CiliumControl, CiliumPodNetwork, LbFrontend, NodeInfo, PodInfo } from './api.ts';
import { NodeAgent, type EndpointModel } from './agent.ts';
import { connectPod, disconnectPod } from './cni.ts';
import type { LoaderKernel } from './loader.ts';
import { IdentityAllocator, podSecurityLabels } from './identity.ts';
import { formatMonitorEvent, type MonitorOptions } from './monitor.ts';
import { LbIds, syncAllNodeServices, syncNodeServices } from './services.ts';
import { ipcacheKeyBytes, remoteEndpointInfoBytes } from './codec.ts';
import { startMapEventBuffers } from './rest/map_events.ts';

const HOST_ID = 1, WORLD_ID = 2, HEALTH_ID = 4, REMOTE_NODE_ID = 6, KUBE_APISERVER_ID = 7;

/** A cluster-wide ipcache entry; `node` owns it (its tunnel endpoint), null for node-less ones. */
interface IpcacheEntry { ip: number; prefixLen: number; identity: number; node: string | null; kind: 'pod' | 'health' | 'router' | 'node' | 'world' }

interface PodState { pod: PodInfo; labels: string[]; identity: number; epId: number }

/** What createCiliumControl returns: the contract plus read models for the CLI and Hubble. */
export interface CiliumCluster extends CiliumControl {
  agent(node: string): NodeAgent;
  /** Subscribe to a node's cilium_events as `cilium-dbg monitor` lines; returns unsubscribe. */
  subscribeMonitor(node: string, cb: (line: string) => void, opts?: MonitorOptions): () => void;
  endpoints(node: string): EndpointModel[];
  identities(): Array<{ id: number; labels: string[] }>;
  /** The cluster-wide allocator (its save/restore keep identities across a restart). */
  readonly identityAllocator: IdentityAllocator;
  /** Cluster-wide service and backend ids (save/restore keep them across a restart). */
  readonly lbIds: LbIds;
  allocatedAddresses(node: string): string[];
  /** Nodes with an agent, in the order they were added. */
  nodeNames(): string[];
  /** `metadata.source` of an ipcache entry (`ip list` SOURCE): custom-resource for pods, '' for the agent's own. */
  ipcacheSource(ip: number, prefixLen: number): string;
  /** Labels of an identity as one node's agent sees them (the host identity gains kube-apiserver on the control plane). */
  identityLabels(node: string, id: number): string[] | undefined;
  /** The service frontends last synced (names, types and policies behind the LB maps). */
  frontends(): LbFrontend[];
  /** The pod behind an ipcache entry (`ip list` metadata), if a pod owns it. */
  ipcachePod(ip: number, prefixLen: number): { namespace: string; name: string } | undefined;
}

export function createCiliumControl(cfg: CiliumConfig, sim: Sim): CiliumCluster {
  const rng = sim.rng.fork();
  const identities = new IdentityAllocator(rng.fork());
  const agents = new Map<string, NodeAgent>();
  const ipcache = new Map<string, IpcacheEntry>();
  const pods = new Map<string, PodState>();
  const lbIds = new LbIds();
  let frontends: LbFrontend[] = [];
  const podByIp = new Map<number, { namespace: string; name: string }>();

  const podValLocal = new Uint8Array(remoteEndpointInfoBytes(0, 0, 0, 0).length), podValRemote = new Uint8Array(podValLocal.length);
  const agentOf = (name: string): NodeAgent => {
    const a = agents.get(name);
    if (!a) throw new Error(`cilium: unknown node ${name}`);
    return a;
  };

  /** The ipcache value one node holds for an entry. */
  function writeEntry(a: NodeAgent, e: IpcacheEntry): void {
    const local = e.node === a.node.name;
    let identity = e.identity;
    if (e.kind === 'node' || e.kind === 'router') {
      const owner = e.node ? agents.get(e.node) : undefined;
      identity = local ? HOST_ID : owner?.node.controlPlane && e.kind === 'node' ? KUBE_APISERVER_ID : REMOTE_NODE_ID;
    }
    const tunnel = !local && e.node && e.kind !== 'node' ? agentOf(e.node).node.ip : 0;
    a.upsertIpcache(e.ip, e.prefixLen, identity, tunnel);
  }
  function upsert(e: IpcacheEntry): void {
    ipcache.set(`${e.ip}/${e.prefixLen}`, e);
    if ((e.kind === 'pod' || e.kind === 'health') && e.node !== null && agents.has(e.node)) { writePodEntry(e, agents.get(e.node)!); return; }
    for (const a of agents.values()) writeEntry(a, e);
  }
  /**
   * writeEntry for every agent when only the tunnel endpoint differs per node
   * (0 on the owner): key and both values encoded once, not once per node.
   */
  function writePodEntry(e: IpcacheEntry, owner: NodeAgent): void {
    podValLocal.set(remoteEndpointInfoBytes(e.identity, 0, 0, 0));
    podValRemote.set(remoteEndpointInfoBytes(e.identity, owner.node.ip, 0, 0));
    const key = ipcacheKeyBytes(e.ip, e.prefixLen);
    for (const a of agents.values()) a.maps.ipcache.update(key, a === owner ? podValLocal : podValRemote);
  }
  function remove(ip: number, prefixLen: number): void {
    ipcache.delete(`${ip}/${prefixLen}`);
    // Key encoded once for every node (delete reads it, never keeps it).
    const key = ipcacheKeyBytes(ip, prefixLen);
    for (const a of agents.values()) a.maps.ipcache.delete(key);
  }

  const ctl: CiliumCluster = {
    addNode(kernel: KernelNode, node: NodeInfo): void {
      const agent = new NodeAgent(kernel as LoaderKernel, node, cfg, rng.fork(), { routerIp: node.routerIP, healthIp: node.healthIP });
      startMapEventBuffers(agent, agent.maps.list(), () => sim.wallMs());
      agent.start();
      for (const other of agents.values()) { other.addRemoteNode(node); agent.addRemoteNode(other.node); }
      agents.set(node.name, agent);
      const nodeLabels = Object.keys(node.labels).filter((k) => k.startsWith('node-role.kubernetes.io/') || k === 'node.kubernetes.io/exclude-from-external-load-balancers').map((k) => `k8s:${k}`).sort();
      agent.endpoints.set(agent.hostEpId, { id: agent.hostEpId, identity: HOST_ID, labels: [...nodeLabels, 'reserved:host'], ipv4: 0,
        ifindex: 0, ifname: '', mac: '', nodeMac: '', state: 'ready' });
      agent.createHealthEndpoint(HEALTH_ID);
      for (const e of ipcache.values()) writeEntry(agent, e);
      upsert({ ip: 0, prefixLen: 0, identity: WORLD_ID, node: null, kind: 'world' });
      upsert({ ip: node.ip, prefixLen: 32, identity: HOST_ID, node: node.name, kind: 'node' });
      upsert({ ip: agent.routerIp, prefixLen: 32, identity: HOST_ID, node: node.name, kind: 'router' });
      upsert({ ip: agent.healthIp, prefixLen: 32, identity: HEALTH_ID, node: node.name, kind: 'health' });
      syncNodeServices(agent, frontends, lbIds);
    },

    addPod(pod: PodInfo): CiliumPodNetwork {
      const agent = agentOf(pod.nodeName);
      const labels = podSecurityLabels(pod, cfg.clusterName);
      const identity = identities.acquire(labels);
      const h = createHash('sha256').update(pod.uid || `${pod.namespace}/${pod.name}`).digest('hex');
      const netnsName = `cni-${h.slice(12, 20)}-${h.slice(20, 24)}-${h.slice(24, 28)}-${h.slice(28, 32)}-${h.slice(32, 44)}`;
      const owner = `${pod.namespace}/${pod.name}${pod.restored ? ' [restored]' : ''}`;
      const epId = agent.allocEpId();
      // cilium-cni plumbs the pod, then asks the agent for the endpoint.
      const link = connectPod(agent.kernel, agent.rng, { netnsName, hostIfName: `lxc${h.slice(0, 12)}`, ip: pod.ip, routerIp: agent.routerIp, mtu: agent.podMtu() });
      const ep = agent.createEndpoint(link, pod.ip, identity, labels, owner, epId);
      ep.podName = pod.name; ep.namespace = pod.namespace;
      pods.set(`${pod.namespace}/${pod.name}`, { pod, labels, identity, epId: ep.id });
      upsert({ ip: pod.ip, prefixLen: 32, identity, node: pod.nodeName, kind: 'pod' });
      podByIp.set(pod.ip, { namespace: pod.namespace, name: pod.name });
      return { netns: ep.netns!, endpointId: ep.id, identity, hostIfName: ep.ifname };
    },

    deletePod(namespace: string, name: string): void {
      const st = pods.get(`${namespace}/${name}`);
      if (!st) return;
      const agent = agentOf(st.pod.nodeName), netns = agent.endpoints.get(st.epId)?.netns;
      agent.deleteEndpoint(st.epId);
      if (netns) disconnectPod(agent.kernel, netns);
      identities.release(st.labels);
      remove(st.pod.ip, 32);
      podByIp.delete(st.pod.ip);
      pods.delete(`${namespace}/${name}`);
    },

    syncServices(fes: LbFrontend[]): void {
      frontends = fes;
      syncAllNodeServices(agents.values(), fes, lbIds);
    },

    agent: agentOf,
    subscribeMonitor(node, cb, opts = {}) {
      const a = agentOf(node);
      return a.maps.events.subscribe((data) => { const s = formatMonitorEvent(data, a, opts); if (s !== null) cb(s); });
    },
    endpoints(node) { return [...agentOf(node).endpoints.values()].sort((x, y) => x.id - y.id); },
    identities() { return identities.list(); },
    identityAllocator: identities,
    lbIds,
    allocatedAddresses(node) { return agentOf(node).allocatedAddresses(); },
    nodeNames() { return [...agents.keys()]; },
    ipcacheSource(ip, prefixLen) { return ipcache.get(`${ip}/${prefixLen}`)?.kind === 'pod' ? 'custom-resource' : ''; },
    identityLabels(node, id) {
      if (id === HOST_ID && agentOf(node).node.controlPlane) return ['reserved:host', 'reserved:kube-apiserver'];
      return identities.labelsOf(id);
    },
    frontends() { return frontends; },
    ipcachePod(ip, prefixLen) { return prefixLen === 32 ? podByIp.get(ip) : undefined; },
  };
  return ctl;
}
