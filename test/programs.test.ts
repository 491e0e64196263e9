// Program triads (pktgen / setup / check) for the Cilium datapath programs, as in Cilium's bpf/tests.
import { CILIUM_CALL_IPV4_FROM_LXC, CILIUM_CALL_IPV4_CT_EGRESS } from '../maps/cilium_calls.ts';
import t from 'tap';
import { IdAllocator } from '../src/bpf/ids.ts';
import { BpfRuntime, defineProgram } from '../src/bpf/runtime.ts';
import { BPF_F_NEIGH, BPF_F_NEXTHOP, BPF_FIB_LKUP_RET_NO_NEIGH, BPF_FIB_LKUP_RET_SUCCESS, TC_ACT_OK, TC_ACT_REDIRECT, TC_ACT_SHOT, type FibResult } from '../src/bpf/ctx.ts';
import { BPF_FIB_LKUP_RET_NOT_FWDED } from '../src/kernel/helpers.ts';
import { newSkb, type SkBuff } from '../src/wire/skb.ts';
import type { SockAddrCtx, BpfProgram } from '../src/bpf/program.ts';
import { createNodeMaps, type NodeMaps } from '../maps/index.ts';
import { Service4Key, Service4Value, SVC_FLAG_ROUTABLE } from '../maps/cilium_lb4_services_v2.ts';
import { Backend4KeyV3, Backend4Value } from '../maps/cilium_lb4_backends_v3.ts';
import { RevNat4Key, RevNat4Value } from '../maps/cilium_lb4_reverse_nat.ts';
import { IpcacheKey, RemoteEndpointInfo } from '../maps/cilium_ipcache.ts';
import { EndpointKey, EndpointInfo } from '../maps/cilium_lxc.ts';
import { CtEntry, CtKey4Global } from '../maps/cilium_ct4_global.ts';
import { NatKey4, NatEntry4 } from '../maps/cilium_snat_v4_external.ts';
import { ipToU32 as ip, macFromString, readU16, readU32 } from '../src/wire/addr.ts';
import { writeEth, ETH_HLEN } from '../src/wire/ethernet.ts';
import { writeIpv4, ipChecksumOk, pseudoHeaderSum, IPPROTO_TCP, IPPROTO_ICMP } from '../src/wire/ipv4.ts';
import { writeTcp, TCP_SYN, TCP_ACK } from '../src/wire/tcp.ts';
import { writeIcmp, ICMP_ECHO } from '../src/wire/icmp.ts';
import { checksum } from '../src/wire/checksum.ts';
import type { DatapathEnv, EpConfig, ProgSpec, NodeConfig } from '../programs/lib/common.ts';
import { decodeTraceNotify } from '../maps/notify.ts';
import { cilFromContainer } from '../programs/cil_from_container.ts';
import { tailHandleIpv4 } from '../programs/tail_handle_ipv4.ts';
import { tailIpv4CtEgress } from '../programs/tail_ipv4_ct_egress.ts';
import { cilLxcPolicy } from '../programs/cil_lxc_policy.ts';
import { cilToNetdev } from '../programs/cil_to_netdev.ts';
import { cilFromNetdev } from '../programs/cil_from_netdev.ts';
import { cilSock4Connect } from '../programs/cil_sock4_connect.ts';
import { cilSock4Getpeername } from '../programs/cil_sock4_getpeername.ts';

const NODE_MAC = macFromString('5e:b5:9a:19:fb:b3'), POD_MAC = macFromString('92:ef:86:7b:d1:d4');
const ROUTER_MAC = macFromString('02:00:00:00:00:01'), GW_MAC = macFromString('02:00:00:00:00:fe');
const NODE_IP = ip('192.168.10.10'), CLIENT = ip('172.16.0.230'), LOCAL_POD = ip('172.16.0.50'), REMOTE_POD = ip('172.16.1.111');
const VIP = ip('10.96.0.100'), GW = ip('192.168.10.1');

