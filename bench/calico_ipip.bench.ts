// IP-in-IP cost per core: UDP datagrams between pods on two nodes of the
// calico-ipip lab (pod-src -> pod-dest: veth, node2's forward and netfilter,
// tunl0 encap, ip_local_out, eth0; node1's decap, tunl0, forward, cali veth)
// beside the same flow on the kind-iptables lab (net-pod -> webpod1: direct
// routes, no tunnel), both with kube-proxy's rules loaded. Median of
// interleaved rounds (bench/lib/harness.ts).
// Run: node --expose-gc --import tsx bench/calico_ipip.bench.ts [--rounds N]

import { Cluster } from '../src/cluster/cluster.ts';
import type { Netns } from '../src/kernel/api.ts';
import { ipToU32 } from '../src/wire/addr.ts';
import { benchArgs, runBench } from './lib/harness.ts';
import { perSec, span, type Figures } from './lib/figures.ts';

const UDP_N = 20_000, WARMUP = 5_000;

interface Lab { cluster: Cluster; client: Netns; sink: Netns; dst: number }
function lab(name: string, client: string, sink: string, dst: string): Lab {
  const cluster = Cluster.lab(name, { hubble: false });
  cluster.sim.runSync();
  return { cluster, client: cluster.podContext('default', client).netns, sink: cluster.podContext('default', sink).netns, dst: ipToU32(dst) };
}

function udpFlow(l: Lab, n: number): Figures {
  let got = 0;
  const server = l.sink.sockets.udpBind(9000, () => { got++; });
  const u = l.client.sockets.udpBind(0);
  const to = { ip: l.dst, port: 9000 }, payload = new Uint8Array(64);
  const burst = (k: number) => { for (let i = 0; i < k; i += 500) { for (let j = 0; j < 500; j++) u.send(to, payload); l.cluster.sim.runSync(); } };
  burst(WARMUP);
  const g0 = got, stop = span();
  burst(n);
  const { wallMs, cpuMs } = stop();
  if (got - g0 !== n) throw new Error(`udp: lost ${n - (got - g0)} datagrams`);
  u.close(); server.close();
  return { datagrams: n, packetsPerSec: perSec(n, cpuMs, 'cpu'), packetsPerWallSec: perSec(n, wallMs, 'wall') };
}

let calico: Lab | undefined, kind: Lab | undefined;
await runBench({
  header: { method: 'UDP pod -> pod on another node, 64-byte payloads; CPU time of this process', udpDatagrams: UDP_N },
  rounds: 5,
  cases: [
    { name: 'udp.calicoIpip', run: () => udpFlow(calico ??= lab('calico-ipip', 'pod-src', 'pod-dest', '20.109.131.2'), UDP_N) },
    { name: 'udp.kindnetDirect', run: () => udpFlow(kind ??= lab('kind-iptables', 'net-pod', 'webpod1', '10.10.3.2'), UDP_N) },
  ],
  done: () => { calico?.cluster.close(); kind?.cluster.close(); },
}, benchArgs());
