// The tools seed 000 needed beyond iptables, on the kind-iptables lab:
// ebtables (texts and exit codes of ebtables 1.8.9 (nf_tables) in a fresh
// network namespace), kubectl describe svc's Endpoints line, kubectl
// cluster-info dump.
import t from 'tap';
import { Cluster } from '../src/cluster/cluster.ts';

const c = Cluster.lab('kind-iptables', { hubble: false });
t.teardown(() => c.close());
const onNode = (argv: string[]) => c.nodeExec('myk8s-worker', argv);

const EBT = 'ebtables v1.8.9 (nf_tables): ';
const ebtCases: Array<[string[], number, string, string]> = [
  [['-L'], 0, 'Bridge table: filter\n\nBridge chain: INPUT, entries: 0, policy: ACCEPT\n\nBridge chain: FORWARD, entries: 0, policy: ACCEPT\n\nBridge chain: OUTPUT, entries: 0, policy: ACCEPT\n', ''],
  [['-t', 'nat', '-L'], 0, 'Bridge table: nat\n\nBridge chain: PREROUTING, entries: 0, policy: ACCEPT\n\nBridge chain: OUTPUT, entries: 0, policy: ACCEPT\n\nBridge chain: POSTROUTING, entries: 0, policy: ACCEPT\n', ''],
  [['-L', 'FORWARD'], 0, 'Bridge table: filter\n\nBridge chain: FORWARD, entries: 0, policy: ACCEPT\n', ''],
  [['-t', 'nat', '-L', 'OUTPUT'], 0, 'Bridge table: nat\n\nBridge chain: OUTPUT, entries: 0, policy: ACCEPT\n', ''],
  [['-V'], 0, 'ebtables 1.8.9 (nf_tables)\n', ''],
  [['-t', 'broute', '-L'], 3, '', `${EBT}table 'broute' does not exist\nPerhaps ebtables or your kernel needs to be upgraded.\n`],
  [['-L', 'NOPE'], 1, '', `${EBT}chain \`NOPE' in table \`filter' is incompatible, use 'nft' tool.\n`],
];
for (const [argv, code, stdout, stderr] of ebtCases) {
  t.test(`ebtables ${argv.join(' ')}`, async (t) => {
    const r = await onNode(['ebtables', ...argv]);
    t.same([r.exitCode, r.stdout, r.stderr], [code, stdout, stderr]);
  });
}

t.test('ebtables: a command not emulated is one line on stderr, exit 2', async (t) => {
  const r = await onNode(['ebtables', '-A', 'INPUT', '-j', 'DROP']);
  t.equal(r.exitCode, 2);
  t.equal(r.stdout, '');
  t.match(r.stderr, /^ebtables v1\.8\.9 \(nf_tables\): only -L \[CHAIN\] and -t TABLE are emulated here, got '-A'\n$/);
});

t.test('ebtables is the kind node image\'s: a Cilium node has none', async (t) => {
  const cilium = Cluster.lab('cilium', { hubble: false });
  t.teardown(() => cilium.close());
  const r = await cilium.nodeExec(cilium.nodeNames()[0]!, ['ebtables', '-L']);
  t.equal(r.exitCode, 127);
});

t.test('kubectl describe svc: Endpoints from the EndpointSlices, the first three then "+ N more...", <none> without', async (t) => {
  const line = async (svc: string) => /^Endpoints: +(.*)$/m.exec((await c.kubectl(['describe', 'svc', svc, ...(svc === 'kube-dns' ? ['-n', 'kube-system'] : [])])).stdout)?.[1];
  t.equal(await line('svc-clusterip'), '10.10.1.2:80,10.10.2.3:80,10.10.3.2:80');
  t.equal((await c.kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: {name: empty}\nspec:\n  selector: {app: nothing}\n  ports: [{name: web, port: 80}]\n')).exitCode, 0);
  t.equal(await line('empty'), '<none>');
  const pods = [4, 5, 6, 7].map((i) => `apiVersion: v1\nkind: Pod\nmetadata: {name: extra${i}, labels: {app: webpod}}\nspec:\n  nodeName: myk8s-worker\n  containers: [{name: c, image: traefik/whoami}]\n`).join('---\n');
  t.equal((await c.kubectl(['apply', '-f', '-'], pods)).exitCode, 0);
  t.match(await line('svc-clusterip'), /^(\d+\.\d+\.\d+\.\d+:80,){2}\d+\.\d+\.\d+\.\d+:80 \+ 4 more\.\.\.$/);
  await c.kubectl(['delete', '-f', '-'], pods);
  const r = await c.kubectl(['describe', 'svc', 'svc-clusterip']);
  t.match(r.stdout, /^Name: {21}svc-clusterip\n/, 'describe\'s tabwriter: the longest label ("Internal Traffic Policy:") and two spaces');
  t.match(r.stdout, /\nEvents: {19}<none>\n$/, 'ends with a newline');
});

t.test('kubectl cluster-info dump: typed lists as JSON (4-space indent), container log markers, the closing line', async (t) => {
  const r = await c.kubectl(['cluster-info', 'dump']);
  t.equal(r.exitCode, 0);
  t.match(r.stdout, /^\{\n {4}"kind": "NodeList",\n {4}"apiVersion": "v1",\n/);
  t.match(r.stdout, /\n\{\n {4}"kind": "PodList",\n/);
  t.match(r.stdout, /\n {28}"--service-cluster-ip-range=10\.200\.1\.0\/24",\n/, "kube-apiserver's flag at a pod command word's indent");
  t.match(r.stdout, /\n {28}"--cluster-cidr=10\.10\.0\.0\/16",\n/, "kube-controller-manager's");
  t.match(r.stdout, /\n==== START logs for container container of pod default\/webpod1 ====\n==== END logs for container container of pod default\/webpod1 ====\n/);
  t.match(r.stdout, /\nCluster info dumped to standard output\n$/);
  t.notMatch(r.stdout, /"kind": "Pod",/, 'list items carry no kind of their own');
  const bare = await c.kubectl(['cluster-info']);
  t.same([bare.exitCode, bare.stdout, bare.stderr], [1, '', 'error: only "kubectl cluster-info dump" is emulated\n']);
});

t.test('kubectl get -o yaml quotes what YAML 1.1 would read as another type, as go-yaml v2 does', async (t) => {
  const y = (await c.kubectl(['get', 'svc', 'svc-clusterip', '-o', 'yaml'])).stdout;
  t.match(y, /\n  creationTimestamp: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\n/, 'a timestamp string');
  t.match(y, /\n  resourceVersion: "\d+"\n/, 'a number string');
  t.match(y, /\n  clusterIP: 10\.200\.1\.118\n/, 'an address stays bare');
  t.match(y, /\n  sessionAffinity: None\n/, "seed 000's grep line");
});
