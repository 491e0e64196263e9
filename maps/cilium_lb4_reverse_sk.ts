// Mirrors Cilium's cilium_lb4_reverse_sk map (socket-LB reverse NAT, struct ipv4_revnat_tuple / ipv4_revnat_entry).

import type { MapSpec } from '../src/bpf/map.ts';
import type { EntryFormat } from './format.ts';
import { defineStruct } from './struct.ts';
import { dv, getIp4, ip4At, putIp4 } from './util.ts';

/** struct ipv4_revnat_tuple: socket cookie, backend address and port. */
export const IPV4_REVNAT_TUPLE = defineStruct('ipv4_revnat_tuple', { cookie: 'u64', address: 'be32', port: 'be16', pad: 'u16' });
/** struct ipv4_revnat_entry: service address, port, rev_nat_index. */
export const IPV4_REVNAT_ENTRY = defineStruct('ipv4_revnat_entry', { address: 'be32', port: 'be16', rev_nat_index: 'be16' });

/** LRU_HASH, 16-byte key -> 8-byte value, SockRevNat4MapSize 256Ki. */
export const CILIUM_LB4_REVERSE_SK: MapSpec = { name: 'cilium_lb4_reverse_sk', type: 'lru_hash', keySize: IPV4_REVNAT_TUPLE.size, valueSize: IPV4_REVNAT_ENTRY.size, maxEntries: 262144, flags: 0 };
export const REVSK_KEY_OFF_COOKIE = IPV4_REVNAT_TUPLE.off.cookie, REVSK_KEY_OFF_ADDRESS = IPV4_REVNAT_TUPLE.off.address, REVSK_KEY_OFF_PORT = IPV4_REVNAT_TUPLE.off.port;
export const REVSK_VAL_OFF_ADDRESS = IPV4_REVNAT_ENTRY.off.address, REVSK_VAL_OFF_PORT = IPV4_REVNAT_ENTRY.off.port,
  REVSK_VAL_OFF_REV_NAT_INDEX = IPV4_REVNAT_ENTRY.off.rev_nat_index;

/** SockRevNat4Key; ports in host order here. */
export class SockRevNat4Key {
  constructor(public cookie: bigint, public address: number, public port: number) {}
  encode(): Uint8Array {
    const b = new Uint8Array(IPV4_REVNAT_TUPLE.size), d = dv(b);
    d.setBigUint64(REVSK_KEY_OFF_COOKIE, this.cookie, true); putIp4(b, REVSK_KEY_OFF_ADDRESS, this.address); d.setUint16(REVSK_KEY_OFF_PORT, this.port, false);
    return b;
  }
  static decode(b: Uint8Array): SockRevNat4Key {
    const d = dv(b);
    return new SockRevNat4Key(d.getBigUint64(REVSK_KEY_OFF_COOKIE, true), getIp4(b, REVSK_KEY_OFF_ADDRESS), d.getUint16(REVSK_KEY_OFF_PORT, false));
  }
  /** `[ip]:port, cookie`. */
  toString(): string { return `[${ip4At(this.encode(), REVSK_KEY_OFF_ADDRESS)}]:${this.port}, ${this.cookie}`; }
}

export class SockRevNat4Value {
  constructor(public address: number, public port: number, public revNatIndex: number) {}
  encode(): Uint8Array {
    const b = new Uint8Array(IPV4_REVNAT_ENTRY.size), d = dv(b);
    putIp4(b, REVSK_VAL_OFF_ADDRESS, this.address); d.setUint16(REVSK_VAL_OFF_PORT, this.port, false); d.setUint16(REVSK_VAL_OFF_REV_NAT_INDEX, this.revNatIndex, false);
    return b;
  }
  static decode(b: Uint8Array): SockRevNat4Value {
    const d = dv(b);
    return new SockRevNat4Value(getIp4(b, REVSK_VAL_OFF_ADDRESS), d.getUint16(REVSK_VAL_OFF_PORT, false), d.getUint16(REVSK_VAL_OFF_REV_NAT_INDEX, false));
  }
  /** `[ip]:port, revnat`. */
  toString(): string { return `[${ip4At(this.encode(), REVSK_VAL_OFF_ADDRESS)}]:${this.port}, ${this.revNatIndex}`; }
}

export const LB4_REVERSE_SK_FORMAT: EntryFormat = {
  key: (k) => SockRevNat4Key.decode(k).toString(),
  value: (v) => SockRevNat4Value.decode(v).toString(),
};
