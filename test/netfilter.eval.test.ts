// The engine evaluating packets: kube-proxy's rules (the seed lab's
// svc-clusterip and the upstream example's affinity / no-endpoint / masquerade
// services) through PREROUTING -> FORWARD -> POSTROUTING with conntrack, NAT
// only on a connection's first packet, counters, and conntrack's text.

import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../src/sim/sim.ts';
import { ipToU32, u32ToIp } from '../src/wire/addr.ts';
import { Netfilter, type NfPacket } from '../src/netfilter/netfilter.ts';
import { restore } from '../src/netfilter/restore.ts';
import { iptables } from '../src/netfilter/exec.ts';
import { KUBE_PROXY_SETTINGS, TCP_ACK, TCP_FIN, TCP_SYN } from '../src/netfilter/conntrack.ts';
import { conntrackTool, entryLine } from '../src/netfilter/conntrack_cli.ts';
import { readPkt, writeNat } from '../src/netfilter/packet.ts';
import { buildTcpFrame } from '../src/wire/build.ts';
import type { Pkt } from '../src/netfilter/types.ts';

const RULES = readFileSync(join(import.meta.dirname, 'scenarios/netfilter/kube-proxy.rules'), 'utf8');
const NODE_IP = ipToU32('172.18.0.2');

function lab(seed = 1) {
  let now = 0;
  const nf = new Netfilter({
    now: () => now, rng: new Rng(seed), isLocal: (a) => a === NODE_IP || a >>> 24 === 127, deviceAddr: () => NODE_IP,
  }, KUBE_PROXY_SETTINGS);
  const r = restore(nf.rules, RULES);
  if (r.code !== 0) throw new Error(r.stderr);
  const events: string[] = [];
  nf.conntrack.onEvent((type, e, at) => events.push(entryLine(e, at, type)));
  return { nf, events, advance: (s: number) => { now += s * 1e9; }, now: () => now };
}

function pkt(src: string, dst: string, sport: number, dport: number, flags: number, len = 60, inIf = 'veth1', outIf = 'eth0'): Pkt {
  return { src: ipToU32(src), dst: ipToU32(dst), proto: 6, sport, dport, len, tcpFlags: flags, icmpType: 0, icmpCode: 0, icmpId: 0, frag: false, inIf, outIf, mark: 0 };
}

/** A forwarded packet's three hooks; returns the packet after NAT and the last verdict. */
function forward(nf: Netfilter, p: Pkt): { np: NfPacket; verdict: string; walked: number } {
  const np = nf.begin(p);
  let walked = 0;
  for (const h of ['PREROUTING', 'FORWARD', 'POSTROUTING'] as const) {
    const r = nf.hook(h, np);
    walked += r.rulesWalked;
    if (r.verdict !== 'ACCEPT') return { np, verdict: r.verdict, walked };
  }
  return { np, verdict: 'ACCEPT', walked };
}

/** One whole TCP connection client -> service; returns the backend it reached. */
function connect(nf: Netfilter, client: string, sport: number, vip: string, vport: number): string {
  const syn = forward(nf, pkt(client, vip, sport, vport, TCP_SYN));
  if (syn.verdict !== 'ACCEPT') return syn.verdict;
  const backend = u32ToIp(syn.np.pkt.dst), bport = syn.np.pkt.dport;
  const reply = forward(nf, pkt(backend, client, bport, sport, TCP_SYN | TCP_ACK, 60, 'eth0', 'veth1'));
  if (u32ToIp(reply.np.pkt.src) !== vip || reply.np.pkt.sport !== vport) throw new Error('reply not de-NATed');
  forward(nf, pkt(client, vip, sport, vport, TCP_ACK, 52));
  return backend;
}

