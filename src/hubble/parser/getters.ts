// What Hubble's parsers ask the agent (pkg/hubble/parser/getters): the local
// endpoint behind an IP, the ipcache identity and pod of a remote IP, an
// identity's labels, the Service behind an address, an interface's name, the
// pod behind a cgroup. Answers are cached in bounded LRU caches, emptied
// whenever an agent's lxc or ipcache map changes, so a deleted pod never
// outlives its entry.

import { LRUCache } from 'lru-cache';
import type { NodeAgent, EndpointModel } from '../../cilium/agent.ts';
import type { LbFrontend } from '../../cilium/api.ts';
import { ipcacheLookupKey, IPCACHE_VAL_OFF_SEC_IDENTITY } from '../../../maps/cilium_ipcache.ts';
import type { EndpointObject, NetworkInterfaceObject, ServiceObject } from '../proto.ts';

/** The agent state Hubble reads; the Cilium control plane (CiliumCluster) has this shape. */
export interface CiliumStateSource {
  nodeNames(): string[];
  agent(node: string): NodeAgent;
  /** An identity's labels as the node's agent knows them (reserved ones included). */
  identityLabels(node: string, id: number): string[] | undefined;
  /** Service frontends last synced (for source_service / destination_service). */
  frontends?(): readonly LbFrontend[];
  /** The pod owning an ipcache entry (the ipcache's Kubernetes metadata). */
  ipcachePod?(ip: number, prefixLen: number): { namespace: string; name: string } | undefined;
}

/** Bounds of the caches (entries per node). */
export const ENDPOINT_CACHE_MAX = 4096, LINK_CACHE_MAX = 1024;

/** Resolved endpoints are shared by the flows that name them: read-only. */
const WORLD_NONE: EndpointObject = Object.freeze({});

/**
 * Cluster-wide part: a generation bumped on any lxc/ipcache change of any
 * agent, the pod metadata of every IP, and the service frontends by address.
 */
export class ClusterState {
  generation = 0;
  private podsGen = -1;
  private pods = new Map<number, { namespace: string; name: string }>();
  private feList: readonly LbFrontend[] | undefined;
  /** Frontends by ip * 65536 + port. */
  private services = new Map<number, ServiceObject>();
  private readonly unwatch: Array<() => void> = [];

  constructor(readonly src: CiliumStateSource) {
    const bump = () => { this.generation++; };
    for (const n of src.nodeNames()) {
      const m = src.agent(n).maps;
      this.unwatch.push(m.lxc.watch(bump), m.ipcache.watch(bump));
    }
  }

  /** Stop following the agents' maps. */
  close(): void { for (const u of this.unwatch.splice(0)) u(); }

  /** GetK8sMetadata(ip): namespace and pod name of the pod owning ip, if any. */
  podOf(ip: number): { namespace: string; name: string } | undefined {
    if (this.src.ipcachePod) return this.src.ipcachePod(ip, 32);
    if (this.podsGen !== this.generation) {
      this.pods = new Map();
      for (const n of this.src.nodeNames()) {
        for (const ep of this.src.agent(n).endpoints.values()) {
          if (ep.podName && ep.namespace) this.pods.set(ep.ipv4, { namespace: ep.namespace, name: ep.podName });
        }
      }
      this.podsGen = this.generation;
    }
    return this.pods.get(ip);
  }

  /** GetServiceByAddr(ip, port): the Service whose frontend is ip:port (node ports aside). */
  serviceAt(ip: number, port: number): ServiceObject | undefined {
    const fes = this.src.frontends?.();
    if (!fes) return undefined;
    if (fes !== this.feList) {
      this.services = new Map();
      for (const f of fes) {
        if (f.type === 'NodePort') continue;
        this.services.set(f.ip * 65536 + f.port, Object.freeze({ name: f.name, namespace: f.namespace }));
      }
      this.feList = fes;
    }
    return this.services.size === 0 || ip < 0 ? undefined : this.services.get(ip * 65536 + port);
  }
}

/** The labels Hubble shows: sorted; for local-scope (CIDR) identities only the longest cidr: label. */
export function sortAndFilterLabels(labels: readonly string[], identity: number): string[] {
  let out = [...labels];
  if ((identity >>> 24) === 1) {
    let best = '', bestLen = -1;
    const rest = out.filter((l) => {
      if (!l.startsWith('cidr:')) return true;
      const len = Number(l.slice(l.lastIndexOf('/') + 1));
      if (len > bestLen) { bestLen = len; best = l; }
      return false;
    });
    out = bestLen >= 0 ? [...rest, best] : rest;
  }
  return out.sort();
}

