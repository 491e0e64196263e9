// IP-in-IP (RFC 2003, IPv4 protocol 4) as Linux's ipip driver sends it for
// Calico's tunl0: an outer IPv4 header straight in front of the inner IPv4
// packet, no extra header. Frames here carry an Ethernet header in front.

import { allocBytes } from './alloc.ts';
import { ETH_HLEN, ETH_P_IP, ethType, writeEth } from './ethernet.ts';
import { IPPROTO_IPIP, IPV4_HLEN, IP_PROTO, IP_TOS, ipIhl, ipIsFragment, ipTotLen, writeIpv4 } from './ipv4.ts';

/** Bytes the outer header adds (ip_tunnel's hlen for ipip): tunl0's MTU is the underlay's minus this. */
export const IPIP_HLEN = IPV4_HLEN;

export interface IpipOuter {
  srcMac: Uint8Array; dstMac: Uint8Array;
  src: number; dst: number; ttl: number; id: number;
  /** Copied from the inner header (ip_tunnel_xmit: df |= inner frag_off & IP_DF). */
  df: boolean;
}

/**
 * Wrap the IPv4 packet of `inner` (an Ethernet frame, innerLen bytes) in an
 * outer IPv4 header, protocol 4, checksummed. TOS carries the inner ECN bits
 * (ip_tunnel_ecn_encap with tunl0's `tos 0`).
 */
export function encapIpip(inner: Uint8Array, innerLen: number, outer: IpipOuter): Uint8Array {
  const ipLen = innerLen - ETH_HLEN;
  const f = allocBytes(ETH_HLEN + IPIP_HLEN + ipLen);
  writeEth(f, outer.dstMac, outer.srcMac, ETH_P_IP);
  f.set(inner.subarray(ETH_HLEN, innerLen), ETH_HLEN + IPIP_HLEN);
  const ecn = inner[ETH_HLEN + IP_TOS]! & 3;
  writeIpv4(f, ETH_HLEN, { src: outer.src, dst: outer.dst, proto: IPPROTO_IPIP, ttl: outer.ttl, id: outer.id, df: outer.df, tos: ecn }, ipLen);
  return f;
}

/**
 * Offset of the inner IPv4 header if f (len bytes) is a whole IPv4 datagram
 * of protocol 4 whose payload is an IPv4 header, else -1. Allocation-free.
 */
export function ipipInnerOffset(f: Uint8Array, len = f.length): number {
  if (len < ETH_HLEN + IPV4_HLEN || ethType(f) !== ETH_P_IP || f[ETH_HLEN + IP_PROTO] !== IPPROTO_IPIP) return -1;
  if (ipIsFragment(f, ETH_HLEN)) return -1;
  const inner = ETH_HLEN + ipIhl(f, ETH_HLEN);
  if (len < inner + IPV4_HLEN || (f[inner]! >>> 4) !== 4) return -1;
  return inner;
}

/**
 * The inner packet as an Ethernet frame (a view into f: the 14 bytes before
 * the inner header are overwritten with a header of zero MACs), or null.
 */
export function decapIpip(f: Uint8Array, len = f.length): Uint8Array | null {
  const off = ipipInnerOffset(f, len);
  if (off < 0) return null;
  const end = Math.min(len, off + ipTotLen(f, off));
  const start = off - ETH_HLEN;
  const frame = f.subarray(start, end);
  for (let i = 0; i < 12; i++) frame[i] = 0;
  frame[12] = ETH_P_IP >>> 8; frame[13] = ETH_P_IP & 255;
  return frame;
}
