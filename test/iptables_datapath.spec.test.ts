// Choosing the iptables datapath from a cluster file or a kind config, its
// settings checked (400 naming the field), and NodePort through it: from a
// node and from outside, SNATed to the node the client reached.
import t from 'tap';
import { Cluster } from '../src/cluster/cluster.ts';
import { ClusterError } from '../src/cluster/facade.ts';

const doc = (spec: string) => `apiVersion: dplab.dev/v1alpha1\nkind: Cluster\nmetadata: {name: x}\nspec: ${spec}\n`;

t.test('a kind config with kubeProxyMode iptables is kindnet + iptables', async (t) => {
  const k = Cluster.fromYaml('apiVersion: kind.x-k8s.io/v1alpha4\nkind: Cluster\nnodes: [{role: control-plane}, {role: worker}]\nnetworking: {kubeProxyMode: iptables}\n', { hubble: false });
  t.teardown(() => k.close());
  t.same([k.spec.cni, k.spec.serviceProxy, k.spec.routing], ['kindnet', 'iptables', 'direct']);
  const r = await k.nodeExec('kind-worker', ['ip', 'route']);
  t.match(r.stdout, /^default via 172\.18\.0\.1 dev eth0\n10\.244\.0\.0\/24 via 172\.18\.0\.2 dev eth0\n/);
  const s = await k.nodeExec('kind-control-plane', ['iptables', '-t', 'nat', '-S', 'PREROUTING']);
  // kube-proxy's jump first, then kind's rewrite of docker's embedded-DNS rule (the entrypoint ran before kube-proxy prepended its own).
  t.equal(s.stdout, '-P PREROUTING ACCEPT\n-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n-A PREROUTING -d 172.18.0.1/32 -j DOCKER_OUTPUT\n');
});

const bad: Array<[string, string, string, string]> = [
  ['IPVS mode asked of the iptables proxy', doc('{datapath: iptables, serviceProxyConfig: {mode: ipvs}}'), 'spec.serviceProxyConfig',
    'spec.serviceProxyConfig: service proxy iptables: mode "ipvs" is the ipvs service proxy\'s'],
  ['a KubeProxyConfiguration field of the wrong type', doc('{datapath: iptables, serviceProxyConfig: {masqueradeAll: 3}}'), 'spec.serviceProxyConfig',
    'spec.serviceProxyConfig: service proxy iptables: masqueradeAll: Invalid value: 3: must be a boolean'],
  ['a routing mode kindnet lacks', doc('{datapath: iptables, routing: native}'), 'spec.routing', 'spec.routing: CNI kindnet routes direct, got "native"'],
  ['settings kindnet does not take', doc('{datapath: iptables, cniConfig: {mtu: 1400}}'), 'spec.cniConfig', 'spec.cniConfig: CNI kindnet takes no settings, got "mtu"'],
];
for (const [name, yaml, field, message] of bad) {
  t.test(`rejected: ${name}`, async (t) => {
    try { Cluster.fromYaml(yaml); t.fail('no error'); } catch (e) {
      t.type(e, ClusterError);
      t.match(e, { status: 400, field, message });
    }
  });
}

t.test('masqueradeAll from serviceProxyConfig reaches the rules', async (t) => {
  const c = Cluster.fromYaml(doc('{datapath: iptables, serviceProxyConfig: {masqueradeAll: true}}'), { hubble: false });
  t.teardown(() => c.close());
  const r = await c.nodeExec(c.nodeNames()[0]!, ['bash', '-c', 'iptables -t nat -S | grep "default/kubernetes:https cluster IP" | grep MARK-MASQ']);
  t.match(r.stdout, /^-A KUBE-SVC-NPX46M4PTMTKRN6Y -d 10\.96\.0\.1\/32 -p tcp .* -j KUBE-MARK-MASQ\n$/, 'no `! -s` detector: every source is marked');
});

