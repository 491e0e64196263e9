// Mirrors bpf/lib/nat.h: BPF masquerade (snat_v4_nat / snat_v4_rev_nat) with
// cilium_snat_v4_external entries for both directions. The source port is
// kept when free, else drawn with prandom (as snat_v4_new_mapping retries).

import { runLocal, type Runtime } from '../../src/bpf/program.ts';
import type { DatapathEnv } from './common.ts';
import { TUPLE_SIZE, TUPLE_A0, TUPLE_A1, TUPLE_P8, TUPLE_P10, TUPLE_NEXTHDR, TUPLE_FLAGS, TUPLE_F_OUT, TUPLE_F_IN, NAT_SIZE, NAT_CREATED, NAT_NEEDS_CT, NAT_TO_ADDR, NAT_TO_PORT } from './layout.ts';
import { u16be, u32be, setU16be, setU32be, setU64le } from './bytes.ts';
import { rewriteAddr, rewritePort } from './csum.ts';

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

/** NAT tuple as the nat map stores it (C names, unswapped): daddr@0, saddr@4, dport@8, sport@10. */
function natTuple(t: Uint8Array, dst: number, src: number, sport: number, dport: number, proto: number, flags: number): Uint8Array {
  setU32be(t, TUPLE_A0, dst); setU32be(t, TUPLE_A1, src); setU16be(t, TUPLE_P8, dport); setU16be(t, TUPLE_P10, sport);
  t[TUPLE_NEXTHDR] = proto; t[TUPLE_FLAGS] = flags; return t;
}

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
    inVal.fill(0); setU64le(inVal, NAT_CREATED, Math.floor(now)); setU64le(inVal, NAT_NEEDS_CT, 1);
    setU32be(inVal, NAT_TO_ADDR, src); setU16be(inVal, NAT_TO_PORT, sport);
    outVal.fill(0); setU64le(outVal, NAT_CREATED, Math.floor(now)); setU64le(outVal, NAT_NEEDS_CT, 1);
    setU32be(outVal, NAT_TO_ADDR, to); setU16be(outVal, NAT_TO_PORT, port);
    if (rt.mapUpdate(map, inKey, inVal, 0) !== 0) return NAT_NO_MAPPING;
    if (rt.mapUpdate(map, outKey, outVal, 0) !== 0) { rt.mapDelete(map, inKey); return NAT_NO_MAPPING; }
    v = outVal;
  }
  rewriteAddr(d, ipOff + 12, proto, l4off, u32be(v, NAT_TO_ADDR));
  if (so >= 0) rewritePort(d, so, proto, l4off, u16be(v, NAT_TO_PORT));
  return NAT_OK;
}

/** snat_v4_rev_nat(): translate a reply to a masqueraded flow back. True when it was one. */
export function snatV4RevIngress(rt: Runtime, env: DatapathEnv, d: Uint8Array, ipOff: number, l4off: number, proto: number): boolean {
  const [so, doff] = portOffs(d, l4off, proto);
  const inKey = rt.local(NAT).inKey;
  natTuple(inKey, u32be(d, ipOff + 16), u32be(d, ipOff + 12), rd(d, so), rd(d, doff), proto, TUPLE_F_IN);
  const v = rt.mapLookup(env.maps.snat4, inKey);
  if (!v) return false;
  rewriteAddr(d, ipOff + 16, proto, l4off, u32be(v, NAT_TO_ADDR));
  if (doff >= 0) rewritePort(d, doff, proto, l4off, u16be(v, NAT_TO_PORT));
  return true;
}