/** bpf/tests/lib helpers. */
function lbV4AddService(m: NodeMaps, vip: number, port: number, proto: number, count: number, revNat: number): void {
  m.lbServices.update(new Service4Key(vip, port, proto, 0, 0).encode(), new Service4Value(0, count, revNat, 0, SVC_FLAG_ROUTABLE).encode());
  m.lbRevNat.update(new RevNat4Key(revNat).encode(), new RevNat4Value(vip, port).encode());
}
function lbV4AddBackend(m: NodeMaps, vip: number, port: number, proto: number, slot: number, id: number, be: number, bePort: number): void {
  m.lbServices.update(new Service4Key(vip, port, proto, slot, 0).encode(), new Service4Value(id, 0, 0).encode());
  m.lbBackends.update(new Backend4KeyV3(id).encode(), new Backend4Value(be, bePort, proto, 0).encode());
}
function ipcacheV4AddEntry(m: NodeMaps, addr: number, prefix: number, identity: number, tunnel = 0): void {
  m.ipcache.update(new IpcacheKey(addr, prefix).encode(), new RemoteEndpointInfo(identity, tunnel, 0, 0).encode());
}
function endpointV4AddEntry(m: NodeMaps, addr: number, ifindex: number, lxcId: number, secId: number, flags = 0): void {
  m.lxc.update(new EndpointKey(addr).encode(), new EndpointInfo({ ifIndex: ifindex, lxcId, flags, mac: '92:EF:86:7B:D1:D4', nodeMac: '5E:B5:9A:19:FB:B3', secId }).encode());
}

/** A node with two local endpoints (ids 416 / 905) and programs loaded into their tail-call maps. */
function setup(opts: Partial<NodeConfig> = {}) {
  const ids = new IdAllocator();
  const maps = createNodeMaps(ids);
  let now = 1000;
  const fib: FibResult = { ret: 0, ifindex: 2, nh: GW, smac: ROUTER_MAC, dmac: GW_MAC };
  /** Called from inside bpf_get_prandom_u32, mid-program (to start a nested run). */
  const hooks: { prandom: (() => void) | null } = { prandom: null };
  const rt = new BpfRuntime({
    fibLookup: (_i, _s, _d, out) => Object.assign(out, fib), ktimeNs: () => now * 1e9,
    prandomU32: () => { hooks.prandom?.(); return 1; }, monoSeconds: () => now,
  });
  const node: NodeConfig = { tunnel: false, socketLB: false, aggregation: 3, nodeIp: NODE_IP, routerIp: ip('172.16.0.12'),
    clusterCidr: ip('172.16.0.0'), clusterCidrLen: 16, encapIfindex: 0, netdevIfindex: 2, hostIfindex: 4, hostMac: ROUTER_MAC,
    hostEpId: 1541, masquerade: true, ...opts };
  const env: DatapathEnv = { maps, node };
  const mk = <C>(s: ProgSpec<C>): BpfProgram<C> => defineProgram<C>({ id: ids.nextProgId(), name: s.name, type: s.type, run: s.run, mapIds: s.maps.map((x) => x.id) });
  const eps: Record<number, { cfg: EpConfig; from: BpfProgram<SkBuff> }> = {};
  for (const [id, addr, ifindex, sec] of [[416, CLIENT, 10, 39126], [905, LOCAL_POD, 12, 25054]] as const) {
    const cfg: EpConfig = { lxcId: id, secLabel: sec, ipv4: addr, ifindex, mac: POD_MAC, nodeMac: NODE_MAC, calls: maps.callsFor(id) };
    maps.callsFor(id).setProg(CILIUM_CALL_IPV4_FROM_LXC, mk(tailHandleIpv4(env, cfg)));
    maps.callsFor(id).setProg(CILIUM_CALL_IPV4_CT_EGRESS, mk(tailIpv4CtEgress(env, cfg)));
    maps.callPolicy.setProg(id, mk(cilLxcPolicy(env, cfg)));
    endpointV4AddEntry(maps, addr, ifindex, id, sec);
    ipcacheV4AddEntry(maps, addr, 32, sec);
    eps[id] = { cfg, from: mk(cilFromContainer(env, cfg)) };
  }
  endpointV4AddEntry(maps, NODE_IP, 0, 0, 0, 1);
  ipcacheV4AddEntry(maps, REMOTE_POD, 32, 25054, ip('192.168.10.101'));
  ipcacheV4AddEntry(maps, 0, 0, 2);
  const events: Uint8Array[] = [];
  maps.events.subscribe((d) => events.push(d.slice()));
  return { maps, env, rt, eps, events, mk, fib, hooks, tick: (s: number) => { now += s; } };
}

