// Packets per second per core through the real Cilium datapath: clusters built
// with Cluster.fromYaml (agents attach the tc/cgroup programs, maps and CT are
// live), traffic driven through the pods' netns SocketApi, so every packet is
// built by the sending socket, walks veth -> cil_from_container -> ... ->
// cil_to_container and is checked and delivered by the receiving socket.
// Single-threaded; each figure is the median of interleaved rounds
// (bench/lib/harness.ts); prints one JSON object.
// Run: node --expose-gc --import tsx bench/datapath.bench.ts [case-prefix...] [--rounds N]

import { Cluster } from '../src/cluster/cluster.ts';
import { CILIUM_LAB } from '../src/cluster/labs/cilium.ts';
import type { Netns, TcpConnection } from '../src/kernel/api.ts';
import { ipToU32 } from '../src/wire/addr.ts';
import { allocBytes } from '../src/wire/alloc.ts';
import { TC_ACT_SHOT } from '../src/bpf/ctx.ts';
import { newSkb } from '../src/wire/skb.ts';
import { defineProgram } from '../src/bpf/define.ts';
import type { Device } from '../src/kernel/device.ts';
import type { LinuxNode } from '../src/kernel/node.ts';
import { devXmit } from '../src/kernel/path.ts';
import { benchArgs, runBench, type Case } from './lib/harness.ts';
import { perSec, span, type Figures } from './lib/figures.ts';

const BENCH_PODS = `
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {role: client}, annotations: {dplab.dev/pod-ip: 172.16.0.50}}
spec: {nodeName: k8s-s, containers: [{name: c, image: nicolaka/netshoot, command: [tail], args: ["-f", "/dev/null"]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: local-sink, labels: {role: local-sink}, annotations: {dplab.dev/pod-ip: 172.16.0.60}}
spec: {nodeName: k8s-s, containers: [{name: c, image: nicolaka/netshoot, command: [tail], args: ["-f", "/dev/null"]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: remote-sink, labels: {role: sink}, annotations: {dplab.dev/pod-ip: 172.16.1.60}}
spec: {nodeName: k8s-w1, containers: [{name: c, image: nicolaka/netshoot, command: [tail], args: ["-f", "/dev/null"]}]}
---
apiVersion: v1
kind: Service
metadata: {name: sink}
spec:
  selector: {role: sink}
  ports: [{name: udp, port: 9000, targetPort: 9000, protocol: UDP}, {name: tcp, port: 5001, targetPort: 5001, protocol: TCP}, {name: http, port: 80, targetPort: 80, protocol: TCP}]
`;

type Routing = 'native' | 'tunnel';
interface Lab { cluster: Cluster; client: Netns; localSink: Netns; remoteSink: Netns; sinkVip: number; clientNode: string; remoteNode: string; hops(): number }

function lab(routing: Routing, socketLB: boolean): Lab {
  const yaml = CILIUM_LAB.replace('routing: native', `routing: ${routing}`).replace('socketLB: true', `socketLB: ${socketLB}`) + BENCH_PODS;
  const cluster = Cluster.fromYaml(yaml, { seed: 7 });
  const ns = (pod: string) => cluster.podContext('default', pod).netns;
  const svc = cluster.api.get('Service', 'default', 'sink')!;
  const kernels = cluster.nodeNames().map((n) => cluster.kernel(n));
  const devs = kernels.flatMap((k) => [...k.netnses.values()].flatMap((n) => [...n.devices.values()]));
  return {
    cluster, client: ns('client'), localSink: ns('local-sink'), remoteSink: ns('remote-sink'), sinkVip: ipToU32(svc.spec.clusterIP),
    clientNode: 'k8s-s', remoteNode: 'k8s-w1',
    hops: () => devs.reduce((s, d) => s + d.stats.rxPackets, 0),
  };
}

function addrOf(n: Netns): number { return n.device('eth0')!.addrs[0]!.ip; }

