// Mirrors Cilium's cilium_ct4_global map (bpf/lib/common.h struct ipv4_ct_tuple / ct_entry, pkg/maps/ctmap).

import type { MapSpec } from '../src/bpf/map.ts';
import type { EntryFormat } from './format.ts';
import { defineStruct } from './struct.ts';
import { dv, getIp4, hexN, ip4At, putIp4, u8protoName } from './util.ts';

/** struct ipv4_ct_tuple (__packed). */
export const IPV4_CT_TUPLE = defineStruct('ipv4_ct_tuple', {
  daddr: 'be32', saddr: 'be32', dport: 'be16', sport: 'be16', nexthdr: 'u8', flags: 'u8',
}, { packed: true });
/** struct ct_entry (1.16): the u16 after lifetime holds the rx_closing... from_tunnel bit fields. */
export const CT_ENTRY = defineStruct('ct_entry', {
  reserved0: 'u64', backend_id: 'u64', packets: 'u64', bytes: 'u64', lifetime: 'u32', flags: 'u16', rev_nat_index: 'be16',
  ifindex: 'u16', tx_flags_seen: 'u8', rx_flags_seen: 'u8', src_sec_id: 'u32', last_tx_report: 'u32', last_rx_report: 'u32',
});

/** LRU_HASH, 14-byte packed tuple -> 56-byte ct_entry, CTMapEntriesGlobalTCPDefault 2<<18. */
export const CILIUM_CT4_GLOBAL: MapSpec = { name: 'cilium_ct4_global', type: 'lru_hash', keySize: IPV4_CT_TUPLE.size, valueSize: CT_ENTRY.size, maxEntries: 524288, flags: 0 };

export const CT_TUPLE_OFF_DADDR = IPV4_CT_TUPLE.off.daddr, CT_TUPLE_OFF_SADDR = IPV4_CT_TUPLE.off.saddr, CT_TUPLE_OFF_DPORT = IPV4_CT_TUPLE.off.dport,
  CT_TUPLE_OFF_SPORT = IPV4_CT_TUPLE.off.sport, CT_TUPLE_OFF_NEXTHDR = IPV4_CT_TUPLE.off.nexthdr, CT_TUPLE_OFF_FLAGS = IPV4_CT_TUPLE.off.flags;
export const TUPLE_F_OUT = 0, TUPLE_F_IN = 1, TUPLE_F_RELATED = 2, TUPLE_F_SERVICE = 4;

export const CT_ENTRY_OFF_BACKEND_ID = CT_ENTRY.off.backend_id, CT_ENTRY_OFF_PACKETS = CT_ENTRY.off.packets, CT_ENTRY_OFF_BYTES = CT_ENTRY.off.bytes,
  CT_ENTRY_OFF_LIFETIME = CT_ENTRY.off.lifetime, CT_ENTRY_OFF_FLAGS = CT_ENTRY.off.flags, CT_ENTRY_OFF_REV_NAT_INDEX = CT_ENTRY.off.rev_nat_index,
  CT_ENTRY_OFF_IFINDEX = CT_ENTRY.off.ifindex, CT_ENTRY_OFF_TX_FLAGS_SEEN = CT_ENTRY.off.tx_flags_seen, CT_ENTRY_OFF_RX_FLAGS_SEEN = CT_ENTRY.off.rx_flags_seen,
  CT_ENTRY_OFF_SRC_SEC_ID = CT_ENTRY.off.src_sec_id, CT_ENTRY_OFF_LAST_TX_REPORT = CT_ENTRY.off.last_tx_report,
  CT_ENTRY_OFF_LAST_RX_REPORT = CT_ENTRY.off.last_rx_report;
/** ct_entry flag bits (the u16 at CT_ENTRY_OFF_FLAGS). */
export const CT_F_RX_CLOSING = 1 << 0, CT_F_TX_CLOSING = 1 << 1, CT_F_NAT64 = 1 << 2, CT_F_LB_LOOPBACK = 1 << 3, CT_F_SEEN_NON_SYN = 1 << 4,
  CT_F_NODE_PORT = 1 << 5, CT_F_PROXY_REDIRECT = 1 << 6, CT_F_DSR_INTERNAL = 1 << 7, CT_F_FROM_L7LB = 1 << 8, CT_F_FROM_TUNNEL = 1 << 10;
const CT_MAX_FLAGS = 1 << 11;

