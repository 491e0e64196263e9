// Service sync (pkg/service + lbmap): LbFrontends -> cilium_lb4_services_v2 (master slot 0 + backend
// slots), cilium_lb4_backends_v3 (ids reused by address) and cilium_lb4_reverse_nat.

import type { LbFrontend } from './api.ts';
import type { NodeAgent } from './agent.ts';
import { SVC_FLAG_EXTERNAL_IPS, SVC_FLAG_NODEPORT, SVC_FLAG_LOADBALANCER, SVC_FLAG_ROUTABLE,
  SVC_FLAG_AFFINITY, SVC_FLAG_EXT_LOCAL_SCOPE } from '../../maps/cilium_lb4_services_v2.ts';
import { backend4KeyBytes, backend4ValueBytes, revNat4KeyBytes, revNat4ValueBytes, service4KeyBytes, service4ValueBytes } from './codec.ts';

const SVC_FLAG2_INT_LOCAL_SCOPE = 16;

/**
 * Cluster-wide id tables, so every node uses the same backend and rev-NAT ids.
 * Ids count up in order of first use of an (address, port, proto); keyed by
 * numbers (port/proto, then address) so the per-entry lookups allocate nothing.
 */
export class LbIds {
  private readonly backends = new IdTable();
  private readonly revNats = new IdTable();
  backendId(ip: number, port: number, proto: number): number { return this.backends.get(ip, port, proto); }
  revNatId(ip: number, port: number, proto: number): number { return this.revNats.get(ip, port, proto); }
  /** The tables, to keep service and backend ids across a restart. */
  save(): SavedLbIds { return { backends: this.backends.save(), revNats: this.revNats.save() }; }
  /** Before the first sync: the ids save() returned come back for the same addresses. */
  restore(saved: unknown): void {
    const s = saved as SavedLbIds;
    this.backends.restore(s?.backends, 'backends');
    this.revNats.restore(s?.revNats, 'revNats');
  }
}

/** One id table: its counter and its [port * 256 + proto, address, id] entries. */
export interface SavedIds { size: number; ids: Array<[number, number, number]> }
export interface SavedLbIds { backends: SavedIds; revNats: SavedIds }

class IdTable {
  private readonly byPortProto = new Map<number, Map<number, number>>();
  private size = 0;
  get(ip: number, port: number, proto: number): number {
    const pp = port * 256 + proto;
    let m = this.byPortProto.get(pp);
    if (!m) { m = new Map(); this.byPortProto.set(pp, m); }
    let v = m.get(ip);
    if (v === undefined) { v = ++this.size; m.set(ip, v); }
    return v;
  }
  save(): SavedIds {
    const ids: Array<[number, number, number]> = [];
    for (const [pp, m] of this.byPortProto) for (const [ip, id] of m) ids.push([pp, ip, id]);
    return { size: this.size, ids };
  }
  restore(s: SavedIds | undefined, what: string): void {
    const ok = (e: unknown): e is [number, number, number] => Array.isArray(e) && e.length === 3 && e.every(Number.isInteger);
    if (!s || !Number.isInteger(s.size) || !Array.isArray(s.ids) || !s.ids.every(ok)) throw new Error(`saved service ids: bad ${what} table`);
    for (const [pp, ip, id] of s.ids) {
      let m = this.byPortProto.get(pp);
      if (!m) { m = new Map(); this.byPortProto.set(pp, m); }
      m.set(ip, id);
    }
    this.size = s.size;
  }
}

/** Rewrite one node's LB maps from the whole frontend set (the agent diffs; we rewrite, same result). */
export function syncNodeServices(agent: NodeAgent, frontends: LbFrontend[], ids: LbIds): void {
  const m = agent.maps;
  m.lbServices.clear(); m.lbBackends.clear(); m.lbRevNat.clear();
  const self = agent.node.name;
  for (const fe of frontends) {
    const proto = fe.proto === 'TCP' ? 6 : 17;
    const external = fe.type !== 'ClusterIP';
    // NodePort frontends live on this node's own addresses.
    const addr = fe.type === 'NodePort' ? agent.node.ip : fe.ip;
    const local = external ? fe.externalTrafficPolicy === 'Local' : fe.internalTrafficPolicy === 'Local';
    let count = 0;
    for (const b of fe.backends) if (b.ready && (!local || b.nodeName === self)) count++;
    let flags = fe.type === 'NodePort' ? SVC_FLAG_NODEPORT : fe.type === 'ExternalIPs' ? SVC_FLAG_EXTERNAL_IPS : fe.type === 'LoadBalancer' ? SVC_FLAG_LOADBALANCER : 0;
    if (external) flags |= SVC_FLAG_ROUTABLE;
    if (external && local) flags |= SVC_FLAG_EXT_LOCAL_SCOPE;
    if (fe.affinityTimeoutSec > 0) flags |= SVC_FLAG_AFFINITY;
    const flags2 = !external && local ? SVC_FLAG2_INT_LOCAL_SCOPE : 0;
    const revNat = ids.revNatId(addr, fe.port, proto);
    m.lbServices.update(service4KeyBytes(addr, fe.port, proto, 0, 0), service4ValueBytes(fe.affinityTimeoutSec & 0xffffff, count, revNat, flags, flags2));
    m.lbRevNat.update(revNat4KeyBytes(revNat), revNat4ValueBytes(addr, fe.port));
    let slot = 0;
    for (const b of fe.backends) {
      if (!b.ready || (local && b.nodeName !== self)) continue;
      const id = ids.backendId(b.ip, b.port, proto);
      slot++;
      m.lbServices.update(service4KeyBytes(addr, fe.port, proto, slot, 0), service4ValueBytes(id, 0, revNat));
      m.lbBackends.update(backend4KeyBytes(id), backend4ValueBytes(b.ip, b.port, proto, 0));
    }
  }
}

/** Whether every node gets the same LB entries: no NodePort (per-node address) and no Local policy (per-node backends). */
function sameOnEveryNode(frontends: LbFrontend[]): boolean {
  for (const fe of frontends) {
    if (fe.type === 'NodePort') return false;
    if (fe.type !== 'ClusterIP' ? fe.externalTrafficPolicy === 'Local' : fe.internalTrafficPolicy === 'Local') return false;
  }
  return true;
}

/**
 * syncNodeServices on every agent. When the entries cannot differ between
 * nodes, the first node's maps are built and the others copy them (same
 * entries, same order): 100 nodes x 11k entries would otherwise be 3M inserts.
 */
export function syncAllNodeServices(agents: Iterable<NodeAgent>, frontends: LbFrontend[], ids: LbIds): void {
  let first: NodeAgent | undefined;
  const same = sameOnEveryNode(frontends);
  for (const a of agents) {
    if (first && same) {
      a.maps.lbServices.copyFrom(first.maps.lbServices); a.maps.lbBackends.copyFrom(first.maps.lbBackends); a.maps.lbRevNat.copyFrom(first.maps.lbRevNat);
      continue;
    }
    syncNodeServices(a, frontends, ids);
    first ??= a;
  }
}
