// The emulated TCP's retransmission timer against Linux 6.8's: the RTO from
// the handshake's RTT sample (tcp_rtt_estimator, tcp_set_rto), exponential
// backoff, SYN retransmits with tcp_syn_linear_timeouts, Karn's rule with
// timestamps. Pod A's frames pass a tcx program on its lxc that notes when
// each was sent and drops the ones a case asks for.

import t from 'tap';
import { Sim } from '../src/sim/sim.ts';
import { buildTestbed, SEED_SPEC } from '../src/kernel/testbed.ts';
import { SocketError, type TcpConnection } from '../src/kernel/api.ts';
import type { TcpSock } from '../src/kernel/tcp.ts';
import { TCP_FIN, TCP_SYN, tcpFlags } from '../src/wire/tcp.ts';

const ONE_WAY_MS = 50;

interface Sent { ms: number; flags: number; len: number }

function lab(drop: (s: Sent, nth: number) => boolean) {
  const sim = new Sim(11);
  const { nodes } = buildTestbed(sim, { ...SEED_SPEC, mtu: 1500, underlayLatencyNs: ONE_WAY_MS * 1e6 });
  const pa = nodes[0]!.pods[0]!, pb = nodes[1]!.pods[0]!;
  const sent: Sent[] = [];
  const prog = {
    id: 1, name: 'lossy', type: 'sched_cls' as const, tag: '0000000000000000', mapIds: [], loadedAtMs: 0,
    run: (skb: { data: Uint8Array; len: number }) => {
      const d = skb.data;
      if (((d[12]! << 8) | d[13]!) !== 0x0800 || d[23] !== 6) return -1;
      const l4 = 14 + (d[14]! & 15) * 4;
      const s: Sent = { ms: sim.now() / 1e6, flags: tcpFlags(d, l4), len: skb.len - l4 - (d[l4 + 12]! >> 4) * 4 };
      sent.push(s);
      return drop(s, sent.length) ? 2 : -1;
    },
  };
  nodes[0]!.node.attachTcx(pa.lxc, 'ingress', prog as never);
  return { sim, pa, pb, sent };
}

/** One connection opened and closed first, so that ARP has resolved both nodes (its round trip is not in the samples below). */
async function warm(sim: Sim, ns: { sockets: { tcpConnect(to: { ip: number; port: number }): Promise<TcpConnection> } }, ip: number): Promise<void> {
  const c = await sim.settle(ns.sockets.tcpConnect({ ip, port: 80 }));
  const closed = new Promise<void>((res) => c.onClose(() => res()));
  c.end();
  await sim.settle(closed);
}

/** Gaps (ms, rounded to the jiffy) between the frames with `flag` that pod A sent. */
const gaps = (sent: Sent[], flag: number): number[] => {
  const at = sent.filter((s) => s.flags & flag).map((s) => s.ms);
  return at.slice(1).map((x, i) => Math.round(x - at[i]!));
};

/** tcp_set_rto after the first sample m: srtt + max(2m, 200 ms), in whole 4 ms jiffies (HZ=250), as ms. */
const firstRtoMs = (mUs: number): number => Math.ceil((mUs + Math.max(2 * mUs, 200_000)) / 4000) * 4;

t.test('SYNs to a silent peer: 1 s, four more 1 s timeouts (tcp_syn_linear_timeouts 4), then doubling; ETIMEDOUT at 131 s', async (t) => {
  const { sim, pa, pb, sent } = lab((s) => (s.flags & TCP_SYN) !== 0);
  const start = sim.now();
  const err = await sim.settle(pa.ns.sockets.tcpConnect({ ip: pb.ip, port: 80 }).then(() => null, (e: unknown) => e));
  t.ok(err instanceof SocketError && err.code === 'ETIMEDOUT', 'connect fails with ETIMEDOUT');
  t.same(sent.map((s) => Math.round(s.ms - start / 1e6) / 1000), [0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67], '11 SYNs (tcp_syn_retries 6 + 4 linear)');
  t.equal(Math.round((sim.now() - start) / 1e9), 131);
});

