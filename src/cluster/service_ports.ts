// Services and EndpointSlices -> the service ports a service proxy syncs
// (kube-proxy's ServicePort with its endpoints), in a stable order: services
// as listed, ports as written. Headless and ExternalName services have none.

import type { L4Proto, ServiceEndpoint, ServicePort } from '../datapath/contract.ts';
import { ipToU32, parseCidr } from '../wire/addr.ts';
import { listObjs, type KubeState } from './kube/state.ts';
import type { Any, KObject } from './kube/types.ts';

/** Endpoints of one service port from the service's slices (matched by port name and protocol). */
function endpointsFor(s: KubeState, svc: KObject, port: Any): ServiceEndpoint[] {
  const out: ServiceEndpoint[] = [];
  const slices = listObjs(s, 'EndpointSlice', svc.metadata.namespace).filter((sl) => sl.metadata.labels?.['kubernetes.io/service-name'] === svc.metadata.name);
  for (const sl of slices) {
    const sp = (sl.ports ?? []).find((p: Any) => (p.name ?? '') === (port.name ?? '') && p.protocol === port.protocol);
    if (!sp) continue;
    for (const ep of sl.endpoints ?? []) {
      // EndpointSlice conditions: a nil ready means ready; serving follows ready unless set.
      const ready = ep.conditions?.ready !== false;
      const c = { ready, serving: ep.conditions?.serving ?? ready, terminating: ep.conditions?.terminating ?? false };
      for (const a of ep.addresses) out.push({ ip: ipToU32(a), port: sp.port, nodeName: ep.nodeName ?? '', ...c });
    }
  }
  return out;
}

export function servicePorts(s: KubeState): ServicePort[] {
  const out: ServicePort[] = [];
  for (const svc of listObjs(s, 'Service')) {
    const st = svc.spec;
    if (st.type === 'ExternalName' || !st.clusterIP || st.clusterIP === 'None') continue;
    for (const port of st.ports ?? []) {
      out.push({
        namespace: svc.metadata.namespace!, name: svc.metadata.name, portName: port.name ?? '', protocol: port.protocol as L4Proto,
        type: st.type, clusterIP: ipToU32(st.clusterIP), port: port.port, nodePort: port.nodePort ?? 0,
        externalIPs: (st.externalIPs ?? []).map(ipToU32),
        loadBalancerIPs: (svc.status?.loadBalancer?.ingress ?? []).filter((i: Any) => i.ip).map((i: Any) => ipToU32(i.ip)),
        loadBalancerSourceRanges: (st.loadBalancerSourceRanges ?? []).map((r: string) => parseCidr(r)),
        affinityTimeoutSec: st.sessionAffinity === 'ClientIP' ? st.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800 : 0,
        externalTrafficPolicy: st.externalTrafficPolicy ?? 'Cluster', internalTrafficPolicy: st.internalTrafficPolicy ?? 'Cluster',
        endpoints: endpointsFor(s, svc, port),
      });
    }
  }
  return out;
}
