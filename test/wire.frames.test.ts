import t from 'tap';
import { ipToU32, macFromString, macToString, u32ToIp } from '../src/wire/addr.ts';
import { ARPOP_REPLY, ARPOP_REQUEST, arpOp, arpSenderIp, arpSenderMac, arpTargetIp, arpTargetMac, buildArpReply, buildArpRequest } from '../src/wire/arp.ts';
import { buildIcmpEchoFrame, buildIcmpErrorFrame, buildPortUnreachFrame, buildTcpFrame, buildUdpFrame, ICMP_FRAG_NEEDED, ICMP_QUOTE_RFC792, L4_OFF } from '../src/wire/build.ts';
import { checksum } from '../src/wire/checksum.ts';
import { ETH_HLEN } from '../src/wire/ethernet.ts';
import { ICMP_DEST_UNREACH } from '../src/wire/icmp.ts';
import { ipChecksumOk, ipDaddr, ipSaddr, ipTotLen, pseudoHeaderSum, IPPROTO_TCP, IPPROTO_UDP } from '../src/wire/ipv4.ts';
import { TCP_SYN, tcpSeq, tcpSport, tcpDport, tcpFlags, tcpHdrLen } from '../src/wire/tcp.ts';
import { decapVxlan, encapVxlan, vxlanInnerOffset, vxlanSrcPort, VXLAN_OVERHEAD, VXLAN_SPORT_MAX, VXLAN_SPORT_MIN } from '../src/wire/vxlan.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!, (b) => parseInt(b, 16));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const A = macFromString('0a:58:ac:10:00:e6'), B = macFromString('0a:58:ac:10:01:6f');
const C = ipToU32('172.16.0.230'), S = ipToU32('172.16.1.111');
/** TCP/UDP checksum verifies over the pseudo header. */
const l4ok = (f: Uint8Array, proto: number): boolean => {
  const len = ipTotLen(f, ETH_HLEN) - 20;
  return checksum(f, L4_OFF, len, pseudoHeaderSum(ipSaddr(f, ETH_HLEN), ipDaddr(f, ETH_HLEN), proto, len)) === 0;
};

// Annotated fixtures (checked by tcpdump 4.99 and tshark 4.0 with checksum validation).
const ARP_REQUEST = hex(`ffffffffffff 0a58ac1000e6 0806
  0001 0800 06 04 0001  0a58ac1000e6 ac1000e6  000000000000 ac10000c`);
const ARP_REPLY = hex(`0a58ac1000e6 0a58ac10016f 0806
  0001 0800 06 04 0002  0a58ac10016f ac10000c  0a58ac1000e6 ac1000e6`);
const SYN = hex(`0a58ac10016f 0a58ac1000e6 0800
  45 00 002c 0001 4000 40 06 e055 ac1000e6 ac10016f
  a168 0050 000004d2 00000000 60 02 faf0 7ee8 0000  02 04 2301`);

t.test('ARP request and reply: fields -> bytes -> fields', async (t) => {
  const req = buildArpRequest(A, C, ipToU32('172.16.0.12'));
  t.equal(toHex(req), toHex(ARP_REQUEST));
  t.equal(arpOp(ARP_REQUEST), ARPOP_REQUEST);
  t.equal(macToString(arpSenderMac(ARP_REQUEST)), '0a:58:ac:10:00:e6');
  t.equal(u32ToIp(arpSenderIp(ARP_REQUEST)), '172.16.0.230');
  t.equal(u32ToIp(arpTargetIp(ARP_REQUEST)), '172.16.0.12');
  const rep = buildArpReply(B, ipToU32('172.16.0.12'), A, C);
  t.equal(toHex(rep), toHex(ARP_REPLY));
  t.equal(arpOp(ARP_REPLY), ARPOP_REPLY);
  t.equal(macToString(arpTargetMac(ARP_REPLY)), '0a:58:ac:10:00:e6');
});

t.test('TCP SYN with MSS: fields -> bytes -> fields', async (t) => {
  const f = buildTcpFrame({ srcMac: A, dstMac: B, src: C, dst: S, ttl: 64, id: 1, sport: 41320, dport: 80, seq: 1234, ack: 0, flags: TCP_SYN, window: 64240, mss: 8961 });
  t.equal(toHex(f), toHex(SYN));
  t.same([tcpSport(SYN, L4_OFF), tcpDport(SYN, L4_OFF), tcpSeq(SYN, L4_OFF), tcpFlags(SYN, L4_OFF), tcpHdrLen(SYN, L4_OFF)], [41320, 80, 1234, TCP_SYN, 24]);
  t.ok(ipChecksumOk(f, ETH_HLEN));
  t.ok(l4ok(f, IPPROTO_TCP));
});

