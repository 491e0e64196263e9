// Mirrors Cilium's cilium_lb4_backends_v3 map (bpf/lib/common.h struct lb4_backend, pkg/maps/lbmap Backend4KeyV3/Backend4ValueV3).

import type { MapSpec } from '../src/bpf/map.ts';
import type { EntryFormat } from './format.ts';
import { defineStruct } from './struct.ts';
import { dv, getIp4, ip4At, putIp4, u8protoName } from './util.ts';

/** The key: __u32 backend_id. */
export const LB4_BACKEND_KEY = defineStruct('lb4_backend_key', { backend_id: 'u32' });
/** struct lb4_backend. */
export const LB4_BACKEND = defineStruct('lb4_backend', {
  address: 'be32', port: 'be16', proto: 'u8', flags: 'u8', cluster_id: 'u16', zone: 'u8', pad: 'u8',
});

/** HASH, u32 backend id -> 12-byte lb4_backend, 65536 entries. */
export const CILIUM_LB4_BACKENDS_V3: MapSpec = { name: 'cilium_lb4_backends_v3', type: 'hash', keySize: LB4_BACKEND_KEY.size, valueSize: LB4_BACKEND.size, maxEntries: 65536, flags: 0 };

export const LB4_BACKEND_KEY_OFF_ID = LB4_BACKEND_KEY.off.backend_id;
export const LB4_BACKEND_OFF_ADDRESS = LB4_BACKEND.off.address, LB4_BACKEND_OFF_PORT = LB4_BACKEND.off.port, LB4_BACKEND_OFF_PROTO = LB4_BACKEND.off.proto,
  LB4_BACKEND_OFF_FLAGS = LB4_BACKEND.off.flags, LB4_BACKEND_OFF_CLUSTER_ID = LB4_BACKEND.off.cluster_id, LB4_BACKEND_OFF_ZONE = LB4_BACKEND.off.zone;
export const BE_STATE_ACTIVE = 0, BE_STATE_TERMINATING = 1, BE_STATE_QUARANTINED = 2, BE_STATE_MAINTENANCE = 3;

/** Backend id key (u32 host order). */
export class Backend4KeyV3 {
  constructor(public id: number) {}
  encode(): Uint8Array { const b = new Uint8Array(LB4_BACKEND_KEY.size); dv(b).setUint32(LB4_BACKEND_KEY_OFF_ID, this.id, true); return b; }
  static decode(b: Uint8Array): Backend4KeyV3 { return new Backend4KeyV3(dv(b).getUint32(LB4_BACKEND_KEY_OFF_ID, true)); }
  toString(): string { return String(this.id); }
}

/** Backend address; port in host order here (stored network order). */
export class Backend4Value {
  constructor(public address: number, public port: number, public proto: number, public flags = BE_STATE_ACTIVE, public clusterId = 0, public zone = 0) {}
  encode(): Uint8Array {
    const b = new Uint8Array(LB4_BACKEND.size), d = dv(b);
    putIp4(b, LB4_BACKEND_OFF_ADDRESS, this.address);
    d.setUint16(LB4_BACKEND_OFF_PORT, this.port, false);
    b[LB4_BACKEND_OFF_PROTO] = this.proto; b[LB4_BACKEND_OFF_FLAGS] = this.flags;
    d.setUint16(LB4_BACKEND_OFF_CLUSTER_ID, this.clusterId, true);
    b[LB4_BACKEND_OFF_ZONE] = this.zone;
    return b;
  }
  static decode(b: Uint8Array): Backend4Value {
    const d = dv(b);
    return new Backend4Value(getIp4(b, LB4_BACKEND_OFF_ADDRESS), d.getUint16(LB4_BACKEND_OFF_PORT, false), b[LB4_BACKEND_OFF_PROTO]!, b[LB4_BACKEND_OFF_FLAGS]!,
      d.getUint16(LB4_BACKEND_OFF_CLUSTER_ID, true), b[LB4_BACKEND_OFF_ZONE]!);
  }
  /** Backend4ValueV3.String: `<PROTO>://<ip>` (no port; `@cluster` when set). */
  toString(): string {
    return `${u8protoName(this.proto)}://${ip4At(this.encode(), LB4_BACKEND_OFF_ADDRESS)}${this.clusterId ? '@' + this.clusterId : ''}`;
  }
  /** `ip:port/PROTO`, as `bpf lb list` prints a backend slot. */
  addrString(): string { return `${ip4At(this.encode(), LB4_BACKEND_OFF_ADDRESS)}:${this.port}/${u8protoName(this.proto)}`; }
}

export const LB4_BACKENDS_FORMAT: EntryFormat = {
  key: (k) => Backend4KeyV3.decode(k).toString(),
  value: (v) => Backend4Value.decode(v).toString(),
};
