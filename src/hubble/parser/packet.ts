// The L2-L4 part of Hubble's threefour parser: the captured bytes of a trace,
// drop or policy-verdict event decoded as gopacket's DecodingLayerParser does
// (Ethernet, IPv4, TCP, UDP, SCTP, ICMPv4; unknown layers end the walk), the
// Summary word of the last layer, and a VXLAN overlay when the event says so.
// A layer too short to decode fails the whole event, as gopacket's does.

import { u32ToIp } from '../../wire/addr.ts';
import type { EthernetObject, IPObject, Layer4Object, TCPFlagsObject, TunnelObject } from '../proto.ts';
import { icmpv4TypeCode } from './icmp.ts';

/** What one packet gave: the flow's L2-L4 fields plus the addresses the getters resolve. */
export interface DecodedPacket {
  ethernet?: EthernetObject;
  IP?: IPObject;
  l4?: Layer4Object;
  tunnel?: TunnelObject;
  summary: string;
  /** Addresses (u32) and ports of the (inner) packet; hasIp false when no IP layer was decoded. */
  hasIp: boolean;
  srcIp: number;
  dstIp: number;
  srcPort: number;
  dstPort: number;
}

const ETH_P_IP = 0x0800, IPPROTO_ICMP = 1, IPPROTO_TCP = 6, IPPROTO_UDP = 17, IPPROTO_SCTP = 132;
const VXLAN_HLEN = 8, TUNNEL_VXLAN = 1, IP_V4 = 1;

const hex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Strings already made for a MAC or an address (a lab has few): bounded, emptied when full. */
const MAX_CACHED = 4096;
const macs = new Map<number, string>(), ips = new Map<number, string>();
/** Lower-case colon MAC, as Hubble's formatMAC. */
function mac(b: Uint8Array, o: number): string {
  const k = (b[o]! * 0x10000000000) + (b[o + 1]! * 0x100000000) + ((b[o + 2]! << 24) >>> 0) + (b[o + 3]! << 16) + (b[o + 4]! << 8) + b[o + 5]!;
  let s = macs.get(k);
  if (s === undefined) {
    s = `${hex[b[o]!]}:${hex[b[o + 1]!]}:${hex[b[o + 2]!]}:${hex[b[o + 3]!]}:${hex[b[o + 4]!]}:${hex[b[o + 5]!]}`;
    if (macs.size >= MAX_CACHED) macs.clear();
    macs.set(k, s);
  }
  return s;
}
/** Dotted quad of a u32 (cached). */
export function ipString(v: number): string {
  let s = ips.get(v);
  if (s === undefined) {
    s = u32ToIp(v);
    if (ips.size >= MAX_CACHED) ips.clear();
    ips.set(v, s);
  }
  return s;
}
const be16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const be32 = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** TCP flag bits (FIN 0x01 .. CWR 0x80, NS 0x100) -> shared flags object and Summary text, as Hubble's tables. */
const FLAG_ORDER: Array<[keyof TCPFlagsObject, number]> = [['SYN', 0x02], ['ACK', 0x10], ['RST', 0x04], ['FIN', 0x01], ['PSH', 0x08],
  ['URG', 0x20], ['ECE', 0x40], ['CWR', 0x80], ['NS', 0x100]];
const FLAGS: TCPFlagsObject[] = [], SUMMARY: string[] = [];
for (let m = 0; m < 512; m++) {
  const f: TCPFlagsObject = {}, names: string[] = [];
  for (const [k, bit] of FLAG_ORDER) if (m & bit) { f[k] = true; names.push(k); }
  FLAGS.push(Object.freeze(f)); SUMMARY.push('TCP Flags: ' + names.join(', '));
}

