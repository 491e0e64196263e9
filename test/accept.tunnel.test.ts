// Acceptance: the seed lab switched to `routing: tunnel`. The overlay device
// gets its programs, pod MTU drops by the VXLAN overhead, and cross-node
// traffic crosses ens5 as VXLAN whose VNI carries the sender's identity.
import t from 'tap';
import { ICMP_ECHO, ICMP_ECHOREPLY } from '../src/wire/icmp.ts';
import { inPod, ip4, IPPROTO_ICMP, IPPROTO_UDP, kubectl, onNode, record, seedLab, vxlan, VXLAN_PORT } from './helpers/lab.ts';

t.test('tunnel mode', async (t) => {
  const c = seedLab({ routing: 'tunnel' });
  t.teardown(() => c.close());

  const net = (await onNode(c, 'k8s-s', ['bpftool', 'net', 'show'])).stdout;
  t.match(net, /^cilium_vxlan\(\d+\) tcx\/ingress cil_from_overlay prog_id \d+ link_id \d+ $/m, 'cilium_vxlan ingress runs cil_from_overlay');
  t.match(net, /^cilium_vxlan\(\d+\) tcx\/egress cil_to_overlay prog_id \d+ link_id \d+ $/m, 'cilium_vxlan egress runs cil_to_overlay');
  const rows = net.split('\n').filter((l) => l.includes('tcx/')).map((l) => l.replace(/^lxc[0-9a-f]{12}/, 'lxc*').replace(/\(\d+\).*? (cil_\w+).*$/, ' $1'));
  t.same(rows, ['ens5 cil_from_netdev', 'ens5 cil_to_netdev', 'cilium_net cil_to_host', 'cilium_host cil_to_host', 'cilium_host cil_from_host',
    'cilium_vxlan cil_from_overlay', 'cilium_vxlan cil_to_overlay', 'lxc_health cil_from_container', 'lxc_health cil_to_container',
    'lxc* cil_from_container', 'lxc* cil_to_container'], 'native attachments plus the overlay, in ifindex order');

  const link = (await inPod(c, 'netpod', ['ip', 'link', 'show', 'eth0'])).stdout;
  t.match(link, /^\d+: eth0@if\d+: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 8951 /, 'pod MTU is 9001 minus the 50-byte VXLAN overhead');

  const idOf = async (pod: string) => Number((await kubectl(c, ['get', 'cep', pod, '-o', 'jsonpath={.status.identity.id}'])).stdout);
  const netId = await idOf('netpod'), webId = await idOf('webpod1');
  t.ok(netId > 255 && webId > 255 && netId !== webId, `distinct pod identities (${netId}, ${webId})`);

  const wire = record(c, 'k8s-s', 'ens5');
  const podSide = record(c, 'k8s-w1', 'ens5');
  const ping = await inPod(c, 'netpod', ['ping', '-c', '1', '172.16.1.111']);
  wire.stop(); podSide.stop();
  t.equal(ping.exitCode, 0);
  t.match(ping.stdout, /^64 bytes from 172\.16\.1\.111: icmp_seq=1 ttl=\d+ time=\d+\.\d{3} ms$/m, 'cross-node ping answered');

  const encap = wire.frames.filter((f) => vxlan(f.frame) !== null);
  const req = encap.find((f) => f.dir === 'out');
  const rep = encap.find((f) => f.dir === 'in');
  t.ok(req && rep, 'request and reply cross ens5 as VXLAN');
  t.notOk(wire.frames.some((f) => { const h = ip4(f.frame); return h !== null && h.proto === IPPROTO_ICMP; }), 'no bare pod ICMP on the underlay');

  const outer = ip4(req!.frame)!;
  t.same([outer.src, outer.dst, outer.proto, outer.dport], ['192.168.10.10', '192.168.10.101', IPPROTO_UDP, VXLAN_PORT], 'outer: node to node, UDP 8472');
  const v = vxlan(req!.frame)!;
  t.equal(req!.frame[v.inner - 8], 0x08, 'VXLAN flags: VNI present');
  t.equal(v.vni, netId, 'VNI of the request is netpod\'s security identity');
  const inner = ip4(req!.frame, v.inner)!;
  t.same([inner.src, inner.dst, inner.proto, req!.frame[inner.l4]], ['172.16.0.230', '172.16.1.111', IPPROTO_ICMP, ICMP_ECHO], 'inner: the pod-to-pod echo request');
  t.equal(inner.payload, 64, 'inner ICMP carries ping\'s 56 data bytes + 8 header bytes');

  const rv = vxlan(rep!.frame)!;
  t.equal(rv.vni, webId, 'VNI of the reply is webpod1\'s identity');
  const rin = ip4(rep!.frame, rv.inner)!;
  t.same([rin.src, rin.dst, rep!.frame[rin.l4]], ['172.16.1.111', '172.16.0.230', ICMP_ECHOREPLY], 'inner: the echo reply');

  // The receiving node sees the very bytes the sender put on the wire.
  const atW1 = podSide.frames.find((f) => f.dir === 'in' && vxlan(f.frame)?.vni === netId);
  t.same(atW1 && Buffer.from(atW1.frame.subarray(14)), Buffer.from(req!.frame.subarray(14)), 'k8s-w1 receives the same IP packet');
});
