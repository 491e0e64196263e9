// Kernel packet path throughput (no BPF programs): an established TCP stream
// pod -> veth -> forward -> underlay -> forward -> veth -> pod, and new TCP
// connections per second. Prints JSON.
import { Sim } from '../src/sim/sim.ts';
import { buildTestbed, SEED_SPEC } from '../src/kernel/testbed.ts';

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
  const t0 = performance.now();
  c.write(new Uint8Array(bytes));
  sim.runSync();
  const ms = performance.now() - t0;
  if (received !== bytes) throw new Error(`stream incomplete: ${received}/${bytes}`);
  const packets = pb.eth0.stats.rxPackets + pa.eth0.stats.rxPackets - p0;
  return { mode: syncHops ? 'sync-fifo' : 'sim-events', bytes, packets, packetsPerSec: Math.round(packets / ms * 1000), hopsPerSec: Math.round((hops() - h0) / ms * 1000), virtualMs: sim.now() / 1e6 };
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
  const t0 = performance.now();
  for (let i = 0; i < n; i += 1000) { for (let j = 0; j < 1000; j++) u.send({ ip: pb.ip, port: 9000 }, payload); sim.runSync(); }
  const ms = performance.now() - t0;
  if (got !== n + 1) throw new Error(`lost datagrams: ${n + 1 - got}`);
  return { mode: syncHops ? 'sync-fifo' : 'sim-events', datagrams: n, packetsPerSec: Math.round(n / ms * 1000), hopsPerSec: Math.round((hops() - h0) / ms * 1000) };
}

async function connects(n: number) {
  const { sim, pa, pb } = lab(false);
  pb.ns.sockets.tcpListen(80, (c) => c.onEnd(() => c.end()));
  const t0 = performance.now();
  for (let i = 0; i < n; i += 100) {
    const batch = Array.from({ length: 100 }, () => pa.ns.sockets.tcpConnect({ ip: pb.ip, port: 80 }).then((c) => c.end()));
    await sim.settle(Promise.all(batch));
  }
  await sim.runUntilIdle();
  const ms = performance.now() - t0;
  return { connections: n, connectionsPerSec: Math.round(n / ms * 1000) };
}

const out = {
  udpSmall: [await udpBlast(false, 200_000), await udpBlast(true, 200_000)],
  stream: [await stream(false, 20_000_000), await stream(true, 20_000_000)],
  newConnections: await connects(2000),
};
console.log(JSON.stringify(out, null, 2));
