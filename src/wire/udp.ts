// UDP header (RFC 768).

import { readU16, writeU16 } from './addr.ts';
import { checksum } from './checksum.ts';
import { pseudoHeaderSum, IPPROTO_UDP } from './ipv4.ts';

export const UDP_HLEN = 8;
export const UDP_CSUM = 6;
export function udpSport(f: Uint8Array, o: number): number { return readU16(f, o); }
export function udpDport(f: Uint8Array, o: number): number { return readU16(f, o + 2); }
export function udpLen(f: Uint8Array, o: number): number { return readU16(f, o + 4); }

/** Write a UDP header at o (payload already after it) with checksum (0 -> 0xffff). */
export function writeUdp(f: Uint8Array, o: number, src: number, dst: number, sport: number, dport: number, payloadLen: number, withChecksum = true): void {
  const l = UDP_HLEN + payloadLen;
  writeU16(f, o, sport); writeU16(f, o + 2, dport); writeU16(f, o + 4, l); writeU16(f, o + UDP_CSUM, 0);
  if (!withChecksum) return;
  const c = checksum(f, o, l, pseudoHeaderSum(src, dst, IPPROTO_UDP, l));
  writeU16(f, o + UDP_CSUM, c === 0 ? 0xffff : c);
}
