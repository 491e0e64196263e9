// Acceptance: bad input is refused with an error naming the field, leaves the
// cluster exactly as it was (all-or-nothing) and still serving; and `kubectl
// exec` sees the pod's own files, not the host's.
import t from 'tap';
import { Cluster } from '../src/cluster/cluster.ts';
import { ClusterError } from '../src/cluster/facade.ts';
import { inPod, kubectl, seedLab } from './helpers/lab.ts';

const pod = (name: string, meta: string, spec: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n${meta}spec:\n${spec}  containers: [{name: c, image: nicolaka/netshoot}]\n`;
const svc = (name: string, spec: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}}\nspec:\n${spec}`;
const GOOD_POD = pod('extra', '', '  nodeName: k8s-w2\n');

interface Case { name: string; yaml: string; field: string; message: RegExp; status?: number }
const CASES: Case[] = [
  { name: 'malformed YAML', yaml: 'apiVersion: v1\nkind: Pod\nmetadata: {name: x\n', field: 'yaml', message: /^error: error parsing STDIN: error converting YAML to JSON: yaml: line 3: did not find expected ',' or '}'\n?$/, status: 400 },
  { name: 'unknown node in nodeName', yaml: pod('x', '', '  nodeName: k8s-w9\n'), field: 'spec.nodeName', message: /spec\.nodeName: Not found: "k8s-w9"/ },
  { name: 'invalid ClusterIP', yaml: svc('s', '  clusterIP: 10.96.0.300\n  ports: [{port: 80}]\n'), field: 'spec.clusterIP', message: /"10\.96\.0\.300": must be a valid IP address/ },
  { name: 'invalid CIDR', yaml: svc('s', '  type: LoadBalancer\n  loadBalancerSourceRanges: [10.0.0.0/33]\n  ports: [{port: 80}]\n'), field: 'spec.loadBalancerSourceRanges[0]', message: /"10\.0\.0\.0\/33": must be a valid CIDR/ },
  { name: 'invalid pinned pod IP', yaml: pod('x', '  annotations: {dplab.dev/pod-ip: 172.16.0.300}\n', '  nodeName: k8s-s\n'), field: 'metadata.annotations[dplab.dev/pod-ip]', message: /must be a valid IP address/ },
  { name: 'pinned IP outside the node\'s podCIDR', yaml: pod('x', '  annotations: {dplab.dev/pod-ip: 172.16.2.5}\n', '  nodeName: k8s-s\n'), field: 'metadata.annotations[dplab.dev/pod-ip]', message: /"172\.16\.2\.5": outside node k8s-s's podCIDR 172\.16\.0\.0\/24/ },
  { name: 'pinned IP already taken', yaml: pod('x', '  annotations: {dplab.dev/pod-ip: 172.16.1.111}\n', '  nodeName: k8s-w1\n'), field: 'metadata.annotations[dplab.dev/pod-ip]', message: /"172\.16\.1\.111": address already in use/ },
  { name: 'pinned IP is the router\'s', yaml: pod('x', '  annotations: {dplab.dev/pod-ip: 172.16.0.12}\n', '  nodeName: k8s-s\n'), field: 'metadata.annotations[dplab.dev/pod-ip]', message: /address already in use/ },
  { name: 'port out of range', yaml: svc('s', '  ports: [{port: 70000}]\n'), field: 'spec.ports[0].port', message: /Invalid value: 70000: must be between 1 and 65535/ },
  { name: 'nodePort out of range', yaml: svc('s', '  type: NodePort\n  ports: [{port: 80, nodePort: 20000}]\n'), field: 'spec.ports[0].nodePort', message: /valid ports is 30000-32767/ },
  { name: 'nodePort clash', yaml: svc('taken', '  type: NodePort\n  ports: [{port: 80, nodePort: 30088}]\n'), field: 'spec.ports[0].nodePort', message: /^The Service "taken" is invalid: spec\.ports\[0\]\.nodePort: Invalid value: 30088: provided port is already allocated\n?$/ },
  { name: 'valid pod + bad service in one apply', yaml: `${GOOD_POD}---\n${svc('s', '  ports: [{port: 0}]\n')}`, field: 'spec.ports[0].port', message: /Invalid value: 0/ },
];

const STATE = ['get', 'pods,services,deployments,replicasets,endpointslices,ciliumendpoints', '-A', '-o', 'json'];

t.test('bad input is refused, nothing changes, the lab keeps serving', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  t.same(c.apply(svc('np', '  type: NodePort\n  selector: {app: webpod}\n  ports: [{port: 80, nodePort: 30088}]\n')), ['service/np created']);
  const before = (await kubectl(c, STATE)).stdout;
  t.ok(JSON.parse(before).items.length > 20, 'state snapshot has the lab\'s objects');
  for (const k of CASES) {
    t.test(k.name, async (t) => {
      let err: unknown;
      try { c.apply(k.yaml); } catch (e) { err = e; }
      t.type(err, ClusterError, 'ClusterError');
      const e = err as ClusterError;
      t.equal(e.field, k.field, 'names the field');
      t.equal(e.status, k.status ?? 422, 'HTTP status: 422 Invalid, as the API server answers field errors');
      t.match(e.message, k.message);
      if (k.field !== 'yaml') t.ok(e.message.includes(k.field), 'message names the field');
      // The same through kubectl: the API server's words on stderr, exit 1.
      const r = await kubectl(c, ['apply', '-f', '-'], k.yaml);
      t.equal(r.exitCode, 1);
      t.equal(r.stdout, '');
      t.match(r.stderr, k.message);
      if (k.field !== 'yaml') t.match(r.stderr, /^The (Pod|Service) "\w+" is invalid: /, 'printed bare, as kubectl prints 422 Invalid');
      t.equal((await kubectl(c, STATE)).stdout, before, 'cluster state unchanged');
      const ping = await inPod(c, 'netpod', ['ping', '-c', '1', '172.16.2.180']);
      t.match(ping.stdout, /1 packets transmitted, 1 received/, 'still serving');
    });
  }
});

t.test('bad Cluster documents', async (t) => {
  const doc = (spec: string) => `apiVersion: dplab.dev/v1alpha1\nkind: Cluster\nmetadata: {name: t}\nspec: ${spec}\n`;
  const cases = [
    { spec: '{podCIDR: 10.0.0.0/33}', field: 'spec.podCIDR', message: /invalid CIDR "10\.0\.0\.0\/33"/ },
    { spec: '{nodes: [{name: a, ip: 1.2.3}]}', field: 'spec.nodes[0].ip', message: /invalid IP address "1\.2\.3"/ },
    { spec: '{dnsSearch: [-bad.example]}', field: 'spec.dnsSearch[0]', message: /invalid domain "-bad\.example"/ },
    { spec: '{dnsSearch: [a, b, c, d, e, f, g]}', field: 'spec.dnsSearch', message: /at most 6 domains/ },
  ];
  for (const k of cases) {
    let err: unknown;
    try { Cluster.fromYaml(doc(k.spec)); } catch (e) { err = e; }
    t.type(err, ClusterError, k.field);
    t.equal((err as ClusterError).field, k.field);
    t.match((err as ClusterError).message, k.message);
  }
});

t.test('exec sees the pod\'s files only', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const cases: Array<[string[], string, string, number]> = [
    [['cat', '/etc/hostname'], 'netpod\n', '', 0],
    [['cat', '/etc/resolv.conf'], 'search default.svc.cluster.local svc.cluster.local cluster.local ap-northeast-2.compute.internal\nnameserver 10.96.0.10\noptions ndots:5\n', '', 0],
    [['cat', '/etc/shadow'], '', 'cat: /etc/shadow: No such file or directory\ncommand terminated with exit code 1\n', 1],
  ];
  for (const [argv, stdout, stderr, code] of cases) {
    const r = await inPod(c, 'netpod', argv);
    t.same([r.stdout, r.stderr, r.exitCode], [stdout, stderr, code], argv.join(' '));
  }
  const web = await inPod(c, 'webpod2', ['cat', '/etc/hostname']);
  t.equal(web.stdout, 'webpod2\n', 'each pod has its own hostname');
});
