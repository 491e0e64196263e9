// Mirrors Cilium's cilium_lb4_reverse_nat map (struct lb4_reverse_nat, pkg/maps/lbmap RevNat4Key/RevNat4Value).

import type { MapSpec } from '../src/bpf/map.ts';
import type { EntryFormat } from './format.ts';
import { dv, getIp4, ip4At, putIp4 } from './util.ts';

/** HASH, u16 rev_nat_index (network order) -> address + port (6 bytes), 65536 entries. */
export const CILIUM_LB4_REVERSE_NAT: MapSpec = { name: 'cilium_lb4_reverse_nat', type: 'hash', keySize: 2, valueSize: 6, maxEntries: 65536, flags: 0 };
export const REVNAT4_OFF_ADDRESS = 0, REVNAT4_OFF_PORT = 4;

/** Rev-NAT index, host order here. */
export class RevNat4Key {
  constructor(public key: number) {}
  encode(): Uint8Array { const b = new Uint8Array(2); dv(b).setUint16(0, this.key, false); return b; }
  static decode(b: Uint8Array): RevNat4Key { return new RevNat4Key(dv(b).getUint16(0, false)); }
  toString(): string { return String(this.key); }
}

/** Service VIP and port (host order here, stored network order). */
export class RevNat4Value {
  constructor(public address: number, public port: number) {}
  encode(): Uint8Array { const b = new Uint8Array(6); putIp4(b, 0, this.address); dv(b).setUint16(REVNAT4_OFF_PORT, this.port, false); return b; }
  static decode(b: Uint8Array): RevNat4Value { return new RevNat4Value(getIp4(b, 0), dv(b).getUint16(REVNAT4_OFF_PORT, false)); }
  toString(): string { return `${ip4At(this.encode(), 0)}:${this.port}`; }
}

export const LB4_REVNAT_FORMAT: EntryFormat = {
  key: (k) => RevNat4Key.decode(k).toString(),
  value: (v) => RevNat4Value.decode(v).toString(),
};
