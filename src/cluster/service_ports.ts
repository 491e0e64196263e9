// Services and EndpointSlices -> the service ports a service proxy syncs
// (kube-proxy's ServicePort with its endpoints), in a stable order: services
// as listed, ports as written. Headless and ExternalName services have none.

import type { L4Proto, ServiceEndpoint, ServicePort } from '../datapath/contract.ts';
import { ipToU32, parseCidr } from '../wire/addr.ts';
import { listObjs, type KubeState } from './kube/state.ts';
import type { Any, KObject } from './kube/types.ts';

/** EndpointSlices by `namespace/service`, indexed once per sync (not scanned per service). */
function slicesByService(s: KubeState): Map<string, KObject[]> {
  const out = new Map<string, KObject[]>();
  for (const sl of listObjs(s, 'EndpointSlice')) {
    const svc = sl.metadata.labels?.['kubernetes.io/service-name'];
    if (svc === undefined) continue;
    const key = `${sl.metadata.namespace}/${svc}`;
    const list = out.get(key);
    if (list) list.push(sl); else out.set(key, [sl]);
  }
  return out;
}

/** Endpoints of one service port from the service's slices (matched by port name and protocol). */
function endpointsFor(slices: KObject[], port: Any): ServiceEndpoint[] {
  const out: ServiceEndpoint[] = [];
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
  const slices = slicesByService(s);
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
        endpoints: endpointsFor(slices.get(`${svc.metadata.namespace}/${svc.metadata.name}`) ?? [], port),
      });
    }
  }
  return out;
}
