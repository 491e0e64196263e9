// iproute2 in a pod: `ip route get` (with the PMTU a "fragmentation needed"
// leaves in the route cache) and `ip neigh show dev D`, as iproute2 prints
// them; TCP segments that fit a PMTU learnt before the connection.
import t from 'tap';
import { Sim } from '../src/sim/sim.ts';
import { buildTestbed } from '../src/kernel/testbed.ts';
import { runKernelTool } from '../src/kernel/tools.ts';
import type { LinuxNode } from '../src/kernel/node.ts';
import { ETH_HLEN, ETH_P_IP, ethType } from '../src/wire/ethernet.ts';
import { ipTotLen } from '../src/wire/ipv4.ts';

function lab(podMtu: number, linkMtu: number) {
  const sim = new Sim(3);
  const { nodes } = buildTestbed(sim, {
    mtu: podMtu,
    nodes: [
      { name: 'a', ip: '192.168.10.10', routerIp: '172.16.0.12', podCidr: '172.16.0.0', pods: [{ name: 'pa', ip: '172.16.0.230' }] },
      { name: 'b', ip: '192.168.10.101', routerIp: '172.16.1.198', podCidr: '172.16.1.0', pods: [{ name: 'pb', ip: '172.16.1.111' }] },
    ],
  });
  for (const n of nodes) n.node.netdev!.mtu = linkMtu;
  return { sim, a: nodes[0]!, pa: nodes[0]!.pods[0]!, pb: nodes[1]!.pods[0]! };
}

type Res = { stdout: string; stderr: string; exitCode: number };
const res = (stdout: string, stderr = '', exitCode = 0): Res => ({ stdout, stderr, exitCode });

t.test('ip route get: the chosen route as a cloned route, errors as iproute2', async (t) => {
  const { a, pa } = lab(9001, 1500);
  const lonely = a.node.createNetns('lonely');
  const cases: Array<[typeof pa.ns, string, Res]> = [
    [pa.ns, 'ip route get 172.16.1.111', res('172.16.1.111 via 172.16.0.12 dev eth0 src 172.16.0.230 uid 0 \n    cache mtu 9001 \n')],
    [pa.ns, 'ip r g to 172.16.1.111', res('172.16.1.111 via 172.16.0.12 dev eth0 src 172.16.0.230 uid 0 \n    cache mtu 9001 \n')],
    [pa.ns, 'ip route get 172.16.0.12', res('172.16.0.12 dev eth0 src 172.16.0.230 uid 0 \n    cache \n')],
    [pa.ns, 'ip route get 172.16.0.230', res('local 172.16.0.230 dev lo src 172.16.0.230 uid 0 \n    cache <local> \n')],
    [pa.ns, 'ip route get', res('', 'need at least a destination address\n', 1)],
    [pa.ns, 'ip route get nope', res('', 'Error: any valid prefix is expected rather than "nope".\n', 1)],
    [lonely, 'ip route get 8.8.8.8', res('', 'RTNETLINK answers: Network is unreachable\n', 2)],
    [a.node.hostNs, 'ip route get 172.16.1.111', res('172.16.1.111 via 192.168.10.101 dev ens5 src 192.168.10.10 uid 0 \n    cache \n')],
  ];
  for (const [ns, cmd, want] of cases) t.same(runKernelTool(ns, cmd.split(' ')), want, cmd);
});

t.test('ip route get shows a learnt PMTU until it expires (mtu_expires 600 s)', async (t) => {
  const { sim, pa, pb } = lab(9001, 1500);
  const get = (): string => runKernelTool(pa.ns, ['ip', 'route', 'get', '172.16.1.111'])!.stdout;
  const r = await sim.settle(pa.ns.sockets.ping(pb.ip, { seq: 1, id: 7, payloadBytes: 4000, timeoutNs: 2e9, pmtudisc: 'do' }));
  t.equal(r?.icmp?.info, 1500, 'the router said: fragmentation needed, mtu 1500');
  t.equal(get(), '172.16.1.111 via 172.16.0.12 dev eth0 src 172.16.0.230 uid 0 \n    cache expires 600sec mtu 1500 \n', 'at once');
  await sim.settle(sim.sleep(1e6));
  t.equal(get(), '172.16.1.111 via 172.16.0.12 dev eth0 src 172.16.0.230 uid 0 \n    cache expires 599sec mtu 1500 \n', 'a millisecond later (truncated, as iproute2 divides jiffies)');
  await sim.settle(sim.sleep(100e9));
  t.match(get(), /cache expires 499sec mtu 1500 \n$/, '100 s later');
  await sim.settle(sim.sleep(500e9));
  t.equal(get(), '172.16.1.111 via 172.16.0.12 dev eth0 src 172.16.0.230 uid 0 \n    cache mtu 9001 \n', 'expired: the route\'s own mtu again');
});

t.test('TCP to a destination with a learnt PMTU: segments fit it from the start', async (t) => {
  const { sim, pa, pb } = lab(9001, 1500);
  await sim.settle(pa.ns.sockets.ping(pb.ip, { seq: 1, id: 7, payloadBytes: 4000, timeoutNs: 2e9, pmtudisc: 'do' }));
  const seen: number[] = [];
  (pa.ns.node as LinuxNode).capture(pa.lxc, (f, dir) => {
    if (dir === 'in' && ethType(f) === ETH_P_IP && f[ETH_HLEN + 9] === 6) seen.push(ipTotLen(f, ETH_HLEN) - 20 - (f[ETH_HLEN + 32]! >>> 4) * 4);
  });
  let got = 0;
  const done = new Promise<void>((resolve) => pb.ns.sockets.tcpListen(80, (c) => { c.onData((d) => { got += d.length; }); c.onEnd(() => { c.end(); resolve(); }); }));
  const c = await sim.settle(pa.ns.sockets.tcpConnect({ ip: pb.ip, port: 80 }));
  c.write(new Uint8Array(20_000));
  c.end();
  await sim.settle(done);
  t.equal(got, 20_000);
  const data = seen.filter((n) => n > 0);
  t.equal(Math.max(...data), 1448, 'the largest segment is the PMTU\'s MSS less the 12-byte timestamp option');
  t.equal(data.reduce((x, y) => x + y, 0), 20_000, 'nothing sent twice');
});

t.test('ip neigh show dev D leaves out the device on each line', async (t) => {
  const { sim, a, pa, pb } = lab(1500, 1500);
  await sim.settle(pa.ns.sockets.ping(pb.ip, { seq: 1, id: 1, payloadBytes: 56, timeoutNs: 1e9 }));
  const all = runKernelTool(a.node.hostNs, ['ip', 'neigh'])!;
  t.match(all.stdout, /^192\.168\.10\.101 dev ens5 lladdr [0-9a-f:]{17} REACHABLE$/m, 'unfiltered: dev on each line');
  const ens5 = runKernelTool(a.node.hostNs, ['ip', 'neigh', 'show', 'dev', 'ens5'])!;
  t.match(ens5.stdout, /^192\.168\.10\.101 lladdr [0-9a-f:]{17} REACHABLE\n$/, 'filtered: no dev');
  t.notMatch(ens5.stdout, /172\.16\./, 'only that device\'s entries');
  t.same(runKernelTool(pa.ns, ['ip', 'neigh', 'show', 'dev', 'eth0'])!.stdout.split('\n').filter(Boolean).map((l) => l.split(' ')[0]), ['172.16.0.12']);
  t.same(runKernelTool(pa.ns, ['ip', 'neigh', 'show', 'dev', 'nope']), res('', 'Device "nope" does not exist.\n', 1));
});
