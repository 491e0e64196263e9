// Two-node agent tests: CNI ADD, cross-node ping, ClusterIP via tc LB and socket LB, drops and monitor output.
import t from 'tap';
import { Sim } from '../src/sim/sim.ts';
import { createNode } from '../src/kernel/node.ts';
import { Underlay } from '../src/kernel/underlay.ts';
import { ipToU32 as ip, u32ToIp } from '../src/wire/addr.ts';
import { createCiliumControl } from '../src/cilium/control.ts';
import type { CiliumConfig, PodInfo } from '../src/cilium/api.ts';

function lab(routing: 'native' | 'tunnel', socketLB: boolean) {
  const sim = new Sim(3);
  const underlay = new Underlay();
  const cfg: CiliumConfig = { routing, socketLB, netdev: 'ens5', mtu: 9001, clusterCIDR: { ip: ip('172.16.0.0'), prefixLen: 16 },
    monitorAggregation: 'medium', clusterName: 'default' };
  const c = createCiliumControl(cfg, sim);
  const nodes = [['k8s-s', '192.168.10.10', '172.16.0.0'], ['k8s-w1', '192.168.10.101', '172.16.1.0']] as const;
  for (const [name, nip, cidr] of nodes) {
    const k = createNode(name, sim, { underlay, nodeIp: nip, netdevName: 'ens5', mtu: 9001 });
    c.addNode(k, { name, ip: ip(nip), podCIDR: { ip: ip(cidr), prefixLen: 24 }, controlPlane: name === 'k8s-s', labels: {} });
  }
  const pod = (name: string, node: string, addr: string, app: string): PodInfo => ({ namespace: 'default', name, uid: name, nodeName: node,
    ip: ip(addr), labels: { app }, namespaceLabels: { 'kubernetes.io/metadata.name': 'default' }, serviceAccount: 'default' });
  const net = c.addPod(pod('netpod', 'k8s-s', '172.16.0.230', 'netpod'));
  const web = c.addPod(pod('webpod1', 'k8s-w1', '172.16.1.111', 'webpod'));
  const lines: Record<string, string[]> = { 'k8s-s': [], 'k8s-w1': [] };
  for (const n of Object.keys(lines)) c.subscribeMonitor(n, (l) => lines[n]!.push(l), { numeric: true });
  return { sim, c, net, web, lines };
}

t.test('native routing: cross-node ping has ttl 62, to-network on the sender, to-endpoint on the receiver', async (t) => {
  const { sim, c, net, web, lines } = lab('native', false);
  t.match(c.allocatedAddresses('k8s-s').join('\n'), /172\.16\.0\.230 \(default\/netpod\)/);
  t.equal(net.hostIfName.length, 15);
  const r = await sim.settle(net.netns.sockets.ping(ip('172.16.1.111'), { seq: 1, id: 7, payloadBytes: 56, timeoutNs: 1e9 }));
  t.ok(r, 'got a reply');
  t.equal(r?.ttl, 62);
  t.match(lines['k8s-s']![0], new RegExp(`^-> network flow 0x[0-9a-f]+ , identity ${net.identity}->${web.identity} state new ifindex ens5 orig-ip 0.0.0.0: 172.16.0.230 -> 172.16.1.111 EchoRequest$`));
  t.match(lines['k8s-w1']![0], new RegExp(`^-> endpoint ${web.endpointId} flow 0x[0-9a-f]+ , identity ${net.identity}->${web.identity} state new ifindex lxc[0-9a-f]{12} orig-ip 172.16.0.230: 172.16.0.230 -> 172.16.1.111 EchoRequest$`));
  t.match(lines['k8s-s']!.join('\n'), /-> endpoint \d+ .* state reply .* EchoReply/, 'the reply is delivered as a CT reply');
});

