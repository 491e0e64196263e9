// Mirrors Cilium's cilium_lb4_reverse_nat map (struct lb4_reverse_nat, pkg/maps/lbmap RevNat4Key/RevNat4Value).

import type { MapSpec } from '../src/bpf/map.ts';
import type { EntryFormat } from './format.ts';
import { defineStruct } from './struct.ts';
import { dv, getIp4, ip4At, putIp4 } from './util.ts';

/** The key: rev_nat_index, stored in network order as the datapath looks it up. */
export const LB4_REVERSE_NAT_KEY = defineStruct('lb4_reverse_nat_key', { rev_nat_index: 'be16' });
/** struct lb4_reverse_nat (__packed). */
export const LB4_REVERSE_NAT = defineStruct('lb4_reverse_nat', { address: 'be32', port: 'be16' }, { packed: true });

/** HASH, u16 rev_nat_index (network order) -> address + port (6 bytes), 65536 entries. */
export const CILIUM_LB4_REVERSE_NAT: MapSpec = { name: 'cilium_lb4_reverse_nat', type: 'hash', keySize: LB4_REVERSE_NAT_KEY.size, valueSize: LB4_REVERSE_NAT.size, maxEntries: 65536, flags: 0 };
export const REVNAT4_KEY_OFF_INDEX = LB4_REVERSE_NAT_KEY.off.rev_nat_index;
export const REVNAT4_OFF_ADDRESS = LB4_REVERSE_NAT.off.address, REVNAT4_OFF_PORT = LB4_REVERSE_NAT.off.port;

/** Rev-NAT index, host order here. */
export class RevNat4Key {
  constructor(public key: number) {}
  encode(): Uint8Array { const b = new Uint8Array(LB4_REVERSE_NAT_KEY.size); dv(b).setUint16(REVNAT4_KEY_OFF_INDEX, this.key, false); return b; }
  static decode(b: Uint8Array): RevNat4Key { return new RevNat4Key(dv(b).getUint16(REVNAT4_KEY_OFF_INDEX, false)); }
  toString(): string { return String(this.key); }
}

/** Service VIP and port (host order here, stored network order). */
export class RevNat4Value {
  constructor(public address: number, public port: number) {}
  encode(): Uint8Array { const b = new Uint8Array(LB4_REVERSE_NAT.size); putIp4(b, REVNAT4_OFF_ADDRESS, this.address); dv(b).setUint16(REVNAT4_OFF_PORT, this.port, false); return b; }
  static decode(b: Uint8Array): RevNat4Value { return new RevNat4Value(getIp4(b, REVNAT4_OFF_ADDRESS), dv(b).getUint16(REVNAT4_OFF_PORT, false)); }
  toString(): string { return `${ip4At(this.encode(), REVNAT4_OFF_ADDRESS)}:${this.port}`; }
}

export const LB4_REVNAT_FORMAT: EntryFormat = {
  key: (k) => RevNat4Key.decode(k).toString(),
  value: (v) => RevNat4Value.decode(v).toString(),
};
