// Cluster document and kind config parsing, defaults and errors.
import t from 'tap';
import { parse } from 'yaml';
import { ClusterError } from '../src/cluster/facade.ts';
import { cidrString, parseClusterDoc, resolveClusterDoc } from '../src/cluster/spec.ts';
import { u32ToIp } from '../src/wire/addr.ts';

t.test('defaults are kind-like', async (t) => {
  const s = parseClusterDoc(undefined);
  t.same(s.nodes.map((n) => [n.name, u32ToIp(n.ip), cidrString(n.podCIDR), n.controlPlane]), [
    ['kind-control-plane', '172.18.0.2', '10.244.0.0/24', true],
    ['kind-worker', '172.18.0.3', '10.244.1.0/24', false],
    ['kind-worker2', '172.18.0.4', '10.244.2.0/24', false],
  ]);
  t.equal(cidrString(s.serviceCIDR), '10.96.0.0/12');
  t.equal(cidrString(s.loadBalancerIPs), '172.18.255.200/29');
  t.equal(u32ToIp(s.gateway), '172.18.0.1');
  t.equal(s.netdev, 'eth0');
  t.equal(s.mtu, 1500);
});

t.test('seed-like Cluster document', async (t) => {
  const s = parseClusterDoc(parse(`
apiVersion: dplab.dev/v1alpha1
kind: Cluster
metadata: {name: lab}
spec: {routing: native, netdev: ens5, mtu: 9001, podCIDR: 172.16.0.0/16,
  nodes: [{name: k8s-s, ip: 192.168.10.10, podCIDR: 172.16.0.0/24, controlPlane: true}, {name: k8s-w1, ip: 192.168.10.101, podCIDR: 172.16.1.0/24}]}`));
  t.equal(s.routing, 'native');
  t.equal(s.netdev, 'ens5');
  t.equal(s.mtu, 9001);
  t.equal(u32ToIp(s.gateway), '192.168.10.1');
  t.equal(cidrString(s.loadBalancerIPs), '192.168.10.200/29');
  t.same(s.nodes[0]!.labels['node-role.kubernetes.io/control-plane'], '');
});

t.test('kind config maps onto a Cluster', async (t) => {
  const s = resolveClusterDoc(parse(`
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: dev
nodes: [{role: control-plane}, {role: worker}, {role: worker}]
networking: {podSubnet: 10.10.0.0/16, serviceSubnet: 10.20.0.0/16, kubeProxyMode: none}`));
  t.same(s.nodes.map((n) => n.name), ['dev-control-plane', 'dev-worker', 'dev-worker2']);
  t.equal(cidrString(s.nodes[2]!.podCIDR), '10.10.2.0/24');
  t.equal(cidrString(s.serviceCIDR), '10.20.0.0/16');
});

const bad: Array<[string, string, string]> = [
  ['unknown datapath', 'spec: {datapath: calico}', 'spec.datapath'],
  ['bad routing', 'spec: {routing: bgp}', 'spec.routing'],
  ['bad mtu', 'spec: {mtu: 100}', 'spec.mtu'],
  ['bad pod CIDR', 'spec: {podCIDR: 10.0.0.0/33}', 'spec.podCIDR'],
  ['bad node ip', 'spec: {nodes: [{ip: 172.18.0.300}]}', 'spec.nodes[0].ip'],
  ['node outside underlay', 'spec: {underlay: 10.0.0.0/24, nodes: [{ip: 10.0.1.5}]}', 'spec.nodes[0].ip'],
  ['duplicate node', 'spec: {nodes: [{name: a}, {name: a}]}', 'spec.nodes[1].name'],
  ['podCIDR outside pool', 'spec: {nodes: [{podCIDR: 192.168.0.0/24}]}', 'spec.nodes[0].podCIDR'],
];
for (const [name, yaml, field] of bad) {
  t.test(`error: ${name}`, async (t) => {
    const doc = parse(yaml);
    try {
      resolveClusterDoc(doc.kind ? doc : { apiVersion: 'dplab.dev/v1alpha1', kind: 'Cluster', ...doc });
      t.fail('no error');
    } catch (e) {
      t.type(e, ClusterError);
      t.equal((e as ClusterError).field, field);
      t.match((e as Error).message, field);
    }
  });
}