/** One node's getters (Hubble runs in each agent and sees that agent's state). */
export class NodeGetters {
  readonly agent: NodeAgent;
  /** Keyed by ip + identity * 2^32 (identities below 2^21), else by `ip/identity`. */
  private readonly endpoints = new LRUCache<number | string, EndpointObject>({ max: ENDPOINT_CACHE_MAX });
  private readonly links = new LRUCache<number, NetworkInterfaceObject>({ max: LINK_CACHE_MAX });
  private gen = -1;
  private local = new Map<number, EndpointModel>();
  private readonly key = new Uint8Array(24);

  constructor(readonly node: string, readonly cluster: ClusterState) {
    this.agent = cluster.src.agent(node);
  }

  /** Drop every cached answer when an agent's state changed since they were made. */
  private fresh(): void {
    if (this.gen === this.cluster.generation) return;
    this.endpoints.clear(); this.links.clear();
    this.local = new Map();
    for (const ep of this.agent.endpoints.values()) if (ep.ipv4) this.local.set(ep.ipv4, ep);
    this.gen = this.cluster.generation;
  }

  /** The local endpoint with this IP (GetEndpointInfo), if any. */
  localEndpoint(ip: number): EndpointModel | undefined { this.fresh(); return this.local.get(ip); }

  /** The endpoint by id (the cgroup getter: dplab's socket events carry the endpoint id as cgroup id). */
  endpointById(id: number): EndpointModel | undefined { return this.agent.endpoints.get(id); }

  /** LookupSecIDByIP: the node's ipcache identity of ip (longest prefix), or undefined. */
  ipcacheIdentity(ip: number): number | undefined {
    const v = this.agent.maps.ipcache.lookup(ipcacheLookupKey(this.key, ip));
    if (!v) return undefined;
    const o = IPCACHE_VAL_OFF_SEC_IDENTITY;
    return (v[o]! | (v[o + 1]! << 8) | (v[o + 2]! << 16) | (v[o + 3]! << 24)) >>> 0;
  }

  /**
   * common.EndpointResolver.ResolveEndpoint: local endpoints from the
   * endpoint manager, others from the ipcache and the identity's labels. A
   * datapath identity other than 0 wins over what user space knows.
   */
  resolveEndpoint(ip: number, datapathId: number): EndpointObject {
    this.fresh();
    const k = datapathId < 0x200000 && ip >= 0 ? ip + datapathId * 0x100000000 : `${ip}/${datapathId}`;
    let e = this.endpoints.get(k);
    if (e === undefined) { e = this.resolve(ip, datapathId); this.endpoints.set(k, e); }
    return e;
  }

  /** ip -1: no address (a packet without an IP layer). */
  private resolve(ip: number, datapathId: number): EndpointObject {
    const ep = ip < 0 ? undefined : this.local.get(ip);
    if (ep) {
      const id = datapathId || ep.identity;
      const e: EndpointObject = { ID: ep.id, identity: id, labels: sortAndFilterLabels(ep.labels, id) };
      if (ep.namespace) e.namespace = ep.namespace;
      if (ep.podName) e.pod_name = ep.podName;
      return Object.freeze(e);
    }
    let id = datapathId;
    const user = ip < 0 ? undefined : this.ipcacheIdentity(ip);
    if (user !== undefined && !datapathId) id = user;
    const e: EndpointObject = {};
    if (id) e.identity = id;
    const pod = ip < 0 ? undefined : this.cluster.podOf(ip);
    if (pod) { e.namespace = pod.namespace; e.pod_name = pod.name; }
    const labels = this.cluster.src.identityLabels(this.node, id);
    if (labels?.length) e.labels = sortAndFilterLabels(labels, id);
    return Object.keys(e).length ? Object.freeze(e) : WORLD_NONE;
  }

  /** flow.NetworkInterface of an ifindex, its name from GetIfNameCached (omitted when unknown); shared, read-only. */
  iface(ifindex: number): NetworkInterfaceObject {
    this.fresh();
    let n = this.links.get(ifindex);
    if (n === undefined) {
      const name = this.agent.kernel.deviceByIndex(ifindex)?.name;
      n = Object.freeze(name ? { index: ifindex, name } : { index: ifindex });
      this.links.set(ifindex, n);
    }
    return n;
  }

  serviceAt(ip: number, port: number): ServiceObject | undefined { return this.cluster.serviceAt(ip, port); }
}