/** pktgen: an Ethernet/IPv4/TCP frame. */
function tcpFrame(src: number, dst: number, sport: number, dport: number, flags: number): SkBuff {
  const f = new Uint8Array(ETH_HLEN + 40);
  writeEth(f, NODE_MAC, POD_MAC, 0x0800);
  writeIpv4(f, ETH_HLEN, { src, dst, proto: IPPROTO_TCP, ttl: 64, id: 1 }, 20);
  writeTcp(f, ETH_HLEN + 20, src, dst, { sport, dport, seq: 1, ack: 0, flags, window: 64240 }, 0);
  return newSkb(f, f.length, 10);
}
function icmpFrame(src: number, dst: number): SkBuff {
  const f = new Uint8Array(ETH_HLEN + 28 + 8);
  writeEth(f, NODE_MAC, POD_MAC, 0x0800);
  writeIpv4(f, ETH_HLEN, { src, dst, proto: IPPROTO_ICMP, ttl: 64, id: 7 }, 16);
  writeIcmp(f, ETH_HLEN + 20, ICMP_ECHO, 0, 0x1234, 1, 16);
  return newSkb(f, f.length, 10);
}
/** check: both checksums verify. */
function csumsOk(s: SkBuff): boolean {
  const d = s.data;
  return ipChecksumOk(d, ETH_HLEN) && checksum(d, ETH_HLEN + 20, 20, pseudoHeaderSum(readU32(d, ETH_HLEN + 12), readU32(d, ETH_HLEN + 16), 6, 20)) === 0;
}
/** A trace sample as the monitor decodes it (maps/notify.ts). */
const ev = (e: Uint8Array) => { const n = decodeTraceNotify(e); return { type: n.type, sub: n.obsPoint, src: n.srcLabel, dst: n.dstLabel, dstId: n.dstId, reason: n.reason }; };

t.test('pod to pod on the same node: local delivery through cil_lxc_policy', async (t) => {
  const s = setup();
  const skb = icmpFrame(CLIENT, LOCAL_POD);
  const ret = s.rt.run(s.eps[416]!.from, skb);
  t.equal(ret, TC_ACT_REDIRECT);
  t.same(s.rt.takeRedirect(), { ifindex: 12, flags: 0, nh: 0 }, 'redirected to the destination lxc');
  t.equal(skb.data[ETH_HLEN + 8], 63, 'TTL decremented once');
  t.ok(ipChecksumOk(skb.data, ETH_HLEN), 'IP checksum still valid');
  t.same(s.events.map(ev), [{ type: 4, sub: 0, src: 39126, dst: 25054, dstId: 905, reason: 0 }], 'one to-endpoint trace, state new');
  t.equal(readU32(s.events[0]!, 32), CLIENT, 'orig_ip is the source');
  const keys = s.maps.ctAny4.entries().map(([k]) => CtKey4Global.decode(k).toString());
  t.same(keys, ['ICMP OUT 172.16.0.230:4660 -> 172.16.0.50:0 ', 'ICMP IN 172.16.0.230:4660 -> 172.16.0.50:0 ']);
});

