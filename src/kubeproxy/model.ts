// From Services and EndpointSlices to kube-proxy's per-service-port view:
// the ServicePort and the endpoints map (pkg/proxy/serviceport.go,
// endpointslicecache.go) and CategorizeEndpoints (pkg/proxy/topology.go),
// IPv4 only. Topology hints and trafficDistribution are not applied.

import { endpointString, portProtoHash, sepChain, servicePortName } from './hash.ts';
import type { EndpointSliceSpec, Protocol, ProxyConfig, ProxyState, ServiceSpec } from './types.ts';
import { intToIPv4, ipv4ToInt, isIPv4, parseCidr } from './ip.ts';

export interface Endpoint {
  ip: string;
  port: number;
  /** `IP:port`, also the sort key and the DNAT target. */
  str: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  local: boolean;
  /** KUBE-SEP-<hash>. */
  chain: string;
}

export interface ServicePort {
  svc: ServiceSpec;
  /** Index of the port in `spec.ports`. */
  portIndex: number;
  /** ServicePortName.String(). */
  name: string;
  protocol: Protocol;
  /** Lower-case protocol, as kube-proxy writes it in `-m`/`-p`. */
  proto: string;
  clusterIP: string;
  port: number;
  nodePort: number;
  externalIPs: string[];
  lbIPs: string[];
  sourceRanges: string[];
  healthCheckNodePort: number;
  affinity: boolean;
  stickySeconds: number;
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
  externallyAccessible: boolean;
  svcChain: string;
  svlChain: string;
  extChain: string;
  fwChain: string;
  /** Every endpoint of the port, sorted by `IP:port` (kube-proxy's byEndpoint). */
  endpoints: Endpoint[];
}

export interface Categorized {
  cluster: Endpoint[];
  local: Endpoint[];
  reachable: Endpoint[];
  hasAny: boolean;
}

const v4 = (ips: string[]) => ips.filter(isIPv4);
/** Valid IPv4 CIDRs, normalised as Go's IPNet.String() prints them (`203.0.113.5/25` -> `203.0.113.0/25`). */
const v4Cidrs = (cidrs: string[]) => cidrs.flatMap((c) => {
  const p = parseCidr(c);
  return p ? [`${intToIPv4(p.net)}/${p.len}`] : [];
});

/** `UsesClusterEndpoints()`. */
export const usesClusterEndpoints = (sp: ServicePort) => !sp.internalPolicyLocal || sp.externallyAccessible;
/** `UsesLocalEndpoints()`. */
export const usesLocalEndpoints = (sp: ServicePort) => sp.internalPolicyLocal || (sp.externalPolicyLocal && sp.externallyAccessible);

/** CategorizeEndpoints without topology: ready first, serving+terminating as the fallback. */
export function categorize(sp: ServicePort): Categorized {
  const eps = sp.endpoints;
  let cluster: Endpoint[] = [];
  let local: Endpoint[] = [];
  let hasAny = false;
  if (usesClusterEndpoints(sp)) {
    cluster = eps.filter((e) => e.ready);
    if (cluster.length === 0) cluster = eps.filter((e) => e.serving && e.terminating);
    hasAny = cluster.length > 0;
  }
  if (!usesLocalEndpoints(sp)) return { cluster, local, reachable: cluster, hasAny };
  let localReady = false, localServingTerminating = false;
  for (const e of eps) {
    if (e.ready) { hasAny = true; if (e.local) localReady = true; }
    else if (e.serving && e.terminating) { hasAny = true; if (e.local) localServingTerminating = true; }
  }
  let servingTerminating = false;
  if (localReady) local = eps.filter((e) => e.local && e.ready);
  else if (localServingTerminating) { servingTerminating = true; local = eps.filter((e) => e.local && e.serving && e.terminating); }
  if (!usesClusterEndpoints(sp)) return { cluster, local, reachable: local, hasAny };
  if (!servingTerminating) return { cluster, local, reachable: cluster, hasAny };
  // Union by IP:port; kube-proxy ranges over a Go map here, we keep it sorted.
  const byStr = new Map<string, Endpoint>();
  for (const e of [...cluster, ...local]) byStr.set(e.str, e);
  return { cluster, local, reachable: [...byStr.values()].sort(byEndpoint), hasAny };
}