/** Tuple fields as stored (C names; addresses u32 host values, ports host order here). */
export interface CtTuple4 { daddr: number; saddr: number; dport: number; sport: number; nexthdr: number; flags: number }

/** pkg/maps/ctmap CtKey4Global (wraps tuple.TupleKey4Global). */
export class CtKey4Global implements CtTuple4 {
  daddr: number; saddr: number; dport: number; sport: number; nexthdr: number; flags: number;
  constructor(t: CtTuple4) { this.daddr = t.daddr; this.saddr = t.saddr; this.dport = t.dport; this.sport = t.sport; this.nexthdr = t.nexthdr; this.flags = t.flags; }
  encode(): Uint8Array {
    const b = new Uint8Array(IPV4_CT_TUPLE.size), d = dv(b);
    putIp4(b, CT_TUPLE_OFF_DADDR, this.daddr); putIp4(b, CT_TUPLE_OFF_SADDR, this.saddr);
    d.setUint16(CT_TUPLE_OFF_DPORT, this.dport, false); d.setUint16(CT_TUPLE_OFF_SPORT, this.sport, false);
    b[CT_TUPLE_OFF_NEXTHDR] = this.nexthdr; b[CT_TUPLE_OFF_FLAGS] = this.flags;
    return b;
  }
  static decode(b: Uint8Array): CtKey4Global {
    const d = dv(b);
    return new CtKey4Global({ daddr: getIp4(b, CT_TUPLE_OFF_DADDR), saddr: getIp4(b, CT_TUPLE_OFF_SADDR), dport: d.getUint16(CT_TUPLE_OFF_DPORT, false),
      sport: d.getUint16(CT_TUPLE_OFF_SPORT, false), nexthdr: b[CT_TUPLE_OFF_NEXTHDR]!, flags: b[CT_TUPLE_OFF_FLAGS]! });
  }
  /**
   * TupleKey4.Dump(reverse=true) as `bpf ct list global` prints it: CT keys
   * hold addresses swapped (cilium#5848), so the dump prints
   * `<PROTO> OUT daddr:sport -> saddr:dport ` in C field names. Empty for nexthdr 0.
   */
  toString(): string {
    if (this.nexthdr === 0) return '';
    const b = this.encode();
    const dir = this.flags & TUPLE_F_IN ? 'IN' : 'OUT';
    let s = `${u8protoName(this.nexthdr)} ${dir} ${ip4At(b, CT_TUPLE_OFF_DADDR)}:${this.sport} -> ${ip4At(b, CT_TUPLE_OFF_SADDR)}:${this.dport} `;
    if (this.flags & TUPLE_F_RELATED) s += 'related ';
    if (this.flags & TUPLE_F_SERVICE) s += 'service ';
    return s;
  }
}

/** ct_entry fields; u64 counters as numbers (exact below 2^53). revNat in host order here. */
export interface CtEntryFields {
  backendId: number; packets: number; bytes: number; lifetime: number; flags: number; revNat: number; ifindex: number;
  txFlagsSeen: number; rxFlagsSeen: number; sourceSecurityId: number; lastTxReport: number; lastRxReport: number;
}

