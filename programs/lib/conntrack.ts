// Mirrors bpf/lib/conntrack.h: ct_lookup4 / ct_create4 on cilium_ct4_global
// (TCP) and cilium_ct_any4_global (others), with Cilium's lifetimes and the
// `monitor` value that drives trace aggregation (report on new flows, new TCP
// flags, close, and at most every CT_REPORT_INTERVAL otherwise).

import { runLocal, type Runtime } from '../../src/bpf/program.ts';
import type { BpfMap } from '../../src/bpf/map.ts';
import type { DatapathEnv } from './common.ts';
import {
  CT_ENTRY, IPV4_CT_TUPLE, TUPLE_F_OUT, TUPLE_F_IN, CT_F_RX_CLOSING as CTF_RX_CLOSING, CT_F_TX_CLOSING as CTF_TX_CLOSING,
  CT_F_SEEN_NON_SYN as CTF_SEEN_NON_SYN, CT_F_NODE_PORT as CTF_NODE_PORT,
} from '../../maps/cilium_ct4_global.ts';
import { u16be, u32be, setU16be, setU32be, u16le, setU16le, u32le, setU32le, u64le, setU64le } from './bytes.ts';
import { TRACE_PAYLOAD_LEN } from './trace.ts';

// Offsets from the structs' one description (maps/). As ct_lookup4 stores a
// tuple, daddr holds the packet's source and saddr its destination (cilium#5848).
const TUPLE_SIZE = IPV4_CT_TUPLE.size, TUPLE_A0 = IPV4_CT_TUPLE.off.daddr, TUPLE_A1 = IPV4_CT_TUPLE.off.saddr,
  TUPLE_P8 = IPV4_CT_TUPLE.off.dport, TUPLE_P10 = IPV4_CT_TUPLE.off.sport, TUPLE_NEXTHDR = IPV4_CT_TUPLE.off.nexthdr,
  TUPLE_FLAGS = IPV4_CT_TUPLE.off.flags;
const CT_SIZE = CT_ENTRY.size, CT_BACKEND_ID = CT_ENTRY.off.backend_id, CT_PACKETS = CT_ENTRY.off.packets, CT_BYTES = CT_ENTRY.off.bytes,
  CT_LIFETIME = CT_ENTRY.off.lifetime, CT_FLAGS = CT_ENTRY.off.flags, CT_REV_NAT = CT_ENTRY.off.rev_nat_index,
  CT_TX_FLAGS_SEEN = CT_ENTRY.off.tx_flags_seen, CT_RX_FLAGS_SEEN = CT_ENTRY.off.rx_flags_seen, CT_SRC_SEC_ID = CT_ENTRY.off.src_sec_id,
  CT_LAST_TX_REPORT = CT_ENTRY.off.last_tx_report, CT_LAST_RX_REPORT = CT_ENTRY.off.last_rx_report;

export const CT_NEW = 0, CT_ESTABLISHED = 1, CT_REPLY = 2, CT_RELATED = 3;
export const CT_CONNECTION_LIFETIME_TCP = 21600, CT_CONNECTION_LIFETIME_NONTCP = 60, CT_SYN_TIMEOUT = 60,
  CT_CLOSE_TIMEOUT = 10, CT_REPORT_INTERVAL = 5;
const TCP_FIN = 1, TCP_SYN = 2, TCP_RST = 4;

/** struct ct_state: what a lookup returns besides the status. */
export interface CtState { revNat: number; backendId: number; srcSecId: number; monitor: number; closing: boolean; nodePort: boolean }
/**
 * The run's conntrack scratch: its struct ct_state, the forward tuple of its last
 * lookup (what ct_create4 stores), the reverse tuple and the entry being created.
 */
interface CtScratch { state: CtState; tuple: Uint8Array; rev: Uint8Array; entry: Uint8Array }
const CT = runLocal<CtScratch>(() => ({
  state: { revNat: 0, backendId: 0, srcSecId: 0, monitor: 0, closing: false, nodePort: false },
  tuple: new Uint8Array(TUPLE_SIZE), rev: new Uint8Array(TUPLE_SIZE), entry: new Uint8Array(CT_SIZE),
}));

/** The run's struct ct_state, as the last ctLookup4 left it. */
export function ctState(rt: Runtime): CtState { return rt.local(CT).state; }

