// Mirrors Cilium's cilium_lb4_affinity map (struct lb4_affinity_key / lb_affinity_val, pkg/maps/lbmap affinity.go).

import type { MapSpec } from '../src/bpf/map.ts';
import type { EntryFormat } from './format.ts';
import { defineStruct } from './struct.ts';
import { dv } from './util.ts';

/**
 * struct lb4_affinity_key (__packed): client_id is a union of the client's
 * __be32 address (first 4 bytes) and the u64 netns cookie; netns_cookie says which.
 */
export const LB4_AFFINITY_KEY = defineStruct('lb4_affinity_key', {
  client_id: 'u64', rev_nat_id: 'u16', netns_cookie: 'u8', pad1: 'u8', pad2: 'u32',
}, { packed: true });
/** struct lb_affinity_val: last_used (bpf_mono_now seconds), backend_id. */
export const LB_AFFINITY_VAL = defineStruct('lb_affinity_val', { last_used: 'u64', backend_id: 'u32', pad: 'u32' });

/** LRU_HASH, 16-byte key -> 16-byte value, 65536 entries. */
export const CILIUM_LB4_AFFINITY: MapSpec = { name: 'cilium_lb4_affinity', type: 'lru_hash', keySize: LB4_AFFINITY_KEY.size, valueSize: LB_AFFINITY_VAL.size, maxEntries: 65536, flags: 0 };
export const AFFINITY_KEY_OFF_CLIENT_ID = LB4_AFFINITY_KEY.off.client_id, AFFINITY_KEY_OFF_REV_NAT_ID = LB4_AFFINITY_KEY.off.rev_nat_id,
  AFFINITY_KEY_OFF_NETNS_COOKIE = LB4_AFFINITY_KEY.off.netns_cookie;
export const AFFINITY_VAL_OFF_LAST_USED = LB_AFFINITY_VAL.off.last_used, AFFINITY_VAL_OFF_BACKEND_ID = LB_AFFINITY_VAL.off.backend_id;

/** Affinity4Key; clientId as bigint (u64 host order). */
export class Affinity4Key {
  constructor(public clientId: bigint, public revNatId: number, public netnsCookie = 0) {}
  encode(): Uint8Array {
    const b = new Uint8Array(LB4_AFFINITY_KEY.size), d = dv(b);
    d.setBigUint64(AFFINITY_KEY_OFF_CLIENT_ID, this.clientId, true);
    d.setUint16(AFFINITY_KEY_OFF_REV_NAT_ID, this.revNatId, true);
    b[AFFINITY_KEY_OFF_NETNS_COOKIE] = this.netnsCookie;
    return b;
  }
  static decode(b: Uint8Array): Affinity4Key {
    const d = dv(b);
    return new Affinity4Key(d.getBigUint64(AFFINITY_KEY_OFF_CLIENT_ID, true), d.getUint16(AFFINITY_KEY_OFF_REV_NAT_ID, true), b[AFFINITY_KEY_OFF_NETNS_COOKIE]!);
  }
  toString(): string { return `client_id=${this.clientId} rev_nat_id=${this.revNatId} netns_cookie=${this.netnsCookie}`; }
}

export class AffinityValue {
  constructor(public lastUsed: bigint, public backendId: number) {}
  encode(): Uint8Array {
    const b = new Uint8Array(LB_AFFINITY_VAL.size), d = dv(b);
    d.setBigUint64(AFFINITY_VAL_OFF_LAST_USED, this.lastUsed, true); d.setUint32(AFFINITY_VAL_OFF_BACKEND_ID, this.backendId, true);
    return b;
  }
  static decode(b: Uint8Array): AffinityValue { const d = dv(b); return new AffinityValue(d.getBigUint64(AFFINITY_VAL_OFF_LAST_USED, true), d.getUint32(AFFINITY_VAL_OFF_BACKEND_ID, true)); }
  toString(): string { return `backend_id=${this.backendId} last_used=${this.lastUsed}`; }
}

export const LB4_AFFINITY_FORMAT: EntryFormat = {
  key: (k) => Affinity4Key.decode(k).toString(),
  value: (v) => AffinityValue.decode(v).toString(),
};