t.test('ClusterIP with tc LB: DNAT to the backend, FIB redirect, to-network; reply is reverse-NATed', async (t) => {
  const s = setup();
  lbV4AddService(s.maps, VIP, 80, 6, 1, 7);
  lbV4AddBackend(s.maps, VIP, 80, 6, 1, 3, REMOTE_POD, 8080);
  const skb = tcpFrame(CLIENT, VIP, 41320, 80, TCP_SYN);
  t.equal(s.rt.run(s.eps[416]!.from, skb), TC_ACT_REDIRECT);
  t.same(s.rt.takeRedirect(), { ifindex: 2, flags: 0, nh: 0 }, 'to the netdev');
  t.equal(readU32(skb.data, ETH_HLEN + 16), REMOTE_POD, 'daddr is the backend');
  t.equal(readU16(skb.data, ETH_HLEN + 22), 8080, 'dport is the backend port');
  t.ok(csumsOk(skb), 'L3 and L4 checksums valid after DNAT');
  t.same(skb.data.subarray(0, 6), GW_MAC, 'dst MAC from the FIB');
  t.same(s.events.map(ev), [{ type: 4, sub: 11, src: 39126, dst: 25054, dstId: 0, reason: 0 }], 'to-network, new');
  // The SYN-ACK comes back through cil_from_netdev and is reverse-NATed in cil_lxc_policy.
  const fromNetdev = s.mk(cilFromNetdev(s.env));
  const reply = tcpFrame(REMOTE_POD, CLIENT, 8080, 41320, TCP_SYN | TCP_ACK);
  reply.ifindex = 2;
  t.equal(s.rt.run(fromNetdev, reply), TC_ACT_REDIRECT);
  t.equal(readU32(reply.data, ETH_HLEN + 12), VIP, 'source rewritten to the VIP');
  t.equal(readU16(reply.data, ETH_HLEN + 20), 80);
  t.ok(csumsOk(reply), 'checksums valid after reverse NAT');
  const last = ev(s.events.at(-1)!);
  t.same([last.sub, last.reason, last.dstId], [0, 2, 416], 'to-endpoint, state reply');
});

t.test('service without backends: DROP_NO_SERVICE event and metric', async (t) => {
  const s = setup();
  lbV4AddService(s.maps, VIP, 80, 6, 0, 8);
  const skb = tcpFrame(CLIENT, VIP, 40000, 80, TCP_SYN);
  t.equal(s.rt.run(s.eps[416]!.from, skb), TC_ACT_SHOT);
  t.same(s.events.map((e) => [e[0], e[1]]), [[1, 158]], 'drop_notify with reason 158');
  const m = s.maps.metrics.entries().map(([k]) => [k[0], k[1]]);
  t.same(m, [[158, 2]], 'counted as egress drop 158');
});

t.test('monitor aggregation: repeated packets without new flags are not reported', async (t) => {
  const s = setup();
  const send = (flags: number) => s.rt.run(s.eps[416]!.from, tcpFrame(CLIENT, LOCAL_POD, 5000, 80, flags));
  send(TCP_SYN); send(TCP_ACK); send(TCP_ACK); send(TCP_ACK | 0x08);
  t.equal(s.events.length, 3, 'SYN, ACK and ACK+PSH reported; the repeated ACK is not');
  s.tick(6); send(TCP_ACK | 0x08);
  t.equal(s.events.length, 4, 'reported again after the 5s interval');
});

