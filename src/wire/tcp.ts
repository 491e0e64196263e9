// TCP header (RFC 9293), read and written in place.

import { readU16, readU32, writeU16, writeU32 } from './addr.ts';
import { checksum } from './checksum.ts';
import { pseudoHeaderSum, IPPROTO_TCP } from './ipv4.ts';

export const TCP_HLEN = 20;
export const TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10, TCP_URG = 0x20, TCP_ECE = 0x40, TCP_CWR = 0x80;
/** Offsets inside the TCP header. */
export const TCP_SPORT = 0, TCP_DPORT = 2, TCP_SEQ = 4, TCP_ACKNO = 8, TCP_DOFF = 12, TCP_FLAGS = 13, TCP_WIN = 14, TCP_CSUM = 16;

export function tcpSport(f: Uint8Array, o: number): number { return readU16(f, o); }
export function tcpDport(f: Uint8Array, o: number): number { return readU16(f, o + 2); }
export function tcpSeq(f: Uint8Array, o: number): number { return readU32(f, o + TCP_SEQ); }
export function tcpAck(f: Uint8Array, o: number): number { return readU32(f, o + TCP_ACKNO); }
export function tcpFlags(f: Uint8Array, o: number): number { return f[o + TCP_FLAGS]!; }
export function tcpHdrLen(f: Uint8Array, o: number): number { return (f[o + TCP_DOFF]! >>> 4) * 4; }

export interface TcpFields { sport: number; dport: number; seq: number; ack: number; flags: number; window: number; mss?: number }

/** Header length for the given fields (20, or 24 with an MSS option). */
export function tcpHeaderLen(h: TcpFields): number { return h.mss ? 24 : 20; }

/**
 * Write a TCP header at o (payload must already sit after it) and its
 * checksum over the pseudo header, header and payloadLen bytes.
 */
export function writeTcp(f: Uint8Array, o: number, src: number, dst: number, h: TcpFields, payloadLen: number): void {
  const hl = tcpHeaderLen(h);
  writeU16(f, o, h.sport); writeU16(f, o + 2, h.dport);
  writeU32(f, o + TCP_SEQ, h.seq >>> 0); writeU32(f, o + TCP_ACKNO, h.ack >>> 0);
  f[o + TCP_DOFF] = (hl / 4) << 4; f[o + TCP_FLAGS] = h.flags;
  writeU16(f, o + TCP_WIN, h.window); writeU16(f, o + TCP_CSUM, 0); writeU16(f, o + 18, 0);
  if (h.mss) { f[o + 20] = 2; f[o + 21] = 4; writeU16(f, o + 22, h.mss); }
  const l4len = hl + payloadLen;
  writeU16(f, o + TCP_CSUM, checksum(f, o, l4len, pseudoHeaderSum(src, dst, IPPROTO_TCP, l4len)));
}

/** Flag names in Hubble's order (SYN, ACK, RST, FIN, PSH, URG, ECE, CWR). */
export function tcpFlagNames(flags: number): string[] {
  const out: string[] = [];
  if (flags & TCP_SYN) out.push('SYN');
  if (flags & TCP_ACK) out.push('ACK');
  if (flags & TCP_RST) out.push('RST');
  if (flags & TCP_FIN) out.push('FIN');
  if (flags & TCP_PSH) out.push('PSH');
  if (flags & TCP_URG) out.push('URG');
  if (flags & TCP_ECE) out.push('ECE');
  if (flags & TCP_CWR) out.push('CWR');
  return out;
}
