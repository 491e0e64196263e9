// Cost of a NEW connection and of an ESTABLISHED packet vs the number of
// services (10, 100, 1k, 5k, 10k) in the three service datapaths, each at the
// level that mode really has:
// - iptables: the netfilter engine with kube-proxy's generated rules
//   (src/kubeproxy iptables mode, the node's whole iptables-save loaded):
//   a connection's first packet walks KUBE-SERVICES, DNATs and creates a
//   conntrack entry (PREROUTING, FORWARD, POSTROUTING); a later packet
//   follows the entry. Linear in N: KUBE-SERVICES is one rule per service.
// - ipvs: IPVS mode's iptables rules (the generator's ipvs output, its
//   ipsets loaded) walked at PREROUTING/INPUT/POSTROUTING, the virtual
//   service looked up in src/netfilter/ipvs.ts (a hash), scheduled (rr) and
//   the choice bound into the conntrack entry (kube-proxy runs IPVS with
//   net.ipv4.vs.conntrack=1; the entry stands in for IPVS's connection table).
// - cilium: copies of a TCP frame the client pod sent, handed to its eth0
//   (pktgen-style): cil_from_container looks the ClusterIP up in
//   cilium_lb4_services_v2 (N services in the LB maps), CT, backend, and the
//   frame is counted at the backend pod's eth0 (same node).
// Plus the node datapath of the kind-iptables and kind-ipvs labs with 10 and
// 1k services: SYNs of new connections through the node's full path
// (PREROUTING DNAT or IPVS, routing, FORWARD, POSTROUTING, out the veth) and
// full TCP connections end to end. And, as root, the real kernel's ns per KUBE-SERVICES rule measured
// in the same invocation (bench/lib/kernel_iptables.ts).
// Run: node --expose-gc --import tsx bench/service_scaling.bench.ts [--rounds N] [--only iptables,ipvs,cilium,node.iptables,...] [--quick] [--no-kernel]
// (--quick: sizes 10/1k/10k and fewer packets, for iteration; BENCH_ARGS passes flags through bench/compare.ts.)

import { Cluster } from '../src/cluster/cluster.ts';
import { CILIUM_LAB } from '../src/cluster/labs/cilium.ts';
import { KIND_IPTABLES_LAB } from '../src/cluster/labs/kind_iptables.ts';
import type { Netns } from '../src/kernel/api.ts';
import type { LinuxNode } from '../src/kernel/node.ts';
import { ipsetRestoreText, saveText, syncIptables, syncIpvs, type ProxyConfig } from '../src/kubeproxy/index.ts';
import { KUBE_PROXY_SETTINGS, TCP_ACK, TCP_SYN } from '../src/netfilter/conntrack.ts';
import { ipsetTool } from '../src/netfilter/ipset.ts';
import { Ipvs, type VirtualService } from '../src/netfilter/ipvs.ts';
import { Netfilter, type NfPacket } from '../src/netfilter/netfilter.ts';
import { restore } from '../src/netfilter/restore.ts';
import type { Pkt } from '../src/netfilter/types.ts';
import { Rng } from '../src/sim/sim.ts';
import { ipToU32, u32ToIp } from '../src/wire/addr.ts';
import { benchArgs, runBench, type Case } from './lib/harness.ts';
import { perSec, span, type Figures, type Measured } from './lib/figures.ts';
import { ACK, SYN, captureSyn, countAt, retarget, xmit } from './lib/frames.ts';
import { kernelFigure } from './lib/kernel_iptables.ts';
import { clusterIpState } from './lib/proxy_state.ts';
import { tcpConnections } from './lib/tcp_conns.ts';

const args = benchArgs();
const QUICK = args.rest.includes('--quick');
const SIZES = QUICK ? [10, 1000, 10000] : [10, 100, 1000, 5000, 10000];
/** Per run: new connections, established packets (over ESTABLISHED connections, round robin). */
const NEW = QUICK ? 5_000 : 20_000, EST = QUICK ? 50_000 : 200_000, EST_CONNS = 1000;
const ns = (v: number): Measured => ({ kind: 'measured', value: Math.round(v * 100) / 100, better: 'lower', nsPerOp: v, clock: 'cpu' });

// ---- iptables and IPVS: the netfilter engine with kube-proxy's rules ----

const NODE = ipToU32('172.18.0.2'), CLIENT = ipToU32('10.10.200.6');
const CFG: ProxyConfig = { nodeName: 'node-0', nodeIP: '172.18.0.2', clusterCIDR: '10.10.0.0/16' };

