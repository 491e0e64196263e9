// What the emulated TCP puts on the wire, as tcpdump prints it: seed 000's
// curl to a whoami pod (options, windows, timestamps, lengths), MSS and
// window values for other MTUs, the timestamp clock and offsets; and, as root,
// the same exchange through a real kernel's TCP in two network namespaces,
// line for line (random ports, ISNs and timestamp values masked).

import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sim } from '../src/sim/sim.ts';
import { buildTestbed, SEED_SPEC } from '../src/kernel/testbed.ts';
import type { LinuxNode } from '../src/kernel/node.ts';
import type { TcpConnection } from '../src/kernel/api.ts';
import { TcpdumpFormatter } from '../src/wire/tcpdump.ts';
import { buildTcpFrame } from '../src/wire/build.ts';
import { newSkb } from '../src/wire/skb.ts';
import { ipLocalOut } from '../src/kernel/ip.ts';
import type { NetnsImpl } from '../src/kernel/netns.ts';

const SEED = readFileSync(join(import.meta.dirname, 'scenarios/kind-iptables/seed000.txt'), 'utf8').split('\n');
const REQUEST = 80, RESPONSE = 310;
const enc = (s: string, n: number): Uint8Array => new TextEncoder().encode(s + 'x'.repeat(n - s.length));

/**
 * A curl as seed 000 runs it: an 80-byte GET, a 310-byte answer, the client closes, the
 * server closes after it. Returns the tcpdump lines of the client's side of its veth.
 */
async function exchange(mtu: number, opts: { gapNs?: number } = {}): Promise<{ lines: string[]; sim: Sim }> {
  const sim = new Sim(7);
  const { nodes } = buildTestbed(sim, { ...SEED_SPEC, mtu });
  const pa = nodes[0]!.pods[0]!, pb = nodes[1]!.pods[0]!;
  const fmt = new TcpdumpFormatter();
  const lines: string[] = [];
  (pa.ns.node as LinuxNode).capture(pa.lxc, (f) => {
    const l = fmt.format(f, sim.wallMs());
    if (!l.includes(' ARP, ')) lines.push(l.slice(16));
  });
  pb.ns.sockets.tcpListen(80, (c) => {
    c.onData(() => c.write(enc('HTTP/1.1 200 OK\r\n', RESPONSE)));
    c.onEnd(() => c.end());
  });
  const c: TcpConnection = await sim.settle(pa.ns.sockets.tcpConnect({ ip: pb.ip, port: 80 }));
  if (opts.gapNs) await sim.settle(sim.sleep(opts.gapNs));
  let got = 0;
  const closed = new Promise<void>((res) => c.onClose(() => res()));
  c.onData((d) => { got += d.length; if (got >= RESPONSE) c.end(); });
  c.write(enc('GET / HTTP/1.1\r\n', REQUEST));
  await sim.settle(closed);
  await sim.settle(sim.sleep(1e9));
  return { lines, sim };
}

/** Addresses, ports and ISNs are random; timestamps are masked to who sent them (c/s) and whose they echo. */
function normalize(lines: string[], client: string, server: string): string[] {
  const isn: Record<string, string> = {};
  return lines.map((l) => {
    const [, src, dst] = /^IP (\S+)\.\d+ > (\S+)\.\d+:/.exec(l)!;
    const who = (ip: string): string => (ip === client ? 'C' : ip === server ? 'S' : ip);
    let out = l.replace(/^IP \S+ > \S+:/, `${who(src!)} > ${who(dst!)}:`);
    out = out.replace(/(Flags \[S\.?\], seq )(\d+)/, (_m, p: string, n: string) => { isn[who(src!)] = n; return `${p}{ISN}`; });
    out = out.replace(/, ack (\d+), win/, (m, n: string) => (isn[who(dst!)] !== undefined && Number(n) === ((Number(isn[who(dst!)]) + 1) >>> 0) ? ', ack {ISN+1}, win' : m));
    return out.replace(/TS val \d+ ecr (\d+)/, (_m, e: string) => `TS val {${who(src!)}} ecr ${e === '0' ? '0' : `{${who(dst!)}}`}`);
  });
}

t.test('seed 000: a curl to a whoami pod, line for line as the seed\'s tcpdump on the veth', async (t) => {
  const { lines } = await exchange(1500);
  const start = SEED.findIndex((l) => l.includes('IP 10.10.0.6.49862 > 10.10.3.2.80: Flags [S]'));
  t.ok(start > 0, 'the seed shows the capture');
  const seed = SEED.slice(start, start + 10).map((l) => l.slice(16));
  t.same(normalize(lines, '172.16.0.230', '172.16.1.111'), normalize(seed, '10.10.0.6', '10.10.3.2'),
    'SYN win 64240 [mss 1460,sackOK,TS,nop,wscale 7], SYN-ACK win 65160, then windows 502, 509, 501 scaled by 128, NOP NOP TS on every segment');
  t.match(lines[0], /, options \[mss 1460,sackOK,TS val \d+ ecr 0,nop,wscale 7\], length 0$/);
});

