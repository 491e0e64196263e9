// Mirrors Cilium's cilium_lb4_reverse_sk map (socket-LB reverse NAT, struct ipv4_revnat_tuple / ipv4_revnat_entry).

import type { MapSpec } from '../src/bpf/map.ts';
import type { EntryFormat } from './format.ts';
import { dv, getIp4, ip4At, putIp4 } from './util.ts';

/** LRU_HASH, 16-byte key -> 8-byte value, SockRevNat4MapSize 256Ki. */
export const CILIUM_LB4_REVERSE_SK: MapSpec = { name: 'cilium_lb4_reverse_sk', type: 'lru_hash', keySize: 16, valueSize: 8, maxEntries: 262144, flags: 0 };
/** Key: socket cookie u64, backend address (network), backend port (network). */
export const REVSK_KEY_OFF_COOKIE = 0, REVSK_KEY_OFF_ADDRESS = 8, REVSK_KEY_OFF_PORT = 12;
/** Value: service address (network), service port (network), rev_nat_index (network). */
export const REVSK_VAL_OFF_ADDRESS = 0, REVSK_VAL_OFF_PORT = 4, REVSK_VAL_OFF_REV_NAT_INDEX = 6;

/** SockRevNat4Key; ports in host order here. */
export class SockRevNat4Key {
  constructor(public cookie: bigint, public address: number, public port: number) {}
  encode(): Uint8Array {
    const b = new Uint8Array(16), d = dv(b);
    d.setBigUint64(0, this.cookie, true); putIp4(b, REVSK_KEY_OFF_ADDRESS, this.address); d.setUint16(REVSK_KEY_OFF_PORT, this.port, false);
    return b;
  }
  static decode(b: Uint8Array): SockRevNat4Key {
    const d = dv(b);
    return new SockRevNat4Key(d.getBigUint64(0, true), getIp4(b, REVSK_KEY_OFF_ADDRESS), d.getUint16(REVSK_KEY_OFF_PORT, false));
  }
  /** `[ip]:port, cookie`. */
  toString(): string { return `[${ip4At(this.encode(), REVSK_KEY_OFF_ADDRESS)}]:${this.port}, ${this.cookie}`; }
}

export class SockRevNat4Value {
  constructor(public address: number, public port: number, public revNatIndex: number) {}
  encode(): Uint8Array {
    const b = new Uint8Array(8), d = dv(b);
    putIp4(b, 0, this.address); d.setUint16(REVSK_VAL_OFF_PORT, this.port, false); d.setUint16(REVSK_VAL_OFF_REV_NAT_INDEX, this.revNatIndex, false);
    return b;
  }
  static decode(b: Uint8Array): SockRevNat4Value {
    const d = dv(b);
    return new SockRevNat4Value(getIp4(b, 0), d.getUint16(REVSK_VAL_OFF_PORT, false), d.getUint16(REVSK_VAL_OFF_REV_NAT_INDEX, false));
  }
  /** `[ip]:port, revnat`. */
  toString(): string { return `[${ip4At(this.encode(), 0)}]:${this.port}, ${this.revNatIndex}`; }
}

export const LB4_REVERSE_SK_FORMAT: EntryFormat = {
  key: (k) => SockRevNat4Key.decode(k).toString(),
  value: (v) => SockRevNat4Value.decode(v).toString(),
};