t.test('BPF masquerade in cil_to_netdev and reverse SNAT in cil_from_netdev', async (t) => {
  const s = setup();
  const toNetdev = s.mk(cilToNetdev(s.env)), fromNetdev = s.mk(cilFromNetdev(s.env));
  const world = ip('5.9.243.187');
  const out = tcpFrame(CLIENT, world, 40294, 80, TCP_SYN);
  t.equal(s.rt.run(toNetdev, out), TC_ACT_OK);
  t.equal(readU32(out.data, ETH_HLEN + 12), NODE_IP, 'source is the node IP');
  t.ok(csumsOk(out));
  const nat = s.maps.snat4.entries().map(([k, v]) => NatKey4.decode(k).toString() + NatEntry4.decode(v).toString(k[13] === 1).replace(/ Created.*/, ''));
  t.same(nat.sort(), ['TCP IN 5.9.243.187:80 -> 192.168.10.10:40294 XLATE_DST 172.16.0.230:40294', 'TCP OUT 172.16.0.230:40294 -> 5.9.243.187:80 XLATE_SRC 192.168.10.10:40294']);
  const back = tcpFrame(world, NODE_IP, 80, 40294, TCP_SYN | TCP_ACK);
  back.ifindex = 2;
  t.equal(s.rt.run(fromNetdev, back), TC_ACT_REDIRECT, 'delivered to the pod');
  t.equal(readU32(back.data, ETH_HLEN + 16), CLIENT);
  t.ok(csumsOk(back));
});

t.test('socket LB: connect() goes to the backend, getpeername() shows the VIP', async (t) => {
  const s = setup({ socketLB: true });
  lbV4AddService(s.maps, VIP, 80, 6, 1, 7);
  lbV4AddBackend(s.maps, VIP, 80, 6, 1, 3, REMOTE_POD, 8080);
  const connect = s.mk(cilSock4Connect(s.env)), peer = s.mk(cilSock4Getpeername(s.env));
  const ctx: SockAddrCtx = { userIp4: VIP, userPort: 80, protocol: 6, sockCookie: 99, netnsCookie: 5, srcIp4: CLIENT, srcPort: 41000, epId: 416 };
  t.equal(connect.run(ctx, s.rt), 1);
  t.same([ctx.userIp4, ctx.userPort], [REMOTE_POD, 8080]);
  const p: SockAddrCtx = { ...ctx, userIp4: REMOTE_POD, userPort: 8080 };
  t.equal(peer.run(p, s.rt), 1);
  t.same([p.userIp4, p.userPort], [VIP, 80]);
  t.same(s.events.map((e) => [e[0], e[1]]), [[7, 1], [7, 2], [7, 3], [7, 4]], 'pre/post-xlate-fwd at connect, pre/post-xlate-rev at getpeername (trace_sock events)');
  lbV4AddService(s.maps, ip('10.96.0.200'), 80, 6, 0, 9);
  t.equal(connect.run({ ...ctx, userIp4: ip('10.96.0.200'), userPort: 80 }, s.rt), 0, 'no backends: connect rejected');
  t.equal(s.events.length, 4, 'and no trace_sock event for it (bpf_sock.c returns before the notify)');
});

t.test('bpf_fib_lookup results: redirect with the FIB MACs, redirect_neigh without a neighbour, the stack without a route', async (t) => {
  const ZERO = new Uint8Array(6);
  const cases = [
    { name: 'neighbour known', fib: { ret: BPF_FIB_LKUP_RET_SUCCESS, dmac: GW_MAC }, ret: TC_ACT_REDIRECT,
      target: { ifindex: 2, flags: 0, nh: 0 }, dmac: GW_MAC, ttl: 63, trace: [11, 2] },
    // fib_do_redirect(): NO_NEIGH -> redirect_neigh(oif, next hop); the kernel writes L2 once ARP answers.
    { name: 'no neighbour yet', fib: { ret: BPF_FIB_LKUP_RET_NO_NEIGH, dmac: ZERO }, ret: TC_ACT_REDIRECT,
      target: { ifindex: 2, flags: BPF_F_NEIGH | BPF_F_NEXTHOP, nh: GW }, dmac: NODE_MAC, ttl: 63, trace: [11, 2] },
    { name: 'no route', fib: { ret: BPF_FIB_LKUP_RET_NOT_FWDED, dmac: ZERO }, ret: TC_ACT_OK,
      target: null, dmac: NODE_MAC, ttl: 64, trace: [3, 0] },
  ];
  for (const c of cases) {
    const s = setup();
    Object.assign(s.fib, c.fib);
    const skb = tcpFrame(CLIENT, REMOTE_POD, 41000, 80, TCP_SYN);
    t.equal(s.rt.run(s.eps[416]!.from, skb), c.ret, `${c.name}: verdict`);
    t.same(s.rt.takeRedirect(), c.target, `${c.name}: redirect target`);
    t.same(skb.data.subarray(0, 6), c.dmac, `${c.name}: destination MAC`);
    t.equal(skb.data[ETH_HLEN + 8], c.ttl, `${c.name}: TTL`);
    t.ok(csumsOk(skb), `${c.name}: checksums`);
    t.same(s.events.map((e) => { const n = decodeTraceNotify(e); return [n.obsPoint, n.ifindex]; }), [c.trace], `${c.name}: trace point and ifindex`);
  }
});