t.test('NodePort on the kind-iptables lab: from a node and from outside, SNATed to the node reached', async (t) => {
  const c = Cluster.lab('kind-iptables', { hubble: false });
  t.teardown(() => c.close());
  c.apply('apiVersion: v1\nkind: Service\nmetadata: {name: svc-nodeport}\nspec:\n  type: NodePort\n  selector: {app: webpod}\n  ports: [{name: web, port: 9000, targetPort: 80, nodePort: 30080}]\n');
  for (const from of ['myk8s-worker', 'internet']) {
    const r = await c.nodeExec(from, ['curl', '-s', '172.18.0.2:30080']);
    t.match(r.stdout, /^Hostname: webpod[123]\n/, `${from}: a webpod answers`);
    t.match(r.stdout, /\nRemoteAddr: 172\.18\.0\.2:\d+\n/, `${from}: the webpod sees the control plane's address (KUBE-MARK-MASQ, MASQUERADE)`);
  }
  const ct = await c.nodeExec('myk8s-control-plane', ['conntrack', '-L', '-p', 'tcp', '--dport', '30080']);
  t.match(ct.stdout, /src=172\.18\.0\.1 dst=172\.18\.0\.2 sport=\d+ dport=30080 src=10\.10\.\d\.\d dst=172\.18\.0\.2 sport=80 dport=\d+/);
});

t.test('kube-proxy and kindnet DaemonSets: a host-network pod per node; kubectl exec into kube-proxy runs on its node', async (t) => {
  const c = Cluster.lab('kind-iptables', { hubble: false });
  t.teardown(() => c.close());
  const ds = await c.kubectl(['get', 'ds', '-n', 'kube-system']);
  t.match(ds.stdout, /^kindnet {6}4 {9}4 {9}4 {7}4 {12}4 {11}kubernetes\.io\/os=linux /m);
  t.match(ds.stdout, /^kube-proxy {3}4 {9}4 {9}4 {7}4 {12}4 {11}kubernetes\.io\/os=linux /m);
  const pods = await c.kubectl(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-proxy', '-o', 'wide']);
  t.match(pods.stdout, /^kube-proxy-\w{5} +1\/1 +Running +0 +\S+ +172\.18\.0\.3 +myk8s-worker /m, 'host network: the node\'s address');
  const name = /^(kube-proxy-\w{5}) .* myk8s-worker3 /m.exec(pods.stdout)![1]!;
  const r = await c.kubectl(['exec', '-n', 'kube-system', name, '--', 'ip', 'route']);
  t.match(r.stdout, /^10\.10\.2\.3 dev veth[0-9a-f]{8} scope host$/m, 'the exec ran on myk8s-worker3');
});

t.test('host-local IPAM never hands out a node\'s gateway (.1): a /24 holds 253 pods, none at .1', async (t) => {
  const k = Cluster.fromYaml('apiVersion: kind.x-k8s.io/v1alpha4\nkind: Cluster\nnodes: [{role: control-plane}, {role: worker}]\nnetworking: {kubeProxyMode: iptables}\n', { hubble: false, seed: 5 });
  t.teardown(() => k.close());
  // One apply on a node without pods: no veth holds the gateway yet, so only IPAM's reservation keeps it.
  const pods = Array.from({ length: 253 }, (_, i) => `apiVersion: v1\nkind: Pod\nmetadata: {name: p${i}}\nspec: {nodeName: kind-control-plane, containers: [{name: c, image: traefik/whoami}]}\n`);
  k.apply(pods.join('---\n'));
  const ips = (await k.kubectl(['get', 'pods', '-o', 'jsonpath={.items[*].status.podIP}'])).stdout.split(' ');
  t.equal(ips.filter((ip) => ip !== '').length, 253, 'every pod got an address');
  t.notOk(ips.includes('10.244.0.1'), 'the control plane\'s gateway 10.244.0.1 is not among them');
});
