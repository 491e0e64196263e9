// connect(2) on a UDP socket, as Linux does it: cgroup connect4 runs once at
// connect (a socket LB translates there, not per datagram), send(2) runs no
// sendmsg4, the source address is fixed, only the peer's datagrams arrive
// (others earn a port unreachable), and an ICMP error about the peer is the
// next recv's error.
import t from 'tap';
import { Sim } from '../src/sim/sim.ts';
import { buildTestbed } from '../src/kernel/testbed.ts';
import { SocketError, type CgroupHook, type NetDevice } from '../src/kernel/api.ts';
import type { LinuxNode } from '../src/kernel/node.ts';
import type { SockAddrCtx } from '../src/bpf/program.ts';
import { ipToU32 } from '../src/wire/addr.ts';
import { ipDaddr, ipProto, ipSaddr } from '../src/wire/ipv4.ts';

const VIP = ipToU32('10.96.0.10');

function lab() {
  const sim = new Sim(1);
  const { nodes } = buildTestbed(sim);
  return { sim, a: nodes[0]!, pa: nodes[0]!.pods[0]!, pb: nodes[1]!.pods[0]! };
}

/** Node-wide cgroup programs like Cilium's socket LB, reduced to one VIP:53 -> backend:53, counting their runs. */
function socketLb(node: LinuxNode, backend: number): Record<CgroupHook, number> {
  const runs: Record<CgroupHook, number> = { connect4: 0, sendmsg4: 0, recvmsg4: 0, getpeername4: 0 };
  const attach = (hook: CgroupHook, run: (ctx: SockAddrCtx) => void, id: number): void => node.attachCgroup(hook, {
    id, name: `sock_${hook}`, type: 'cgroup_sock_addr', tag: '0000000000000000', mapIds: [], loadedAtMs: 0,
    run: (ctx) => { runs[hook]++; run(ctx); return 1; },
  });
  const fwd = (ctx: SockAddrCtx): void => { if (ctx.userIp4 === VIP && ctx.userPort === 53) ctx.userIp4 = backend; };
  attach('connect4', fwd, 901);
  attach('sendmsg4', fwd, 902);
  attach('recvmsg4', (ctx) => { if (ctx.userIp4 === backend && ctx.userPort === 53) ctx.userIp4 = VIP; }, 903);
  return runs;
}

type Frame = { f: Uint8Array; dir: 'in' | 'out' };
function tap(node: LinuxNode, dev: NetDevice): Frame[] {
  const out: Frame[] = [];
  node.capture(dev, (f, dir) => out.push({ f: f.slice(), dir }));
  return out;
}

t.test('connect runs connect4 once; send(2) goes to the translated peer without sendmsg4; replies read as the VIP', async (t) => {
  const { sim, a, pa, pb } = lab();
  const runs = socketLb(a.node, pb.ip);
  pb.ns.sockets.udpBind(53, (d, _from, reply) => reply(d));
  const u = pa.ns.sockets.udpBind(0);
  t.equal(u.local.ip, 0, 'unbound address before connect');
  u.connect({ ip: VIP, port: 53 });
  t.equal(u.local.ip, pa.ip, 'connect chose the source address by route');
  const seen = tap(a.node, pa.lxc);
  for (let i = 0; i < 3; i++) u.write(Uint8Array.of(i));
  const got = [];
  for (let i = 0; i < 3; i++) got.push(await sim.settle(u.recv(1e9)));
  t.same(got.map((m) => [m!.data[0], m!.from.ip, m!.from.port]), [[0, VIP, 53], [1, VIP, 53], [2, VIP, 53]]);
  t.same(runs, { connect4: 1, sendmsg4: 0, recvmsg4: 3, getpeername4: 0 }, 'one connect4 run for the socket, recvmsg4 per datagram');
  const out = seen.filter((x) => x.dir === 'in' && ipProto(x.f, 14) === 17);
  t.same(out.map((x) => [ipSaddr(x.f, 14), ipDaddr(x.f, 14)]), [[pa.ip, pb.ip], [pa.ip, pb.ip], [pa.ip, pb.ip]], 'the wire carries the backend, never the VIP');
  // sendto() with an address on a connected socket still names its own destination (and runs sendmsg4).
  u.send({ ip: VIP, port: 53 }, Uint8Array.of(9));
  t.equal((await sim.settle(u.recv(1e9)))!.data[0], 9);
  t.equal(runs.sendmsg4, 1);
});

