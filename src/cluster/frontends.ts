// Services and EndpointSlices -> the LB frontends the Cilium agents program
// (one row of `cilium service list` each): ClusterIP, NodePort on every node
// IP, ExternalIPs and LoadBalancer ingress IPs.

import type { FrontendType, L4Proto, LbFrontend } from '../cilium/api.ts';
import { ipToU32 } from '../wire/addr.ts';
import { listObjs, type KubeState } from './kube/state.ts';
import type { Any, KObject } from './kube/types.ts';
import type { ClusterSpec } from './spec.ts';

function backendsFor(s: KubeState, svc: KObject, port: Any): LbFrontend['backends'] {
  const out: LbFrontend['backends'] = [];
  const slices = listObjs(s, 'EndpointSlice', svc.metadata.namespace).filter((sl) => sl.metadata.labels?.['kubernetes.io/service-name'] === svc.metadata.name);
  for (const sl of slices) {
    const sp = (sl.ports ?? []).find((p: Any) => (p.name ?? '') === (port.name ?? '') && p.protocol === port.protocol);
    if (!sp) continue;
    for (const ep of sl.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      for (const a of ep.addresses) out.push({ ip: ipToU32(a), port: sp.port, nodeName: ep.nodeName ?? '', ready: true });
    }
  }
  return out;
}

/** Every frontend of every service, in a stable order. */
export function computeFrontends(s: KubeState, spec: ClusterSpec): LbFrontend[] {
  const out: LbFrontend[] = [];
  for (const svc of listObjs(s, 'Service')) {
    const st = svc.spec;
    if (st.type === 'ExternalName' || !st.clusterIP || st.clusterIP === 'None') continue;
    const affinity = st.sessionAffinity === 'ClientIP' ? st.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800 : 0;
    for (const port of st.ports ?? []) {
      const backends = backendsFor(s, svc, port);
      const base = {
        namespace: svc.metadata.namespace!, name: svc.metadata.name, port: port.port as number, proto: port.protocol as L4Proto, backends,
        affinityTimeoutSec: affinity, externalTrafficPolicy: (st.externalTrafficPolicy ?? 'Cluster') as 'Cluster' | 'Local', internalTrafficPolicy: (st.internalTrafficPolicy ?? 'Cluster') as 'Cluster' | 'Local',
      };
      const add = (type: FrontendType, ip: string, p = port.port as number) => out.push({ ...base, key: `${base.namespace}/${base.name}/${port.name ?? ''}/${type}/${ip}:${p}/${port.protocol}`, type, ip: ipToU32(ip), port: p });
      add('ClusterIP', st.clusterIP);
      if (port.nodePort) for (const n of spec.nodes) add('NodePort', u32(n.ip), port.nodePort);
      for (const ip of st.externalIPs ?? []) add('ExternalIPs', ip);
      for (const ing of svc.status?.loadBalancer?.ingress ?? []) if (ing.ip) add('LoadBalancer', ing.ip);
    }
  }
  return out;
}

function u32(v: number): string { return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`; }
