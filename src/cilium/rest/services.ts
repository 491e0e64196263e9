// GET /v1/service[/{id}]: models.Service read back from the LB maps (ids are the
// rev-NAT indexes), names, types and policies from the frontends behind them.

import { u32ToIp } from '../../wire/addr.ts';
import { Service4Key, Service4Value, serviceFlagsString } from '../../../maps/cilium_lb4_services_v2.ts';
import { Backend4KeyV3, Backend4Value } from '../../../maps/cilium_lb4_backends_v3.ts';
import type { CiliumCluster } from '../control.ts';
import type { BackendAddress, Service, ServiceSpec } from './models.ts';

const protoName = (p: number) => (p === 6 ? 'TCP' : p === 17 ? 'UDP' : 'ANY');
const BACKEND_STATES = ['active', 'terminating', 'quarantined', 'maintenance'];

export function serviceList(ctl: CiliumCluster, node: string): Service[] {
  const m = ctl.agent(node).maps;
  const masters = new Map<string, { key: Service4Key; val: Service4Value }>();
  const slots = new Map<string, Array<[number, number]>>();
  for (const [kb, vb] of m.lbServices.entries()) {
    const k = Service4Key.decode(kb), v = Service4Value.decode(vb);
    const fe = `${k.address}:${k.port}:${k.proto}:${k.scope}`;
    if (k.backendSlot === 0) masters.set(fe, { key: k, val: v });
    else (slots.get(fe) ?? slots.set(fe, []).get(fe)!).push([k.backendSlot, v.backendId]);
  }
  const byAddr = new Map(ctl.frontends().map((f) => [`${f.ip}:${f.port}:${f.proto === 'TCP' ? 6 : 17}`, f]));
  const nodeOf = new Map<number, string>();
  for (const f of ctl.frontends()) for (const b of f.backends) nodeOf.set(b.ip, b.nodeName);
  const out: Service[] = [];
  for (const [fe, { key, val }] of masters) {
    const info = byAddr.get(`${key.address}:${key.port}:${key.proto}`);
    const backends: BackendAddress[] = [];
    for (const [, id] of (slots.get(fe) ?? []).sort((x, y) => x[0] - y[0])) {
      const raw = m.lbBackends.lookup(new Backend4KeyV3(id).encode());
      if (!raw) continue;
      const b = Backend4Value.decode(raw);
      const addr: BackendAddress = { ip: u32ToIp(b.address), port: b.port, protocol: protoName(b.proto), state: BACKEND_STATES[b.flags] ?? 'active', preferred: false, weight: 100 };
      const n = nodeOf.get(b.address);
      if (n) addr.nodeName = n;
      backends.push(addr);
    }
    const spec: ServiceSpec = {
      id: val.revNat,
      'frontend-address': { ip: u32ToIp(key.address), port: key.port, protocol: protoName(key.proto), scope: key.scope === 1 ? 'internal' : 'external' },
      'backend-addresses': backends,
      flags: {
        type: serviceFlagsString(val.flags | (val.flags2 << 8)).split(', ')[0]!,
        extTrafficPolicy: info?.externalTrafficPolicy ?? 'Cluster', intTrafficPolicy: info?.internalTrafficPolicy ?? 'Cluster', natPolicy: 'None',
      },
    };
    if (info) { spec.flags.name = info.name; spec.flags.namespace = info.namespace; }
    out.push({ spec, status: { realized: spec } });
  }
  return out.sort((x, y) => x.spec.id - y.spec.id);
}
