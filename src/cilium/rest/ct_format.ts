// cilium_ct4_global / cilium_ct_any4_global strings read straight from the
// bytes: the same text as CT4_FORMAT (maps/cilium_ct4_global.ts, which the
// test compares against) without decoding to objects, DataViews or BigInts,
// so a 100k-entry `map get` stays well under a second.

import { CtEntry, CT_ENTRY_OFF_BACKEND_ID, CT_ENTRY_OFF_BYTES, CT_ENTRY_OFF_FLAGS, CT_ENTRY_OFF_IFINDEX, CT_ENTRY_OFF_LAST_RX_REPORT,
  CT_ENTRY_OFF_LAST_TX_REPORT, CT_ENTRY_OFF_LIFETIME, CT_ENTRY_OFF_PACKETS, CT_ENTRY_OFF_REV_NAT_INDEX, CT_ENTRY_OFF_RX_FLAGS_SEEN,
  CT_ENTRY_OFF_SRC_SEC_ID, CT_ENTRY_OFF_TX_FLAGS_SEEN, CT_TUPLE_OFF_DADDR, CT_TUPLE_OFF_DPORT, CT_TUPLE_OFF_FLAGS, CT_TUPLE_OFF_NEXTHDR,
  CT_TUPLE_OFF_SADDR, CT_TUPLE_OFF_SPORT, TUPLE_F_IN, TUPLE_F_RELATED, TUPLE_F_SERVICE } from '../../../maps/cilium_ct4_global.ts';
import type { EntryFormat } from '../../../maps/format.ts';
import { hexN, ip4At, u8protoName } from '../../../maps/util.ts';

const u16be = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const u16le = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u32le = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
/** u64 little-endian as a number (exact below 2^53, as CtEntry keeps it). */
const u64le = (b: Uint8Array, o: number) => u32le(b, o) + u32le(b, o + 4) * 4294967296;

/** Flags strings by value: the few values a CT map holds, each printed once by CtEntry itself. */
const flagsText = new Map<number, string>();
function flagsString(f: number): string {
  let s = flagsText.get(f);
  if (s === undefined) { s = new CtEntry({ flags: f }).flagsString(); flagsText.set(f, s); }
  return s;
}

/** CtKey4Global.toString() from the tuple bytes. */
export function ctKeyString(k: Uint8Array): string {
  const nexthdr = k[CT_TUPLE_OFF_NEXTHDR]!;
  if (nexthdr === 0) return '';
  const flags = k[CT_TUPLE_OFF_FLAGS]!;
  let s = `${u8protoName(nexthdr)} ${flags & TUPLE_F_IN ? 'IN' : 'OUT'} ${ip4At(k, CT_TUPLE_OFF_DADDR)}:${u16be(k, CT_TUPLE_OFF_SPORT)} -> ${ip4At(k, CT_TUPLE_OFF_SADDR)}:${u16be(k, CT_TUPLE_OFF_DPORT)} `;
  if (flags & TUPLE_F_RELATED) s += 'related ';
  if (flags & TUPLE_F_SERVICE) s += 'service ';
  return s;
}

/** CtEntry.toString(remaining) from the entry bytes. */
export function ctValueString(v: Uint8Array, remaining?: string): string {
  return `expires=${u32le(v, CT_ENTRY_OFF_LIFETIME)}${remaining ? ` (${remaining})` : ''} Packets=${u64le(v, CT_ENTRY_OFF_PACKETS)} Bytes=${u64le(v, CT_ENTRY_OFF_BYTES)} ` +
    `RxFlagsSeen=${hexN(v[CT_ENTRY_OFF_RX_FLAGS_SEEN]!, 2)} LastRxReport=${u32le(v, CT_ENTRY_OFF_LAST_RX_REPORT)} TxFlagsSeen=${hexN(v[CT_ENTRY_OFF_TX_FLAGS_SEEN]!, 2)} ` +
    `LastTxReport=${u32le(v, CT_ENTRY_OFF_LAST_TX_REPORT)} ${flagsString(u16le(v, CT_ENTRY_OFF_FLAGS))} RevNAT=${u16be(v, CT_ENTRY_OFF_REV_NAT_INDEX)} ` +
    `SourceSecurityID=${u32le(v, CT_ENTRY_OFF_SRC_SEC_ID)} IfIndex=${u16le(v, CT_ENTRY_OFF_IFINDEX)} BackendID=${u64le(v, CT_ENTRY_OFF_BACKEND_ID)} `;
}

export const FAST_CT_FORMAT: EntryFormat = { key: ctKeyString, value: (v) => ctValueString(v) };