const byEndpoint = (a: Endpoint, b: Endpoint) => (a.str < b.str ? -1 : a.str > b.str ? 1 : 0);

/** Endpoints per `ns/svc` + port name + protocol, de-duplicated by IP:port (a local one wins), sorted. */
function endpointsMap(slices: EndpointSliceSpec[], nodeName: string): Map<string, Map<string, Omit<Endpoint, 'chain'>>> {
  const out = new Map<string, Map<string, Omit<Endpoint, 'chain'>>>();
  for (const sl of slices) {
    if (sl.addressType !== 'IPv4') continue;
    for (const p of sl.ports) {
      if (!(p.port > 0)) continue;
      const key = `${sl.namespace}/${sl.serviceName}\0${p.name}\0${p.protocol}`;
      let m = out.get(key);
      if (!m) out.set(key, (m = new Map()));
      for (const e of sl.endpoints) {
        if (!isIPv4(e.ip)) continue;
        const str = endpointString(e.ip, p.port);
        const local = e.nodeName === nodeName;
        const prev = m.get(str);
        if (prev && prev.local && !local) continue;
        m.set(str, { ip: e.ip, port: p.port, str, ready: e.ready, serving: e.serving, terminating: e.terminating, local });
      }
    }
  }
  return out;
}

/** The four chains that share one hash: computed once. */
function chainNames(spn: string, proto: string) {
  const h = portProtoHash(spn, proto);
  return { svcChain: 'KUBE-SVC-' + h, svlChain: 'KUBE-SVL-' + h, extChain: 'KUBE-EXT-' + h, fwChain: 'KUBE-FW-' + h };
}

/** Every proxied service port (cluster IP set, IPv4), in the configured order. */
export function servicePorts(state: ProxyState, cfg: ProxyConfig): ServicePort[] {
  const eps = endpointsMap(state.endpointSlices, cfg.nodeName);
  const out: ServicePort[] = [];
  // kube-proxy's svcPortMap holds one entry per ServicePortName + protocol: a repeat is ignored.
  const seen = new Set<string>();
  for (const svc of state.services) {
    if (!isIPv4(svc.clusterIP)) continue; // None, '', IPv6: not this proxier's
    if (svc.type === 'ExternalName') continue;
    // apiservice.ExternalPolicyLocal: by the service's type, not by the port.
    const svcExternal = svc.type === 'NodePort' || svc.type === 'LoadBalancer' || svc.externalIPs.length > 0;
    svc.ports.forEach((p, i) => {
      const name = servicePortName(svc.namespace, svc.name, p.name);
      const proto = p.protocol.toLowerCase();
      if (seen.has(name + proto)) return;
      seen.add(name + proto);
      const lbIPs = v4(svc.loadBalancerIPs);
      const m = eps.get(`${svc.namespace}/${svc.name}\0${p.name}\0${p.protocol}`);
      const endpoints = [...(m?.values() ?? [])].map((e) => ({ ...e, chain: sepChain(name, proto, e.str) })).sort(byEndpoint);
      const externalIPs = v4(svc.externalIPs);
      // ServicePort.ExternallyAccessible(): per port.
      const ext = p.nodePort !== 0 || lbIPs.length > 0 || externalIPs.length > 0;
      out.push({
        svc, portIndex: i, name, protocol: p.protocol, proto, clusterIP: svc.clusterIP, port: p.port, nodePort: p.nodePort,
        externalIPs, lbIPs, sourceRanges: v4Cidrs(svc.loadBalancerSourceRanges),
        healthCheckNodePort: svc.healthCheckNodePort, affinity: svc.sessionAffinity === 'ClientIP',
        stickySeconds: svc.stickyMaxAgeSeconds, externalPolicyLocal: svcExternal && svc.externalTrafficPolicy === 'Local',
        internalPolicyLocal: svc.internalTrafficPolicy === 'Local', externallyAccessible: ext,
        ...chainNames(name, proto),
        endpoints,
      });
    });
  }
  if ((cfg.serviceOrder ?? 'clusterIP') === 'clusterIP') {
    // Stable: equal keys (two services on one IP) keep the given order.
    const keyed = out.map((sp) => ({ k: ipv4ToInt(sp.clusterIP) * 65536 + sp.portIndex, sp }));
    keyed.sort((a, b) => a.k - b.k);
    return keyed.map((x) => x.sp);
  }
  return out;
}
