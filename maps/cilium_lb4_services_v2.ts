// Mirrors Cilium's cilium_lb4_services_v2 map (bpf/lib/common.h struct lb4_key / lb4_service, pkg/maps/lbmap).

import type { MapSpec } from '../src/bpf/map.ts';
import type { EntryFormat } from './format.ts';
import { defineStruct } from './struct.ts';
import { dv, getIp4, ip4At, putIp4, u8protoName } from './util.ts';

/** struct lb4_key. */
export const LB4_KEY = defineStruct('lb4_key', {
  address: 'be32', dport: 'be16', backend_slot: 'u16', proto: 'u8', scope: 'u8', pad: ['u8', 2],
});
/** struct lb4_service; the first u32 is a union of backend_id, affinity_timeout:24 + lb_alg:8 and l7_lb_proxy_port. */
export const LB4_SERVICE = defineStruct('lb4_service', {
  backend_id: 'u32', count: 'u16', rev_nat_index: 'be16', flags: 'u8', flags2: 'u8', qcount: 'u16',
});

/** HASH, 12-byte lb4_key -> 12-byte lb4_service, DefaultLBMapMaxEntries 65536. */
export const CILIUM_LB4_SERVICES_V2: MapSpec = { name: 'cilium_lb4_services_v2', type: 'hash', keySize: LB4_KEY.size, valueSize: LB4_SERVICE.size, maxEntries: 65536, flags: 0 };

export const LB4_KEY_OFF_ADDRESS = LB4_KEY.off.address, LB4_KEY_OFF_DPORT = LB4_KEY.off.dport, LB4_KEY_OFF_BACKEND_SLOT = LB4_KEY.off.backend_slot,
  LB4_KEY_OFF_PROTO = LB4_KEY.off.proto, LB4_KEY_OFF_SCOPE = LB4_KEY.off.scope;
export const LB4_SVC_OFF_BACKEND_ID = LB4_SERVICE.off.backend_id, LB4_SVC_OFF_COUNT = LB4_SERVICE.off.count,
  LB4_SVC_OFF_REV_NAT_INDEX = LB4_SERVICE.off.rev_nat_index, LB4_SVC_OFF_FLAGS = LB4_SERVICE.off.flags, LB4_SVC_OFF_FLAGS2 = LB4_SERVICE.off.flags2,
  LB4_SVC_OFF_QCOUNT = LB4_SERVICE.off.qcount;
export const LB_SCOPE_EXTERNAL = 0, LB_SCOPE_INTERNAL = 1;

/** loadbalancer.ServiceFlags bits (flags | flags2 << 8). */
export const SVC_FLAG_EXTERNAL_IPS = 1 << 0, SVC_FLAG_NODEPORT = 1 << 1, SVC_FLAG_EXT_LOCAL_SCOPE = 1 << 2, SVC_FLAG_HOSTPORT = 1 << 3,
  SVC_FLAG_AFFINITY = 1 << 4, SVC_FLAG_LOADBALANCER = 1 << 5, SVC_FLAG_ROUTABLE = 1 << 6, SVC_FLAG_SOURCE_RANGE = 1 << 7,
  SVC_FLAG_LOCALREDIRECT = 1 << 8, SVC_FLAG_NAT_46X64 = 1 << 9, SVC_FLAG_L7_LOADBALANCER = 1 << 10, SVC_FLAG_LOOPBACK = 1 << 11,
  SVC_FLAG_INT_LOCAL_SCOPE = 1 << 12, SVC_FLAG_TWO_SCOPES = 1 << 13;

