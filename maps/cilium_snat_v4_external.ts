// Mirrors Cilium's cilium_snat_v4_external map (bpf/lib/nat.h struct ipv4_nat_entry, pkg/maps/nat).

import type { MapSpec } from '../src/bpf/map.ts';
import { CtKey4Global, TUPLE_F_IN } from './cilium_ct4_global.ts';
import type { EntryFormat } from './format.ts';
import { dv, getIp4, ip4At, putIp4, u8protoName } from './util.ts';

/** LRU_HASH, 14-byte tuple -> 40-byte nat entry, NATMapEntriesGlobalDefault 524288. */
export const CILIUM_SNAT_V4_EXTERNAL: MapSpec = { name: 'cilium_snat_v4_external', type: 'lru_hash', keySize: 14, valueSize: 40, maxEntries: 524288, flags: 0 };
/** ipv4_nat_entry offsets: created (u64 mono seconds), needs_ct / host_local, to_saddr (network), to_sport (network). */
export const NAT_ENTRY_OFF_CREATED = 0, NAT_ENTRY_OFF_NEEDS_CT = 8, NAT_ENTRY_OFF_TO_SADDR = 32, NAT_ENTRY_OFF_TO_SPORT = 36;

/** NatKey4: the same 14-byte tuple as CT (TupleKey4Global). */
export class NatKey4 extends CtKey4Global {
  static override decode(b: Uint8Array): NatKey4 { return new NatKey4(CtKey4Global.decode(b)); }
  /** TupleKey4.Dump(reverse=false): `<PROTO> OUT daddr... `: the NAT map stores tuples unswapped. */
  override toString(): string {
    if (this.nexthdr === 0) return '';
    const b = this.encode();
    const dir = this.flags & TUPLE_F_IN ? 'IN' : 'OUT';
    return `${u8protoName(this.nexthdr)} ${dir} ${ip4At(b, 4)}:${this.sport} -> ${ip4At(b, 0)}:${this.dport} `;
  }
}

/** NatEntry4; created in mono seconds; toSport host order here. */
export class NatEntry4 {
  constructor(public created: number, public needsCt: number, public toSaddr: number, public toSport: number) {}
  encode(): Uint8Array {
    const b = new Uint8Array(40), d = dv(b);
    d.setBigUint64(0, BigInt(this.created), true); d.setBigUint64(8, BigInt(this.needsCt), true);
    putIp4(b, NAT_ENTRY_OFF_TO_SADDR, this.toSaddr); d.setUint16(NAT_ENTRY_OFF_TO_SPORT, this.toSport, false);
    return b;
  }
  static decode(b: Uint8Array): NatEntry4 {
    const d = dv(b);
    return new NatEntry4(Number(d.getBigUint64(0, true)), Number(d.getBigUint64(8, true)), getIp4(b, NAT_ENTRY_OFF_TO_SADDR), d.getUint16(NAT_ENTRY_OFF_TO_SPORT, false));
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