/** Decode from the L3 header at `o` (IPv4 only); false on a malformed layer. */
function decodeL3(b: Uint8Array, o: number, out: DecodedPacket): boolean {
  if (b.length - o < 20) return false;
  const ihl = (b[o]! & 15) * 4, version = b[o]! >> 4;
  if (version !== 4) { out.summary = out.summary || 'Ethernet'; return true; }
  const total = be16(b, o + 2);
  if (ihl < 20 || total < ihl || b.length - o < ihl) return false;
  const src = be32(b, o + 12), dst = be32(b, o + 16);
  out.IP = { source: ipString(src), destination: ipString(dst), ipVersion: IP_V4 };
  out.hasIp = true; out.srcIp = src; out.dstIp = dst; out.summary = 'IPv4';
  // Fragments (MF set or an offset): gopacket hands the rest to its fragment layer, which this parser lacks.
  if (be16(b, o + 6) & 0x3fff) return true;
  const end = Math.min(b.length, o + total), l4 = o + ihl;
  return decodeL4(b, l4, end, b[o + 9]!, out);
}

function decodeL4(b: Uint8Array, o: number, end: number, proto: number, out: DecodedPacket): boolean {
  const n = end - o;
  switch (proto) {
    case IPPROTO_TCP: {
      if (n < 20) return false;
      const off = (b[o + 12]! >> 4) * 4;
      if (off < 20 || off > n) return false;
      const mask = b[o + 13]! | ((b[o + 12]! & 1) << 8);
      out.srcPort = be16(b, o); out.dstPort = be16(b, o + 2);
      out.l4 = { TCP: { source_port: out.srcPort, destination_port: out.dstPort, flags: FLAGS[mask]! } };
      out.summary = SUMMARY[mask]!;
      return true;
    }
    case IPPROTO_UDP:
      if (n < 8) return false;
      out.srcPort = be16(b, o); out.dstPort = be16(b, o + 2);
      out.l4 = { UDP: { source_port: out.srcPort, destination_port: out.dstPort } };
      out.summary = 'UDP';
      return true;
    case IPPROTO_SCTP:
      if (n < 12) return false;
      out.srcPort = be16(b, o); out.dstPort = be16(b, o + 2);
      out.l4 = { SCTP: { source_port: out.srcPort, destination_port: out.dstPort } };
      out.summary = 'SCTP';
      return true;
    case IPPROTO_ICMP:
      if (n < 8) return false;
      out.l4 = { ICMPv4: { type: b[o]!, code: b[o + 1]! } };
      out.summary = 'ICMPv4 ' + icmpv4TypeCode(b[o]!, b[o + 1]!);
      return true;
    default:
      return true;
  }
}

function fresh(): DecodedPacket {
  return { summary: '', hasIp: false, srcIp: 0, dstIp: 0, srcPort: 0, dstPort: 0 };
}

/** Ethernet (or, with l3, bare IPv4) at `o` then up; null when a layer is malformed (Hubble drops the event). */
function decodeFrom(b: Uint8Array, o: number, l3: boolean): DecodedPacket | null {
  const out = fresh();
  if (b.length === o) return out;
  if (l3) return decodeL3(b, o, out) ? out : null;
  if (b.length - o < 14) return null;
  out.ethernet = { source: mac(b, o + 6), destination: mac(b, o) };
  out.summary = 'Ethernet';
  if (be16(b, o + 12) !== ETH_P_IP) return out;
  return decodeL3(b, o + 14, out) ? out : null;
}

/**
 * Decode a captured packet. With `vxlan` (the event's VXLAN flag) the UDP
 * payload is a VXLAN frame: the outer IP/L4 go to `tunnel` and the flow
 * describes the inner packet.
 */
export function decodePacket(b: Uint8Array, start: number, l3: boolean, vxlan: boolean): DecodedPacket | null {
  const outer = decodeFrom(b, start, l3);
  if (!outer || !vxlan || !outer.l4?.UDP) return outer;
  const ipOff = start + (l3 ? 0 : 14), udp = ipOff + (b[ipOff]! & 15) * 4, inner = udp + 8;
  if (b.length - inner < VXLAN_HLEN) return null;
  const vni = be32(b, inner + 4) >>> 8;
  const res = decodeFrom(b, inner + VXLAN_HLEN, false);
  if (!res) return null;
  res.tunnel = { protocol: TUNNEL_VXLAN, IP: outer.IP, l4: outer.l4, vni };
  return res;
}
