// Mirrors Cilium's cilium_lb_affinity_match map (struct lb_affinity_match, pkg/maps/lbmap AffinityMatchKey).

import type { MapSpec } from '../src/bpf/map.ts';
import type { EntryFormat } from './format.ts';
import { defineStruct } from './struct.ts';
import { dv } from './util.ts';

/** struct lb_affinity_match (__packed); the value is one pad byte. */
export const LB_AFFINITY_MATCH = defineStruct('lb_affinity_match', { backend_id: 'u32', rev_nat_id: 'be16', pad: 'u16' }, { packed: true });

/** HASH, backend_id u32 + rev_nat_id u16 + pad -> 1-byte pad value, 65536 entries. */
export const CILIUM_LB_AFFINITY_MATCH: MapSpec = { name: 'cilium_lb_affinity_match', type: 'hash', keySize: LB_AFFINITY_MATCH.size, valueSize: 1, maxEntries: 65536, flags: 0 };
export const AFFINITY_MATCH_OFF_BACKEND_ID = LB_AFFINITY_MATCH.off.backend_id, AFFINITY_MATCH_OFF_REV_NAT_ID = LB_AFFINITY_MATCH.off.rev_nat_id;

/** AffinityMatchKey: backend id and rev-NAT id (rev_nat_id in network order, as the datapath stores it). */
export class AffinityMatchKey {
  constructor(public backendId: number, public revNatId: number) {}
  encode(): Uint8Array {
    const b = new Uint8Array(LB_AFFINITY_MATCH.size), d = dv(b);
    d.setUint32(AFFINITY_MATCH_OFF_BACKEND_ID, this.backendId, true); d.setUint16(AFFINITY_MATCH_OFF_REV_NAT_ID, this.revNatId, false);
    return b;
  }
  static decode(b: Uint8Array): AffinityMatchKey { const d = dv(b); return new AffinityMatchKey(d.getUint32(AFFINITY_MATCH_OFF_BACKEND_ID, true), d.getUint16(AFFINITY_MATCH_OFF_REV_NAT_ID, false)); }
  /** AffinityMatchKey.String: `%d %d` (backend, rev-NAT). */
  toString(): string { return `${this.backendId} ${this.revNatId}`; }
}

/** The value is a single pad byte. */
export class AffinityMatchValue {
  encode(): Uint8Array { return new Uint8Array(1); }
  static decode(_b: Uint8Array): AffinityMatchValue { return new AffinityMatchValue(); }
  toString(): string { return '0'; }
}

export const LB_AFFINITY_MATCH_FORMAT: EntryFormat = {
  key: (k) => AffinityMatchKey.decode(k).toString(),
  value: () => '0',
};
