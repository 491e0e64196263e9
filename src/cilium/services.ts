// Service sync (pkg/service + lbmap): LbFrontends -> cilium_lb4_services_v2 (master slot 0 + backend
// slots), cilium_lb4_backends_v3 (ids reused by address) and cilium_lb4_reverse_nat.

import type { LbFrontend } from './api.ts';
import type { NodeAgent } from './agent.ts';
import { Service4Key, Service4Value, SVC_FLAG_EXTERNAL_IPS, SVC_FLAG_NODEPORT, SVC_FLAG_LOADBALANCER, SVC_FLAG_ROUTABLE,
  SVC_FLAG_AFFINITY, SVC_FLAG_EXT_LOCAL_SCOPE } from '../../maps/cilium_lb4_services_v2.ts';
import { Backend4KeyV3, Backend4Value } from '../../maps/cilium_lb4_backends_v3.ts';
import { RevNat4Key, RevNat4Value } from '../../maps/cilium_lb4_reverse_nat.ts';

const SVC_FLAG2_INT_LOCAL_SCOPE = 16;

/** Cluster-wide id tables, so every node uses the same backend and rev-NAT ids. */
export class LbIds {
  private readonly backends = new Map<string, number>();
  private readonly revNats = new Map<string, number>();
  backendId(ip: number, port: number, proto: number): number { return this.get(this.backends, `${ip}:${port}/${proto}`); }
  revNatId(ip: number, port: number, proto: number): number { return this.get(this.revNats, `${ip}:${port}/${proto}`); }
  private get(m: Map<string, number>, k: string): number {
    let v = m.get(k);
    if (v === undefined) { v = m.size + 1; m.set(k, v); }
    return v;
  }
}

function clear(map: { entries(): Array<[Uint8Array, Uint8Array]>; delete(k: Uint8Array): number }): void {
  for (const [k] of map.entries()) map.delete(k);
}

/** Rewrite one node's LB maps from the whole frontend set (the agent diffs; we rewrite, same result). */
export function syncNodeServices(agent: NodeAgent, frontends: LbFrontend[], ids: LbIds): void {
  const m = agent.maps;
  clear(m.lbServices); clear(m.lbBackends); clear(m.lbRevNat);
  for (const fe of frontends) {
    const proto = fe.proto === 'TCP' ? 6 : 17;
    const external = fe.type !== 'ClusterIP';
    // NodePort frontends live on this node's own addresses.
    const addr = fe.type === 'NodePort' ? agent.node.ip : fe.ip;
    const local = external ? fe.externalTrafficPolicy === 'Local' : fe.internalTrafficPolicy === 'Local';
    const backends = fe.backends.filter((b) => b.ready && (!local || b.nodeName === agent.node.name));
    let flags = fe.type === 'NodePort' ? SVC_FLAG_NODEPORT : fe.type === 'ExternalIPs' ? SVC_FLAG_EXTERNAL_IPS : fe.type === 'LoadBalancer' ? SVC_FLAG_LOADBALANCER : 0;
    if (external) flags |= SVC_FLAG_ROUTABLE;
    if (external && local) flags |= SVC_FLAG_EXT_LOCAL_SCOPE;
    if (fe.affinityTimeoutSec > 0) flags |= SVC_FLAG_AFFINITY;
    const flags2 = !external && local ? SVC_FLAG2_INT_LOCAL_SCOPE : 0;
    const revNat = ids.revNatId(addr, fe.port, proto);
    m.lbServices.update(new Service4Key(addr, fe.port, proto, 0, 0).encode(),
      new Service4Value(fe.affinityTimeoutSec & 0xffffff, backends.length, revNat, flags, flags2).encode());
    m.lbRevNat.update(new RevNat4Key(revNat).encode(), new RevNat4Value(addr, fe.port).encode());
    backends.forEach((b, i) => {
      const id = ids.backendId(b.ip, b.port, proto);
      m.lbServices.update(new Service4Key(addr, fe.port, proto, i + 1, 0).encode(), new Service4Value(id, 0, revNat).encode());
      m.lbBackends.update(new Backend4KeyV3(id).encode(), new Backend4Value(b.ip, b.port, proto, 0).encode());
    });
  }
}
