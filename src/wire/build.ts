// Whole-frame builders for the kernel's socket layer: one allocation per frame,
// headers written in place by the per-protocol writers, checksums valid.

import { allocBytes } from './alloc.ts';
import { ETH_HLEN, ETH_P_IP, writeEth } from './ethernet.ts';
import { ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_HLEN, writeIcmp } from './icmp.ts';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPV4_HLEN, ipIhl, ipTotLen, writeIpv4 } from './ipv4.ts';
import { tcpHeaderLen, writeTcp, type TcpFields } from './tcp.ts';
import { UDP_HLEN, writeUdp } from './udp.ts';

/** Link and network fields every IPv4 frame needs. */
export interface IpFrameFields {
  srcMac: Uint8Array; dstMac: Uint8Array;
  src: number; dst: number; ttl: number; id: number;
  tos?: number; df?: boolean;
}
export interface TcpFrameFields extends IpFrameFields, TcpFields {}
export interface UdpFrameFields extends IpFrameFields {
  sport: number; dport: number;
  /** false leaves the UDP checksum 0 (allowed for IPv4, as tunnels do). */
  udpChecksum?: boolean;
}
export interface IcmpEchoFrameFields extends IpFrameFields {
  /** true for echo reply (type 0), false for echo request (type 8). */
  reply: boolean; echoId: number; seq: number;
}

const EMPTY = new Uint8Array(0);
export const L4_OFF = ETH_HLEN + IPV4_HLEN;

/** Ethernet + IPv4 header for an L4 payload of l4len bytes; returns the frame with room for it. */
function ipFrame(h: IpFrameFields, proto: number, l4len: number): Uint8Array {
  const f = allocBytes(L4_OFF + l4len);
  writeEth(f, h.dstMac, h.srcMac, ETH_P_IP);
  writeIpv4(f, ETH_HLEN, { src: h.src, dst: h.dst, proto, ttl: h.ttl, id: h.id, tos: h.tos, df: h.df }, l4len);
  return f;
}

export function buildTcpFrame(h: TcpFrameFields, payload: Uint8Array = EMPTY): Uint8Array {
  const hl = tcpHeaderLen(h);
  const f = ipFrame(h, IPPROTO_TCP, hl + payload.length);
  f.set(payload, L4_OFF + hl);
  writeTcp(f, L4_OFF, h.src, h.dst, h, payload.length);
  return f;
}

export function buildUdpFrame(h: UdpFrameFields, payload: Uint8Array = EMPTY): Uint8Array {
  const f = ipFrame(h, IPPROTO_UDP, UDP_HLEN + payload.length);
  f.set(payload, L4_OFF + UDP_HLEN);
  writeUdp(f, L4_OFF, h.src, h.dst, h.sport, h.dport, payload.length, h.udpChecksum !== false);
  return f;
}

/** Echo request/reply; payload is the data after the 8-byte ICMP header (ping sends 56 bytes). */
export function buildIcmpEchoFrame(h: IcmpEchoFrameFields, payload: Uint8Array = EMPTY): Uint8Array {
  const f = ipFrame(h, IPPROTO_ICMP, ICMP_HLEN + payload.length);
  f.set(payload, L4_OFF + ICMP_HLEN);
  writeIcmp(f, L4_OFF, h.reply ? ICMP_ECHOREPLY : ICMP_ECHO, 0, h.echoId, h.seq, ICMP_HLEN + payload.length);
  return f;
}

export const ICMP_NET_UNREACH = 0, ICMP_HOST_UNREACH = 1, ICMP_PROT_UNREACH = 2, ICMP_PORT_UNREACH = 3, ICMP_FRAG_NEEDED = 4;

/** Linux's icmp_send() quotes as much of the offender as fits a 576-byte datagram. */
export const ICMP_QUOTE_LINUX = 576 - IPV4_HLEN - ICMP_HLEN;
/** RFC 792's minimum: the IP header plus 8 bytes (set by ihl at call time). */
export const ICMP_QUOTE_RFC792 = -1;
/** icmp_send() marks errors as internetwork control (IPTOS_PREC_INTERNETCONTROL). */
export const ICMP_ERROR_TOS = 0xc0;

/**
 * ICMP error (dest unreachable, time exceeded, ...) quoting the offending
 * packet, by default as Linux's icmp_send() does (up to 576 bytes in all, DF
 * clear, TOS 0xc0); pass quoteMax = ICMP_QUOTE_RFC792 for header + 8 bytes.
 * `orig` holds the offending packet with its IPv4 header at origIpOff.
 * For "fragmentation needed" pass the next-hop MTU as `mtu`.
 */
export function buildIcmpErrorFrame(h: IpFrameFields, type: number, code: number, orig: Uint8Array, origIpOff = ETH_HLEN, mtu = 0, quoteMax = ICMP_QUOTE_LINUX): Uint8Array {
  const ihl = ipIhl(orig, origIpOff);
  const avail = Math.min(ipTotLen(orig, origIpOff), orig.length - origIpOff);
  const limit = quoteMax === ICMP_QUOTE_RFC792 ? ihl + 8 : quoteMax;
  const quoteLen = Math.max(0, Math.min(limit, avail));
  const f = ipFrame({ ...h, df: h.df ?? false, tos: h.tos ?? ICMP_ERROR_TOS }, IPPROTO_ICMP, ICMP_HLEN + quoteLen);
  f.set(orig.subarray(origIpOff, origIpOff + quoteLen), L4_OFF + ICMP_HLEN);
  writeIcmp(f, L4_OFF, type, code, 0, mtu, ICMP_HLEN + quoteLen);
  return f;
}

/** Port unreachable for a UDP datagram nobody listens for. */
export function buildPortUnreachFrame(h: IpFrameFields, orig: Uint8Array, origIpOff = ETH_HLEN, quoteMax = ICMP_QUOTE_LINUX): Uint8Array {
  return buildIcmpErrorFrame(h, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, orig, origIpOff, 0, quoteMax);
}