t.test('the SYN is 60 bytes of IP, a data segment carries MSS - 12 bytes', async (t) => {
  const sim = new Sim(3);
  const { nodes } = buildTestbed(sim, { ...SEED_SPEC, mtu: 1500 });
  const pa = nodes[0]!.pods[0]!, pb = nodes[1]!.pods[0]!;
  const sizes: number[] = [];
  (pa.ns.node as LinuxNode).capture(pa.lxc, (f, dir) => { if (dir === 'in' && f[23] === 6) sizes.push((f[16]! << 8) | f[17]!); });
  let got = 0;
  const done = new Promise<void>((res) => pb.ns.sockets.tcpListen(80, (c) => { c.onData((d) => { got += d.length; }); c.onEnd(() => { c.end(); res(); }); }));
  const c = await sim.settle(pa.ns.sockets.tcpConnect({ ip: pb.ip, port: 80 }));
  c.write(new Uint8Array(3000));
  c.end();
  await sim.settle(done);
  t.equal(got, 3000);
  t.same(sizes.slice(0, 5), [60, 52, 1500, 1500, 156], 'SYN 60, ACK 52 (20 + 20 + 12), then 1448 + 1448 + 104 bytes of data');
});

t.test('MTU 9001 (the Cilium lab): windows from the same formulas', async (t) => {
  const { lines } = await exchange(9001);
  t.match(lines[0], /Flags \[S\], seq \d+, win 62727, options \[mss 8961,sackOK,TS val \d+ ecr 0,nop,wscale 7\], length 0$/, '65536 rounded down to 7 x 8961');
  t.match(lines[1], /Flags \[S\.\], seq \d+, ack \d+, win 62643, options \[mss 8961,sackOK,TS val \d+ ecr \d+,nop,wscale 7\], length 0$/, '7 x 8949 (MSS less the timestamp)');
  t.same(lines.slice(2).map((l) => /win (\d+)/.exec(l)![1]), ['491', '491', '489', '489', '489', '489', '489', '489'],
    'the offered window never shrinks: 62727 and 62643 rounded up to 128, then less what arrived');
});

t.test('timestamps: the clock in ms plus one offset per address pair; ecr echoes the peer', async (t) => {
  const sim = new Sim(11);
  const { nodes } = buildTestbed(sim, { ...SEED_SPEC, mtu: 1500, nodes: [SEED_SPEC.nodes[0]!, { ...SEED_SPEC.nodes[1]!, pods: [{ name: 'webpod1', ip: '172.16.1.111' }, { name: 'webpod2', ip: '172.16.1.112' }] }] });
  const pa = nodes[0]!.pods[0]!, [pb, pc] = nodes[1]!.pods as [typeof pa, typeof pa];
  const syns: Array<{ dst: number; ts: number }> = [];
  (pa.ns.node as LinuxNode).capture(pa.lxc, (f, dir) => {
    if (dir === 'in' && f[23] === 6 && f[47] === 0x02) syns.push({ dst: f[33]!, ts: ((f[62]! << 24) | (f[63]! << 16) | (f[64]! << 8) | f[65]!) >>> 0 });
  });
  for (const p of [pb, pc]) p.ns.sockets.tcpListen(80, (c) => c.onEnd(() => c.end()));
  for (const [p, wait] of [[pb, 0], [pb, 250e6], [pc, 0]] as const) {
    if (wait) await sim.settle(sim.sleep(wait));
    const c = await sim.settle(pa.ns.sockets.tcpConnect({ ip: p.ip, port: 80 }));
    c.end();
  }
  await sim.settle(sim.sleep(1e9));
  t.same(syns.map((s) => s.dst), [111, 111, 112]);
  t.equal(((syns[1]!.ts - syns[0]!.ts) | 0), 250, 'the same pair 250 ms later: the same offset, the clock 250 higher');
  t.not(((syns[2]!.ts - syns[1]!.ts) | 0), 0, 'another destination: another offset (secure_tcp_ts_off hashes the pair)');
  const { lines } = await exchange(1500);
  const vals = (dir: string) => lines.filter((l) => l.startsWith(dir)).map((l) => Number(/TS val (\d+)/.exec(l)![1]));
  const cv = vals('IP 172.16.0.230'), sv = vals('IP 172.16.1.111');
  for (const [i, l] of lines.entries()) {
    if (i === 0) continue;
    const ecr = Number(/ecr (\d+)/.exec(l)![1]);
    t.ok((l.startsWith('IP 172.16.0.230') ? sv : cv).includes(ecr), `line ${i + 1} echoes a timestamp the peer sent`);
  }
});