/**
 * Per-core rates use CPU time (user+system of this process), so other load on
 * the machine does not count against us; wall-clock rates are reported alongside.
 */
const clock = span;
const cpuRate = (n: number, ms: number) => perSec(n, ms, 'cpu');
const wallRate = (n: number, ms: number) => perSec(n, ms, 'wall');

/** Established UDP flow: one socket, repeated 64-byte datagrams; counts datagrams delivered to the sink socket. */
function udpFlow(l: Lab, sink: Netns, dst: number, n: number): Figures {
  let got = 0;
  const server = sink.sockets.udpBind(9000, () => { got++; });
  const u = l.client.sockets.udpBind(0);
  const to = { ip: dst, port: 9000 };
  const payload = new Uint8Array(64);
  for (let i = 0; i < 2000; i++) u.send(to, payload); // ARP, CT entries
  l.cluster.sim.runSync();
  // Steady state: let the JIT finish optimising the path (its compiler threads would count as our CPU time).
  for (let i = 0; i < WARMUP; i += 500) { for (let j = 0; j < 500; j++) u.send(to, payload); l.cluster.sim.runSync(); }
  const g0 = got, h0 = l.hops();
  const stop = clock();
  for (let i = 0; i < n; i += 500) { for (let j = 0; j < 500; j++) u.send(to, payload); l.cluster.sim.runSync(); }
  const { wallMs, cpuMs } = stop();
  const delivered = got - g0, hops = l.hops() - h0;
  if (delivered !== n) throw new Error(`udp: lost ${n - delivered} datagrams`);
  u.close(); server.close();
  return { datagrams: n, packetsPerSec: cpuRate(delivered, cpuMs), packetsPerWallSec: wallRate(delivered, wallMs), hopsPerSec: cpuRate(hops, cpuMs), devHopsPerPacket: +(hops / n).toFixed(1) };
}

/**
 * The datapath alone, pktgen-style: a frame the client socket sent (captured
 * once) is copied into a fresh skb and handed to dev_queue_xmit on the client
 * pod's eth0, and counted where it arrives, on the destination pod's eth0, by
 * a tc ingress program that drops it (before IP/UDP input and the socket).
 * Every Cilium program, map, CT entry and hop on the way is the same as above.
 */
function xmitFlow(l: Lab, sink: Netns, dst: number, n: number): Figures {
  const client = l.client.device('eth0') as Device, into = sink.device('eth0') as Device;
  const srcKernel = l.cluster.kernel(l.clientNode), dstKernel = l.cluster.kernel(sink === l.localSink ? l.clientNode : l.remoteNode) as LinuxNode;
  // One real datagram (ARP resolved, CT entry created) to copy the frame from.
  const u = l.client.sockets.udpBind(0);
  let tmpl: Uint8Array | null = null;
  const stopCap = srcKernel.capture(client, (f, dir) => { if (dir === 'out' && tmpl === null) tmpl = f.slice(); });
  const server = sink.sockets.udpBind(9000, () => {});
  for (let i = 0; i < 10; i++) u.send({ ip: dst, port: 9000 }, new Uint8Array(64));
  l.cluster.sim.runSync();
  stopCap(); server.close(); u.close();
  if (tmpl === null) throw new Error('xmit: no frame captured');
  const frame: Uint8Array = tmpl;
  let got = 0;
  const link = dstKernel.attachTcx(into, 'ingress', defineProgram({ id: 0x7fff0000, name: 'bench_count_drop', run: () => { got++; return TC_ACT_SHOT; } }));
  const xmit = (k: number) => {
    for (let j = 0; j < k; j++) {
      const f = allocBytes(frame.length); f.set(frame);
      devXmit(client, newSkb(f, f.length, client.ifindex), 0);
    }
    l.cluster.sim.runSync();
  };
  for (let i = 0; i < WARMUP; i += 500) xmit(500); // JIT warm-up, as for udpFlow
  const g0 = got;
  const stop = clock();
  for (let i = 0; i < n; i += 500) xmit(500);
  const { wallMs, cpuMs } = stop();
  dstKernel.detachTcx(into, 'ingress', link);
  const delivered = got - g0;
  if (delivered !== n) throw new Error(`xmit: ${n - delivered} frames did not reach ${into.name}`);
  return { frames: n, frameBytes: frame.length, packetsPerSec: cpuRate(delivered, cpuMs), packetsPerWallSec: wallRate(delivered, wallMs) };
}