/** The CT map for an L4 protocol. */
export function ctMapFor(env: DatapathEnv, proto: number): BpfMap { return proto === 6 ? env.maps.ct4 : env.maps.ctAny4; }

/**
 * Fill `t` with the tuple of the packet at ipOff/l4off as Cilium stores it
 * for direction `flags`: src@0, dst@4, dport@8, sport@10. ICMP echo uses the
 * identifier as the requester's port so that replies match.
 */
export function buildTuple4(t: Uint8Array, d: Uint8Array, ipOff: number, l4off: number, proto: number, flags: number): void {
  setU32be(t, TUPLE_A0, u32be(d, ipOff + 12)); setU32be(t, TUPLE_A1, u32be(d, ipOff + 16));
  let sport = 0, dport = 0;
  if (proto === 6 || proto === 17) { sport = u16be(d, l4off); dport = u16be(d, l4off + 2); }
  else if (proto === 1) {
    const type = d[l4off]!;
    if (type === 8) sport = u16be(d, l4off + 4); else if (type === 0) dport = u16be(d, l4off + 4);
  }
  setU16be(t, TUPLE_P8, dport); setU16be(t, TUPLE_P10, sport);
  t[TUPLE_NEXTHDR] = proto; t[TUPLE_FLAGS] = flags;
}

/** ipv4_ct_tuple_reverse(): swap addresses and ports, flip IN/OUT. */
export function reverseTuple4(dst: Uint8Array, src: Uint8Array): void {
  for (let i = 0; i < 4; i++) { dst[TUPLE_A0 + i] = src[TUPLE_A1 + i]!; dst[TUPLE_A1 + i] = src[TUPLE_A0 + i]!; }
  for (let i = 0; i < 2; i++) { dst[TUPLE_P8 + i] = src[TUPLE_P10 + i]!; dst[TUPLE_P10 + i] = src[TUPLE_P8 + i]!; }
  dst[TUPLE_NEXTHDR] = src[TUPLE_NEXTHDR]!;
  const f = src[TUPLE_FLAGS]!;
  dst[TUPLE_FLAGS] = (f & ~1) | (f & TUPLE_F_IN ? TUPLE_F_OUT : TUPLE_F_IN);
}

/** ct_update_timeout(): refresh lifetime and decide whether this packet is reported. */
function updateTimeout(e: Uint8Array, tcp: boolean, tcpFlags: number, rx: boolean, now: number): number {
  let flags = u16le(e, CT_FLAGS);
  let lifetime = CT_CONNECTION_LIFETIME_NONTCP;
  if (tcp) {
    if (!(tcpFlags & TCP_SYN)) flags |= CTF_SEEN_NON_SYN;
    lifetime = flags & CTF_SEEN_NON_SYN ? CT_CONNECTION_LIFETIME_TCP : CT_SYN_TIMEOUT;
    setU16le(e, CT_FLAGS, flags);
  }
  setU32le(e, CT_LIFETIME, now + lifetime);
  const fo = rx ? CT_RX_FLAGS_SEEN : CT_TX_FLAGS_SEEN, ro = rx ? CT_LAST_RX_REPORT : CT_LAST_TX_REPORT;
  const acc = e[fo]!; const seen = (tcpFlags & 0xff) | acc;
  // A direction never reported yet (last report 0) reports now: on a real node bpf_mono_now() is far past 0.
  // A report made at mono second 0 also leaves 0; the entries whose reply direction reported are remembered
  // (flags cannot tell it for UDP, which has none: every reply in that second would report).
  const last = u32le(e, ro);
  if ((rx && last === 0 && !rxReported.has(e)) || last + CT_REPORT_INTERVAL < now || acc !== seen) {
    e[fo] = seen; setU32le(e, ro, now);
    if (rx) rxReported.add(e);
    return TRACE_PAYLOAD_LEN;
  }
  return 0;
}

/** Entries (the map's value bytes, updated in place; ctCreate4 forgets a reused slot) whose reply direction has reported once. */
const rxReported = new WeakSet<Uint8Array>();