t.test('the handshake\'s RTT sample sets the RTO (srtt + max(4 * mdev, 200 ms)); a lost FIN backs off 2x each time', async (t) => {
  let armed = false;
  const { sim, pa, pb, sent } = lab((s) => armed && (s.flags & TCP_FIN) !== 0 && sent.filter((x) => x.flags & TCP_FIN).length <= 3);
  pb.ns.sockets.tcpListen(80, (c) => { c.onEnd(() => c.end()); });
  await warm(sim, pa.ns, pb.ip);
  sent.length = 0; armed = true;
  const c: TcpConnection = await sim.settle(pa.ns.sockets.tcpConnect({ ip: pb.ip, port: 80 }));
  const info = (c as TcpSock).rttInfo();
  t.ok(info.srttMs >= 2 * ONE_WAY_MS && info.srttMs < 2 * ONE_WAY_MS + 2, `srtt is the path's RTT (${info.srttMs} ms)`);
  t.equal(info.rttvarMs, 2 * info.srttMs, 'first sample: mdev = rttvar = 2 * rtt (above tcp_rto_min)');
  t.equal(info.rtoMs, firstRtoMs(Math.round(info.srttMs * 1000)), `RTO ${info.rtoMs} ms: 3 * rtt rounded up to the jiffy`);
  const closed = new Promise<void>((res) => c.onClose(() => res()));
  c.end();
  await sim.settle(closed);
  t.same(gaps(sent, TCP_FIN), [info.rtoMs, 2 * info.rtoMs, 4 * info.rtoMs], 'FIN sent 4 times: after RTO, 2 RTO, 4 RTO');
  const after = (c as TcpSock).rttInfo();
  t.ok(after.srttMs < info.srttMs + 1, `Karn: the retransmitted FIN\'s ACK gave a sample from the echoed timestamp, not from the first send (srtt ${after.srttMs} ms)`);
  t.equal(after.backoff, 0, 'a valid sample ends the backoff');
});

t.test('a path 295 ms away (seed 003\'s wttr.in): RTO ~900 ms, so the FIN is ACKed before any retransmission', async (t) => {
  // Nodes 147.5 ms apart: a 295 ms round trip.
  const sim2 = new Sim(12);
  const far = buildTestbed(sim2, { ...SEED_SPEC, mtu: 1500, underlayLatencyNs: 147_500_000 });
  const a = far.nodes[0]!.pods[0]!, b = far.nodes[1]!.pods[0]!;
  b.ns.sockets.tcpListen(80, (c) => { c.onData(() => c.write(new TextEncoder().encode('HTTP/1.1 200 OK\r\n\r\n'))); c.onEnd(() => c.end()); });
  const fins: number[] = [];
  far.nodes[0]!.node.capture(a.lxc, (f) => { if (f[23] === 6 && (tcpFlags(f, 34) & TCP_FIN) && ((f[26]! << 24) | (f[27]! << 16) | (f[28]! << 8) | f[29]!) >>> 0 === a.ip) fins.push(sim2.now()); });
  await warm(sim2, a.ns, b.ip);
  fins.length = 0;
  const c: TcpConnection = await sim2.settle(a.ns.sockets.tcpConnect({ ip: b.ip, port: 80 }));
  const info = (c as TcpSock).rttInfo();
  t.ok(info.srttMs >= 295 && info.srttMs < 297, `srtt ${info.srttMs} ms`);
  t.ok(info.rtoMs >= 884 && info.rtoMs <= 892, `RTO ${info.rtoMs} ms`);
  const closed = new Promise<void>((res) => c.onClose(() => res()));
  c.onData(() => c.end());
  c.write(new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n'));
  await sim2.settle(closed);
  t.equal(fins.length, 1, 'one FIN from the client');
});
