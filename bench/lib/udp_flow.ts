// Pod-to-pod UDP through an emulated cluster, per core: datagrams sent from
// one pod's sockets in bursts of 500, the simulation run after each burst,
// every datagram counted at the sink's socket (a lost one fails the run).

import type { Cluster } from '../../src/cluster/cluster.ts';
import type { Netns } from '../../src/kernel/api.ts';
import { perSec, span, type Figures } from './figures.ts';

export interface UdpPods { cluster: Cluster; client: Netns; sink: Netns }

/** `n` 64-byte datagrams client -> dst:9000 after `warmup` untimed ones: rate per CPU and per wall second. */
export function udpFlow(l: UdpPods, dst: number, n: number, warmup: number): Figures {
  let got = 0;
  const server = l.sink.sockets.udpBind(9000, () => { got++; });
  const u = l.client.sockets.udpBind(0);
  const to = { ip: dst, port: 9000 }, payload = new Uint8Array(64);
  const burst = (k: number) => { for (let i = 0; i < k; i += 500) { for (let j = 0; j < 500; j++) u.send(to, payload); l.cluster.sim.runSync(); } };
  burst(warmup);
  const g0 = got, stop = span();
  burst(n);
  const { wallMs, cpuMs } = stop();
  if (got - g0 !== n) throw new Error(`udp: lost ${n - (got - g0)} datagrams`);
  u.close(); server.close();
  return { datagrams: n, packetsPerSec: perSec(n, cpuMs, 'cpu'), packetsPerWallSec: perSec(n, wallMs, 'wall') };
}