/** Established TCP stream (MSS-sized segments plus ACKs); counts segments received by both sockets' eth0. */
async function tcpStream(l: Lab, sink: Netns, dst: number, bytes: number): Promise<Figures> {
  const sim = l.cluster.sim;
  let received = 0;
  const srv = sink.sockets.tcpListen(5001, (c) => c.onData((d) => { received += d.length; }));
  const c = await sim.settle(l.client.sockets.tcpConnect({ ip: dst, port: 5001 }));
  c.write(new Uint8Array(1 << 20)); sim.runSync(); // warm-up
  const rx = () => l.client.device('eth0')!.stats.rxPackets + sink.device('eth0')!.stats.rxPackets;
  const p0 = rx(), h0 = l.hops(), r0 = received;
  const stop = clock();
  c.write(new Uint8Array(bytes));
  sim.runSync();
  const { wallMs, cpuMs } = stop();
  if (received - r0 !== bytes) throw new Error(`tcp: stream incomplete ${received - r0}/${bytes}`);
  c.end(); sim.runSync(); srv.close();
  const packets = rx() - p0;
  return { bytes, packets, packetsPerSec: cpuRate(packets, cpuMs), packetsPerWallSec: wallRate(packets, wallMs), hopsPerSec: cpuRate(l.hops() - h0, cpuMs), mbitPerSec: cpuRate(bytes * 8 / 1e6, cpuMs) };
}

/** Linux's TCP_TIMEWAIT_LEN (60 s). */
const TIME_WAIT_NS = 60e9;

/** New TCP connections per second: connect (to the ClusterIP) + accept + close both ways, 100 in flight. */
async function newConnections(l: Lab, n: number): Promise<Figures> {
  const sim = l.cluster.sim;
  let accepted = 0;
  const srv = l.remoteSink.sockets.tcpListen(80, (c) => { accepted++; c.onEnd(() => c.end()); });
  const round = async (k: number) => {
    const open: TcpConnection[] = [];
    for (let i = 0; i < k; i++) void l.client.sockets.tcpConnect({ ip: l.sinkVip, port: 80 }).then((c) => { open.push(c); });
    sim.runSync(); await Promise.resolve(); await Promise.resolve();
    if (open.length !== k) throw new Error(`connect: ${open.length}/${k} established`);
    for (const c of open) c.end();
    sim.runSync(); // FIN exchange
    // Let TIME_WAIT run out, as between two bursts of a real client: otherwise 20k
    // closed tuples to one VIP:port hold the ephemeral ports and connect() measures
    // the port search. (The clock used to jump there on cancelled timers' deadlines.)
    sim.schedule(TIME_WAIT_NS + 1e9, () => {}); sim.runSync();
  };
  await round(200);
  const a0 = accepted;
  const stop = clock();
  for (let i = 0; i < n; i += 100) await round(100);
  const { wallMs, cpuMs } = stop();
  if (accepted - a0 !== n) throw new Error(`accepted ${accepted - a0}/${n}`);
  srv.close();
  return { connections: n, connectionsPerSec: cpuRate(n, cpuMs), connectionsPerWallSec: wallRate(n, wallMs) };
}

