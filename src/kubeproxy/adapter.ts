// Kubernetes object JSON (v1 Service, discovery.k8s.io/v1 EndpointSlice) to
// the generator's plain inputs, reading only what kube-proxy reads. Objects
// kube-proxy would skip (no cluster IP, ExternalName, a slice without the
// service-name label) are left out; malformed fields throw a KubeProxyInputError.

import { isIPv4, parseCidr } from './ip.ts';
import type { EndpointSliceSpec, EndpointSpec, Protocol, ProxyConfig, ProxyState, ServicePortSpec, ServiceSpec } from './types.ts';

export class KubeProxyInputError extends Error {
  override name = 'KubeProxyInputError';
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const arr = (v: unknown, what: string): unknown[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new KubeProxyInputError(`${what}: not a list`);
  return v;
};
const str = (v: unknown, what: string, dflt = ''): string => {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string') throw new KubeProxyInputError(`${what}: not a string`);
  return v;
};
const int = (v: unknown, what: string, min: number, max: number, dflt: number): number => {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new KubeProxyInputError(`${what}: not an integer in ${min}..${max}`);
  return v;
};
const protocol = (v: unknown, what: string): Protocol => {
  const p = str(v, what, 'TCP');
  if (p !== 'TCP' && p !== 'UDP' && p !== 'SCTP') throw new KubeProxyInputError(`${what}: unsupported protocol ${p}`);
  return p;
};
const strs = (v: unknown, what: string) => arr(v, what).map((x, i) => str(x, `${what}[${i}]`));

/** A v1 Service; undefined for services kube-proxy does not proxy (headless, ExternalName). */
export function serviceFromJSON(o: unknown): ServiceSpec | undefined {
  const meta = obj(obj(o).metadata), spec = obj(obj(o).spec), status = obj(obj(o).status);
  const name = str(meta.name, 'metadata.name'), namespace = str(meta.namespace, 'metadata.namespace', 'default');
  const type = str(spec.type, 'spec.type', 'ClusterIP');
  if (type !== 'ClusterIP' && type !== 'NodePort' && type !== 'LoadBalancer' && type !== 'ExternalName') {
    throw new KubeProxyInputError(`spec.type: unknown type ${type}`);
  }
  // Dual-stack services list one address per family in clusterIPs; this proxier is IPv4's.
  const clusterIPs = strs(spec.clusterIPs, 'spec.clusterIPs');
  const clusterIP = clusterIPs.find((ip) => isIPv4(ip)) ?? str(spec.clusterIP, 'spec.clusterIP');
  if (type === 'ExternalName' || clusterIP === '' || clusterIP === 'None') return undefined;
  const withNodePorts = type === 'NodePort' || type === 'LoadBalancer';
  const ports: ServicePortSpec[] = arr(spec.ports, 'spec.ports').map((p, i) => ({
    name: str(obj(p).name, `spec.ports[${i}].name`),
    protocol: protocol(obj(p).protocol, `spec.ports[${i}].protocol`),
    port: int(obj(p).port, `spec.ports[${i}].port`, 1, 65535, 0),
    nodePort: withNodePorts ? int(obj(p).nodePort, `spec.ports[${i}].nodePort`, 0, 65535, 0) : 0,
  }));
  const ingress = arr(obj(status.loadBalancer).ingress, 'status.loadBalancer.ingress');
  // Ingress points with ipMode Proxy are not VIPs: kube-proxy leaves them to the load balancer.
  const loadBalancerIPs = ingress.filter((g) => obj(g).ipMode !== 'Proxy').map((g, i) => str(obj(g).ip, `status.loadBalancer.ingress[${i}].ip`)).filter((ip) => ip !== '');
  const etp = str(spec.externalTrafficPolicy, 'spec.externalTrafficPolicy', 'Cluster');
  const itp = str(spec.internalTrafficPolicy, 'spec.internalTrafficPolicy', 'Cluster');
  const affinity = str(spec.sessionAffinity, 'spec.sessionAffinity', 'None');
  return {
    namespace, name, type, clusterIP, ports,
    externalIPs: strs(spec.externalIPs, 'spec.externalIPs'),
    loadBalancerIPs: type === 'LoadBalancer' ? loadBalancerIPs : [],
    loadBalancerSourceRanges: strs(spec.loadBalancerSourceRanges, 'spec.loadBalancerSourceRanges'),
    sessionAffinity: affinity === 'ClientIP' ? 'ClientIP' : 'None',
    stickyMaxAgeSeconds: int(obj(obj(spec.sessionAffinityConfig).clientIP).timeoutSeconds, 'spec.sessionAffinityConfig.clientIP.timeoutSeconds', 1, 86400, 10800),
    externalTrafficPolicy: etp === 'Local' ? 'Local' : 'Cluster',
    internalTrafficPolicy: itp === 'Local' ? 'Local' : 'Cluster',
    healthCheckNodePort: type === 'LoadBalancer' && etp === 'Local' ? int(spec.healthCheckNodePort, 'spec.healthCheckNodePort', 0, 65535, 0) : 0,
  };
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** A discovery.k8s.io/v1 EndpointSlice; undefined without the service-name label (kube-proxy ignores it). */
export function endpointSliceFromJSON(o: unknown): EndpointSliceSpec | undefined {
  const meta = obj(obj(o).metadata), root = obj(o);
  const serviceName = str(obj(meta.labels)[SERVICE_NAME_LABEL], `metadata.labels["${SERVICE_NAME_LABEL}"]`);
  if (serviceName === '') return undefined;
  const addressType = str(root.addressType, 'addressType', 'IPv4');
  if (addressType !== 'IPv4' && addressType !== 'IPv6' && addressType !== 'FQDN') throw new KubeProxyInputError(`addressType: unknown ${addressType}`);
  const endpoints: EndpointSpec[] = arr(root.endpoints, 'endpoints').flatMap((e, i) => {
    const ip = arr(obj(e).addresses, `endpoints[${i}].addresses`)[0];
    if (ip === undefined) return [];
    const c = obj(obj(e).conditions);
    const ready = c.ready === undefined || c.ready === null ? true : c.ready === true;
    const nodeName = obj(e).nodeName;
    return [{
      ip: str(ip, `endpoints[${i}].addresses[0]`),
      ready,
      serving: c.serving === undefined || c.serving === null ? true : c.serving === true,
      terminating: c.terminating === true,
      ...(typeof nodeName === 'string' ? { nodeName } : {}),
    }];
  });
  return {
    namespace: str(meta.namespace, 'metadata.namespace', 'default'), serviceName, addressType,
    // A port without a name (nil, not "") is skipped, as endpointslicecache.go does.
    ports: arr(root.ports, 'ports').flatMap((p, i) => obj(p).name === undefined || obj(p).name === null ? [] : [{
      name: str(obj(p).name, `ports[${i}].name`),
      protocol: protocol(obj(p).protocol, `ports[${i}].protocol`),
      port: int(obj(p).port, `ports[${i}].port`, 0, 65535, 0),
    }]),
    endpoints,
  };
}

/** Sorts a list of Kubernetes objects (any kinds) into the generator's state. */
export function stateFromObjects(objects: unknown[]): ProxyState {
  const state: ProxyState = { services: [], endpointSlices: [] };
  for (const o of objects) {
    const kind = obj(o).kind;
    if (kind === 'Service') { const s = serviceFromJSON(o); if (s) state.services.push(s); }
    else if (kind === 'EndpointSlice') { const s = endpointSliceFromJSON(o); if (s) state.endpointSlices.push(s); }
  }
  return state;
}

const SCHEDULERS = ['', 'rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sh', 'dh', 'sed', 'nq', 'mh'];

/**
 * The checks kube-proxy's configuration validation makes on the fields the
 * generators read, with its field paths; throws on the first bad one.
 */
export function checkConfig(cfg: ProxyConfig): void {
  const bad = (field: string, value: unknown, why: string) => new KubeProxyInputError(`${field}: Invalid value: ${JSON.stringify(value)}: ${why}`);
  if (typeof cfg.nodeName !== 'string' || cfg.nodeName === '') throw bad('hostnameOverride', cfg.nodeName, 'must be a node name');
  if (!isIPv4(cfg.nodeIP)) throw bad('nodeIP', cfg.nodeIP, 'must be a valid IPv4 address');
  for (const a of cfg.nodeAddresses ?? []) if (!isIPv4(a)) throw bad('nodeAddresses', a, 'must be a valid IPv4 address');
  if (cfg.clusterCIDR !== undefined && (!parseCidr(cfg.clusterCIDR) || !cfg.clusterCIDR.includes('/'))) {
    throw bad('clusterCIDR', cfg.clusterCIDR, 'must be a valid CIDR block (e.g. 10.100.0.0/16)');
  }
  const d = cfg.detectLocal;
  if (d) {
    if (d.mode === 'NodeCIDR' && (!parseCidr(d.cidr) || !d.cidr.includes('/'))) throw bad('detectLocal.nodeCIDR', d.cidr, 'must be a valid CIDR block');
    else if (d.mode === 'BridgeInterface' && !/^[^\s/+]{1,15}$/.test(d.bridge)) throw bad('detectLocal.bridgeInterface', d.bridge, 'must be a valid interface name');
    else if (d.mode === 'InterfaceNamePrefix' && !/^[^\s/+]{1,14}$/.test(d.prefix)) throw bad('detectLocal.interfaceNamePrefix', d.prefix, 'must be a valid interface name prefix');
    else if (!['NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix'].includes(d.mode)) throw bad('detectLocalMode', (d as { mode: unknown }).mode, 'unknown mode');
  }
  const bit = cfg.masqueradeBit ?? 14;
  if (!Number.isInteger(bit) || bit < 0 || bit > 31) throw bad('iptables.masqueradeBit', bit, 'must be within the range [0, 31]');
  for (const c of cfg.nodePortAddresses ?? []) {
    if (!parseCidr(c) || !c.includes('/')) throw bad('nodePortAddresses', c, 'must be a valid CIDR');
  }
  if (!SCHEDULERS.includes(cfg.ipvsScheduler ?? '')) throw bad('ipvs.scheduler', cfg.ipvsScheduler, 'unknown IPVS scheduler');
  if (cfg.serviceOrder !== undefined && cfg.serviceOrder !== 'clusterIP' && cfg.serviceOrder !== 'given') {
    throw bad('serviceOrder', cfg.serviceOrder, "must be 'clusterIP' or 'given'");
  }
}
