// VXLAN (RFC 7348) as Linux's vxlan driver sends it for Cilium's tunnel
// device: Ethernet/IPv4/UDP(8472)/VXLAN header/inner Ethernet frame.

import { readU16, readU32, writeU32 } from './addr.ts';
import { allocBytes } from './alloc.ts';
import { ETH_HLEN, ETH_P_IP, ethType, writeEth } from './ethernet.ts';
import { IPPROTO_TCP, IPPROTO_UDP, IPV4_HLEN, IP_PROTO, IP_SADDR, IP_DADDR, ipIhl, ipIsFragment, writeIpv4 } from './ipv4.ts';
import { UDP_HLEN, writeUdp } from './udp.ts';

export const VXLAN_HLEN = 8;
/** Cilium's default tunnel port (Linux's legacy IANA-less VXLAN port). */
export const VXLAN_PORT_CILIUM = 8472;
/** The IANA VXLAN port. */
export const VXLAN_PORT_IANA = 4789;
/** The I flag: VNI field is valid. */
export const VXLAN_FLAG_I = 0x08;
/** Outer Ethernet + IPv4 + UDP + VXLAN bytes added in front of the inner frame. */
export const VXLAN_OVERHEAD = ETH_HLEN + IPV4_HLEN + UDP_HLEN + VXLAN_HLEN;
/** Offset of the VXLAN header in an outer frame without IP options. */
export const VXLAN_OFF = ETH_HLEN + IPV4_HLEN + UDP_HLEN;
/** inet_get_local_port_range() defaults; udp_flow_src_port() picks in [min, max). */
export const VXLAN_SPORT_MIN = 32768, VXLAN_SPORT_MAX = 60999;

export interface VxlanOuter {
  srcMac: Uint8Array; dstMac: Uint8Array;
  src: number; dst: number; ttl: number; id: number;
  /** Outer UDP source port; computed from the inner flow (vxlanSrcPort) when omitted. */
  sport?: number;
  /** Outer UDP destination port; Cilium's 8472 when omitted. */
  dport?: number;
}

export function vxlanFlags(f: Uint8Array, o: number): number { return f[o]!; }
export function vxlanVni(f: Uint8Array, o: number): number { return readU32(f, o + 4) >>> 8; }

/** Write the 8-byte header: I flag, 24-bit VNI, reserved bytes zero. */
export function writeVxlan(f: Uint8Array, o: number, vni: number): void {
  writeU32(f, o, VXLAN_FLAG_I << 24);
  writeU32(f, o + 4, ((vni & 0xffffff) << 8) >>> 0);
}

/** Mix a 32-bit word into a hash (murmur3 round); deterministic, no allocation. */
function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51); k = (k << 15) | (k >>> 17); k = Math.imul(k, 0x1b873593);
  h ^= k; h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/**
 * Outer source port from a hash of the inner flow, as udp_flow_src_port()
 * does: same flow, same port, spread over [32768, 60999).
 */
export function vxlanSrcPort(inner: Uint8Array, innerLen = inner.length): number {
  let h = 0x5bd1e995;
  if (innerLen >= ETH_HLEN + IPV4_HLEN && ethType(inner) === ETH_P_IP) {
    const o = ETH_HLEN;
    const proto = inner[o + IP_PROTO]!;
    h = mix(h, readU32(inner, o + IP_SADDR)); h = mix(h, readU32(inner, o + IP_DADDR)); h = mix(h, proto);
    const l4 = o + ipIhl(inner, o);
    if ((proto === IPPROTO_TCP || proto === IPPROTO_UDP) && !ipIsFragment(inner, o) && innerLen >= l4 + 4) h = mix(h, readU32(inner, l4));
  } else {
    for (let i = 0; i + 4 <= Math.min(innerLen, ETH_HLEN); i += 4) h = mix(h, readU32(inner, i));
  }
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16;
  h = (h ^ (h << 16)) >>> 0;
  return Math.floor((h * (VXLAN_SPORT_MAX - VXLAN_SPORT_MIN)) / 0x100000000) + VXLAN_SPORT_MIN;
}

/**
 * Wrap the first innerLen bytes of `inner` (a whole Ethernet frame) in
 * outer headers. Outer UDP checksum is 0 as Linux vxlan sends by default; DF clear.
 */
export function encapVxlan(inner: Uint8Array, innerLen: number, outer: VxlanOuter, vni: number): Uint8Array {
  const f = allocBytes(VXLAN_OVERHEAD + innerLen);
  const udpPayload = VXLAN_HLEN + innerLen;
  writeEth(f, outer.dstMac, outer.srcMac, ETH_P_IP);
  f.set(inner.subarray(0, innerLen), VXLAN_OVERHEAD);
  writeVxlan(f, VXLAN_OFF, vni);
  const sport = outer.sport ?? vxlanSrcPort(inner, innerLen);
  writeUdp(f, ETH_HLEN + IPV4_HLEN, outer.src, outer.dst, sport, outer.dport ?? VXLAN_PORT_CILIUM, udpPayload, false);
  writeIpv4(f, ETH_HLEN, { src: outer.src, dst: outer.dst, proto: IPPROTO_UDP, ttl: outer.ttl, id: outer.id, df: false }, UDP_HLEN + udpPayload);
  return f;
}

/**
 * Offset of the inner Ethernet frame if f is IPv4/UDP to `port` carrying a
 * VXLAN header with the I flag, else -1. Allocation-free for the packet path;
 * `len` is the frame's length when f is a longer buffer.
 */
export function vxlanInnerOffset(f: Uint8Array, port = VXLAN_PORT_CILIUM, len = f.length): number {
  if (len < ETH_HLEN + IPV4_HLEN || ethType(f) !== ETH_P_IP || f[ETH_HLEN + IP_PROTO] !== IPPROTO_UDP) return -1;
  if (ipIsFragment(f, ETH_HLEN)) return -1;
  const udp = ETH_HLEN + ipIhl(f, ETH_HLEN);
  const vx = udp + UDP_HLEN;
  if (len < vx + VXLAN_HLEN + ETH_HLEN || readU16(f, udp + 2) !== port) return -1;
  if ((f[vx]! & VXLAN_FLAG_I) === 0) return -1;
  return vx + VXLAN_HLEN;
}

/** VNI and inner frame (a view into f), or null if f is not VXLAN to `port`. */
export function decapVxlan(f: Uint8Array, port = VXLAN_PORT_CILIUM): { vni: number; inner: Uint8Array } | null {
  const off = vxlanInnerOffset(f, port);
  if (off < 0) return null;
  return { vni: vxlanVni(f, off - VXLAN_HLEN), inner: f.subarray(off) };
}
