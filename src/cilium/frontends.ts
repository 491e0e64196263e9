// Service ports -> the LB frontends the agents program, as Cilium's service
// cache expands a Service: one row of `cilium service list` each for the
// ClusterIP, the NodePort on every node address, each ExternalIP and each
// LoadBalancer ingress IP. Only ready endpoints become backends.

import type { ServicePort } from '../datapath/contract.ts';
import { u32ToIp } from '../wire/addr.ts';
import type { FrontendType, LbFrontend } from './api.ts';

/** Every frontend of every service port, in the ports' order; `nodeIps` in node join order. */
export function expandFrontends(ports: ServicePort[], nodeIps: number[]): LbFrontend[] {
  const out: LbFrontend[] = [];
  for (const sp of ports) {
    const backends = sp.endpoints.filter((e) => e.ready).map((e) => ({ ip: e.ip, port: e.port, nodeName: e.nodeName, ready: true }));
    const base = {
      namespace: sp.namespace, name: sp.name, proto: sp.protocol, backends, affinityTimeoutSec: sp.affinityTimeoutSec,
      externalTrafficPolicy: sp.externalTrafficPolicy, internalTrafficPolicy: sp.internalTrafficPolicy,
    };
    const add = (type: FrontendType, ip: number, port = sp.port) =>
      out.push({ ...base, key: `${sp.namespace}/${sp.name}/${sp.portName}/${type}/${u32ToIp(ip)}:${port}/${sp.protocol}`, type, ip, port });
    add('ClusterIP', sp.clusterIP);
    if (sp.nodePort) for (const ip of nodeIps) add('NodePort', ip, sp.nodePort);
    for (const ip of sp.externalIPs) add('ExternalIPs', ip);
    for (const ip of sp.loadBalancerIPs) add('LoadBalancer', ip);
  }
  return out;
}