t.test('UDP, ICMP echo and errors carry valid checksums', async (t) => {
  const base = { srcMac: A, dstMac: B, src: C, dst: S, ttl: 64, id: 7 };
  const odd = new Uint8Array([1, 2, 3, 4, 5]);
  const udp = buildUdpFrame({ ...base, sport: 1000, dport: 53 }, odd);
  t.ok(ipChecksumOk(udp, ETH_HLEN)); t.ok(l4ok(udp, IPPROTO_UDP)); t.equal(udp.length, 14 + 20 + 8 + 5);
  t.equal(toHex(buildUdpFrame({ ...base, sport: 1, dport: 2, udpChecksum: false }).subarray(40, 42)), '0000', 'checksum left 0 on request');
  const ping = buildIcmpEchoFrame({ ...base, reply: false, echoId: 9, seq: 3 }, odd);
  t.equal(checksum(ping, L4_OFF, 8 + 5), 0); t.equal(ping[L4_OFF], 8);

  const big = buildUdpFrame({ ...base, sport: 1000, dport: 9 }, new Uint8Array(1000));
  const linux = buildPortUnreachFrame({ ...base, src: S, dst: C }, big);
  t.equal(ipTotLen(linux, ETH_HLEN), 576, 'Linux quotes up to a 576-byte datagram');
  t.equal(linux[ETH_HLEN + 1], 0xc0, 'TOS internetwork control');
  t.equal(linux[ETH_HLEN + 6], 0, 'DF clear');
  t.same([linux[L4_OFF], linux[L4_OFF + 1]], [3, 3]);
  t.equal(checksum(linux, L4_OFF, 576 - 20), 0);
  t.equal(toHex(linux.subarray(L4_OFF + 8, L4_OFF + 8 + 28)), toHex(big.subarray(14, 42)), 'quote starts with the offending IP+UDP headers');
  const rfc = buildIcmpErrorFrame({ ...base, src: S, dst: C }, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, big, ETH_HLEN, 1450, ICMP_QUOTE_RFC792);
  t.equal(ipTotLen(rfc, ETH_HLEN), 20 + 8 + 28, 'header + 8 bytes');
  t.equal((rfc[L4_OFF + 6]! << 8) | rfc[L4_OFF + 7]!, 1450, 'next-hop MTU');
  t.equal(checksum(rfc, L4_OFF, 36), 0);
});

t.test('VXLAN encap/decap', async (t) => {
  const outer = { srcMac: macFromString('52:54:00:00:00:0a'), dstMac: macFromString('52:54:00:00:00:65'), src: ipToU32('192.168.10.10'), dst: ipToU32('192.168.10.101'), ttl: 64, id: 4242 };
  const inner = new Uint8Array([...SYN, 0xee, 0xee]);
  const f = encapVxlan(inner, SYN.length, outer, 39126);
  t.equal(f.length, SYN.length + VXLAN_OVERHEAD);
  t.equal(toHex(f.subarray(34, 50)), `${vxlanSrcPort(SYN).toString(16)}2118 ${(8 + 8 + SYN.length).toString(16).padStart(4, '0')} 0000 08000000 0098d600`.replace(/ /g, ''),
    'UDP sport/8472/len/zero checksum, then I flag and VNI 39126');
  t.ok(ipChecksumOk(f, ETH_HLEN));
  t.equal(f[ETH_HLEN + 6], 0, 'outer DF clear');
  const d = decapVxlan(f);
  t.equal(d?.vni, 39126);
  t.equal(toHex(d!.inner), toHex(SYN), 'inner frame bytes unchanged, trailing bytes excluded');
  t.equal(vxlanInnerOffset(SYN), -1, 'plain TCP is not VXLAN');
  t.equal(decapVxlan(f.subarray(0, 60)), null, 'too short for an inner Ethernet header');
  t.equal(decapVxlan(f, 4789), null, 'other port');
});

t.test('VXLAN source port: deterministic per flow, spread in range', async (t) => {
  const ports = new Set<number>();
  for (let sport = 30000; sport < 30200; sport++) {
    const f = buildTcpFrame({ srcMac: A, dstMac: B, src: C, dst: S, ttl: 64, id: 1, sport, dport: 80, seq: 1, ack: 0, flags: TCP_SYN, window: 1 });
    const p = vxlanSrcPort(f);
    t.ok(p >= VXLAN_SPORT_MIN && p < VXLAN_SPORT_MAX);
    t.equal(vxlanSrcPort(f), p);
    ports.add(p);
  }
  t.ok(ports.size > 190, `${ports.size} distinct ports for 200 flows`);
});
