// New TCP connections per second through an emulated cluster, end to end:
// connect (to a ClusterIP or pod IP) + accept + close both ways, 100 in
// flight, TIME_WAIT (and conntrack's 120 s TIME_WAIT entries) left to run
// out between bursts as between two bursts of a real client.

import type { Cluster } from '../../src/cluster/cluster.ts';
import type { Netns, TcpConnection } from '../../src/kernel/api.ts';
import { perSec, span, type Figures } from './figures.ts';

export async function tcpConnections(cluster: Cluster, client: Netns, sink: Netns, dst: number, port: number, n: number): Promise<Figures> {
  const sim = cluster.sim;
  let accepted = 0;
  const srv = sink.sockets.tcpListen(port, (c) => { accepted++; c.onEnd(() => c.end()); });
  const round = async (k: number) => {
    const open: TcpConnection[] = [];
    for (let i = 0; i < k; i++) void client.sockets.tcpConnect({ ip: dst, port }).then((c) => { open.push(c); });
    sim.runSync(); await Promise.resolve(); await Promise.resolve();
    if (open.length !== k) throw new Error(`connect: ${open.length}/${k} established`);
    for (const c of open) c.end();
    sim.runSync();
    sim.schedule(121e9, () => {}); sim.runSync();
  };
  await round(100);
  const a0 = accepted, stop = span();
  for (let i = 0; i < n; i += 100) await round(100);
  const { wallMs, cpuMs } = stop();
  if (accepted - a0 !== n) throw new Error(`accepted ${accepted - a0}/${n}`);
  srv.close();
  return { connections: n, connectionsPerSec: perSec(n, cpuMs, 'cpu'), connectionsPerWallSec: perSec(n, wallMs, 'wall') };
}