t.test('a program run nested inside a helper leaves the outer run\'s LB and CT state alone', async (t) => {
  const s = setup();
  const VIP2 = ip('10.96.0.200');
  lbV4AddService(s.maps, VIP, 80, 6, 1, 7);
  lbV4AddBackend(s.maps, VIP, 80, 6, 1, 3, REMOTE_POD, 8080);
  lbV4AddService(s.maps, VIP2, 81, 6, 1, 8);
  lbV4AddBackend(s.maps, VIP2, 81, 6, 1, 4, CLIENT, 9090);
  // The outer packet's backend choice calls bpf_get_prandom_u32; inside it, another pod's packet runs
  // its programs to the end (LB, CT, local delivery), as a helper that transmitted would make it.
  const inner = tcpFrame(LOCAL_POD, VIP2, 50000, 81, TCP_SYN);
  s.hooks.prandom = () => {
    s.hooks.prandom = null;
    t.equal(s.rt.run(s.eps[905]!.from, inner), TC_ACT_REDIRECT, 'the nested run delivers to its backend');
    t.same(s.rt.takeRedirect(), { ifindex: 10, flags: 0, nh: 0 }, 'to the backend pod\'s lxc');
  };
  const outer = tcpFrame(CLIENT, VIP, 41320, 80, TCP_SYN);
  t.equal(s.rt.run(s.eps[416]!.from, outer), TC_ACT_REDIRECT);
  t.same(s.rt.takeRedirect(), { ifindex: 2, flags: 0, nh: 0 }, 'the outer packet leaves by the FIB');
  t.same([readU32(outer.data, ETH_HLEN + 16), readU16(outer.data, ETH_HLEN + 22)], [REMOTE_POD, 8080], 'outer DNAT to its own backend');
  t.same([readU32(inner.data, ETH_HLEN + 16), readU16(inner.data, ETH_HLEN + 22)], [CLIENT, 9090], 'inner DNAT to its backend');
  t.ok(csumsOk(outer) && csumsOk(inner), 'checksums valid');
  const ct = s.maps.ct4.entries().map(([k, v]) => `${CtKey4Global.decode(k).toString()}RevNAT=${CtEntry.decode(v).revNat} BackendID=${CtEntry.decode(v).backendId}`);
  t.same(ct.sort(), [
    'TCP IN 172.16.0.50:50000 -> 172.16.0.230:9090 RevNAT=0 BackendID=0',
    'TCP OUT 172.16.0.230:41320 -> 172.16.1.111:8080 RevNAT=7 BackendID=3',
    'TCP OUT 172.16.0.50:50000 -> 172.16.0.230:9090 RevNAT=8 BackendID=4',
    'TCP OUT 172.16.0.230:41320 -> 10.96.0.100:80 service RevNAT=7 BackendID=3',
    'TCP OUT 172.16.0.50:50000 -> 10.96.0.200:81 service RevNAT=8 BackendID=4',
  ].sort(), 'each flow\'s CT entries under its own tuple, with its own service');
});
