// ICMPv4 (RFC 792): echo and the error messages the stack sends.

import { readU16, writeU16 } from './addr.ts';
import { checksum } from './checksum.ts';

export const ICMP_ECHOREPLY = 0, ICMP_DEST_UNREACH = 3, ICMP_ECHO = 8, ICMP_TIME_EXCEEDED = 11;
export const ICMP_HLEN = 8;
export function icmpType(f: Uint8Array, o: number): number { return f[o]!; }
export function icmpCode(f: Uint8Array, o: number): number { return f[o + 1]!; }
export function icmpEchoId(f: Uint8Array, o: number): number { return readU16(f, o + 4); }
export function icmpEchoSeq(f: Uint8Array, o: number): number { return readU16(f, o + 6); }

/** Write an ICMP header (type, code, rest-of-header u32 as id/seq) and checksum over len bytes. */
export function writeIcmp(f: Uint8Array, o: number, type: number, code: number, id: number, seq: number, len: number): void {
  f[o] = type; f[o + 1] = code; writeU16(f, o + 2, 0); writeU16(f, o + 4, id); writeU16(f, o + 6, seq);
  writeU16(f, o + 2, checksum(f, o, len));
}
