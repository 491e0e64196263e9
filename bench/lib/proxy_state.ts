// kube-proxy's input for n ClusterIP services (one TCP port 80 -> 8080 each,
// `endpoints` ready endpoints each, spread over node-0 and node-1) as plain
// Services/EndpointSlices: what kubeproxy.bench.ts syncs and
// service_scaling.bench.ts loads into a node's netfilter.

import type { ProxyState } from '../../src/kubeproxy/index.ts';

/** ClusterIP of service i: 10.96.0.0 + i (10.96.0.0/12 holds a million). */
export const clusterIpOf = (i: number) => `10.96.${(i >> 8) & 255}.${i & 255}`;

export function clusterIpState(n: number, endpoints = 2): ProxyState {
  const state: ProxyState = { services: [], endpointSlices: [] };
  for (let i = 0; i < n; i++) {
    const name = `svc-${i}`;
    state.services.push({
      namespace: 'bench', name, type: 'ClusterIP', clusterIP: clusterIpOf(i),
      ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 0 }], externalIPs: [], loadBalancerIPs: [], loadBalancerSourceRanges: [],
      sessionAffinity: 'None', stickyMaxAgeSeconds: 10800, externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster', healthCheckNodePort: 0,
    });
    state.endpointSlices.push({
      namespace: 'bench', serviceName: name, addressType: 'IPv4', ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
      endpoints: Array.from({ length: endpoints }, (_, k) => ({
        ip: `10.10.${(endpoints * i + k) >> 8 & 255}.${(endpoints * i + k) & 255}`, ready: true, serving: true, terminating: false, nodeName: `node-${k % 2}`,
      })),
    });
  }
  return state;
}
