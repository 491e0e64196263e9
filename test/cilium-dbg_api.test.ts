// cilium-dbg 1.16 commands over the agent API and the pinned maps, on the seed
// lab: the lines each prints, -o json as Go prints it, --explain, bad input.
import t from 'tap';
import { ciliumOf } from '../src/cilium/plugin.ts';
import { Cluster } from '../src/cluster/cluster.ts';

const c = Cluster.lab('cilium', { seed: 1 });
t.teardown(() => c.close());
const sh = async (cmd: string, node = 'k8s-s') => c.sim.settle(c.nodeExec(node, ['sh', '-c', cmd]));
const norm = (s: string) => s.split('\n').map((l) => l.replace(/\s+/g, ' ').trim()).filter((l) => l !== '');
const ctl = ciliumOf(c.cni)!;
const netpod = ctl.endpoints('k8s-s').find((e) => e.podName === 'netpod')!;

t.test('endpoint get ID: the endpoint as a JSON list (by id and by pod name)', async (t) => {
  const r = await sh(`cilium-dbg endpoint get ${netpod.id}`);
  t.equal(r.exitCode, 0);
  const eps = JSON.parse(r.stdout);
  t.equal(eps.length, 1);
  t.match(eps[0], { id: netpod.id, status: { state: 'ready', identity: { id: netpod.identity }, networking: { addressing: [{ ipv4: '172.16.0.230' }] } } });
  t.match(r.stdout, /^\[\n {2}\{\n {4}"id": \d+,\n/, 'MarshalIndent: two spaces');
  const byName = await sh('cilium-dbg endpoint get pod-name:default/netpod');
  t.equal(byName.stdout, r.stdout);
});

t.test('identity list / get', async (t) => {
  const l = norm((await sh('cilium-dbg identity list')).stdout);
  t.same(l.slice(0, 4), ['ID LABELS', '1 reserved:host', 'reserved:kube-apiserver', '2 reserved:world'], 'the control plane\'s host identity gains kube-apiserver');
  const g = await sh(`cilium-dbg identity get ${netpod.identity}`);
  t.same(norm(g.stdout).slice(0, 2), ['ID LABELS', `${netpod.identity} k8s:app=netpod`]);
  const j = JSON.parse((await sh('cilium-dbg identity get 4 -o json')).stdout);
  t.match(j, [{ id: 4, labels: ['reserved:health'], labelsSHA256: /^[0-9a-f]{64}$/ }]);
});

t.test('node list: nodes by name, this node local', async (t) => {
  const r = norm((await sh('cilium-dbg node list', 'k8s-w1')).stdout);
  t.same(r, ['Name IPv4 Address Endpoint CIDR IPv6 Address Endpoint CIDR Source',
    'default/k8s-s 192.168.10.10 172.16.0.0/24 custom-resource', 'default/k8s-w1 192.168.10.101 172.16.1.0/24 local',
    'default/k8s-w2 192.168.10.102 172.16.2.0/24 custom-resource']);
});

t.test('-o json: Go\'s indent and HTML escapes, same data as the table', async (t) => {
  const ip = JSON.parse((await sh('cilium-dbg ip list -o json')).stdout);
  t.match(ip.find((e: { cidr: string }) => e.cidr === '172.16.0.230/32'), { identity: netpod.identity, metadata: { source: 'custom-resource', name: 'netpod' } });
  const m = await sh('cilium-dbg map get cilium_ipcache -o json');
  t.match(m.stdout, /flags=\\u003cnone\\u003e/, 'encoding/json escapes < and >');
  t.equal(JSON.parse(m.stdout).cache.length, 17);
  const svc = JSON.parse((await sh('cilium-dbg service list -o json')).stdout);
  t.ok(svc.length >= 3);
  const bad = await sh('cilium-dbg service list -o yaml');
  t.equal(bad.exitCode, 1);
  t.equal(bad.stderr.split('\n').length, 2, 'one line');
  const lb = JSON.parse((await sh('cilium-dbg bpf lb list -o json')).stdout);
  t.same(Object.keys(lb), Object.keys(lb).sort(), 'map keys sorted as encoding/json does');
  t.ok(Object.keys(lb).includes('10.96.0.10:53/UDP (0)'));
});

t.test('map get: uncached maps dumped (1.16), empty State column; map list counts them', async (t) => {
  await sh('curl -s 172.16.1.111 >/dev/null');
  await c.sim.settle(c.kubectl(['exec', 'netpod', '--', 'curl', '-s', '172.16.1.111']));
  const ct = await sh('cilium-dbg map get cilium_ct4_global');
  const lines = norm(ct.stdout);
  t.equal(lines[0], 'Key Value State Error');
  t.ok(lines.some((l) => /^TCP OUT 172\.16\.0\.230:\d+ -> 172\.16\.1\.111:80 expires=\d+ /.test(l)), 'the curl\'s connection');
  const list = norm((await sh('cilium-dbg map list')).stdout);
  t.ok(list.some((l) => /^cilium_ct4_global [1-9]\d* 0 true$/.test(l)));
  t.ok(list.includes('cilium_lxc 2 0 true'));
});

t.test('map events: the buffer as map_event_list.go prints it', async (t) => {
  const r = await sh('cilium-dbg map events cilium_lxc');
  t.equal(r.exitCode, 0);
  t.match(norm(r.stdout)[0], /^key="172\.16\.0\.236:0" value="id=\d+ sec_id=4 flags=0x0000 ifindex=8 mac=[0-9A-F:]+ nodemac=[0-9A-F:]+" time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z action=update desiredState=sync lastError=""$/);
  const bad = await sh('cilium-dbg map events cilium_nope');
  t.equal(bad.stderr, 'Error: [GET /map/{name}/events][404] getMapNameEventsNotFound \n');
});

t.test('bpf ipcache get, lb views, tunnel, policy, ct -d', async (t) => {
  t.match((await sh('cilium-dbg bpf ipcache get 172.16.1.111')).stdout, /^172\.16\.1\.111 maps to identity identity=\d+ encryptkey=0 tunnelendpoint=192\.168\.10\.101, flags=<none>\n$/);
  t.match((await sh('cilium-dbg bpf ipcache get 8.8.8.8')).stdout, /^8\.8\.8\.8 maps to identity identity=2 /, 'longest prefix: the world entry');
  const bad = await sh('cilium-dbg bpf ipcache get 1.2.3.999');
  t.same([bad.exitCode, bad.stderr], [1, "Error: Unable to parse IP '1.2.3.999'\n"]);
  const rev = norm((await sh('cilium-dbg bpf lb list --revnat')).stdout);
  t.equal(rev[0], 'ID SERVICE ADDRESS');
  t.ok(rev.includes('1 10.96.0.1:443'));
  t.equal(norm((await sh('cilium-dbg bpf lb list --backends')).stdout)[0], 'ID BACKEND ADDRESS');
  t.equal(norm((await sh('cilium-dbg bpf lb list --frontends')).stdout)[0], 'SERVICE ADDRESS BACKEND ID');
  const tun = await sh('cilium-dbg bpf tunnel list');
  t.same([tun.stdout, tun.stderr], ['', 'No entries found.\n'], '1.16 keeps tunnel endpoints in the ipcache');
  const pol = await sh(`cilium-dbg bpf policy get ${netpod.id}`);
  t.equal(pol.stdout, 'Policy stats empty. Perhaps the policy enforcement is disabled?\n');
  t.equal((await sh('cilium-dbg bpf policy get 99999')).exitCode, 1);
  const ct = await sh('cilium-dbg bpf ct list global -d');
  t.match(ct.stdout, /expires=\d+ \(remaining: \d+ sec\(s\)\) Packets=/);
});

t.test('--explain: what each entry refers to', async (t) => {
  const lxc = await sh('cilium-dbg map get cilium_lxc --explain');
  t.match(norm(lxc.stdout)[0], 'Key Value State Error Explain');
  t.match(lxc.stdout, new RegExp(`endpoint ${netpod.id} = pod default/netpod; identity ${netpod.identity} = k8s:app=netpod,`));
  const lb = await sh('cilium-dbg bpf lb list --explain');
  t.match(lb.stdout, /10\.96\.0\.10:53\/UDP \(0\) +0\.0\.0\.0:0 \(\d+\) \(0\) \[ClusterIP, non-routable\]  +# master entry \(slot 0\) of kube-system\/kube-dns:53: 2 backend slot\(s\)/);
  t.match(lb.stdout, /# slot 1 of kube-system\/kube-dns:53: backend \d+ = 172\.16\.1\.\d+:53 \(pod kube-system\/coredns-/);
  const rev = await sh('cilium-dbg bpf lb list --revnat --explain');
  t.match(rev.stdout, /# rev-NAT 1 = default\/kubernetes:443/);
  await c.sim.settle(c.kubectl(['exec', 'netpod', '--', 'curl', '-s', '172.16.1.111']));
  const ct = await sh('cilium-dbg bpf ct list global --explain');
  t.match(ct.stdout, /TCP OUT 172\.16\.0\.230:\d+ -> 172\.16\.1\.111:80 expires=.* # expires in \d+s; source identity \d+ = k8s:app=netpod/);
  const ep = await sh('cilium-dbg bpf endpoint list --explain');
  t.match(ep.stdout, /\(localhost\) +# an address of this node \(host endpoint\)/);
});

t.test('bad input: one line on stderr, exit 1', async (t) => {
  const cases: Array<[string, string]> = [
    ['cilium-dbg endpoint get 4000', 'Error: Cannot get endpoint 4000: [GET /endpoint/{id}][404] getEndpointIdNotFound \n'],
    ['cilium-dbg endpoint get abc', 'Error: Cannot get endpoint abc: [GET /endpoint/{id}][400] getEndpointIdInvalid  "Invalid endpoint ID format for specified type: unsupported endpoint ID \\"abc\\": want a number, cilium-local:N or pod-name:NAMESPACE/NAME"\n'],
    ['cilium-dbg identity get 99999', 'Error: Cannot get identity for given ID 99999: [GET /identity/{id}][404] getIdentityIdNotFound \n'],
    ['cilium-dbg service get 9999', 'Error: Cannot get service: [GET /service/{id}][404] getServiceIdNotFound \n'],
    ['cilium-dbg map get', 'Error: map name must be specified\n'],
    ['cilium-dbg map list -o', "Error: flag needs an argument: 'o' in -o\n"],
    ['cilium-dbg bpf lb list --bogus', 'Error: unknown flag: --bogus\n'],
  ];
  for (const [cmd, err] of cases) {
    const r = await sh(cmd);
    t.equal(r.exitCode, 1, cmd);
    t.equal(r.stderr, err, cmd);
  }
});
