// The tools seed 000 needed beyond iptables, on the kind-iptables lab:
// ebtables (texts and exit codes of ebtables 1.8.9 (nf_tables) in a fresh
// network namespace), kubectl describe svc's Endpoints line, kubectl
// cluster-info dump; the kind node itself: docker's veth as eth0, docker's
// embedded DNS behind kind's DOCKER_OUTPUT rules.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { Cluster } from '../src/cluster/cluster.ts';
import { dockerDnsPorts } from '../src/cluster/images/docker_dns.ts';
import { resolveClusterDoc } from '../src/cluster/spec.ts';
import { ipToU32 } from '../src/wire/addr.ts';
import { decodeDns, dnsQuery, DNS_TYPE, encodeDns } from '../src/wire/dns.ts';

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

t.test("kind's docker DNS: the rules kind's entrypoint leaves, ahead of kube-proxy's and kindnet's", async (t) => {
  const { tcp, udp } = dockerDnsPorts('myk8s-control-plane');
  const r = await c.nodeExec('myk8s-control-plane', ['bash', '-c', 'iptables -t nat -S | grep -E "DOCKER|^-A (PRE|POST)ROUTING|^-A OUTPUT"']);
  t.equal(r.stdout, [
    '-N DOCKER_OUTPUT', '-N DOCKER_POSTROUTING',
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A PREROUTING -d 172.18.0.1/32 -j DOCKER_OUTPUT',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -d 172.18.0.1/32 -j DOCKER_OUTPUT',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    '-A POSTROUTING -d 172.18.0.1/32 -j DOCKER_POSTROUTING',
    '-A POSTROUTING -m addrtype ! --dst-type LOCAL -m comment --comment "kind-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom KIND-MASQ-AGENT chain" -j KIND-MASQ-AGENT',
    `-A DOCKER_OUTPUT -d 172.18.0.1/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination 127.0.0.11:${tcp}`,
    `-A DOCKER_OUTPUT -d 172.18.0.1/32 -p udp -m udp --dport 53 -j DNAT --to-destination 127.0.0.11:${udp}`,
    `-A DOCKER_POSTROUTING -s 127.0.0.11/32 -p tcp -m tcp --sport ${tcp} -j SNAT --to-source 172.18.0.1:53`,
    `-A DOCKER_POSTROUTING -s 127.0.0.11/32 -p udp -m udp --sport ${udp} -j SNAT --to-source 172.18.0.1:53`,
  ].join('\n') + '\n');
  t.not(tcp, udp, 'a port per protocol');
});

t.test("kind's docker DNS: node and pod lookups go through DOCKER_OUTPUT to 127.0.0.11 and are answered", async (t) => {
  const node = await c.nodeExec('myk8s-worker', ['bash', '-c', 'cat /etc/resolv.conf; nslookup example.com']);
  t.equal(node.exitCode, 0);
  t.match(node.stdout, /^nameserver 172\.18\.0\.1\n/, 'kind writes the gateway into resolv.conf');
  t.match(node.stdout, /Name:\texample\.com\nAddress: 93\.184\.215\.14\n/, "the docker host's resolver answered");
  const counted = await c.nodeExec('myk8s-worker', ['iptables', '-v', '-n', '-t', 'nat', '-L', 'DOCKER_OUTPUT']);
  t.match(counted.stdout, /^ +[1-9]\d* +\d+ DNAT +17 +-- +\* +\* +0\.0\.0\.0\/0 +172\.18\.0\.1 +udp dpt:53 to:127\.0\.0\.11:\d+$/m, "the node's query was DNATed");
  // net-pod -> CoreDNS (on the control plane) -> its upstream 172.18.0.1 -> PREROUTING DNAT -> docker's resolver.
  const pod = await c.exec('default', 'net-pod', ['nslookup', 'wttr.in']);
  t.equal(pod.exitCode, 0);
  t.match(pod.stdout, /Name:\twttr\.in\nAddress: 5\.9\.243\.187\n/);
  const ct = await c.nodeExec('myk8s-control-plane', ['conntrack', '-L', '-p', 'udp', '--orig-dst', '172.18.0.1']);
  t.match(ct.stdout, new RegExp(`dst=172\\.18\\.0\\.1 sport=\\d+ dport=53 src=127\\.0\\.0\\.11 dst=10\\.10\\.0\\.[23] sport=${dockerDnsPorts('myk8s-control-plane').udp} `), "CoreDNS's upstream query, answered from 127.0.0.11");
});

