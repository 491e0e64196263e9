// What a cluster hands a service proxy (src/datapath's ServicePort list and
// the Cluster spec's `serviceProxyConfig:`, a KubeProxyConfiguration) turned
// into the generators' inputs. Nothing here runs a datapath: a kube-proxy
// plugin would call these, then syncIptables / syncIpvs.

import type { Cidr, ServicePort as SeamServicePort } from '../datapath/contract.ts';
import { KubeProxyInputError } from './adapter.ts';
import { intToIPv4 } from './ip.ts';
import type { EndpointSliceSpec, ProxyConfig, ProxyState, ServiceSpec } from './types.ts';

const cidr = (c: Cidr) => `${intToIPv4(c.ip >>> 0)}/${c.prefixLen}`;

/**
 * Services in first-seen order, their ports in list order; one EndpointSlice per
 * service port and endpoint port (a named targetPort may differ pod by pod).
 * The seam carries no healthCheckNodePort and no SCTP: none are produced.
 */
export function stateFromServicePorts(ports: SeamServicePort[]): ProxyState {
  const services = new Map<string, ServiceSpec>();
  const endpointSlices: EndpointSliceSpec[] = [];
  for (const p of ports) {
    const key = `${p.namespace}/${p.name}`;
    let svc = services.get(key);
    if (!svc) {
      svc = {
        namespace: p.namespace, name: p.name, type: p.type, clusterIP: intToIPv4(p.clusterIP >>> 0), ports: [],
        externalIPs: p.externalIPs.map((ip) => intToIPv4(ip >>> 0)), loadBalancerIPs: p.loadBalancerIPs.map((ip) => intToIPv4(ip >>> 0)),
        loadBalancerSourceRanges: p.loadBalancerSourceRanges.map(cidr), sessionAffinity: p.affinityTimeoutSec > 0 ? 'ClientIP' : 'None',
        stickyMaxAgeSeconds: p.affinityTimeoutSec > 0 ? p.affinityTimeoutSec : 10800,
        externalTrafficPolicy: p.externalTrafficPolicy, internalTrafficPolicy: p.internalTrafficPolicy, healthCheckNodePort: 0,
      };
      services.set(key, svc);
    }
    svc.ports.push({ name: p.portName, protocol: p.protocol, port: p.port, nodePort: p.nodePort });
    const byPort = new Map<number, EndpointSliceSpec>();
    for (const e of p.endpoints) {
      let sl = byPort.get(e.port);
      if (!sl) {
        sl = { namespace: p.namespace, serviceName: p.name, addressType: 'IPv4', ports: [{ name: p.portName, protocol: p.protocol, port: e.port }], endpoints: [] };
        byPort.set(e.port, sl);
        endpointSlices.push(sl);
      }
      sl.endpoints.push({ ip: intToIPv4(e.ip >>> 0), ready: e.ready, serving: e.serving, terminating: e.terminating, nodeName: e.nodeName });
    }
  }
  return { services: [...services.values()], endpointSlices };
}

export interface NodeFacts {
  name: string;
  ip: string;
  /** Every IPv4 address of the node (default [ip, 127.0.0.1]). */
  addresses?: string[];
  /** The node's pod CIDR (detectLocalMode NodeCIDR). */
  podCIDR?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function field<T>(o: Obj, path: string, ok: (v: unknown) => v is T, what: string): T | undefined {
  let v: unknown = o;
  for (const k of path.split('.')) v = isObj(v) ? v[k] : undefined;
  if (v === undefined || v === null) return undefined;
  if (!ok(v)) throw new KubeProxyInputError(`${path}: Invalid value: ${JSON.stringify(v)}: must be ${what}`);
  return v;
}
const isStr = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isStrs = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);

/**
 * A KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1, as in kube-proxy's
 * ConfigMap) for one node. `mode` picks the generator: 'iptables' (default) or 'ipvs'.
 */
export function proxyConfigFromKubeProxyConfiguration(kpc: unknown, node: NodeFacts): { mode: 'iptables' | 'ipvs'; config: ProxyConfig } {
  const o = isObj(kpc) ? kpc : {};
  const mode = field(o, 'mode', isStr, 'a string') || 'iptables';
  if (mode !== 'iptables' && mode !== 'ipvs') throw new KubeProxyInputError(`mode: Unsupported value: ${JSON.stringify(mode)}: supported values: "iptables", "ipvs"`);
  const detectMode = field(o, 'detectLocalMode', isStr, 'a string') || 'ClusterCIDR';
  const config: ProxyConfig = {
    nodeName: field(o, 'hostnameOverride', isStr, 'a string') || node.name,
    nodeIP: node.ip,
    nodeAddresses: node.addresses ?? [node.ip, '127.0.0.1'],
  };
  const clusterCIDR = field(o, 'clusterCIDR', isStr, 'a string');
  if (clusterCIDR) config.clusterCIDR = clusterCIDR.split(',')[0]!.trim(); // dual-stack lists: the IPv4 one comes first
  if (detectMode === 'NodeCIDR') {
    if (!node.podCIDR) throw new KubeProxyInputError('detectLocalMode: NodeCIDR needs the node\'s podCIDR');
    config.detectLocal = { mode: 'NodeCIDR', cidr: node.podCIDR };
  } else if (detectMode === 'BridgeInterface') {
    config.detectLocal = { mode: 'BridgeInterface', bridge: field(o, 'detectLocal.bridgeInterface', isStr, 'a string') ?? '' };
  } else if (detectMode === 'InterfaceNamePrefix') {
    config.detectLocal = { mode: 'InterfaceNamePrefix', prefix: field(o, 'detectLocal.interfaceNamePrefix', isStr, 'a string') ?? '' };
  } else if (detectMode !== 'ClusterCIDR') {
    throw new KubeProxyInputError(`detectLocalMode: Unsupported value: ${JSON.stringify(detectMode)}`);
  }
  const masqAll = field(o, 'masqueradeAll', isBool, 'a boolean') ?? field(o, 'iptables.masqueradeAll', isBool, 'a boolean');
  if (masqAll !== undefined) config.masqueradeAll = masqAll;
  const bit = field(o, 'iptables.masqueradeBit', isInt, 'an integer');
  if (bit !== undefined) config.masqueradeBit = bit;
  const localhost = field(o, 'iptables.localhostNodePorts', isBool, 'a boolean');
  if (localhost !== undefined) config.localhostNodePorts = localhost;
  const npa = field(o, 'nodePortAddresses', isStrs, 'a list of CIDRs');
  if (npa) config.nodePortAddresses = npa;
  const liberal = field(o, 'conntrack.tcpBeLiberal', isBool, 'a boolean');
  if (liberal !== undefined) config.conntrackTCPBeLiberal = liberal;
  const scheduler = field(o, 'ipvs.scheduler', isStr, 'a string');
  if (scheduler) config.ipvsScheduler = scheduler;
  return { mode, config };
}
