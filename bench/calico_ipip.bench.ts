// IP-in-IP cost per core: UDP datagrams between pods on two nodes of the
// calico-ipip lab (pod-src -> pod-dest: veth, node2's forward and netfilter,
// tunl0 encap, ip_local_out, eth0; node1's decap, tunl0, forward, cali veth)
// beside the same flow on the kind-iptables lab (net-pod -> webpod1: direct
// routes, no tunnel), both with kube-proxy's rules loaded. Median of
// interleaved rounds (bench/lib/harness.ts).
// Run: node --expose-gc --import tsx bench/calico_ipip.bench.ts [--rounds N]

import { Cluster } from '../src/cluster/cluster.ts';
import { ipToU32 } from '../src/wire/addr.ts';
import { benchArgs, runBench } from './lib/harness.ts';
import type { Figures } from './lib/figures.ts';
import { udpFlow, type UdpPods } from './lib/udp_flow.ts';

const UDP_N = 20_000, WARMUP = 5_000;

interface Lab extends UdpPods { dst: number }
function lab(name: string, client: string, sink: string, dst: string): Lab {
  const cluster = Cluster.lab(name, { hubble: false });
  cluster.sim.runSync();
  return { cluster, client: cluster.podContext('default', client).netns, sink: cluster.podContext('default', sink).netns, dst: ipToU32(dst) };
}

const flow = (l: Lab): Figures => udpFlow(l, l.dst, UDP_N, WARMUP);
let calico: Lab | undefined, kind: Lab | undefined;
await runBench({
  header: { method: 'UDP pod -> pod on another node, 64-byte payloads; CPU time of this process', udpDatagrams: UDP_N },
  rounds: 5,
  cases: [
    { name: 'udp.calicoIpip', run: () => flow(calico ??= lab('calico-ipip', 'pod-src', 'pod-dest', '20.109.131.2')) },
    { name: 'udp.kindnetDirect', run: () => flow(kind ??= lab('kind-iptables', 'net-pod', 'webpod1', '10.10.3.2')) },
  ],
  done: () => { calico?.cluster.close(); kind?.cluster.close(); },
}, benchArgs());