for (const socketLB of [false, true]) {
  t.test(`ClusterIP over TCP with ${socketLB ? 'socket' : 'tc'} LB; reverse NAT; no backends drops`, async (t) => {
    const { sim, c, net, web, lines } = lab('native', socketLB);
    const vip = ip('10.96.0.50');
    c.syncServices([{ key: 'default/websvc//ClusterIP/10.96.0.50', namespace: 'default', name: 'websvc', type: 'ClusterIP', ip: vip, port: 80, proto: 'TCP',
      backends: [{ ip: ip('172.16.1.111'), port: 8080, nodeName: 'k8s-w1', ready: true }], affinityTimeoutSec: 0,
      externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster' },
    { key: 'default/empty//ClusterIP/10.96.0.51', namespace: 'default', name: 'empty', type: 'ClusterIP', ip: ip('10.96.0.51'), port: 80, proto: 'TCP',
      backends: [], affinityTimeoutSec: 0, externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster' }]);
    let seen = '';
    web.netns.sockets.tcpListen(8080, (conn) => { seen = `${u32ToIp(conn.remote.ip)}:${conn.remote.port}`; conn.write(new TextEncoder().encode('hi')); conn.end(); });
    const conn = await sim.settle(net.netns.sockets.tcpConnect({ ip: vip, port: 80 }, { timeoutNs: 3e9 }));
    t.same([conn.remote.ip, conn.remote.port], [vip, 80], 'the client sees the VIP');
    await sim.settle(sim.sleep(5e6));
    t.match(seen, /^172\.16\.0\.230:\d+$/, 'the server sees the pod address');
    t.ok(lines['k8s-s']!.some((l) => /-> network .*172\.16\.0\.230:\d+ -> 172\.16\.1\.111:8080 tcp SYN$/.test(l)), 'SYN leaves DNATed');
    // tc LB rewrites the reply in cil_lxc_policy; socket LB never puts the VIP on the wire.
    const synAck = socketLB ? /-> endpoint .*state reply .*172\.16\.1\.111:8080 -> 172\.16\.0\.230:\d+ tcp SYN, ACK$/ : /-> endpoint .*state reply .*10\.96\.0\.50:80 -> 172\.16\.0\.230:\d+ tcp SYN, ACK$/;
    t.ok(lines['k8s-s']!.some((l) => synAck.test(l)), 'SYN-ACK delivered in the form the client expects');
    const before = lines['k8s-s']!.length;
    const failed = await sim.settle(net.netns.sockets.tcpConnect({ ip: ip('10.96.0.51'), port: 80 }, { timeoutNs: 1e9 }).then(() => 'connected', (e: { code?: string }) => e.code ?? 'error'));
    t.not(failed, 'connected');
    if (!socketLB) t.match(lines['k8s-s']!.slice(before).join('\n'), /xx drop \(Service backend not found\) flow 0x[0-9a-f]+ to endpoint 0, ifindex \d+, file bpf_lxc.c:\d+, , identity \d+->2: 172\.16\.0\.230:\d+ -> 10\.96\.0\.51:80 tcp SYN/);
  });
}

t.test('tunnel mode: to-overlay on the sender, VXLAN on the wire, to-endpoint on the receiver', async (t) => {
  const { sim, c, net, lines } = lab('tunnel', false);
  const a = c.agent('k8s-s');
  const vxlanPorts: number[] = [];
  a.kernel.capture(a.netdev!, (f, dir) => { if (dir === 'out' && f[23] === 17) vxlanPorts.push((f[36]! << 8) | f[37]!); });
  const r = await sim.settle(net.netns.sockets.ping(ip('172.16.1.111'), { seq: 1, id: 9, payloadBytes: 56, timeoutNs: 1e9 }));
  t.ok(r, 'got a reply');
  t.match(lines['k8s-s']![0], /^-> overlay flow 0x[0-9a-f]+ , identity \d+->\d+ state new ifindex cilium_vxlan orig-ip 0.0.0.0: 172.16.0.230 -> 172.16.1.111 EchoRequest$/);
  t.match(lines['k8s-w1']![0], /^-> endpoint \d+ .*state new ifindex lxc.* EchoRequest$/);
  t.ok(vxlanPorts.includes(8472), 'the request crossed ens5 inside VXLAN (UDP 8472)');
});