/** pkg/maps/ctmap CtEntry. */
export class CtEntry implements CtEntryFields {
  backendId = 0; packets = 0; bytes = 0; lifetime = 0; flags = 0; revNat = 0; ifindex = 0;
  txFlagsSeen = 0; rxFlagsSeen = 0; sourceSecurityId = 0; lastTxReport = 0; lastRxReport = 0;
  constructor(f: Partial<CtEntryFields> = {}) { Object.assign(this, f); }
  encode(): Uint8Array {
    const b = new Uint8Array(CT_ENTRY.size), d = dv(b);
    d.setBigUint64(CT_ENTRY_OFF_BACKEND_ID, BigInt(this.backendId), true);
    d.setBigUint64(CT_ENTRY_OFF_PACKETS, BigInt(this.packets), true);
    d.setBigUint64(CT_ENTRY_OFF_BYTES, BigInt(this.bytes), true);
    d.setUint32(CT_ENTRY_OFF_LIFETIME, this.lifetime, true);
    d.setUint16(CT_ENTRY_OFF_FLAGS, this.flags, true);
    d.setUint16(CT_ENTRY_OFF_REV_NAT_INDEX, this.revNat, false);
    d.setUint16(CT_ENTRY_OFF_IFINDEX, this.ifindex, true);
    b[CT_ENTRY_OFF_TX_FLAGS_SEEN] = this.txFlagsSeen; b[CT_ENTRY_OFF_RX_FLAGS_SEEN] = this.rxFlagsSeen;
    d.setUint32(CT_ENTRY_OFF_SRC_SEC_ID, this.sourceSecurityId, true);
    d.setUint32(CT_ENTRY_OFF_LAST_TX_REPORT, this.lastTxReport, true);
    d.setUint32(CT_ENTRY_OFF_LAST_RX_REPORT, this.lastRxReport, true);
    return b;
  }
  static decode(b: Uint8Array): CtEntry {
    const d = dv(b);
    return new CtEntry({
      backendId: Number(d.getBigUint64(CT_ENTRY_OFF_BACKEND_ID, true)), packets: Number(d.getBigUint64(CT_ENTRY_OFF_PACKETS, true)),
      bytes: Number(d.getBigUint64(CT_ENTRY_OFF_BYTES, true)), lifetime: d.getUint32(CT_ENTRY_OFF_LIFETIME, true),
      flags: d.getUint16(CT_ENTRY_OFF_FLAGS, true), revNat: d.getUint16(CT_ENTRY_OFF_REV_NAT_INDEX, false),
      ifindex: d.getUint16(CT_ENTRY_OFF_IFINDEX, true), txFlagsSeen: b[CT_ENTRY_OFF_TX_FLAGS_SEEN]!, rxFlagsSeen: b[CT_ENTRY_OFF_RX_FLAGS_SEEN]!,
      sourceSecurityId: d.getUint32(CT_ENTRY_OFF_SRC_SEC_ID, true), lastTxReport: d.getUint32(CT_ENTRY_OFF_LAST_TX_REPORT, true),
      lastRxReport: d.getUint32(CT_ENTRY_OFF_LAST_RX_REPORT, true),
    });
  }
  /** `Flags=0x%04x [ Names ]`. */
  flagsString(): string {
    const names: Array<[number, string]> = [[CT_F_RX_CLOSING, 'RxClosing'], [CT_F_TX_CLOSING, 'TxClosing'], [CT_F_NAT64, 'Nat64'],
      [CT_F_LB_LOOPBACK, 'LBLoopback'], [CT_F_SEEN_NON_SYN, 'SeenNonSyn'], [CT_F_NODE_PORT, 'NodePort'], [CT_F_PROXY_REDIRECT, 'ProxyRedirect'],
      [CT_F_DSR_INTERNAL, 'DSRInternal'], [CT_F_FROM_L7LB, 'FromL7LB'], [CT_F_FROM_TUNNEL, 'FromTunnel']];
    let s = `Flags=${hexN(this.flags, 4)} [ `;
    for (const [bit, n] of names) if (this.flags & bit) s += n + ' ';
    const unknown = this.flags & ~(CT_MAX_FLAGS - 1);
    if (unknown) s += `Unknown=${hexN(unknown, 4)} `;
    return s + ']';
  }
  /** CtEntry.StringWithTimeDiff; `remaining` adds ` (remaining: N sec(s))` like `bpf ct list -d`. */
  toString(remaining?: string): string {
    return `expires=${this.lifetime}${remaining ? ` (${remaining})` : ''} Packets=${this.packets} Bytes=${this.bytes} ` +
      `RxFlagsSeen=${hexN(this.rxFlagsSeen, 2)} LastRxReport=${this.lastRxReport} TxFlagsSeen=${hexN(this.txFlagsSeen, 2)} ` +
      `LastTxReport=${this.lastTxReport} ${this.flagsString()} RevNAT=${this.revNat} SourceSecurityID=${this.sourceSecurityId} ` +
      `IfIndex=${this.ifindex} BackendID=${this.backendId} `;
  }
}

export const CT4_FORMAT: EntryFormat = {
  key: (k) => CtKey4Global.decode(k).toString(),
  value: (v) => CtEntry.decode(v).toString(),
};

/** One `bpf ct list global` line per entry: `<key dump><value string>`. */
export function formatCtList(entries: Array<[Uint8Array, Uint8Array]>): string {
  let s = '';
  for (const [k, v] of entries) {
    const key = CtKey4Global.decode(k).toString();
    if (key) s += key + CtEntry.decode(v).toString() + '\n';
  }
  return s;
}
