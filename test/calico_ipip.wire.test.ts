// IP-in-IP on the wire: the codec wraps and unwraps as Linux's ipip does
// (protocol 4, checksummed outer header, inner ECN in the outer TOS), and
// tcpdump -nn prints the encapsulated packet as tcpdump 4.99 does (checked
// against the installed 4.99.3 when there is one; 4.9 added " (ipip-proto-4)").
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ipToU32, readU16, readU32 } from '../src/wire/addr.ts';
import { buildIcmpEchoFrame, buildTcpFrame } from '../src/wire/build.ts';
import { checksum } from '../src/wire/checksum.ts';
import { decapIpip, encapIpip, ipipInnerOffset } from '../src/wire/ipip.ts';
import { pcapFile } from '../src/wire/pcap.ts';
import { TcpdumpFormatter } from '../src/wire/tcpdump.ts';
import { TCP_SYN } from '../src/wire/tcp.ts';

const MAC_A = new Uint8Array([2, 0, 0, 0, 0, 1]), MAC_B = new Uint8Array([2, 0, 0, 0, 0, 2]);
const POD_A = ipToU32('20.111.156.65'), POD_B = ipToU32('20.109.131.2');
const NODE_A = ipToU32('192.168.56.32'), NODE_B = ipToU32('192.168.56.31');
const ZERO = new Uint8Array(6);

const echo = (ttl: number) => buildIcmpEchoFrame({ srcMac: ZERO, dstMac: ZERO, src: POD_A, dst: POD_B, ttl, id: 7, df: true, reply: false, echoId: 42, seq: 1 }, new Uint8Array(56));
const wrap = (inner: Uint8Array, df = true) => encapIpip(inner, inner.length, { srcMac: MAC_A, dstMac: MAC_B, src: NODE_A, dst: NODE_B, ttl: inner[14 + 8]!, id: 0x1234, df });

t.test('encap: outer IPv4 header, protocol 4, node to node, the inner packet intact behind it', async (t) => {
  const inner = echo(63);
  const f = wrap(inner);
  t.equal(f.length, inner.length + 20);
  t.equal(f[14], 0x45, 'version 4, ihl 5');
  t.equal(f[14 + 9], 4, 'protocol 4 (IPPROTO_IPIP)');
  t.equal(readU32(f, 14 + 12), NODE_A); t.equal(readU32(f, 14 + 16), NODE_B);
  t.equal(readU16(f, 14 + 2), inner.length - 14 + 20, 'total length covers the inner packet');
  t.equal(checksum(f, 14, 20), 0, 'outer header checksum verifies');
  t.equal(f[14 + 8], 63, 'TTL inherited');
  t.equal(readU16(f, 14 + 6), 0x4000, 'DF copied from the inner header');
  t.same([...f.subarray(34)], [...inner.subarray(14)], 'inner IPv4 packet unchanged');
  t.equal(readU16(wrap(inner, false), 14 + 6), 0, 'no DF when the inner packet has none');
});

t.test('decap: the inner packet as a frame; anything else is not IP-in-IP', async (t) => {
  const inner = echo(63);
  const f = wrap(inner);
  t.equal(ipipInnerOffset(f), 34);
  const d = decapIpip(f.slice())!;
  t.same([...d.subarray(14)], [...inner.subarray(14)]);
  t.equal(readU16(d, 12), 0x0800);
  t.equal(ipipInnerOffset(inner), -1, 'ICMP is not IP-in-IP');
  t.equal(ipipInnerOffset(f, 40), -1, 'truncated inner header');
  const frag = f.slice(); frag[14 + 6] = 0x20; // MF set
  t.equal(ipipInnerOffset(frag), -1, 'a fragment is reassembled before decap');
});

const frames = () => {
  const syn = buildTcpFrame({ srcMac: ZERO, dstMac: ZERO, src: POD_A, dst: POD_B, ttl: 63, id: 9, sport: 41000, dport: 8080, seq: 1000, ack: 0, flags: TCP_SYN, window: 64240, mss: 1440 });
  const t0 = Date.UTC(2026, 11, 6, 9, 0, 0);
  return [{ frame: wrap(echo(63)), wallMs: t0 }, { frame: wrap(syn), wallMs: t0 + 1 }];
};

t.test('tcpdump -nn prints the outer addresses then the inner packet (tcpdump 4.99: no "(ipip-proto-4)" suffix)', async (t) => {
  const f = new TcpdumpFormatter();
  const lines = frames().map((x) => f.format(x.frame, x.wallMs));
  t.equal(lines[0], '09:00:00.000000 IP 192.168.56.32 > 192.168.56.31: IP 20.111.156.65 > 20.109.131.2: ICMP echo request, id 42, seq 1, length 64');
  t.equal(lines[1], '09:00:00.001000 IP 192.168.56.32 > 192.168.56.31: IP 20.111.156.65.41000 > 20.109.131.2.8080: Flags [S], seq 1000, win 64240, options [mss 1440], length 0');
});

function hasTcpdump(): boolean {
  try { execFileSync('tcpdump', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

t.test('matches the installed tcpdump, with and without -e', { skip: hasTcpdump() ? false : 'tcpdump not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dplab-ipip-'));
  const path = join(dir, 'ipip.pcap');
  writeFileSync(path, pcapFile(frames()));
  for (const link of [false, true]) {
    const real = execFileSync('tcpdump', ['-nn', ...(link ? ['-e'] : []), '-r', path], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, TZ: 'UTC' } }).toString().trimEnd();
    const f = new TcpdumpFormatter({ link });
    t.equal(frames().map((x) => f.format(x.frame, x.wallMs)).join('\n'), real, link ? '-nn -e' : '-nn');
  }
});
