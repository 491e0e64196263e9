// Mirrors bpf/lib/nat.h: BPF masquerade (snat_v4_nat / snat_v4_rev_nat) with
// cilium_snat_v4_external entries for both directions. The source port is
// kept when free, else drawn with prandom (as snat_v4_new_mapping retries).

import { runLocal, type Runtime } from '../../src/bpf/program.ts';
import type { DatapathEnv } from './common.ts';
import { IPV4_CT_TUPLE, TUPLE_F_IN, TUPLE_F_OUT } from '../../maps/cilium_ct4_global.ts';
import { IPV4_NAT_ENTRY } from '../../maps/cilium_snat_v4_external.ts';
import { u16be, u32be, setU16be, setU32be, setU64le } from './bytes.ts';
import { rewriteAddr, rewritePort } from './csum.ts';

// Offsets from the structs' one description (maps/).
const TUPLE_SIZE = IPV4_CT_TUPLE.size, TUPLE_DADDR = IPV4_CT_TUPLE.off.daddr, TUPLE_SADDR = IPV4_CT_TUPLE.off.saddr,
  TUPLE_DPORT = IPV4_CT_TUPLE.off.dport, TUPLE_SPORT = IPV4_CT_TUPLE.off.sport, TUPLE_NEXTHDR = IPV4_CT_TUPLE.off.nexthdr,
  TUPLE_FLAGS = IPV4_CT_TUPLE.off.flags;
const NAT_SIZE = IPV4_NAT_ENTRY.size, NAT_CREATED = IPV4_NAT_ENTRY.off.created, NAT_NEEDS_CT = IPV4_NAT_ENTRY.off.needs_ct,
  NAT_TO_ADDR = IPV4_NAT_ENTRY.off.to_saddr, NAT_TO_PORT = IPV4_NAT_ENTRY.off.to_sport;

/** The run's NAT scratch: both directions' tuples and entries. */
const NAT = runLocal(() => ({ outKey: new Uint8Array(TUPLE_SIZE), inKey: new Uint8Array(TUPLE_SIZE), outVal: new Uint8Array(NAT_SIZE), inVal: new Uint8Array(NAT_SIZE) }));
const NAT_MIN_PORT = 32768, NAT_MAX_PORT = 65535, SNAT_COLLISION_RETRIES = 32;

/** Offsets of the (source, destination) "ports" of a packet: L4 ports, or the ICMP echo id. */
function portOffs(d: Uint8Array, l4off: number, proto: number): [number, number] {
  if (proto === 6 || proto === 17) return [l4off, l4off + 2];
  if (proto === 1) { const t = d[l4off]!; return t === 8 ? [l4off + 4, -1] : t === 0 ? [-1, l4off + 4] : [-1, -1]; }
  return [-1, -1];
}
function rd(d: Uint8Array, o: number): number { return o < 0 ? 0 : u16be(d, o); }

/** NAT tuple as the nat map stores it (C names, unswapped). */
export function natTuple(t: Uint8Array, dst: number, src: number, sport: number, dport: number, proto: number, flags: number): Uint8Array {
  setU32be(t, TUPLE_DADDR, dst); setU32be(t, TUPLE_SADDR, src); setU16be(t, TUPLE_DPORT, dport); setU16be(t, TUPLE_SPORT, sport);
  t[TUPLE_NEXTHDR] = proto; t[TUPLE_FLAGS] = flags; return t;
}
/** An ipv4_nat_entry: created (mono seconds), needs_ct, translation address and port. */
export function natEntry(v: Uint8Array, created: number, addr: number, port: number): Uint8Array {
  v.fill(0); setU64le(v, NAT_CREATED, created); setU64le(v, NAT_NEEDS_CT, 1);
  setU32be(v, NAT_TO_ADDR, addr); setU16be(v, NAT_TO_PORT, port); return v;
}
/** The translation address and port of an ipv4_nat_entry. */
export function natToAddr(v: Uint8Array): number { return u32be(v, NAT_TO_ADDR); }
export function natToPort(v: Uint8Array): number { return u16be(v, NAT_TO_PORT); }

export const NAT_OK = 0, NAT_NO_MAPPING = -1, NAT_UNSUPP = -2;

/** snat_v4_nat(): masquerade the packet's source to `to`. Returns NAT_OK or a failure. */
export function snatV4Egress(rt: Runtime, env: DatapathEnv, d: Uint8Array, ipOff: number, l4off: number, proto: number, to: number): number {
  const [so, doff] = portOffs(d, l4off, proto);
  if (so < 0 && doff < 0 && proto !== 1) return NAT_UNSUPP;
  const src = u32be(d, ipOff + 12), dst = u32be(d, ipOff + 16);
  const sport = rd(d, so), dport = rd(d, doff);
  const map = env.maps.snat4;
  const { outKey, inKey, outVal, inVal } = rt.local(NAT);
  natTuple(outKey, dst, src, sport, dport, proto, TUPLE_F_OUT);
  let v = rt.mapLookup(map, outKey);
  if (!v) {
    const now = rt.kernel.ktimeNs() / 1e9;
    let port = sport;
    for (let i = 0; i <= SNAT_COLLISION_RETRIES; i++) {
      if (i > 0 || port === 0 && proto !== 1) port = NAT_MIN_PORT + (rt.kernel.prandomU32() % (NAT_MAX_PORT - NAT_MIN_PORT + 1));
      natTuple(inKey, to, dst, dport, port, proto, TUPLE_F_IN);
      if (!rt.mapLookup(map, inKey)) break;
      if (i === SNAT_COLLISION_RETRIES) return NAT_NO_MAPPING;
    }
    natEntry(inVal, Math.floor(now), src, sport);
    natEntry(outVal, Math.floor(now), to, port);
    if (rt.mapUpdate(map, inKey, inVal, 0) !== 0) return NAT_NO_MAPPING;
    if (rt.mapUpdate(map, outKey, outVal, 0) !== 0) { rt.mapDelete(map, inKey); return NAT_NO_MAPPING; }
    v = outVal;
  }
  rewriteAddr(d, ipOff + 12, proto, l4off, natToAddr(v));
  if (so >= 0) rewritePort(d, so, proto, l4off, natToPort(v));
  return NAT_OK;
}

/** snat_v4_rev_nat(): translate a reply to a masqueraded flow back. True when it was one. */
export function snatV4RevIngress(rt: Runtime, env: DatapathEnv, d: Uint8Array, ipOff: number, l4off: number, proto: number): boolean {
  const [so, doff] = portOffs(d, l4off, proto);
  const inKey = rt.local(NAT).inKey;
  natTuple(inKey, u32be(d, ipOff + 16), u32be(d, ipOff + 12), rd(d, so), rd(d, doff), proto, TUPLE_F_IN);
  const v = rt.mapLookup(env.maps.snat4, inKey);
  if (!v) return false;
  rewriteAddr(d, ipOff + 16, proto, l4off, natToAddr(v));
  if (doff >= 0) rewritePort(d, doff, proto, l4off, natToPort(v));
  return true;
}
