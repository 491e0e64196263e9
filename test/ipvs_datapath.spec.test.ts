// Choosing kube-proxy's IPVS mode: the `datapath: ipvs` short form, kind's
// `networking.kubeProxyMode: ipvs`, the proxier's settings (ipvs.scheduler)
// and their errors; conntrack -E on an IPVS node.
import t from 'tap';
import { Cluster } from '../src/cluster/cluster.ts';
import { ClusterError } from '../src/cluster/facade.ts';

const doc = (spec: string) => `apiVersion: dplab.dev/v1alpha1
kind: Cluster
metadata: {name: x}
spec: ${spec}
---
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec: {containers: [{name: c, image: traefik/whoami}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {clusterIP: 10.96.0.50, selector: {app: web}, ports: [{port: 80}]}
`;

t.test('datapath: ipvs is kindnet routes with kube-proxy in IPVS mode', async (t) => {
  const c = Cluster.fromYaml(doc('{datapath: ipvs}'), { hubble: false });
  t.teardown(() => c.close());
  t.same([c.spec.cni, c.spec.serviceProxy, c.spec.routing], ['kindnet', 'ipvs', 'direct']);
  const n = c.nodeNames()[0]!;
  t.match((await c.nodeExec(n, ['ipvsadm', '-Ln'])).stdout, /\nTCP {2}10\.96\.0\.50:80 rr\n {2}-> 10\.244\.\d+\.\d+:80 +Masq /);
  t.match((await c.kubectl(['get', 'ds', '-n', 'kube-system'])).stdout, /\nkube-proxy /, 'kube-proxy runs as its DaemonSet');
});

t.test('kind: networking.kubeProxyMode ipvs picks the ipvs service proxy beside kindnet', async (t) => {
  const c = Cluster.fromYaml('apiVersion: kind.x-k8s.io/v1alpha4\nkind: Cluster\nnodes: [{role: control-plane}, {role: worker}]\nnetworking: {kubeProxyMode: ipvs}\n', { hubble: false });
  t.teardown(() => c.close());
  t.same([c.spec.cni, c.spec.serviceProxy], ['kindnet', 'ipvs']);
  t.match((await c.nodeExec('kind-worker', ['ip', 'addr', 'show', 'kube-ipvs0'])).stdout, /kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN/);
});

t.test('serviceProxyConfig ipvs.scheduler: every virtual server uses it', async (t) => {
  const c = Cluster.fromYaml(doc('{datapath: ipvs, serviceProxyConfig: {ipvs: {scheduler: lc}}}'), { hubble: false });
  t.teardown(() => c.close());
  t.match((await c.nodeExec(c.nodeNames()[0]!, ['ipvsadm', '-Ln'])).stdout, 'TCP  10.96.0.50:80 lc\n');
});

const bad: Array<[string, string, string]> = [
  ['a scheduler the engine lacks', '{datapath: ipvs, serviceProxyConfig: {ipvs: {scheduler: lblc}}}',
    'spec.serviceProxyConfig: service proxy ipvs: ipvs.scheduler: Unsupported value: "lblc": supported values: "rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh"'],
  ['the iptables mode asked of the ipvs proxy', '{datapath: ipvs, serviceProxyConfig: {mode: iptables}}',
    'spec.serviceProxyConfig: service proxy ipvs: mode "iptables" is the iptables service proxy\'s'],
  ['a setting of the wrong type', '{datapath: ipvs, serviceProxyConfig: {ipvs: {scheduler: 3}}}',
    'spec.serviceProxyConfig: service proxy ipvs: ipvs.scheduler: Invalid value: 3: must be a string'],
];
for (const [name, spec, message] of bad) {
  t.test(`rejected: ${name}`, async (t) => {
    t.throws(() => Cluster.fromYaml(doc(spec), { hubble: false }), { constructor: ClusterError, status: 400, field: 'spec.serviceProxyConfig', message });
  });
}

t.test('conntrack -E on an IPVS node: NEW with the real server in the reply tuple', async (t) => {
  const c = Cluster.fromYaml(doc('{datapath: ipvs}') + '---\napiVersion: v1\nkind: Pod\nmetadata: {name: client}\nspec: {containers: [{name: c, image: nicolaka/netshoot}]}\n', { hubble: false });
  t.teardown(() => c.close());
  const node = (c.api.get('Pod', 'default', 'client') as { spec: { nodeName: string } }).spec.nodeName;
  const lines: string[] = [];
  const h = c.follow(node, ['conntrack', '-E', '-p', 'tcp'], (l) => lines.push(l));
  t.ok(h && 'stop' in h, 'conntrack -E follows');
  const r = await c.exec('default', 'client', ['curl', '-s', '10.96.0.50']);
  t.match(r.stdout, /^Hostname: web\n/);
  const stop = (h as { stop(): { stderr: string } }).stop();
  t.match(lines[0], /^ {4}\[NEW\] tcp {6}6 120 SYN_SENT src=10\.244\.\d+\.\d+ dst=10\.96\.0\.50 sport=(\d+) dport=80 \[UNREPLIED\] src=10\.244\.\d+\.\d+ dst=10\.244\.\d+\.\d+ sport=80 dport=\1$/);
  t.match(stop.stderr, /flow events have been shown\.\n$/);
});