t.test('a ClusterIP connection: DNAT on the SYN only, replies de-NATed, conntrack and events in conntrack-tools format', async (t) => {
  const { nf, events } = lab();
  const syn = forward(nf, pkt('10.10.0.6', '10.200.1.118', 40000, 9000, TCP_SYN));
  t.equal(syn.verdict, 'ACCEPT');
  const backend = u32ToIp(syn.np.pkt.dst);
  t.ok(['10.10.1.2', '10.10.2.3', '10.10.3.2'].includes(backend), backend);
  t.equal(syn.np.pkt.dport, 80);
  t.equal(syn.np.pkt.mark, 0, 'pod source: no masquerade mark');
  t.equal(events[0], `    [NEW] tcp      6 120 SYN_SENT src=10.10.0.6 dst=10.200.1.118 sport=40000 dport=9000 [UNREPLIED] src=${backend} dst=10.10.0.6 sport=80 dport=40000`);
  const synack = forward(nf, pkt(backend, '10.10.0.6', 80, 40000, TCP_SYN | TCP_ACK, 60, 'eth0', 'veth1'));
  t.equal(u32ToIp(synack.np.pkt.src), '10.200.1.118');
  t.equal(synack.np.pkt.sport, 9000);
  const ack = forward(nf, pkt('10.10.0.6', '10.200.1.118', 40000, 9000, TCP_ACK, 52));
  t.equal(u32ToIp(ack.np.pkt.dst), backend, 'later packets follow the binding');
  t.equal(events[1], ` [UPDATE] tcp      6 60 SYN_RECV src=10.10.0.6 dst=10.200.1.118 sport=40000 dport=9000 src=${backend} dst=10.10.0.6 sport=80 dport=40000`);
  t.equal(events[2], ` [UPDATE] tcp      6 86400 ESTABLISHED src=10.10.0.6 dst=10.200.1.118 sport=40000 dport=9000 src=${backend} dst=10.10.0.6 sport=80 dport=40000 [ASSURED]`);
  const l = conntrackTool(nf.conntrack, ['-L', '--src', '10.10.0.6'], 0);
  t.equal(l.stdout, `tcp      6 86400 ESTABLISHED src=10.10.0.6 dst=10.200.1.118 sport=40000 dport=9000 src=${backend} dst=10.10.0.6 sport=80 dport=40000 [ASSURED] mark=0 use=1\n`);
  t.equal(l.stderr, 'conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n');
  // nat counted the SYN once; filter's KUBE-FORWARD counted every forwarded packet.
  const svc = iptables(nf.rules, ['-t', 'nat', '-L', 'KUBE-SERVICES', '-v', '-n']).stdout.split('\n')[2]!;
  t.match(svc, /^ {4}1 {4}60 KUBE-SVC-KBDEBIL6IU6WL7RF/);
  const fwd = iptables(nf.rules, ['-L', 'FORWARD', '-v', '-n']).stdout.split('\n');
  t.match(fwd.find((x) => x.includes('KUBE-FORWARD')), /^ {4}3 {3}172 KUBE-FORWARD/);
});

t.test('TCP teardown walks FIN_WAIT, LAST_ACK, TIME_WAIT; timeouts count down on the virtual clock', async (t) => {
  const { nf, events, advance, now } = lab();
  const backend = connect(nf, '10.10.0.6', 40001, '10.200.1.118', 9000);
  forward(nf, pkt('10.10.0.6', '10.200.1.118', 40001, 9000, TCP_FIN | TCP_ACK, 52));
  forward(nf, pkt(backend, '10.10.0.6', 80, 40001, TCP_FIN | TCP_ACK, 52, 'eth0', 'veth1'));
  forward(nf, pkt('10.10.0.6', '10.200.1.118', 40001, 9000, TCP_ACK, 52));
  t.same(events.slice(3).map((e) => e.split(' ').filter(Boolean).slice(1, 5).join(' ')), ['tcp 6 120 FIN_WAIT', 'tcp 6 30 LAST_ACK', 'tcp 6 120 TIME_WAIT']);
  advance(67);
  t.match(conntrackTool(nf.conntrack, ['-L'], now()).stdout, /^tcp {6}6 53 TIME_WAIT src=10\.10\.0\.6 /);
  advance(60);
  t.equal(conntrackTool(nf.conntrack, ['-L'], now()).stdout, '', 'expired');
  t.match(events.at(-1), /^\[DESTROY\] tcp {6}6 TIME_WAIT src=10\.10\.0\.6 /, 'an expired entry\'s DESTROY has no seconds left, only its state');
});

t.test('1000 connections spread about a third each; statistic counters sum to 1000', async (t) => {
  const { nf } = lab(7);
  const hits = new Map<string, number>();
  for (let i = 0; i < 1000; i++) {
    const b = connect(nf, '10.10.0.6', 20000 + i, '10.200.1.118', 9000);
    hits.set(b, (hits.get(b) ?? 0) + 1);
  }
  t.equal(hits.size, 3);
  for (const [b, n] of hits) t.ok(n > 280 && n < 390, `${b}: ${n}`);
  const svc = iptables(nf.rules, ['-t', 'nat', '-L', 'KUBE-SVC-KBDEBIL6IU6WL7RF', '-v', '-n', '-x']).stdout.split('\n').slice(3, 6);
  const sum = svc.reduce((n, l) => n + Number(l.trim().split(/\s+/)[0]), 0);
  t.equal(sum, 1000);
});

t.test('same seed, same backends', async (t) => {
  const run = () => { const { nf } = lab(42); return Array.from({ length: 20 }, (_, i) => connect(nf, '10.10.0.6', 30000 + i, '10.200.1.118', 9000)).join(); };
  t.equal(run(), run());
});

