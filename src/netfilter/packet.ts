// The view a hook evaluates, read from a packet's real bytes (IPv4 header at
// an offset, then TCP/UDP ports or the ICMP header), and NAT written back
// into those bytes with incremental checksum updates, as nf_nat does.

import { readU16, writeU16, writeU32 } from '../wire/addr.ts';
import { csumReplace } from '../wire/checksum.ts';
import { IP_CSUM, IP_DADDR, IP_SADDR, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, ipDaddr, ipIhl, ipIsFragment, ipProto, ipSaddr, ipTotLen } from '../wire/ipv4.ts';
import type { Pkt } from './types.ts';

/**
 * Reads the view of the IPv4 packet at offset o of the first `n` bytes of f
 * (an skb's len, so no subarray is made per packet). Returns null when the
 * header is truncated or not IPv4.
 */
export function readPkt(f: Uint8Array, o: number, inIf: string, outIf: string, mark = 0, n = f.length): Pkt | null {
  if (n < o + 20 || (f[o]! >>> 4) !== 4) return null;
  const ihl = ipIhl(f, o), proto = ipProto(f, o), l4 = o + ihl;
  const frag = (readU16(f, o + 6) & 0x1fff) !== 0;
  const p: Pkt = { src: ipSaddr(f, o), dst: ipDaddr(f, o), proto, sport: 0, dport: 0, len: ipTotLen(f, o), tcpFlags: 0, icmpType: 0, icmpCode: 0, icmpId: 0,
    frag, inIf, outIf, mark };
  if (frag) return p;
  if ((proto === IPPROTO_TCP && n >= l4 + 14) || (proto === IPPROTO_UDP && n >= l4 + 8)) {
    p.sport = readU16(f, l4); p.dport = readU16(f, l4 + 2);
    if (proto === IPPROTO_TCP) p.tcpFlags = f[l4 + 13]!;
  } else if (proto === IPPROTO_ICMP && n >= l4 + 8) {
    p.icmpType = f[l4]!; p.icmpCode = f[l4 + 1]!; p.icmpId = readU16(f, l4 + 4);
  }
  return p;
}

/** Writes the view's addresses and ports back into the bytes at o, fixing IP and L4 checksums incrementally. */
export function writeNat(f: Uint8Array, o: number, p: Pkt): void {
  const oldSrc = ipSaddr(f, o), oldDst = ipDaddr(f, o);
  const l4 = o + ipIhl(f, o);
  let ipc = readU16(f, o + IP_CSUM);
  if (oldSrc !== p.src) { ipc = csumReplace(ipc, oldSrc, p.src, 4); writeU32(f, o + IP_SADDR, p.src); }
  if (oldDst !== p.dst) { ipc = csumReplace(ipc, oldDst, p.dst, 4); writeU32(f, o + IP_DADDR, p.dst); }
  writeU16(f, o + IP_CSUM, ipc);
  if (ipIsFragment(f, o) && (readU16(f, o + 6) & 0x1fff) !== 0) return;
  const proto = ipProto(f, o);
  if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return;
  const csOff = l4 + (proto === IPPROTO_TCP ? 16 : 6);
  if (f.length < csOff + 2) return;
  let c = readU16(f, csOff);
  if (proto === IPPROTO_UDP && c === 0) { writeU16(f, l4, p.sport); writeU16(f, l4 + 2, p.dport); return; }
  const oldSport = readU16(f, l4), oldDport = readU16(f, l4 + 2);
  if (oldSrc !== p.src) c = csumReplace(c, oldSrc, p.src, 4);
  if (oldDst !== p.dst) c = csumReplace(c, oldDst, p.dst, 4);
  if (oldSport !== p.sport) { c = csumReplace(c, oldSport, p.sport, 2); writeU16(f, l4, p.sport); }
  if (oldDport !== p.dport) { c = csumReplace(c, oldDport, p.dport, 2); writeU16(f, l4 + 2, p.dport); }
  writeU16(f, csOff, proto === IPPROTO_UDP && c === 0 ? 0xffff : c);
}