t.test("kind's docker DNS over TCP: a node's connection to 172.18.0.1:53 reaches docker's TCP listener", async (t) => {
  const k = c.kernel('myk8s-worker');
  const answer = await c.sim.settle((async () => {
    const conn = await k.hostNs.sockets.tcpConnect({ ip: ipToU32('172.18.0.1'), port: 53 });
    const q = encodeDns(dnsQuery(0x1234, 'github.com', DNS_TYPE.A));
    const framed = new Uint8Array(2 + q.length); framed[0] = q.length >> 8; framed[1] = q.length & 255; framed.set(q, 2);
    return new Promise<Uint8Array>((resolve) => { conn.onData((d) => { resolve(d); conn.end(); }); conn.write(framed); });
  })());
  const r = decodeDns(answer.slice(2));
  t.equal(r.id, 0x1234);
  t.same(r.answers.map((a) => a.address), ['20.200.245.247']);
});

t.test("a kind node's eth0 is docker's veth; a Cilium lab's NIC stays a NIC", async (t) => {
  const kind = await c.nodeExec('myk8s-worker3', ['bash', '-c', 'ip link show eth0; tc qdisc show dev eth0']);
  t.equal(kind.stdout, '10: eth0@if11: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default\n'
    + '    link/ether 02:42:ac:12:00:04 brd ff:ff:ff:ff:ff:ff link-netnsid 0\nqdisc noqueue 0: dev eth0 root refcnt 2 \n');
  const cilium = Cluster.lab('cilium', { hubble: false });
  t.teardown(() => cilium.close());
  const nic = await cilium.nodeExec('k8s-w1', ['bash', '-c', 'ip link show ens5; ip -6 addr show ens5']);
  t.match(nic.stdout, /^2: ens5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 9001 qdisc mq state UP mode DEFAULT group default qlen 1000\n {4}link\/ether (?!02:42:)[0-9a-f:]{17} brd ff:ff:ff:ff:ff:ff\n/);
  t.notMatch(nic.stdout, /scope global/, 'no ULA address');
});

// Real kernel (root, iptables 1.8.9): the node's iptables-save, docker's rules included, loads into the real
// iptables-restore in a fresh netns and the real iptables-save prints it back (counters aside).
const realWhy = process.getuid?.() !== 0 ? 'not root: a fresh network namespace needs CAP_SYS_ADMIN'
  : spawnSync('sh', ['-c', 'command -v unshare && command -v iptables-restore']).status !== 0 ? 'unshare or iptables-restore missing' : false;
t.test("a kind node's iptables-save loads into the real iptables-restore", { skip: realWhy }, async (t) => {
  const ours = (await c.nodeExec('myk8s-control-plane', ['iptables-save'])).stdout;
  const real = spawnSync('unshare', ['-n', 'sh', '-c', 'iptables-restore && iptables-save'], { input: ours, encoding: 'utf8' });
  t.equal(real.status, 0, real.stderr);
  const norm = (s: string) => s.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/ \[\d+:\d+\]$/, '')).join('\n');
  t.equal(norm(real.stdout), norm(ours));
  t.match(real.stdout, /^-A DOCKER_OUTPUT -d 172\.18\.0\.1\/32 -p udp -m udp --dport 53 -j DNAT --to-destination 127\.0\.0\.11:\d+$/m);
});

t.test('spec.provider: docker for every kind config; anything else but docker is a 400 on the field', async (t) => {
  t.equal(resolveClusterDoc({ apiVersion: 'kind.x-k8s.io/v1alpha4', kind: 'Cluster', networking: { kubeProxyMode: 'iptables' } }).provider, 'docker');
  t.equal(resolveClusterDoc({ apiVersion: 'dplab.dev/v1alpha1', kind: 'Cluster', spec: {} }).provider, undefined, 'a dplab Cluster document keeps NICs');
  t.throws(() => resolveClusterDoc({ apiVersion: 'dplab.dev/v1alpha1', kind: 'Cluster', spec: { provider: 'podman' } }), { message: 'spec.provider: must be docker, got "podman"', status: 400 });
});
