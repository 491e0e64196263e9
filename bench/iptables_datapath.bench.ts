// The iptables datapath (kind-iptables lab: kindnet + kube-proxy rules in the
// nodes' netfilter) per core: UDP datagrams net-pod -> a pod on another node,
// to its pod IP (conntrack, no NAT) and to a ClusterIP (DNAT from the
// conntrack binding on every packet, the reply de-DNATed), and new TCP
// connections/s to the ClusterIP (the nat table walked once per connection).
// Traffic goes through the pods' SocketApi, so every packet is built by a
// socket, crosses veth, the node's hooks, eth0 and the other node's hooks.
// Each figure is the median of interleaved rounds (bench/lib/harness.ts).
// Run: node --expose-gc --import tsx bench/iptables_datapath.bench.ts [--rounds N]

import { Cluster } from '../src/cluster/cluster.ts';
import type { Netns } from '../src/kernel/api.ts';
import { ipToU32 } from '../src/wire/addr.ts';
import { benchArgs, runBench } from './lib/harness.ts';
import { udpFlow } from './lib/udp_flow.ts';
import { tcpConnections } from './lib/tcp_conns.ts';

const UDP_N = 20_000, CONNS = 1_000, WARMUP = 5_000;
const SINK = `apiVersion: v1
kind: Pod
metadata: {name: sink, labels: {role: sink}, annotations: {dplab.dev/pod-ip: 10.10.3.50}}
spec: {nodeName: myk8s-worker, containers: [{name: c, image: nicolaka/netshoot, command: [tail], args: ["-f", "/dev/null"]}]}
---
apiVersion: v1
kind: Service
metadata: {name: sink}
spec:
  clusterIP: 10.200.1.200
  selector: {role: sink}
  ports: [{name: udp, port: 9000, targetPort: 9000, protocol: UDP}, {name: http, port: 8080, targetPort: 8080}]
`;

interface Lab { cluster: Cluster; client: Netns; sink: Netns }
function lab(): Lab {
  const cluster = Cluster.lab('kind-iptables', { hubble: false });
  cluster.apply(SINK);
  cluster.sim.runSync();
  return { cluster, client: cluster.podContext('default', 'net-pod').netns, sink: cluster.podContext('default', 'sink').netns };
}

let shared: Lab | undefined;
const get = () => (shared ??= lab());
await runBench({
  header: { method: 'kind-iptables lab, net-pod (myk8s-control-plane) -> sink pod 10.10.3.50 (myk8s-worker); CPU time of this process', udpDatagrams: UDP_N, connections: CONNS },
  rounds: 5,
  cases: [
    { name: 'udp.podIP', run: () => udpFlow(get(), ipToU32('10.10.3.50'), UDP_N, WARMUP) },
    { name: 'udp.clusterIP', run: () => udpFlow(get(), ipToU32('10.200.1.200'), UDP_N, WARMUP) },
    { name: 'tcp.newConnectionsClusterIP', run: () => tcpConnections(get().cluster, get().client, get().sink, ipToU32('10.200.1.200'), 8080, CONNS) },
  ],
  done: () => shared?.cluster.close(),
}, benchArgs());