interface Engine { nf: Netfilter; ipvs: Ipvs | null; vips: number[]; clock: { now: number }; conn: number; rules: number }

function engine(mode: 'iptables' | 'ipvs', n: number): Engine {
  const clock = { now: 0 };
  const local = new Set<number>([NODE]);
  const nf = new Netfilter({ now: () => clock.now, rng: new Rng(3), isLocal: (a) => local.has(a), deviceAddr: () => NODE }, KUBE_PROXY_SETTINGS);
  const state = clusterIpState(n, 3);
  const vips = state.services.map((s) => ipToU32(s.clusterIP));
  let ipvs: Ipvs | null = null, sync;
  if (mode === 'iptables') sync = syncIptables(state, CFG);
  else {
    sync = syncIpvs(state, CFG);
    for (const line of ipsetRestoreText(sync).split('\n')) {
      if (line === '') continue;
      const r = ipsetTool(nf.ipsets, line.split(' '));
      if (r.code !== 0) throw new Error(`ipset ${line}: ${r.stderr}`);
    }
    ipvs = new Ipvs();
    for (const v of sync.virtualServers) {
      const s = ipvs.addService(v.protocol, ipToU32(v.address), v.port, 'rr');
      for (const d of v.realServers) ipvs.addDest(s, ipToU32(d.address), d.port, d.weight);
    }
    for (const a of sync.dummyAddresses) local.add(ipToU32(a)); // bound to kube-ipvs0: local addresses
  }
  const r = restore(nf.rules, saveText(sync));
  if (r.code !== 0) throw new Error(r.stderr);
  return { nf, ipvs, vips, clock, conn: 0, rules: sync.nat.rules.length + sync.filter.rules.length };
}

function pkt(src: number, dst: number, sport: number, dport: number, flags: number, inIf: string): Pkt {
  return { src, dst, proto: 6, sport, dport, len: 60, tcpFlags: flags, icmpType: 0, icmpCode: 0, icmpId: 0, frag: false, inIf, outIf: '', mark: 0 };
}

/** One packet from the client pod through the node: the hooks of its mode; the walk length, -1 if it was not accepted and DNATed. */
function clientPacket(e: Engine, p: Pkt): number {
  const nf = e.nf, np = nf.begin(p);
  let walked = hook(nf, 'PREROUTING', np);
  if (e.ipvs === null) {
    p.outIf = 'eth0';
    walked += hook(nf, 'FORWARD', np) + hook(nf, 'POSTROUTING', np);
  } else {
    // ip_vs_in at LOCAL_IN (the ClusterIP is on kube-ipvs0): a new connection's service looked up and scheduled,
    // the choice written into the unconfirmed entry's reply tuple (ip_vs_update_conntrack); later packets follow the entry.
    if (np.ct !== null && !np.ct.confirmed) ipvsSchedule(e.ipvs, np, e.clock.now);
    walked += hook(nf, 'INPUT', np);
    const c = np.ct;
    if (c !== null) { p.dst = c.reply.src; p.dport = c.reply.sport; }
    p.outIf = 'eth0';
    walked += hook(nf, 'POSTROUTING', np);
  }
  return walked < 0 || p.dport !== 8080 ? -1 : walked;
}

function ipvsSchedule(ipvs: Ipvs, np: NfPacket, now: number): void {
  const p = np.pkt, vs: VirtualService | undefined = ipvs.find('TCP', p.dst, p.dport);
  const d = vs?.connect(p.src, p.dst, now);
  // ip_vs_update_conntrack; `ipvs` marks the entry as IPVS's, whose original direction IPVS (not nf_nat) rewrites.
  if (d) { np.ct!.reply = { ...np.ct!.reply, src: d.addr, sport: d.port }; np.ct!.ipvs = true; }
}

/** The backend's answer (SYN/ACK) through PREROUTING, FORWARD, POSTROUTING: conntrack sees the reply. */
function replyPacket(e: Engine, p: Pkt, flags: number): void {
  const np = e.nf.begin(pkt(p.dst, CLIENT, p.dport, p.sport, flags, 'eth0'));
  np.pkt.src = p.dst;
  hook(e.nf, 'PREROUTING', np); np.pkt.outIf = 'veth0'; hook(e.nf, 'FORWARD', np); hook(e.nf, 'POSTROUTING', np);
}

function hook(nf: Netfilter, h: 'PREROUTING' | 'INPUT' | 'FORWARD' | 'POSTROUTING', np: NfPacket): number {
  const r = nf.hook(h, np);
  return r.verdict === 'ACCEPT' ? r.rulesWalked : -1e9;
}

