import t from 'tap';
import { compileFilter } from '../src/wire/filter.ts';
import { sampleCapture } from './helpers/wire_fixtures.ts';

// Frame numbers (1-based) of the sample capture each filter keeps, as
// tcpdump 4.99.3 / libpcap 1.10.3 -r sample.pcap '<expr>' kept them.
const CASES: Array<[string, number[]]> = [
  ["", [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]],
  ["tcp", [1,2,3,4,5,6,7]],
  ["udp", [12,13,14,15,17,18,19,20]],
  ["icmp", [8,9,16]],
  ["arp", [10,11]],
  ["ip", [1,2,3,4,5,6,7,8,9,12,13,14,15,16,17,18,19,20]],
  ["host 172.16.0.12", [10,11]],
  ["host 10.96.0.10", [12,13,14,15,16]],
  ["src host 172.16.0.230", [1,3,4,6,8,10,12,17]],
  ["dst host 172.16.0.230", [2,5,7,9,11,13,14,15,16]],
  ["net 172.16.0.0/16", [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]],
  ["net 172.16.1.0/24", [1,2,3,4,5,6,7,8,9,17]],
  ["src net 10.96.0.0/12", [13,14,15,16]],
  ["net 10", [12,13,14,15,16]],
  ["net 192.168.0.0 mask 255.255.0.0", [18,19,20]],
  ["port 80", [1,2,3,4,5,6,7]],
  ["src port 80", [2,5,7]],
  ["dst port 53", [12]],
  ["udp port 53", [12,13,14,15]],
  ["tcp port 53", []],
  ["port 53 or 80", [1,2,3,4,5,6,7,12,13,14,15]],
  ["tcp and not port 80", []],
  ["udp and (port 8472 or port 4789)", [18,19,20]],
  ["!arp && !ip", []],
  ["icmp or arp", [8,9,10,11,16]],
  ["not (tcp or udp)", [8,9,10,11,16]],
  ["host 172.16.0.230 and host 172.16.1.111", [1,2,3,4,5,6,7,8,9,17]],
  ["src 172.16.1.111", [2,5,7,9]],
  ["host 172.16.0.12 or 172.16.0.230", [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]],
  ["portrange 40000-41320", [1,2,3,4,5,6,7,17]],
  ["ether host 0a:58:ac:10:01:6f", [1,2,3,4,5,6,7,8,9,11,12,13,14,15,16,17]],
  ["ether dst ff:ff:ff:ff:ff:ff", [10]],
  ["greater 200", [15]],
  ["less 60", [1,2,3,6,7,10,11,17]],
  ["ip src 10.96.0.10 or arp", [10,11,13,14,15,16]],
  ["arp host 172.16.0.230", [10,11]],
  ["ip host 172.16.0.12", []],
  ["src or dst port 9999", [17]],
  ["tcp src port 80 and dst port 41320", [2,5,7]],
  ["udp and src port 5353 or icmp", [8,9,12,16]],
];

const frames = sampleCapture().map((c) => c.frame);

t.test('filters keep the frames tcpdump keeps', async (t) => {
  for (const [expr, want] of CASES) {
    const p = compileFilter(expr);
    const got = frames.flatMap((f, i) => (p(f) ? [i + 1] : []));
    t.same(got, want, JSON.stringify(expr));
  }
});

const ERRORS: Array<[string, RegExp]> = [
  ['tcp and', /^syntax error in filter expression/],
  ['(tcp or udp', /^syntax error in filter expression/],
  ['host', /^syntax error in filter expression/],
  ['172.16.0.12', /^syntax error in filter expression/],
  ['tcp udp', /^syntax error in filter expression/],
  ['port 80 )', /^syntax error in filter expression/],
  ['tcp $ udp', /^syntax error in filter expression/],
  ['port 99999', /^illegal port number 99999 > 65535$/],
  ['host foo', /^unknown host 'foo'/],
  ['icmp port 3', /illegal qualifier of 'port'/],
  ['net 10.1.2.3/8', /non-network bits set/],
];

t.test('bad expressions throw clear errors', async (t) => {
  for (const [expr, re] of ERRORS) t.throws(() => compileFilter(expr), re, JSON.stringify(expr));
});

t.test('truncated and runt frames never match or throw', async (t) => {
  const p = compileFilter('port 80 or host 10.0.0.1 or arp');
  for (let n = 0; n < frames[3]!.length; n += 7) t.equal(p(frames[3]!.subarray(0, n)), n >= 38, `cut at ${n}`);
});
