// Mirrors Cilium's cilium_snat_v4_external map (bpf/lib/nat.h struct ipv4_nat_entry, pkg/maps/nat).

import type { MapSpec } from '../src/bpf/map.ts';
import { CtKey4Global, CT_TUPLE_OFF_DADDR, CT_TUPLE_OFF_SADDR, IPV4_CT_TUPLE, TUPLE_F_IN } from './cilium_ct4_global.ts';
import type { EntryFormat } from './format.ts';
import { defineStruct } from './struct.ts';
import { dv, getIp4, ip4At, putIp4, u8protoName } from './util.ts';

/** struct ipv4_nat_entry: struct nat_entry (created, needs_ct / host_local, pad1, pad2), then to_saddr, to_sport. */
export const IPV4_NAT_ENTRY = defineStruct('ipv4_nat_entry', {
  created: 'u64', needs_ct: 'u64', pad1: 'u64', pad2: 'u64', to_saddr: 'be32', to_sport: 'be16',
});

/** LRU_HASH, 14-byte tuple -> 40-byte nat entry, NATMapEntriesGlobalDefault 524288. */
export const CILIUM_SNAT_V4_EXTERNAL: MapSpec = { name: 'cilium_snat_v4_external', type: 'lru_hash', keySize: IPV4_CT_TUPLE.size, valueSize: IPV4_NAT_ENTRY.size, maxEntries: 524288, flags: 0 };
export const NAT_ENTRY_OFF_CREATED = IPV4_NAT_ENTRY.off.created, NAT_ENTRY_OFF_NEEDS_CT = IPV4_NAT_ENTRY.off.needs_ct,
  NAT_ENTRY_OFF_TO_SADDR = IPV4_NAT_ENTRY.off.to_saddr, NAT_ENTRY_OFF_TO_SPORT = IPV4_NAT_ENTRY.off.to_sport;

/** NatKey4: the same 14-byte tuple as CT (TupleKey4Global). */
export class NatKey4 extends CtKey4Global {
  static override decode(b: Uint8Array): NatKey4 { return new NatKey4(CtKey4Global.decode(b)); }
  /** TupleKey4.Dump(reverse=false): `<PROTO> OUT daddr... `: the NAT map stores tuples unswapped. */
  override toString(): string {
    if (this.nexthdr === 0) return '';
    const b = this.encode();
    const dir = this.flags & TUPLE_F_IN ? 'IN' : 'OUT';
    return `${u8protoName(this.nexthdr)} ${dir} ${ip4At(b, CT_TUPLE_OFF_SADDR)}:${this.sport} -> ${ip4At(b, CT_TUPLE_OFF_DADDR)}:${this.dport} `;
  }
}

/** NatEntry4; created in mono seconds; toSport host order here. */
export class NatEntry4 {
  constructor(public created: number, public needsCt: number, public toSaddr: number, public toSport: number) {}
  encode(): Uint8Array {
    const b = new Uint8Array(IPV4_NAT_ENTRY.size), d = dv(b);
    d.setBigUint64(NAT_ENTRY_OFF_CREATED, BigInt(this.created), true); d.setBigUint64(NAT_ENTRY_OFF_NEEDS_CT, BigInt(this.needsCt), true);
    putIp4(b, NAT_ENTRY_OFF_TO_SADDR, this.toSaddr); d.setUint16(NAT_ENTRY_OFF_TO_SPORT, this.toSport, false);
    return b;
  }
  static decode(b: Uint8Array): NatEntry4 {
    const d = dv(b);
    return new NatEntry4(Number(d.getBigUint64(NAT_ENTRY_OFF_CREATED, true)), Number(d.getBigUint64(NAT_ENTRY_OFF_NEEDS_CT, true)), getIp4(b, NAT_ENTRY_OFF_TO_SADDR), d.getUint16(NAT_ENTRY_OFF_TO_SPORT, false));
  }
  /** NatEntry4.Dump: `XLATE_SRC|XLATE_DST ip:port Created=Nsec ago NeedsCT=n`; nowSec = bpf mono seconds. */
  toString(ingress = false, nowSec?: number): string {
    const created = nowSec === undefined ? `? (raw ${this.created})` : `${nowSec - this.created}sec ago`;
    return `${ingress ? 'XLATE_DST' : 'XLATE_SRC'} ${ip4At(this.encode(), NAT_ENTRY_OFF_TO_SADDR)}:${this.toSport} Created=${created} NeedsCT=${this.needsCt}`;
  }
}

export const SNAT4_FORMAT: EntryFormat = {
  key: (k) => NatKey4.decode(k).toString(),
  value: (v) => NatEntry4.decode(v).toString(),
};

/** `bpf nat list` lines; nowSec converts Created to `Nsec ago`. */
export function formatNatList(entries: Array<[Uint8Array, Uint8Array]>, nowSec?: number): string {
  let s = '';
  for (const [k, v] of entries) {
    const key = NatKey4.decode(k);
    const ks = key.toString();
    if (ks) s += ks + NatEntry4.decode(v).toString((key.flags & TUPLE_F_IN) !== 0, nowSec) + '\n';
  }
  return s;
}