t.test('recvmsg4 runs when a datagram is read with an address (recvfrom), not for read(2)', async (t) => {
  const { sim, a, pa, pb } = lab();
  const runs = socketLb(a.node, pb.ip);
  pb.ns.sockets.udpBind(53, (d, _from, reply) => reply(d));
  const u = pa.ns.sockets.udpBind(0);
  u.connect({ ip: VIP, port: 53 });
  u.write(Uint8Array.of(1));
  u.write(Uint8Array.of(2));
  await sim.settle(sim.sleep(5e6));
  t.equal(runs.recvmsg4, 0, 'queued datagrams: nobody read them yet');
  const plain = await sim.settle(u.recv(1e9, { address: false }));
  t.same([plain!.data[0], plain!.from.ip], [1, pb.ip], 'read(2): no address asked, no translation');
  t.equal(runs.recvmsg4, 0);
  const named = await sim.settle(u.recv(1e9));
  t.same([named!.data[0], named!.from.ip], [2, VIP], 'recvfrom: recvmsg4 shows the service');
  t.equal(runs.recvmsg4, 1);
});

t.test('a connected socket takes only its peer\'s datagrams; others get port unreachable', async (t) => {
  const { sim, a, pa, pb } = lab();
  const u = pa.ns.sockets.udpBind(0);
  u.connect({ ip: pb.ip, port: 53 });
  const stranger = pb.ns.sockets.udpBind(5353);
  const seen = tap(a.node, pa.lxc);
  stranger.send({ ip: pa.ip, port: u.local.port }, Uint8Array.of(7));
  t.equal(await sim.settle(u.recv(5e6)), null, 'not delivered');
  const icmp = seen.find((x) => x.dir === 'in' && ipProto(x.f, 14) === 1);
  t.same(icmp && [icmp.f[34], icmp.f[35]], [3, 3], 'port unreachable to the stranger');
});

t.test('ICMP port unreachable about the peer: the next recv fails with ECONNREFUSED, once', async (t) => {
  const { sim, pa, pb } = lab();
  const u = pa.ns.sockets.udpBind(0);
  u.connect({ ip: pb.ip, port: 9999 });
  u.write(Uint8Array.of(1));
  const err = await sim.settle(u.recv(1e9).then(() => null, (e: SocketError) => e));
  t.ok(err instanceof SocketError);
  t.equal(err!.code, 'ECONNREFUSED');
  t.equal(await sim.settle(u.recv(5e6)), null, 'reported once (sk_err cleared)');
  // An error that comes while nobody reads waits for the next recv.
  u.write(Uint8Array.of(2));
  await sim.settle(sim.sleep(5e6));
  const later = await sim.settle(u.recv(1e9).then(() => null, (e: SocketError) => e));
  t.equal(later?.code, 'ECONNREFUSED');
  // An unconnected socket hears nothing of it.
  const v = pa.ns.sockets.udpBind(0);
  v.send({ ip: pb.ip, port: 9999 }, Uint8Array.of(3));
  t.equal(await sim.settle(v.recv(5e6)), null);
});

t.test('errors: connect without a route ENETUNREACH, send(2) unconnected EDESTADDRREQ, connect after close EBADF', async (t) => {
  const { a } = lab();
  const lonely = a.node.createNetns('lonely');
  const u = lonely.sockets.udpBind(0);
  t.throws(() => u.connect({ ip: VIP, port: 53 }), { code: 'ENETUNREACH' });
  t.throws(() => u.write(Uint8Array.of(1)), { code: 'EDESTADDRREQ' });
  u.close();
  t.throws(() => u.connect({ ip: VIP, port: 53 }), { code: 'EBADF' });
});
