// Mirrors Cilium's cilium_lb4_affinity map (struct lb4_affinity_key / lb_affinity_val, pkg/maps/lbmap affinity.go).

import type { MapSpec } from '../src/bpf/map.ts';
import type { EntryFormat } from './format.ts';
import { dv } from './util.ts';

/** LRU_HASH, 16-byte key -> 16-byte value, 65536 entries. */
export const CILIUM_LB4_AFFINITY: MapSpec = { name: 'cilium_lb4_affinity', type: 'lru_hash', keySize: 16, valueSize: 16, maxEntries: 65536, flags: 0 };
/** Key: client_id u64 (client IPv4 in the first 4 bytes, or netns cookie), rev_nat_id u16, netns_cookie flag u8. */
export const AFFINITY_KEY_OFF_CLIENT_ID = 0, AFFINITY_KEY_OFF_REV_NAT_ID = 8, AFFINITY_KEY_OFF_NETNS_COOKIE = 10;
/** Value: last_used u64 (bpf_mono_now seconds), backend_id u32. */
export const AFFINITY_VAL_OFF_LAST_USED = 0, AFFINITY_VAL_OFF_BACKEND_ID = 8;

/** Affinity4Key; clientId as bigint (u64 host order). */
export class Affinity4Key {
  constructor(public clientId: bigint, public revNatId: number, public netnsCookie = 0) {}
  encode(): Uint8Array {
    const b = new Uint8Array(16), d = dv(b);
    d.setBigUint64(0, this.clientId, true);
    d.setUint16(AFFINITY_KEY_OFF_REV_NAT_ID, this.revNatId, true);
    b[AFFINITY_KEY_OFF_NETNS_COOKIE] = this.netnsCookie;
    return b;
  }
  static decode(b: Uint8Array): Affinity4Key {
    const d = dv(b);
    return new Affinity4Key(d.getBigUint64(0, true), d.getUint16(AFFINITY_KEY_OFF_REV_NAT_ID, true), b[AFFINITY_KEY_OFF_NETNS_COOKIE]!);
  }
  toString(): string { return `client_id=${this.clientId} rev_nat_id=${this.revNatId} netns_cookie=${this.netnsCookie}`; }
}

export class AffinityValue {
  constructor(public lastUsed: bigint, public backendId: number) {}
  encode(): Uint8Array {
    const b = new Uint8Array(16), d = dv(b);
    d.setBigUint64(0, this.lastUsed, true); d.setUint32(AFFINITY_VAL_OFF_BACKEND_ID, this.backendId, true);
    return b;
  }
  static decode(b: Uint8Array): AffinityValue { const d = dv(b); return new AffinityValue(d.getBigUint64(0, true), d.getUint32(8, true)); }
  toString(): string { return `backend_id=${this.backendId} last_used=${this.lastUsed}`; }
}

export const LB4_AFFINITY_FORMAT: EntryFormat = {
  key: (k) => Affinity4Key.decode(k).toString(),
  value: (v) => AffinityValue.decode(v).toString(),
};
