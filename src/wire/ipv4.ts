// IPv4 header (RFC 791), read and written in place at an offset (normally ETH_HLEN).

import { readU16, readU32, writeU16, writeU32 } from './addr.ts';
import { checksum } from './checksum.ts';

export const IPPROTO_ICMP = 1;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPV4_HLEN = 20;

/** Field offsets inside the IPv4 header. */
export const IP_TOS = 1, IP_TOT_LEN = 2, IP_ID = 4, IP_FRAG = 6, IP_TTL = 8, IP_PROTO = 9, IP_CSUM = 10, IP_SADDR = 12, IP_DADDR = 16;

export function ipIhl(f: Uint8Array, o: number): number { return (f[o]! & 0x0f) * 4; }
export function ipTotLen(f: Uint8Array, o: number): number { return readU16(f, o + IP_TOT_LEN); }
export function ipTtl(f: Uint8Array, o: number): number { return f[o + IP_TTL]!; }
export function ipProto(f: Uint8Array, o: number): number { return f[o + IP_PROTO]!; }
export function ipSaddr(f: Uint8Array, o: number): number { return readU32(f, o + IP_SADDR); }
export function ipDaddr(f: Uint8Array, o: number): number { return readU32(f, o + IP_DADDR); }
export function ipId(f: Uint8Array, o: number): number { return readU16(f, o + IP_ID); }
/** True if the packet is a fragment other than a whole datagram (MF set or offset > 0). */
export function ipIsFragment(f: Uint8Array, o: number): boolean { return (readU16(f, o + IP_FRAG) & 0x3fff) !== 0; }

export interface Ipv4Fields { src: number; dst: number; proto: number; ttl: number; id: number; tos?: number; df?: boolean }

/** Write a 20-byte IPv4 header at o for a payload of payloadLen bytes, with checksum. */
export function writeIpv4(f: Uint8Array, o: number, h: Ipv4Fields, payloadLen: number): void {
  f[o] = 0x45; f[o + IP_TOS] = h.tos ?? 0;
  writeU16(f, o + IP_TOT_LEN, IPV4_HLEN + payloadLen);
  writeU16(f, o + IP_ID, h.id);
  writeU16(f, o + IP_FRAG, h.df === false ? 0 : 0x4000);
  f[o + IP_TTL] = h.ttl; f[o + IP_PROTO] = h.proto;
  writeU16(f, o + IP_CSUM, 0);
  writeU32(f, o + IP_SADDR, h.src); writeU32(f, o + IP_DADDR, h.dst);
  writeU16(f, o + IP_CSUM, checksum(f, o, IPV4_HLEN));
}

/** Recompute the header checksum in place. */
export function ipFixChecksum(f: Uint8Array, o: number): void {
  writeU16(f, o + IP_CSUM, 0);
  writeU16(f, o + IP_CSUM, checksum(f, o, ipIhl(f, o)));
}

/** True if the header checksum verifies. */
export function ipChecksumOk(f: Uint8Array, o: number): boolean {
  return checksum(f, o, ipIhl(f, o)) === 0;
}

/** Decrement TTL with an incremental checksum update (as ip_decrease_ttl does). Returns the new TTL. */
export function ipDecTtl(f: Uint8Array, o: number): number {
  const ttl = f[o + IP_TTL]!;
  f[o + IP_TTL] = ttl - 1;
  // TTL is the high byte of the 16-bit word at offset 8: checksum += 0x0100.
  let c = readU16(f, o + IP_CSUM) + 0x0100;
  c = (c & 0xffff) + (c >>> 16);
  writeU16(f, o + IP_CSUM, c);
  return ttl - 1;
}

/** Ones'-complement sum of the TCP/UDP pseudo header. */
export function pseudoHeaderSum(src: number, dst: number, proto: number, l4len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + l4len;
}
