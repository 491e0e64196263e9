// Kernel packet path throughput (no BPF programs): an established TCP stream
// pod -> veth -> forward -> underlay -> forward -> veth -> pod, and new TCP
// connections per second. Rates per CPU second of this process, each the median of interleaved
// rounds (bench/lib/harness.ts). Prints JSON.
// Run: node --expose-gc --import tsx bench/kernel.bench.ts [--rounds N]
import { Sim } from '../src/sim/sim.ts';
import { buildTestbed, SEED_SPEC } from '../src/kernel/testbed.ts';
import { runBench } from './lib/harness.ts';
import { perSec, span } from './lib/figures.ts';

function lab(syncHops: boolean) {
  const sim = new Sim(1);
  const { nodes } = buildTestbed(sim, { ...SEED_SPEC, mtu: 1500, nodeOpts: { syncHops } });
  const devs = nodes.flatMap((n) => [...n.node.netnses.values()].flatMap((ns) => [...ns.devices.values()]));
  return { sim, pa: nodes[0]!.pods[0]!, pb: nodes[1]!.pods[0]!, hops: () => devs.reduce((s, d) => s + d.stats.rxPackets, 0) };
}

async function stream(syncHops: boolean, bytes: number) {
  const { sim, pa, pb, hops } = lab(syncHops);
  let received = 0;
  pb.ns.sockets.tcpListen(5001, (c) => c.onData((d) => { received += d.length; }));
  const c = await sim.settle(pa.ns.sockets.tcpConnect({ ip: pb.ip, port: 5001 }));
  const h0 = hops(), p0 = pb.eth0.stats.rxPackets + pa.eth0.stats.rxPackets;
  const stop = span();
  c.write(new Uint8Array(bytes));
  sim.runSync();
  const ms = stop().cpuMs;
  if (received !== bytes) throw new Error(`stream incomplete: ${received}/${bytes}`);
  const packets = pb.eth0.stats.rxPackets + pa.eth0.stats.rxPackets - p0;
  return { mode: syncHops ? 'sync-fifo' : 'sim-events', bytes, packets, packetsPerSec: perSec(packets, ms, 'cpu'), hopsPerSec: perSec(hops() - h0, ms, 'cpu'), virtualMs: sim.now() / 1e6 };
}

/** Small UDP datagrams: the per-hop cost of the forwarding path with little payload work. */
async function udpBlast(syncHops: boolean, n: number) {
  const { sim, pa, pb, hops } = lab(syncHops);
  let got = 0;
  pb.ns.sockets.udpBind(9000, () => { got++; });
  const u = pa.ns.sockets.udpBind(0);
  u.send({ ip: pb.ip, port: 9000 }, new Uint8Array(32)); sim.runSync(); // resolve neighbours
  const h0 = hops();
  const payload = new Uint8Array(32);
  const stop = span();
  for (let i = 0; i < n; i += 1000) { for (let j = 0; j < 1000; j++) u.send({ ip: pb.ip, port: 9000 }, payload); sim.runSync(); }
  const ms = stop().cpuMs;
  if (got !== n + 1) throw new Error(`lost datagrams: ${n + 1 - got}`);
  return { mode: syncHops ? 'sync-fifo' : 'sim-events', datagrams: n, packetsPerSec: perSec(n, ms, 'cpu'), hopsPerSec: perSec(hops() - h0, ms, 'cpu') };
}

async function connects(n: number) {
  const { sim, pa, pb } = lab(false);
  pb.ns.sockets.tcpListen(80, (c) => c.onEnd(() => c.end()));
  const stop = span();
  for (let i = 0; i < n; i += 100) {
    const batch = Array.from({ length: 100 }, () => pa.ns.sockets.tcpConnect({ ip: pb.ip, port: 80 }).then((c) => c.end()));
    await sim.settle(Promise.all(batch));
  }
  await sim.runUntilIdle();
  return { connections: n, connectionsPerSec: perSec(n, stop().cpuMs, 'cpu') };
}

await runBench({
  header: { method: 'buildTestbed (two nodes, no BPF programs), traffic through pod netns sockets; rates per CPU second of this process (process.cpuUsage: time given to other processes does not count); udpSmall/stream [0] = hops as Sim events, [1] = synchronous FIFO hops' },
  rounds: 5,
  cases: [
    { name: 'udpSmall.0', run: () => udpBlast(false, 200_000) },
    { name: 'udpSmall.1', run: () => udpBlast(true, 200_000) },
    { name: 'stream.0', run: () => stream(false, 20_000_000) },
    { name: 'stream.1', run: () => stream(true, 20_000_000) },
    { name: 'newConnections', run: () => connects(2000) },
  ],
});
