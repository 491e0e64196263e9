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

export const TCPOPT_EOL = 0, TCPOPT_NOP = 1, TCPOPT_MSS = 2, TCPOPT_WINDOW = 3, TCPOPT_SACK_PERM = 4, TCPOPT_SACK = 5, TCPOPT_TIMESTAMP = 8;
/** The 12 bytes NOP, NOP, TS that a segment carries once both ends agreed on timestamps (TCPOLEN_TSTAMP_ALIGNED). */
export const TCPOLEN_TSTAMP_ALIGNED = 12;

/**
 * Header fields and options. Options are written in Linux's order (tcp_options_write):
 * MSS; SACK_PERM + TS (or NOP NOP TS, or NOP NOP SACK_PERM); NOP + WS. A SYN with all four
 * is 40 bytes of TCP header; a segment with tsVal alone carries NOP NOP TS.
 */
export interface TcpFields {
  sport: number; dport: number; seq: number; ack: number; flags: number; window: number;
  mss?: number;
  /** SACK permitted (SYN, SYN-ACK). */
  sackPerm?: boolean;
  /** Window scale shift announced (SYN, SYN-ACK); undefined: no option. */
  wscale?: number;
  /** Timestamp option (RFC 7323) when defined, with tsEcr (0 if undefined). */
  tsVal?: number; tsEcr?: number;
}

/** Header length for the given fields: 20 plus the options. */
export function tcpHeaderLen(h: TcpFields): number {
  const ts = h.tsVal !== undefined;
  return 20 + (h.mss ? 4 : 0) + (ts ? 12 : h.sackPerm ? 4 : 0) + (h.wscale !== undefined ? 4 : 0);
}

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
  if (hl > 20) writeTcpOptions(f, o + 20, h);
  const l4len = hl + payloadLen;
  writeU16(f, o + TCP_CSUM, checksum(f, o, l4len, pseudoHeaderSum(src, dst, IPPROTO_TCP, l4len)));
}

function writeTcpOptions(f: Uint8Array, p: number, h: TcpFields): void {
  if (h.mss) { f[p] = TCPOPT_MSS; f[p + 1] = 4; writeU16(f, p + 2, h.mss); p += 4; }
  if (h.tsVal !== undefined) {
    if (h.sackPerm) { f[p] = TCPOPT_SACK_PERM; f[p + 1] = 2; } else { f[p] = TCPOPT_NOP; f[p + 1] = TCPOPT_NOP; }
    f[p + 2] = TCPOPT_TIMESTAMP; f[p + 3] = 10;
    writeU32(f, p + 4, h.tsVal >>> 0); writeU32(f, p + 8, (h.tsEcr ?? 0) >>> 0);
    p += 12;
  } else if (h.sackPerm) { f[p] = TCPOPT_NOP; f[p + 1] = TCPOPT_NOP; f[p + 2] = TCPOPT_SACK_PERM; f[p + 3] = 2; p += 4; }
  if (h.wscale !== undefined) { f[p] = TCPOPT_NOP; f[p + 1] = TCPOPT_WINDOW; f[p + 2] = 3; f[p + 3] = h.wscale; }
}

/** The options of a received segment (tcp_parse_options); one object is reused per parse. */
export interface TcpRxOptions {
  /** MSS option value, 0 if absent. */
  mss: number;
  /** Window scale shift, -1 if absent. */
  wscale: number;
  sackPerm: boolean;
  /** A timestamp option was seen (saw_tstamp), with tsVal and tsEcr. */
  ts: boolean;
  tsVal: number; tsEcr: number;
}

export function newTcpRxOptions(): TcpRxOptions { return { mss: 0, wscale: -1, sackPerm: false, ts: false, tsVal: 0, tsEcr: 0 }; }

/**
 * Parse the options of the TCP header at o (header length hl) into out.
 * The common NOP NOP TS layout is read directly, as tcp_fast_parse_options does.
 */
export function parseTcpOptions(f: Uint8Array, o: number, hl: number, out: TcpRxOptions): TcpRxOptions {
  out.mss = 0; out.wscale = -1; out.sackPerm = false; out.ts = false; out.tsVal = 0; out.tsEcr = 0;
  if (hl === 32 && f[o + 20] === TCPOPT_NOP && f[o + 21] === TCPOPT_NOP && f[o + 22] === TCPOPT_TIMESTAMP && f[o + 23] === 10) {
    out.ts = true; out.tsVal = readU32(f, o + 24); out.tsEcr = readU32(f, o + 28);
    return out;
  }
  let i = o + 20;
  const end = o + hl;
  while (i < end) {
    const kind = f[i]!;
    if (kind === TCPOPT_EOL) break;
    if (kind === TCPOPT_NOP) { i++; continue; }
    if (i + 1 >= end) break;
    const len = f[i + 1]!;
    if (len < 2 || i + len > end) break;
    if (kind === TCPOPT_MSS && len === 4) out.mss = readU16(f, i + 2);
    else if (kind === TCPOPT_WINDOW && len === 3) out.wscale = f[i + 2]!;
    else if (kind === TCPOPT_SACK_PERM && len === 2) out.sackPerm = true;
    else if (kind === TCPOPT_TIMESTAMP && len === 10) { out.ts = true; out.tsVal = readU32(f, i + 2); out.tsEcr = readU32(f, i + 6); }
    i += len;
  }
  return out;
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