/** pkg/maps/lbmap Service4Key. `address` is a u32 host value; port in host order here. */
export class Service4Key {
  constructor(public address: number, public port: number, public proto: number, public backendSlot = 0, public scope = LB_SCOPE_EXTERNAL) {}
  encode(): Uint8Array {
    const b = new Uint8Array(LB4_KEY.size), d = dv(b);
    putIp4(b, LB4_KEY_OFF_ADDRESS, this.address);
    d.setUint16(LB4_KEY_OFF_DPORT, this.port, false);
    d.setUint16(LB4_KEY_OFF_BACKEND_SLOT, this.backendSlot, true);
    b[LB4_KEY_OFF_PROTO] = this.proto; b[LB4_KEY_OFF_SCOPE] = this.scope;
    return b;
  }
  static decode(b: Uint8Array): Service4Key {
    const d = dv(b);
    return new Service4Key(getIp4(b, LB4_KEY_OFF_ADDRESS), d.getUint16(LB4_KEY_OFF_DPORT, false), b[LB4_KEY_OFF_PROTO]!, d.getUint16(LB4_KEY_OFF_BACKEND_SLOT, true), b[LB4_KEY_OFF_SCOPE]!);
  }
  /** `10.96.0.10:53/UDP[/i] (slot)`; ANY protocol prints no `/PROTO`. */
  toString(): string {
    const p = this.proto === 0 ? '' : '/' + u8protoName(this.proto);
    return `${ip4At(this.encode(), LB4_KEY_OFF_ADDRESS)}:${this.port}${p}${this.scope === LB_SCOPE_INTERNAL ? '/i' : ''} (${this.backendSlot})`;
  }
}

/** pkg/maps/lbmap Service4Value; revNat in host order here (stored network order). */
export class Service4Value {
  constructor(public backendId: number, public count: number, public revNat: number, public flags = 0, public flags2 = 0, public qcount = 0) {}
  encode(): Uint8Array {
    const b = new Uint8Array(LB4_SERVICE.size), d = dv(b);
    d.setUint32(LB4_SVC_OFF_BACKEND_ID, this.backendId, true);
    d.setUint16(LB4_SVC_OFF_COUNT, this.count, true);
    d.setUint16(LB4_SVC_OFF_REV_NAT_INDEX, this.revNat, false);
    b[LB4_SVC_OFF_FLAGS] = this.flags; b[LB4_SVC_OFF_FLAGS2] = this.flags2;
    d.setUint16(LB4_SVC_OFF_QCOUNT, this.qcount, true);
    return b;
  }
  static decode(b: Uint8Array): Service4Value {
    const d = dv(b);
    return new Service4Value(d.getUint32(LB4_SVC_OFF_BACKEND_ID, true), d.getUint16(LB4_SVC_OFF_COUNT, true), d.getUint16(LB4_SVC_OFF_REV_NAT_INDEX, false),
      b[LB4_SVC_OFF_FLAGS]!, b[LB4_SVC_OFF_FLAGS2]!, d.getUint16(LB4_SVC_OFF_QCOUNT, true));
  }
  /** `backend_id count[qcount] (rev_nat) [0xflags 0xflags2]`. */
  toString(): string {
    return `${this.backendId} ${this.count}[${this.qcount}] (${this.revNat}) [0x${this.flags.toString(16)} 0x${this.flags2.toString(16)}]`;
  }
}

/** loadbalancer.ServiceFlags.String for a master slot: type first, then modifiers. */
export function serviceFlagsString(f: number): string {
  const s: string[] = [];
  if (f & SVC_FLAG_EXTERNAL_IPS) s.push('ExternalIPs');
  else if (f & SVC_FLAG_NODEPORT) s.push('NodePort');
  else if (f & SVC_FLAG_LOADBALANCER) s.push('LoadBalancer');
  else if (f & SVC_FLAG_HOSTPORT) s.push('HostPort');
  else if (f & SVC_FLAG_LOCALREDIRECT) s.push('LocalRedirect');
  else s.push('ClusterIP');
  if (f & SVC_FLAG_EXT_LOCAL_SCOPE) s.push('Local');
  if (f & SVC_FLAG_INT_LOCAL_SCOPE) s.push('InternalLocal');
  if (f & SVC_FLAG_TWO_SCOPES) s.push('two-scopes');
  if (f & SVC_FLAG_AFFINITY) s.push('sessionAffinity');
  if (!(f & SVC_FLAG_ROUTABLE)) s.push('non-routable');
  if (f & SVC_FLAG_SOURCE_RANGE) s.push('check source-range');
  if (f & SVC_FLAG_NAT_46X64) s.push('46x64');
  if (f & SVC_FLAG_L7_LOADBALANCER) s.push('l7-load-balancer');
  if (f & SVC_FLAG_LOOPBACK) s.push('loopback');
  return s.join(', ');
}

export const LB4_SERVICES_FORMAT: EntryFormat = {
  key: (k) => Service4Key.decode(k).toString(),
  value: (v) => Service4Value.decode(v).toString(),
};