t.test('a peer without options gets none back, and unscaled windows', async (t) => {
  const sim = new Sim(5);
  const { nodes } = buildTestbed(sim, { ...SEED_SPEC, mtu: 1500 });
  const pa = nodes[0]!.pods[0]!, pb = nodes[1]!.pods[0]!;
  const fmt = new TcpdumpFormatter();
  const lines: string[] = [];
  (pb.ns.node as LinuxNode).capture(pb.lxc, (f) => { const l = fmt.format(f, 0); if (!l.includes('ARP')) lines.push(l.slice(16)); });
  pb.ns.sockets.tcpListen(80, () => {});
  // A bare SYN (MSS only, as old stacks send), written by hand into the client's netns.
  const ns = pa.ns as NetnsImpl;
  const f = buildTcpFrame({ srcMac: new Uint8Array(6), dstMac: new Uint8Array(6), src: pa.ip, dst: pb.ip, ttl: 64, id: 1, df: true,
    sport: 40000, dport: 80, seq: 1000, ack: 0, flags: 0x02, window: 64240, mss: 1460 });
  ipLocalOut(ns, newSkb(f, f.length, 0), ns.lookupRoute(pb.ip));
  await sim.settle(sim.sleep(1e6));
  t.match(lines[1], /Flags \[S\.\], seq \d+, ack 1001, win 64240, options \[mss 1460\], length 0$/, 'SYN-ACK: MSS only, 65536 rounded down to 1460s');
});

function unavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root: network namespaces need CAP_SYS_ADMIN';
  for (const b of ['ip', 'tcpdump', 'python3']) if (spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0) return `missing binary: ${b}`;
  return null;
}

const SERVER = `
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 80)); s.listen(4)
print('ready', flush=True)
c, _a = s.accept(); c.recv(1000); c.sendall(b'HTTP/1.1 200 OK\\r\\n' + b'x' * ${RESPONSE - 17})
c.recv(1000); c.close()
`;
const CLIENT = `
import socket
c = socket.create_connection(('10.99.0.2', 80)); c.sendall(b'GET / HTTP/1.1\\r\\n' + b'y' * ${REQUEST - 16})
n = 0
while n < ${RESPONSE}:
    d = c.recv(1000)
    if not d: break
    n += len(d)
c.close()
`;

/** The exchange through the real kernel's TCP (ns c -> veth -> ns s), captured on the client's veth. */
async function realExchange(t: { teardown(fn: () => void): void }, mtu: number): Promise<string[]> {
  const tag = `dplw${process.pid % 100000}`, C = `${tag}c`, S = `${tag}s`;
  const sh = (...a: string[]) => { const r = spawnSync(a[0]!, a.slice(1), { encoding: 'utf8', timeout: 20_000 }); if (r.status !== 0) throw new Error(`${a.join(' ')}: ${r.stderr}`); return r.stdout; };
  const inNs = (ns: string, ...a: string[]) => ['ip', 'netns', 'exec', ns, ...a];
  const kids: Array<ReturnType<typeof spawn>> = [];
  t.teardown(() => { for (const k of kids) k.kill(); for (const ns of [C, S]) spawnSync('ip', ['netns', 'del', ns]); });
  for (const ns of [C, S]) sh('ip', 'netns', 'add', ns);
  sh('ip', 'link', 'add', 'c0', 'netns', C, 'type', 'veth', 'peer', 'name', 's0', 'netns', S);
  for (const [ns, dev, ip] of [[C, 'c0', '10.99.0.1'], [S, 's0', '10.99.0.2']] as const) {
    sh(...inNs(ns, 'ip', 'addr', 'add', `${ip}/24`, 'dev', dev));
    sh(...inNs(ns, 'ip', 'link', 'set', dev, 'mtu', String(mtu), 'up'));
    // The host may have raised tcp_rmem[2] (wscale follows it): a fresh kernel's default, as the lab assumes.
    sh(...inNs(ns, 'sysctl', '-qw', 'net.ipv4.tcp_rmem=4096 131072 6291456'));
  }
  const server = spawn('ip', inNs(S, 'python3', '-c', SERVER).slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  kids.push(server);
  await new Promise<void>((res, rej) => {
    server.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) res(); });
    setTimeout(() => rej(new Error('server did not start')), 10_000);
  });
  const dump = spawn('ip', inNs(C, 'tcpdump', '-i', 'c0', '-nn', '-l', '-c', '8', 'tcp').slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  kids.push(dump);
  let out = '';
  dump.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  await new Promise<void>((res, rej) => {
    dump.stderr!.on('data', (d: Buffer) => { if (d.toString().includes('listening on')) res(); });
    setTimeout(() => rej(new Error('tcpdump did not start')), 10_000);
  });
  sh(...inNs(C, 'python3', '-c', CLIENT));
  await new Promise<void>((res) => { dump.on('exit', () => res()); setTimeout(res, 10_000); });
  return out.trim().split('\n').map((l) => l.slice(16));
}

const why = unavailable();
if (why) {
  t.comment(`SKIPPED real kernel TCP comparison: ${why}`);
} else {
  for (const mtu of [1500, 9001]) {
    t.test(`real kernel TCP, MTU ${mtu}: the same lines as the emulator`, async (t) => {
      const real = await realExchange(t, mtu);
      const emu = (await exchange(mtu)).lines;
      // The first eight segments are fixed by the stack (up to the client's FIN); after it the
      // real server's FIN may come with or without a separate ACK, as its process wakes up.
      t.same(normalize(real, '10.99.0.1', '10.99.0.2'), normalize(emu.slice(0, 8), '172.16.0.230', '172.16.1.111'));
    });
  }
}