/** The k-th connection's tuple: services visited in a scattered order (each once per N connections), ports then client addresses. */
function tuple(e: Engine, k: number): { src: number; sport: number; dst: number } {
  const n = e.vips.length;
  return { dst: e.vips[(k * 7919) % n]!, sport: 1024 + (k % 64000), src: CLIENT + Math.floor(k / 64000) };
}

function engineCase(mode: 'iptables' | 'ipvs', n: number): Case {
  let e: Engine | undefined;
  return {
    name: `${mode}.n${n}`,
    run(): Figures {
      e ??= engine(mode, n);
      // Entries of the previous run time out (SYN_SENT 120 s) and are swept outside the timed part.
      e.clock.now += 200e9; void e.nf.conntrack.size;
      const base = e.conn;
      let walkedNew = 0;
      const a = span();
      for (let k = 0; k < NEW; k++) {
        const t = tuple(e, base + k), p = pkt(t.src, t.dst, t.sport, 80, TCP_SYN, 'veth0');
        const w = clientPacket(e, p);
        if (w < 0) throw new Error(`${mode}: SYN to ${u32ToIp(t.dst)} not DNATed`);
        walkedNew += w;
        e.clock.now += 1000;
      }
      const tNew = a();
      // EST_CONNS connections through the handshake, then their later packets round robin.
      const est: Array<{ src: number; sport: number; dst: number }> = [];
      for (let k = 0; k < EST_CONNS; k++) {
        const t = tuple(e, base + NEW + k), p = pkt(t.src, t.dst, t.sport, 80, TCP_SYN, 'veth0');
        clientPacket(e, p);
        replyPacket(e, p, TCP_SYN | TCP_ACK);
        clientPacket(e, pkt(t.src, t.dst, t.sport, 80, TCP_ACK, 'veth0'));
        est.push(t);
      }
      e.conn = base + NEW + EST_CONNS;
      let walkedEst = 0;
      const b = span();
      for (let k = 0; k < EST; k++) {
        const t = est[k % EST_CONNS]!;
        const w = clientPacket(e, pkt(t.src, t.dst, t.sport, 80, TCP_ACK, 'veth0'));
        if (w < 0) throw new Error(`${mode}: established packet not translated`);
        walkedEst += w;
      }
      const tEst = b();
      return {
        newConnectionNs: ns(tNew.cpuMs * 1e6 / NEW), newConnectionsPerSec: perSec(NEW, tNew.cpuMs, 'cpu'),
        establishedPacketNs: ns(tEst.cpuMs * 1e6 / EST),
        rulesWalkedNew: Math.round(walkedNew / NEW), rulesWalkedEstablished: Math.round(walkedEst / EST), rules: e.rules,
      };
    },
  };
}

// ---- Cilium: cil_from_container's service lookup with N services in the LB maps ----

const CILIUM_PODS = `
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {role: client}, annotations: {dplab.dev/pod-ip: 172.16.0.50}}
spec: {nodeName: k8s-s, containers: [{name: c, image: nicolaka/netshoot, command: [tail], args: ["-f", "/dev/null"]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: sink, labels: {role: sink}, annotations: {dplab.dev/pod-ip: 172.16.0.60}}
spec: {nodeName: k8s-s, containers: [{name: c, image: nicolaka/netshoot, command: [tail], args: ["-f", "/dev/null"]}]}
`;
const svcYaml = (name: string, port: number, target: number, selector: string, ip?: string) => `---
apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec: {${ip ? `clusterIP: ${ip}, ` : ''}selector: {${selector}}, ports: [{name: tcp, port: ${port}, targetPort: ${target}}]}
`;

interface CiliumLab { cluster: Cluster; client: Netns; sink: Netns; vips: number[]; syn: Uint8Array; conn: number }

function ciliumLab(n: number): CiliumLab {
  let yaml = CILIUM_LAB.replace('socketLB: true', 'socketLB: false') + CILIUM_PODS;
  for (let i = 0; i < n; i++) yaml += svcYaml(`svc-${i}`, 80, 80, 'role: sink');
  const cluster = Cluster.fromYaml(yaml, { seed: 7, hubble: false });
  cluster.sim.runSync();
  const vips = Array.from({ length: n }, (_, i) => ipToU32(cluster.api.get('Service', 'default', `svc-${i}`)!.spec.clusterIP));
  const client = cluster.podContext('default', 'client').netns, sink = cluster.podContext('default', 'sink').netns;
  return { cluster, client, sink, vips, syn: captureSyn(cluster, 'k8s-s', client, vips[0]!, 80), conn: 0 };
}