/** Packets sent before measuring, so that the measured part runs optimised code. */
const WARMUP = 50_000;
// Per run; the rounds multiply them (sizes halved when runs became 5 interleaved rounds, so `npm run bench` stays under 10 minutes).
const UDP_N = Number(process.env.BENCH_UDP_N ?? 100_000), TCP_BYTES = 32 << 20, CONNS = 10_000;
const header = {
  method: 'Cluster.fromYaml(seed lab + client/sink pods + sink Service); traffic through pod netns SocketApi (UDP sendmsg of 64-byte datagrams on one flow / TCP stream / connect+accept+close), hops on the Sim event queue (runSync), all programs, maps and CT live; UDP cases measured after a 50k-packet warm-up (steady state, JIT done); packetsPerSec = packets delivered to the destination socket(s) per CPU second of this single-threaded process (process.cpuUsage), packetsPerWallSec per wall second; one lab per group, built on first use and kept across rounds',
  methodDatapath: 'udpDatapath = the datapath alone (pktgen-style): copies of one captured 64-byte-payload UDP frame handed to dev_queue_xmit on the client pod eth0, counted and dropped by a tc ingress program on the destination pod eth0 (no socket send/receive); packetsPerSec per CPU second as above',
  mtu: 9001,
  floors: { crossNodeEstablishedPacketsPerSec: 300_000, clusterIpSocketLBNewConnectionsPerSec: 20_000 },
};

type CaseFn = (l: Lab) => Figures | Promise<Figures>;
const labs = new Map<string, Lab>();
/** A group's cases share one lab (routing + socket LB), built when its first case runs. */
function group(name: string, routing: Routing, socketLB: boolean, cases: Record<string, CaseFn>): Case[] {
  const labFor = () => { let l = labs.get(name); if (l === undefined) labs.set(name, l = lab(routing, socketLB)); return l; };
  return Object.entries(cases).map(([c, fn]) => ({ name: `${name}.${c}`, run: () => fn(labFor()) }));
}
const remote = (l: Lab) => addrOf(l.remoteSink), local = (l: Lab) => addrOf(l.localSink);
const args = benchArgs();
args.only.push(...args.rest); // `datapath.bench.ts crossNodeVxlan.udp` runs only matching cases
await runBench({
  header,
  rounds: 5,
  cases: [
    ...group('sameNode', 'native', true, {
      udp: (l) => udpFlow(l, l.localSink, local(l), UDP_N), udpDatapath: (l) => xmitFlow(l, l.localSink, local(l), UDP_N), tcp: (l) => tcpStream(l, l.localSink, local(l), TCP_BYTES) }),
    ...group('crossNodeNative', 'native', true, {
      udp: (l) => udpFlow(l, l.remoteSink, remote(l), UDP_N), udpDatapath: (l) => xmitFlow(l, l.remoteSink, remote(l), UDP_N), tcp: (l) => tcpStream(l, l.remoteSink, remote(l), TCP_BYTES) }),
    ...group('crossNodeVxlan', 'tunnel', true, {
      udp: (l) => udpFlow(l, l.remoteSink, remote(l), UDP_N), udpDatapath: (l) => xmitFlow(l, l.remoteSink, remote(l), UDP_N), tcp: (l) => tcpStream(l, l.remoteSink, remote(l), TCP_BYTES) }),
    ...group('clusterIpSocketLB', 'native', true, {
      udp: (l) => udpFlow(l, l.remoteSink, l.sinkVip, UDP_N), tcp: (l) => tcpStream(l, l.remoteSink, l.sinkVip, TCP_BYTES),
      newConnections: (l) => newConnections(l, CONNS) }),
    ...group('clusterIpTcLB', 'native', false, {
      udp: (l) => udpFlow(l, l.remoteSink, l.sinkVip, UDP_N), tcp: (l) => tcpStream(l, l.remoteSink, l.sinkVip, TCP_BYTES),
      newConnections: (l) => newConnections(l, CONNS) }),
  ],
  done: () => { for (const l of labs.values()) l.cluster.close(); },
}, args);