/** Account a packet on a found entry; returns the monitor value. */
function touch(e: Uint8Array, tcp: boolean, tcpFlags: number, rx: boolean, bytes: number, now: number): number {
  setU64le(e, CT_PACKETS, u64le(e, CT_PACKETS) + 1);
  setU64le(e, CT_BYTES, u64le(e, CT_BYTES) + bytes);
  let flags = u16le(e, CT_FLAGS);
  const wasDead = (flags & (CTF_RX_CLOSING | CTF_TX_CLOSING)) === (CTF_RX_CLOSING | CTF_TX_CLOSING);
  if (tcp && tcpFlags & (TCP_FIN | TCP_RST)) {
    flags |= rx ? CTF_RX_CLOSING : CTF_TX_CLOSING;
    setU16le(e, CT_FLAGS, flags);
    updateTimeout(e, tcp, tcpFlags, rx, now);
    if ((flags & (CTF_RX_CLOSING | CTF_TX_CLOSING)) === (CTF_RX_CLOSING | CTF_TX_CLOSING)) setU32le(e, CT_LIFETIME, now + CT_CLOSE_TIMEOUT);
    return TRACE_PAYLOAD_LEN;
  }
  // The last ACK of a closed connection is reported too (as seen on a real 1.16 node).
  if (wasDead) return TRACE_PAYLOAD_LEN;
  return updateTimeout(e, tcp, tcpFlags, rx, now);
}

function fillState(st: CtState, e: Uint8Array, monitor: number): void {
  st.revNat = u16be(e, CT_REV_NAT); st.backendId = u32le(e, CT_BACKEND_ID);
  st.srcSecId = u32le(e, CT_SRC_SEC_ID); st.monitor = monitor;
  st.closing = (u16le(e, CT_FLAGS) & (CTF_RX_CLOSING | CTF_TX_CLOSING)) !== 0;
  st.nodePort = (u16le(e, CT_FLAGS) & CTF_NODE_PORT) !== 0;
}

/**
 * ct_lookup4(): dir is TUPLE_F_OUT (egress) or TUPLE_F_IN (ingress).
 * Returns CT_NEW / CT_ESTABLISHED / CT_REPLY and fills the run's ct_state and tuple.
 */
export function ctLookup4(rt: Runtime, env: DatapathEnv, d: Uint8Array, len: number, ipOff: number, l4off: number, proto: number, dir: number): number {
  const map = ctMapFor(env, proto);
  const now = rt.kernel.monoSeconds();
  const tcp = proto === 6;
  const tcpFlags = tcp ? d[l4off + 13]! : 0;
  const s = rt.local(CT), st = s.state;
  buildTuple4(s.tuple, d, ipOff, l4off, proto, dir);
  let e = rt.mapLookup(map, s.tuple);
  if (e && u32le(e, CT_LIFETIME) >= now) {
    fillState(st, e, touch(e, tcp, tcpFlags, false, len, now));
    return CT_ESTABLISHED;
  }
  reverseTuple4(s.rev, s.tuple);
  e = rt.mapLookup(map, s.rev);
  if (e && u32le(e, CT_LIFETIME) >= now) {
    fillState(st, e, touch(e, tcp, tcpFlags, true, len, now));
    return CT_REPLY;
  }
  st.revNat = 0; st.backendId = 0; st.srcSecId = 0; st.monitor = TRACE_PAYLOAD_LEN; st.closing = false; st.nodePort = false;
  return CT_NEW;
}

/** ct_create4(): store the tuple of the run's last lookup. Returns 0 or a negative errno when the map is full. */
export function ctCreate4(rt: Runtime, env: DatapathEnv, d: Uint8Array, len: number, l4off: number, proto: number,
  revNat: number, backendId: number, srcSecId: number, nodePort = false): number {
  const now = rt.kernel.monoSeconds();
  const s = rt.local(CT);
  const e = s.entry; e.fill(0);
  setU64le(e, CT_BACKEND_ID, backendId);
  setU64le(e, CT_PACKETS, 1); setU64le(e, CT_BYTES, len);
  setU16be(e, CT_REV_NAT, revNat);
  setU32le(e, CT_SRC_SEC_ID, srcSecId);
  if (nodePort) setU16le(e, CT_FLAGS, CTF_NODE_PORT);
  const tcp = proto === 6;
  updateTimeout(e, tcp, tcp ? d[l4off + 13]! : 0, false, now);
  setU32le(e, CT_LAST_TX_REPORT, now);
  const map = ctMapFor(env, proto);
  const r = rt.mapUpdate(map, s.tuple, e, 0);
  // The map hands out one view per slot: a new entry in a reused slot has not reported its replies.
  const stored = r === 0 ? rt.mapLookup(map, s.tuple) : undefined;
  if (stored) rxReported.delete(stored);
  return r;
}