function ciliumCase(n: number): Case {
  let l: CiliumLab | undefined;
  return {
    name: `cilium.n${n}`,
    run(): Figures {
      l ??= ciliumLab(n);
      const frame = (k: number, flags: number) => retarget(l!.syn, l!.vips[(k * 7919) % n]!, 80, 1024 + (Math.floor(k / n) % 64000), flags);
      const base = l.conn;
      const syns = Array.from({ length: NEW }, (_, k) => frame(base + k, SYN));
      const estSyn = Array.from({ length: EST_CONNS }, (_, k) => frame(base + NEW + k, SYN));
      const estAck = estSyn.map((_, k) => frame(base + NEW + k, ACK));
      l.conn = base + NEW + EST_CONNS;
      const c = countAt(l.cluster, 'k8s-s', l.sink);
      try {
        const a = span();
        xmit(l.cluster, l.client, syns, 0, NEW);
        const tNew = a();
        xmit(l.cluster, l.client, estSyn, 0, EST_CONNS);
        const g = c.got(), b = span();
        xmit(l.cluster, l.client, estAck, 0, EST);
        const tEst = b();
        if (c.got() !== NEW + EST_CONNS + EST || g !== NEW + EST_CONNS) throw new Error(`cilium: ${c.got()}/${NEW + EST_CONNS + EST} frames reached the backend`);
        return { newConnectionNs: ns(tNew.cpuMs * 1e6 / NEW), newConnectionsPerSec: perSec(NEW, tNew.cpuMs, 'cpu'), establishedPacketNs: ns(tEst.cpuMs * 1e6 / EST) };
      } finally { c.detach(); }
    },
  };
}

// ---- the kind-iptables node datapath with N services ----

const NODE_PODS = `
---
apiVersion: v1
kind: Pod
metadata: {name: sink, labels: {role: sink}, annotations: {dplab.dev/pod-ip: 10.10.0.50}}
spec: {nodeName: myk8s-control-plane, containers: [{name: c, image: nicolaka/netshoot, command: [tail], args: ["-f", "/dev/null"]}]}
`;
/** Filler ClusterIPs from here; the sink service takes the middle one, so its KUBE-SERVICES rule is walked after about half of them. */
const FILL_BASE = ipToU32('10.200.16.0');

type NodeMode = 'iptables' | 'ipvs';
interface NodeLab { cluster: Cluster; client: Netns; sink: Netns; vip: number; syn: Uint8Array; sport: number; position: number | null }

/** The kind-iptables lab (kube-proxy in `mode`: kind-ipvs for ipvs) with n more ClusterIP services and a sink pod beside net-pod. */
function nodeLab(mode: NodeMode, n: number): NodeLab {
  let yaml = KIND_IPTABLES_LAB.replace('serviceCIDR: 10.200.1.0/24', 'serviceCIDR: 10.200.0.0/16').replace('  datapath: iptables\n', `  datapath: ${mode}\n`) + NODE_PODS;
  const mid = Math.floor(n / 2);
  for (let i = 0; i < n; i++) yaml += svcYaml(`fill-${i}`, 80, 80, 'app: webpod', u32ToIp(FILL_BASE + i + (i >= mid ? 1 : 0)));
  const vip = FILL_BASE + mid;
  yaml += svcYaml('sink', 8080, 8080, 'role: sink', u32ToIp(vip));
  const cluster = Cluster.fromYaml(yaml, { seed: 7, hubble: false });
  cluster.sim.runSync();
  const client = cluster.podContext('default', 'net-pod').netns, sink = cluster.podContext('default', 'sink').netns;
  const nf = (cluster.kernel('myk8s-control-plane') as LinuxNode).hostNs.netfilter!;
  // iptables: where the sink's rule sits in KUBE-SERVICES (IPVS mode has one ipset rule for all services).
  const position = mode === 'ipvs' ? null : nf.rules.tables.nat.chains.get('KUBE-SERVICES')!.rules.findIndex((r) => r.dst?.ip === vip) + 1;
  if (position === 0) throw new Error('node: the sink service has no KUBE-SERVICES rule');
  return { cluster, client, sink, vip, syn: captureSyn(cluster, 'myk8s-control-plane', client, vip, 8080), sport: 1024, position };
}