t.test('ClientIP affinity (recent --rcheck) sticks, and expires after --seconds', async (t) => {
  const { nf, advance } = lab();
  const first = connect(nf, '10.0.0.9', 41000, '172.30.0.45', 80);
  t.equal(first, '10.180.0.3');
  t.equal(connect(nf, '10.0.0.9', 41001, '172.30.0.45', 80), '10.180.0.3');
  const lines = iptables(nf.rules, ['-t', 'nat', '-L', 'KUBE-SVC-NUKIZ6OKUXPJNT4C', '-v', '-n']).stdout.split('\n');
  t.match(lines[3], /^ {4}1 {4}60 KUBE-SEP-I77PXRDZVX7PMWMN .*recent: CHECK seconds: 10800 reap/, 'the second connection hit the CHECK rule');
  t.match(nf.recent.proc('KUBE-SEP-I77PXRDZVX7PMWMN'), /^src=10\.0\.0\.9 ttl: 0 last_seen: \d+ oldest_pkt: 2 /);
  advance(10801);
  t.notOk(nf.recent.check('KUBE-SEP-I77PXRDZVX7PMWMN', ipToU32('10.0.0.9'), 10801e9, 10800, 0, false, false), 'older than --seconds');
});

t.test('no endpoints: REJECT in filter, and no conntrack entry remains', async (t) => {
  const { nf } = lab();
  const r = forward(nf, pkt('10.10.0.6', '172.30.0.46', 42000, 80, TCP_SYN));
  t.equal(r.verdict, 'REJECT');
  t.equal(nf.conntrack.size, 0);
});

t.test('an off-cluster source is marked and masqueraded (--random-fully), mark cleared', async (t) => {
  const { nf } = lab();
  const syn = forward(nf, pkt('192.168.5.2', '10.200.1.118', 50572, 9000, TCP_SYN, 60, 'eth0', 'eth0'));
  t.equal(u32ToIp(syn.np.pkt.src), '172.18.0.2');
  t.not(syn.np.pkt.sport, 50572, 'random-fully picks another port');
  t.equal(syn.np.pkt.mark, 0, 'KUBE-POSTROUTING xors the mark away');
  const e = nf.conntrack.all()[0]!;
  t.equal(u32ToIp(e.reply.dst), '172.18.0.2');
  t.equal(e.reply.dport, syn.np.pkt.sport);
});

t.test('bytes in, bytes out: readPkt and writeNat keep checksums valid', async (t) => {
  const mac = new Uint8Array(6);
  const frame = buildTcpFrame({ srcMac: mac, dstMac: mac, src: ipToU32('10.10.0.6'), dst: ipToU32('10.200.1.118'), ttl: 64, id: 1,
    sport: 40000, dport: 9000, seq: 1, ack: 0, flags: TCP_SYN, window: 64240, mss: 1460 });
  const p = readPkt(frame, 14, 'veth1', 'eth0')!;
  t.equal(p.dport, 9000); t.equal(p.tcpFlags, TCP_SYN); t.equal(p.len, frame.length - 14);
  const { nf } = lab();
  const np = nf.begin(p);
  nf.hook('PREROUTING', np);
  t.ok(np.natChanged);
  writeNat(frame, 14, np.pkt);
  const again = readPkt(frame, 14, '', '')!;
  t.equal(again.dst, np.pkt.dst); t.equal(again.dport, 80);
  t.ok(checksumsOk(frame, 14), 'IP and TCP checksums verify after NAT');
});

t.test('a namespace without rules is idle: hooks cost nothing and track nothing', async (t) => {
  let now = 0;
  const nf = new Netfilter({ now: () => now, rng: new Rng(1), isLocal: () => false, deviceAddr: () => undefined });
  t.ok(nf.idle());
  const np = nf.begin(pkt('1.1.1.1', '2.2.2.2', 1, 2, TCP_SYN));
  t.same(nf.hook('PREROUTING', np), { verdict: 'ACCEPT', rulesWalked: 0 });
  t.equal(nf.conntrack.size, 0);
  now = 1;
});

function checksumsOk(f: Uint8Array, o: number): boolean {
  const sum = (from: number, to: number, init = 0) => { let s = init; for (let i = from; i < to; i += 2) s += (f[i]! << 8) | (i + 1 < to ? f[i + 1]! : 0); while (s > 0xffff) s = (s & 0xffff) + (s >>> 16); return s; };
  const ihl = (f[o]! & 15) * 4, tot = (f[o + 2]! << 8) | f[o + 3]!;
  if (sum(o, o + ihl) !== 0xffff) return false;
  const l4 = tot - ihl;
  const src = (f[o + 12]! << 8 | f[o + 13]!) + (f[o + 14]! << 8 | f[o + 15]!) + (f[o + 16]! << 8 | f[o + 17]!) + (f[o + 18]! << 8 | f[o + 19]!);
  return sum(o + ihl, o + tot, src + 6 + l4) === 0xffff;
}
