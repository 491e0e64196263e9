// A small capture exercising every wire codec: TCP handshake + HTTP, ICMP
// echo and port unreachable, ARP, DNS query/answers/NXDOMAIN, plain UDP, VXLAN.

import { ipToU32, macFromString } from '../../src/wire/addr.ts';
import { buildArpReply, buildArpRequest } from '../../src/wire/arp.ts';
import { buildIcmpEchoFrame, buildPortUnreachFrame, buildTcpFrame, buildUdpFrame } from '../../src/wire/build.ts';
import { dnsQuery, encodeDns, DNS_TYPE, type DnsMessage } from '../../src/wire/dns.ts';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../../src/wire/tcp.ts';
import { encapVxlan } from '../../src/wire/vxlan.ts';

export const MAC_A = macFromString('0a:58:ac:10:00:e6'), MAC_B = macFromString('0a:58:ac:10:01:6f');
export const IP_C = ipToU32('172.16.0.230'), IP_S = ipToU32('172.16.1.111'), IP_DNS = ipToU32('10.96.0.10');
const client = { srcMac: MAC_A, dstMac: MAC_B, src: IP_C, dst: IP_S, ttl: 64, id: 1 };
const server = { srcMac: MAC_B, dstMac: MAC_A, src: IP_S, dst: IP_C, ttl: 63, id: 0 };
const dnsServer = { ...server, src: IP_DNS };
const node1 = { srcMac: macFromString('52:54:00:00:00:0a'), dstMac: macFromString('52:54:00:00:00:65'), src: ipToU32('192.168.10.10'), dst: ipToU32('192.168.10.101'), ttl: 64 };

export const HTTP_REQ = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: webpod\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n');
export const HTTP_RESP = new TextEncoder().encode('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
const FQDN = 'kubernetes.default.svc.cluster.local';

export const DNS_ANSWER: DnsMessage = { ...dnsQuery(12345, FQDN), qr: true, aa: true, ra: true, answers: [{ name: FQDN, type: DNS_TYPE.A, class: 1, ttl: 30, address: '10.96.0.1' }] };
export const DNS_NXDOMAIN: DnsMessage = {
  ...dnsQuery(7, 'nope.default.svc.cluster.local'), qr: true, aa: true, ra: true, rcode: 3,
  authority: [{ name: 'cluster.local', type: DNS_TYPE.SOA, class: 1, ttl: 30, soa: { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: 30 } }],
};
export const DNS_MIXED: DnsMessage = {
  ...dnsQuery(8, 'www.example.com'), qr: true, ra: false,
  answers: [
    { name: 'www.example.com', type: DNS_TYPE.CNAME, class: 1, ttl: 30, target: 'example.com' },
    { name: 'example.com', type: DNS_TYPE.A, class: 1, ttl: 30, address: '93.184.216.34' },
    { name: 'example.com', type: DNS_TYPE.AAAA, class: 1, ttl: 30, address: '2606:2800:220:1::248' },
    { name: '_http._tcp.example.com', type: DNS_TYPE.SRV, class: 1, ttl: 30, priority: 0, weight: 100, port: 80, target: 'web.example.com' },
    { name: '1.0.96.10.in-addr.arpa', type: DNS_TYPE.PTR, class: 1, ttl: 30, target: FQDN },
    { name: 'x', type: DNS_TYPE.TXT, class: 1, ttl: 1, txt: ['hello world'] },
  ],
};

export const T0_MS = Date.UTC(2024, 9, 21, 11, 12, 10, 998) + 0.123;

/** The sample frames, 0.5 ms apart from T0_MS. */
export function sampleCapture(): Array<{ frame: Uint8Array; wallMs: number }> {
  const frames: Uint8Array[] = [];
  const add = (f: Uint8Array): void => { frames.push(f); };
  const tcpC = (seq: number, ack: number, flags: number, window: number, payload?: Uint8Array, mss?: number) =>
    buildTcpFrame({ ...client, sport: 41320, dport: 80, seq, ack, flags, window, mss }, payload);
  const tcpS = (seq: number, ack: number, flags: number, window: number, payload?: Uint8Array, mss?: number) =>
    buildTcpFrame({ ...server, sport: 80, dport: 41320, seq, ack, flags, window, mss }, payload);
  add(tcpC(1234, 0, TCP_SYN, 64240, undefined, 8961));
  add(tcpS(99999, 1235, TCP_SYN | TCP_ACK, 65160, undefined, 8961));
  add(tcpC(1235, 100000, TCP_ACK, 502));
  add(tcpC(1235, 100000, TCP_ACK | TCP_PSH, 502, HTTP_REQ));
  add(tcpS(100000, 1235 + HTTP_REQ.length, TCP_ACK | TCP_PSH, 509, HTTP_RESP));
  add(tcpC(1235 + HTTP_REQ.length, 100000 + HTTP_RESP.length, TCP_ACK | TCP_FIN, 502));
  add(tcpS(100000 + HTTP_RESP.length, 0, TCP_RST, 0));
  add(buildIcmpEchoFrame({ ...client, reply: false, echoId: 1, seq: 1 }, new Uint8Array(56)));
  add(buildIcmpEchoFrame({ ...server, reply: true, echoId: 1, seq: 1 }, new Uint8Array(56)));
  add(buildArpRequest(MAC_A, IP_C, ipToU32('172.16.0.12')));
  add(buildArpReply(MAC_B, ipToU32('172.16.0.12'), MAC_A, IP_C));
  const query = buildUdpFrame({ ...client, dst: IP_DNS, sport: 5353, dport: 53 }, encodeDns(dnsQuery(12345, FQDN, DNS_TYPE.A)));
  add(query);
  for (const m of [DNS_ANSWER, DNS_NXDOMAIN, DNS_MIXED]) add(buildUdpFrame({ ...dnsServer, sport: 53, dport: 5353 }, encodeDns(m)));
  add(buildPortUnreachFrame(dnsServer, query));
  add(buildUdpFrame({ ...client, sport: 40000, dport: 9999 }, new Uint8Array(10)));
  const ping = buildIcmpEchoFrame({ ...client, reply: false, echoId: 1, seq: 1 }, new Uint8Array(56));
  add(encapVxlan(ping, ping.length, { ...node1, id: 4242 }, 39126));
  const push = tcpC(1235, 100000, TCP_ACK | TCP_PSH, 502, HTTP_REQ);
  add(encapVxlan(push, push.length, { ...node1, id: 4243 }, 39126));
  add(encapVxlan(ping, ping.length, { ...node1, id: 4244, dport: 4789 }, 5));
  return frames.map((frame, i) => ({ frame, wallMs: T0_MS + i * 0.5 }));
}