const NODE_SYNS = QUICK ? 5_000 : 10_000, NODE_CONNS = QUICK ? 1_000 : 4_000;
const nodeLabs = new Map<string, NodeLab>();
const getNode = (mode: NodeMode, n: number) => { let l = nodeLabs.get(`${mode}${n}`); if (!l) nodeLabs.set(`${mode}${n}`, l = nodeLab(mode, n)); return l; };

function nodeSynCase(mode: NodeMode, n: number): Case {
  return {
    name: `node.${mode}.n${n}.syn`,
    run(): Figures {
      const l = getNode(mode, n);
      // The previous run's SYN_SENT entries (120 s) time out first: ports are reused.
      l.cluster.sim.schedule(121e9, () => {}); l.cluster.sim.runSync();
      const frames = Array.from({ length: NODE_SYNS }, (_, k) => retarget(l.syn, l.vip, 8080, 1024 + ((l.sport + k) % 64000), SYN));
      l.sport += NODE_SYNS;
      const c = countAt(l.cluster, 'myk8s-control-plane', l.sink);
      try {
        const a = span();
        xmit(l.cluster, l.client, frames, 0, NODE_SYNS);
        const t = a();
        if (c.got() !== NODE_SYNS) throw new Error(`node: ${c.got()}/${NODE_SYNS} SYNs reached the sink`);
        return { newConnectionsPerSec: perSec(NODE_SYNS, t.cpuMs, 'cpu'), newConnectionNs: ns(t.cpuMs * 1e6 / NODE_SYNS), ...(l.position !== null ? { kubeServicesPosition: l.position } : {}) };
      } finally { c.detach(); }
    },
  };
}

function nodeTcpCase(mode: NodeMode, n: number): Case {
  return {
    name: `node.${mode}.n${n}.tcp`,
    run: async () => { const l = getNode(mode, n); return tcpConnections(l.cluster, l.client, l.sink, l.vip, 8080, NODE_CONNS); },
  };
}

/**
 * Runs a case `times` times untimed before its first measured run: the
 * measured runs see optimised code (V8's compiler threads count as this
 * process's CPU time, so a cold first run measures compilation).
 */
function warmed(c: Case, times = 1): Case {
  let left = times;
  return { ...c, run: async () => { while (left > 0) { left--; await c.run(); } return c.run(); } };
}

const kernel = args.only.length === 0 || args.only.some((o) => o.startsWith('iptables')) ? kernelFigure(args.rest) : { skipped: '--only without iptables' };
await runBench({
  header: {
    bench: 'service_scaling',
    method: 'iptables/ipvs: the netfilter engine with the node\'s iptables-save from src/kubeproxy (N ClusterIP services, 3 endpoints each; ipvs: its ipsets and virtual servers), TCP SYNs from a pod to services visited in a scattered order (each once per N connections) through PREROUTING+FORWARD+POSTROUTING (ipvs: PREROUTING, the virtual service lookup + rr schedule bound into the conntrack entry, INPUT, POSTROUTING); established = ACKs of 1000 handshaken connections round robin. cilium: seed lab (tc LB, no socket LB) with N Services selecting one backend pod on the client\'s node, copies of the client\'s SYN frame (new tuple each) / ACK frames of 1000 connections handed to its eth0, counted at the backend\'s eth0. node: the kind-iptables / kind-ipvs lab with N extra ClusterIP services (3 endpoints each), copies of net-pod\'s SYN (a new source port each) to a service whose KUBE-SERVICES rule comes after half of them, through the node (PREROUTING DNAT or IPVS at LOCAL_IN, routing, FORWARD, POSTROUTING, out the veth) to a pod on the same node, counted at its eth0; and full TCP connections to it (connect, accept, close both ways) end to end through both pods\' TCP stacks. Every case runs untimed once (syn: twice; tcp with --quick: 3 times) before its first measured run. CPU time of this process.',
    sizes: SIZES, newConnectionsPerRun: NEW, establishedPacketsPerRun: EST,
    realKernel: kernel,
  },
  rounds: 3,
  cases: [
    ...SIZES.map((n) => warmed(engineCase('iptables', n))),
    ...SIZES.map((n) => warmed(engineCase('ipvs', n))),
    ...SIZES.map((n) => warmed(ciliumCase(n))),
    ...(['iptables', 'ipvs'] as const).flatMap((m) => [warmed(nodeSynCase(m, 10), 2), warmed(nodeSynCase(m, 1000), 2), warmed(nodeTcpCase(m, 1000), QUICK ? 3 : 1)]),
  ],
  done: () => { for (const l of nodeLabs.values()) l.cluster.close(); },
}, args);
