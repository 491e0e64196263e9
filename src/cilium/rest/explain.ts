// `?explain=true` / `--explain` (beyond Cilium): each entry of a map with what
// a user otherwise looks up by hand: identities as labels, endpoint ids as pods,
// backend ids as addresses and services, rev-NAT ids as namespace/service:port,
// the LB master (slot 0) and backend slots, CT entries' service and time left.

import type { BpfMap } from '../../bpf/map.ts';
import { u32ToIp } from '../../wire/addr.ts';
import { formatFor } from '../../../maps/all.ts';
import { EndpointInfo } from '../../../maps/cilium_lxc.ts';
import { RemoteEndpointInfo } from '../../../maps/cilium_ipcache.ts';
import { Service4Key, Service4Value } from '../../../maps/cilium_lb4_services_v2.ts';
import { Backend4KeyV3, Backend4Value } from '../../../maps/cilium_lb4_backends_v3.ts';
import { RevNat4Key, RevNat4Value } from '../../../maps/cilium_lb4_reverse_nat.ts';
import { CtEntry, CtKey4Global } from '../../../maps/cilium_ct4_global.ts';
import type { CiliumCluster } from '../control.ts';
import { mapModel } from './maps.ts';
import type { BPFMap, BPFMapEntry } from './models.ts';

/** The clock explain reads: bpf_ktime (CT lifetimes count in its seconds). */
export interface ExplainClock { nowNs(): number }

/** A BPFMap whose entries carry an `explain` line (absent where there is nothing to add). */
export interface ExplainedMap extends BPFMap { cache: Array<BPFMapEntry & { explain?: string }> }

/** What one node knows that map entries only reference by number. */
class Lookup {
  private readonly svcByRevNat = new Map<number, string>();
  private readonly svcByBackend = new Map<number, Set<string>>();
  private readonly podByIp = new Map<number, string>();
  constructor(private readonly ctl: CiliumCluster, private readonly node: string) {
    const m = ctl.agent(node).maps;
    const names = new Map(ctl.frontends().map((f) => [`${f.ip}:${f.port}`, `${f.namespace}/${f.name}:${f.port}`]));
    for (const [k, v] of m.lbRevNat.entries()) {
      const rv = RevNat4Value.decode(v);
      this.svcByRevNat.set(RevNat4Key.decode(k).key, names.get(`${rv.address}:${rv.port}`) ?? rv.toString());
    }
    for (const [k, v] of m.lbServices.entries()) {
      const sk = Service4Key.decode(k), sv = Service4Value.decode(v);
      if (sk.backendSlot === 0) continue;
      const s = this.svcByRevNat.get(sv.revNat);
      if (s) (this.svcByBackend.get(sv.backendId) ?? this.svcByBackend.set(sv.backendId, new Set()).get(sv.backendId)!).add(s);
    }
    for (const n of ctl.nodeNames()) for (const ep of ctl.endpoints(n)) if (ep.podName) this.podByIp.set(ep.ipv4, `${ep.namespace}/${ep.podName}`);
  }
  identity(id: number): string {
    const l = this.ctl.identityLabels(this.node, id);
    return l ? `identity ${id} = ${l.join(',')}` : `identity ${id} (unknown)`;
  }
  endpoint(id: number): string {
    const ep = this.ctl.endpoints(this.node).find((e) => e.id === id);
    return ep?.podName ? `endpoint ${id} = pod ${ep.namespace}/${ep.podName}` : ep ? `endpoint ${id} = ${ep.labels.join(',')}` : `endpoint ${id}`;
  }
  service(revNat: number): string { return this.svcByRevNat.get(revNat) ?? `rev-NAT ${revNat} (no service)`; }
  backend(id: number): string {
    const raw = this.ctl.agent(this.node).maps.lbBackends.lookup(new Backend4KeyV3(id).encode());
    if (!raw) return `backend ${id} (missing in cilium_lb4_backends_v3)`;
    const b = Backend4Value.decode(raw);
    const pod = this.podByIp.get(b.address);
    return `backend ${id} = ${u32ToIp(b.address)}:${b.port}${pod ? ` (pod ${pod})` : ''}`;
  }
  backendServices(id: number): string { return [...(this.svcByBackend.get(id) ?? [])].join(', ') || 'no service'; }
  nodeOf(ip: number): string | undefined { return this.ctl.nodeNames().find((n) => this.ctl.agent(n).node.ip === ip); }
}

function explainEntry(name: string, k: Uint8Array, v: Uint8Array, l: Lookup, nowSec: number): string | undefined {
  switch (name) {
    case 'cilium_lxc': {
      const e = EndpointInfo.decode(v);
      return e.flags & 1 ? 'an address of this node (host endpoint)' : `${l.endpoint(e.lxcId)}; ${l.identity(e.secId)}`;
    }
    case 'cilium_ipcache': {
      const e = RemoteEndpointInfo.decode(v);
      const tunnel = e.tunnelEndpoint ? `; reached through node ${l.nodeOf(e.tunnelEndpoint) ?? u32ToIp(e.tunnelEndpoint)}` : '';
      return l.identity(e.securityIdentity) + tunnel;
    }
    case 'cilium_lb4_services_v2': {
      const sk = Service4Key.decode(k), sv = Service4Value.decode(v);
      if (sk.backendSlot === 0) return `master entry (slot 0) of ${l.service(sv.revNat)}: ${sv.count} backend slot(s), rev-NAT ${sv.revNat}; the 0.0.0.0:0 backend is a placeholder`;
      return `slot ${sk.backendSlot} of ${l.service(sv.revNat)}: ${l.backend(sv.backendId)}`;
    }
    case 'cilium_lb4_backends_v3': return `backend ${Backend4KeyV3.decode(k).id} of ${l.backendServices(Backend4KeyV3.decode(k).id)}`;
    case 'cilium_lb4_reverse_nat': return `rev-NAT ${RevNat4Key.decode(k).key} = ${l.service(RevNat4Key.decode(k).key)}`;
    case 'cilium_ct4_global': case 'cilium_ct_any4_global': {
      const ck = CtKey4Global.decode(k), e = CtEntry.decode(v);
      const left = e.lifetime - nowSec;
      const parts = [left > 0 ? `expires in ${left}s` : `expired ${-left}s ago (GC removes it)`];
      if (e.revNat) parts.push(`service ${l.service(e.revNat)}`);
      if (e.backendId && ck.flags & 4) parts.push(l.backend(e.backendId));
      if (e.sourceSecurityId) parts.push(`source ${l.identity(e.sourceSecurityId)}`);
      return parts.join('; ');
    }
  }
  return undefined;
}

/** The note of every entry of a map (uncached ones too), by its key string. */
export function explainEntries(ctl: CiliumCluster, node: string, m: BpfMap, clock: ExplainClock): Map<string, string> {
  const f = formatFor(m.spec.name)!;
  const l = new Lookup(ctl, node);
  const nowSec = Math.floor(clock.nowNs() / 1e9);
  const byKey = new Map<string, string>();
  for (const [k, v] of m.entries()) {
    const x = explainEntry(m.spec.name, k, v, l, nowSec);
    if (x !== undefined) byKey.set(f.key(k), x);
  }
  return byKey;
}

/** mapModel with an `explain` per entry (same order), for the maps explain knows. */
export function explainMap(ctl: CiliumCluster, node: string, m: BpfMap, clock: ExplainClock): ExplainedMap {
  const model = mapModel(m) as ExplainedMap;
  const byKey = explainEntries(ctl, node, m, clock);
  for (const e of model.cache) { const x = byKey.get(e.key!); if (x !== undefined) e.explain = x; }
  return model;
}
