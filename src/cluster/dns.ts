// ClusterDns: what coredns and the internet resolver read, backed by the live API state.

import { u32ToIp } from '../wire/addr.ts';
import { DEFAULT_EXTERNAL_HOSTS } from './images/index.ts';
import type { KubeApi } from './kube/api.ts';
import type { Any } from './kube/types.ts';
import type { ClusterDns, DnsService } from './runtime_contract.ts';
import type { ClusterSpec } from './spec.ts';

/** The internet resolver's fixed zone (wttr.in as in the seed). */
export const EXTERNAL_HOSTS: Record<string, string> = {
  ...DEFAULT_EXTERNAL_HOSTS,
  'wttr.in': '5.9.243.187',
  'dns.google': '8.8.8.8',
  'one.one.one.one': '1.1.1.1',
  'example.com': '93.184.215.14',
  'www.example.com': '93.184.215.14',
  'google.com': '142.250.206.206',
  'www.google.com': '142.250.206.196',
  'github.com': '20.200.245.247',
  'api.github.com': '20.200.245.245',
  'ifconfig.me': '34.160.111.145',
  'httpbin.org': '44.195.71.61',
  'cilium.io': '104.198.14.52',
};

export function buildDns(api: KubeApi, spec: ClusterSpec): ClusterDns {
  return {
    clusterDomain: 'cluster.local',
    upstream: { ip: spec.gateway, port: 53 },
    externalHosts: EXTERNAL_HOSTS,
    hasNamespace: (ns) => api.get('Namespace', undefined, ns) !== undefined,
    lookupService(namespace, name): DnsService | undefined {
      const svc = api.get('Service', namespace, name);
      if (!svc) return undefined;
      const slices = api.list('EndpointSlice', namespace).filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === name);
      const endpoints = slices.flatMap((s) => (s.endpoints ?? []).filter((e: Any) => e.conditions?.ready !== false).map((e: Any) => {
        const pod = e.targetRef?.kind === 'Pod' ? api.get('Pod', namespace, e.targetRef.name) : undefined;
        const hostname = pod?.spec.subdomain === name ? pod.spec.hostname : undefined;
        return { ip: e.addresses[0], ...(hostname ? { hostname } : {}), ...(e.targetRef?.name ? { podName: e.targetRef.name } : {}), ...(e.nodeName ? { nodeName: e.nodeName } : {}) };
      }));
      const ip = svc.spec.clusterIP;
      return {
        namespace, name, clusterIP: ip && ip !== 'None' ? ip : null, type: svc.spec.type, ...(svc.spec.externalName ? { externalName: svc.spec.externalName } : {}),
        ports: (svc.spec.ports ?? []).map((p: Any) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol })), endpoints,
      };
    },
    lookupPodByIp(ip) {
      const p = api.list('Pod').find((x) => x.status?.podIP === ip && !x.spec.hostNetwork);
      return p ? { namespace: p.metadata.namespace!, name: p.metadata.name, hostname: p.spec.hostname ?? p.metadata.name, ...(p.spec.subdomain ? { subdomain: p.spec.subdomain } : {}) } : undefined;
    },
  };
}

export function gatewayIp(spec: ClusterSpec): string { return u32ToIp(spec.gateway); }
