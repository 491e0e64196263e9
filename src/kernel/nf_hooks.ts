// The netfilter hook points of the IPv4 path (NF_HOOK in ip_rcv,
// ip_local_deliver, ip_forward, __ip_local_out, ip_output): a netns's
// Netfilter (null unless a datapath asked for one, so other paths pay one
// null check) sees the packet read from its real bytes; NAT is written back
// into those bytes with checksums fixed; DROP consumes the packet and REJECT
// answers as the target says (ICMP error or TCP RST).

import type { Netfilter, NfPacket } from '../netfilter/netfilter.ts';
import { readPkt, writeNat } from '../netfilter/packet.ts';
import type { Hook } from '../netfilter/types.ts';
import { readU16, readU32 } from '../wire/addr.ts';
import { buildTcpFrame } from '../wire/build.ts';
import { ETH_HLEN } from '../wire/ethernet.ts';
import { ICMP_DEST_UNREACH } from '../wire/icmp.ts';
import { IP_DADDR, IP_SADDR, IPPROTO_TCP } from '../wire/ipv4.ts';
import { newSkb, type SkBuff } from '../wire/skb.ts';
import type { NetnsImpl } from './netns.ts';
// ip.ts imports this file too: both sides only call each other at run time.
import { icmpError, ipLocalOut } from './ip.ts';

/** The packet goes on (tracked or not: undefined when netfilter cannot read it) or is gone (false). */
export type NfOutcome = NfPacket | undefined | false;

const ZERO_MAC = new Uint8Array(6);

/** ICMP codes of `--reject-with` (ipt_REJECT's names). */
const REJECT_ICMP: Record<string, number> = {
  'icmp-net-unreachable': 0, 'icmp-host-unreachable': 1, 'icmp-proto-unreachable': 2, 'icmp-port-unreachable': 3,
  'icmp-net-prohibited': 9, 'icmp-host-prohibited': 10, 'icmp-admin-prohibited': 13,
};

/**
 * Runs `hook` of nf for the IPv4 packet at ETH_HLEN in skb. np is the
 * passage from an earlier hook (conntrack entry, NAT state), undefined for
 * the packet's first hook.
 */
export function nfHook(
  ns: NetnsImpl, nf: Netfilter, hook: Hook, skb: SkBuff, np: NfPacket | undefined, inIf: string, outIf: string,
): NfOutcome {
  if (np === undefined) {
    const p = readPkt(skb.data, ETH_HLEN, inIf, outIf, skb.mark, skb.len);
    if (p === null) return undefined;
    np = nf.begin(p);
  } else {
    np.pkt.inIf = inIf; np.pkt.outIf = outIf; np.pkt.mark = skb.mark;
  }
  const r = nf.hook(hook, np);
  skb.mark = np.pkt.mark >>> 0;
  if (r.verdict === 'DROP') return false;
  if (r.verdict === 'REJECT') { reject(ns, skb, r.rejectWith ?? 'icmp-port-unreachable'); return false; }
  if (np.natChanged) { writeNat(skb.data, ETH_HLEN, np.pkt); np.natChanged = false; }
  return np;
}

/** ipt_REJECT: an ICMP error about the packet, or (tcp-reset) a RST in its place, sent from this netns. */
function reject(ns: NetnsImpl, skb: SkBuff, with_: string): void {
  if (with_ === 'tcp-reset') { sendReset(ns, skb); return; }
  icmpError(ns, skb, ICMP_DEST_UNREACH, REJECT_ICMP[with_] ?? 3, 0);
}

/** nf_send_reset: answers a TCP segment (never a RST) with a RST as if the destination sent it. */
function sendReset(ns: NetnsImpl, skb: SkBuff): void {
  const f = skb.data, o = ETH_HLEN;
  if (f[o + 9] !== IPPROTO_TCP) return;
  const ihl = (f[o]! & 15) * 4, l4 = o + ihl;
  if (skb.len < l4 + 20) return;
  const flags = f[l4 + 13]!;
  if (flags & 0x04) return;
  const seq = readU32(f, l4 + 4), ackNo = readU32(f, l4 + 8);
  const dataLen = readU16(f, o + 2) - ihl - ((f[l4 + 12]! >> 4) * 4);
  const ack = flags & 0x10;
  const frame = buildTcpFrame({
    srcMac: ZERO_MAC, dstMac: ZERO_MAC, src: readU32(f, o + IP_DADDR), dst: readU32(f, o + IP_SADDR), ttl: ns.defaultTtl, id: 0, df: true,
    sport: readU16(f, l4 + 2), dport: readU16(f, l4),
    seq: ack ? ackNo : 0, ack: ack ? 0 : (seq + dataLen + (flags & 0x02 ? 1 : 0) + (flags & 0x01 ? 1 : 0)) >>> 0,
    flags: ack ? 0x04 : 0x14, window: 0,
  });
  // Sent as a local packet: the OUTPUT/POSTROUTING hooks see it (nf_send_reset uses ip_local_out).
  ipLocalOut(ns, newSkb(frame, frame.length, 0));
}
