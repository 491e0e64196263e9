// kubectl output against the seed lab: tables (tabwriter spacing, AGE from
// the Sim clock), -o name/yaml/json/jsonpath, errors, apply/delete/patch lines.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { Cluster } from '../src/cluster/cluster.ts';
import { renderJsonPath } from '../src/cluster/kubectl/jsonpath.ts';
import { humanDuration, tabwrite } from '../src/cluster/kubectl/format.ts';

async function labAt(seconds: number): Promise<Cluster> {
  const c = Cluster.lab('cilium', { seed: 3 });
  c.sim.schedule(seconds * 1e9, () => {});
  await c.sim.runUntilIdle(seconds * 1e9);
  return c;
}

t.test('get pod -o wide matches the seed', async (t) => {
  const c = await labAt(19);
  const r = await c.kubectl(['get', 'pod', '-o', 'wide']);
  t.equal(r.stdout, [
    'NAME      READY   STATUS    RESTARTS   AGE   IP             NODE     NOMINATED NODE   READINESS GATES',
    'netpod    1/1     Running   0          19s   172.16.0.230   k8s-s    <none>           <none>',
    'webpod1   1/1     Running   0          19s   172.16.1.111   k8s-w1   <none>           <none>',
    'webpod2   1/1     Running   0          19s   172.16.2.180   k8s-w2   <none>           <none>',
    ''].join('\n'));
  c.close();
});

t.test('get svc/ep/endpointslices/nodes -A', async (t) => {
  const c = await labAt(300);
  const svc = await c.kubectl(['get', 'svc', '-A']);
    t.match(svc.stdout, /^NAMESPACE {5}NAME {11}TYPE {8}CLUSTER-IP {3,}EXTERNAL-IP {3}PORT\(S\) {18}AGE\n/);
  t.match(svc.stdout, /kube-system   kube-dns       ClusterIP   10\.96\.0\.10 +<none> +53\/UDP,53\/TCP,9153\/TCP   5m\n/);
  const ep = await c.kubectl(['get', 'ep', '-n', 'kube-system']);
  t.match(ep.stdout, 'kube-dns       172.16.1.210:53,172.16.1.221:53,172.16.1.210:53 + 3 more...   5m');
  const ws = await c.kubectl(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=webpod']);
  t.match(ws.stdout, /^NAME +ADDRESSTYPE   PORTS   ENDPOINTS +AGE\nwebpod-[a-z0-9]{5}   IPv4 +80 +172\.16\.1\.111,172\.16\.2\.180   5m\n$/);
  const nodes = await c.kubectl(['get', 'nodes']);
  t.equal(nodes.stdout.split('\n')[1], 'k8s-s    Ready    control-plane   5m    v1.30.4');
  c.close();
});

t.test('output formats', async (t) => {
  const c = await labAt(1);
  t.equal((await c.kubectl(['get', 'pods', 'netpod', '-o', 'jsonpath={.status.podIP}'])).stdout, '172.16.0.230');
  t.equal((await c.kubectl(['get', 'po', '-l', 'app=webpod', '-o', 'name'])).stdout, 'pod/webpod1\npod/webpod2\n');
  t.equal((await c.kubectl(['get', 'pods', '-o', 'jsonpath={.items[*].metadata.name}'])).stdout, 'netpod webpod1 webpod2');
  const rng = await c.kubectl(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-dns', '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.status.podIP}{"\\n"}{end}']);
  t.equal(rng.stdout, 'coredns-55cb58b774-2xvk2\t172.16.1.210\ncoredns-55cb58b774-7v788\t172.16.1.221\n');
  const y = (await c.kubectl(['get', 'svc', 'kubernetes', '-o', 'yaml'])).stdout;
  t.match(y, /^apiVersion: v1\nkind: Service\nmetadata:\n/);
  t.match(y, /\n  clusterIP: 10\.96\.0\.1\n/);
  const j = JSON.parse((await c.kubectl(['get', 'svc', '-o', 'json'])).stdout);
  t.equal(j.kind, 'List');
  t.same(j.items.map((s: { metadata: { name: string } }) => s.metadata.name), ['kubernetes', 'webpod']);
  c.close();
});

t.test('errors and empty lists', async (t) => {
  const c = await labAt(1);
  t.same(await c.kubectl(['get', 'pod', 'nope']), { stdout: '', stderr: 'Error from server (NotFound): pods "nope" not found\n', exitCode: 1 });
  t.same(await c.kubectl(['get', 'deploy']), { stdout: '', stderr: 'No resources found in default namespace.\n', exitCode: 0 });
  t.equal((await c.kubectl(['get', 'widgets'])).stderr, 'error: the server doesn\'t have a resource type "widgets"\n');
  const bad = await c.kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 0}]}\n');
  t.equal(bad.exitCode, 1);
  t.match(bad.stderr, 'The Service "s" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive');
  c.close();
});

t.test('apply, patch, delete lines', async (t) => {
  const c = await labAt(1);
  const fixture = readFileSync(new URL('./scenarios/nodeport.yaml', import.meta.url), 'utf8');
  t.equal((await c.kubectl(['apply', '-f', '-'], fixture)).stdout, 'deployment.apps/echo created\nservice/echo created\n');
  t.equal((await c.kubectl(['apply', '-f', '-'], fixture)).stdout, 'deployment.apps/echo unchanged\nservice/echo unchanged\n');
  const svc = await c.kubectl(['get', 'svc', 'echo']);
  t.match(svc.stdout, /echo   NodePort   10\.\d+\.\d+\.\d+   <none>        8080:30088\/TCP   0s/);
  t.equal((await c.kubectl(['patch', 'svc', 'echo', '--type', 'merge', '-p', '{"spec":{"sessionAffinity":"ClientIP"}}'])).stdout, 'service/echo patched\n');
  t.match((await c.kubectl(['describe', 'svc', 'echo'])).stdout, /Session Affinity:\s+ClientIP/);
  t.equal((await c.kubectl(['delete', '-f', '-'], fixture)).stdout, 'deployment.apps "echo" deleted\nservice "echo" deleted\n');
  t.equal((await c.kubectl(['get', 'pods', '-l', 'app=echo'])).stderr, 'No resources found in default namespace.\n');
  c.close();
});

t.test('jsonpath forms', async (t) => {
  const obj = { items: [{ metadata: { name: 'a' }, status: { conditions: [{ type: 'Ready', status: 'True' }], podIP: '1.1.1.1' } }, { metadata: { name: 'b' }, status: { podIP: '2.2.2.2' } }] };
  const cases: Array<[string, string]> = [
    ['{.items[0].metadata.name}', 'a'],
    ['{.items[*].status.podIP}', '1.1.1.1 2.2.2.2'],
    ['{.items[-1].metadata.name}', 'b'],
    ['{range .items[*]}[{.metadata.name}]{end}', '[a][b]'],
    ['{.items[0].status.conditions[?(@.type=="Ready")].status}', 'True'],
    ['{.items[?(@.metadata.name=="b")].status.podIP}', '2.2.2.2'],
    ['name={.items[1].metadata.name}{"\\n"}', 'name=b\n'],
    ['{.items[0].metadata}', '{"name":"a"}'],
    ['{.missing.field}', ''],
  ];
  for (const [tpl, want] of cases) t.equal(renderJsonPath(tpl, obj), want, tpl);
  t.throws(() => renderJsonPath('{range .items[*]}{.x}', obj));
});

t.test('tabwriter and HumanDuration', async (t) => {
  t.equal(tabwrite([['NAME', 'AGE'], ['x', '1s']]), 'NAME   AGE\nx      1s\n');
  const d: Array<[number, string]> = [[19e3, '19s'], [119e3, '119s'], [125e3, '2m5s'], [600e3, '10m'], [3 * 3600e3 + 5 * 60e3, '3h5m'], [30 * 3600e3, '30h'], [50 * 3600e3, '2d2h'], [400 * 86400e3, '400d']];
  for (const [ms, want] of d) t.equal(humanDuration(ms), want);
});

t.test('get all and multi-kind get: one section per kind, kind-prefixed names, blank line between', async (t) => {
  const c = await labAt(60);
  c.apply(readFileSync(new URL('./scenarios/nodeport.yaml', import.meta.url), 'utf8'));
  const all = await c.kubectl(['get', 'all']);
  t.equal(all.stderr, '');
  const sections = all.stdout.split('\n\n');
  t.equal(sections.length, 4, 'pods, services, deployments, replicasets');
  t.match(sections[0], /^NAME +READY   STATUS    RESTARTS   AGE\npod\/echo-[a-z0-9]+-[a-z0-9]{5} +1\/1 +Running +0 +0s\n(.*\n)*pod\/netpod +1\/1 +Running +0 +60s\npod\/webpod1 /);
  t.match(sections[1], /^NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE\nservice\/echo +NodePort +10\.\S+ +<none> +8080:30088\/TCP +0s\nservice\/kubernetes +ClusterIP +10\.96\.0\.1 +<none> +443\/TCP +60s\nservice\/webpod /);
  t.match(sections[2], /^NAME +READY +UP-TO-DATE +AVAILABLE +AGE\ndeployment\.apps\/echo +\d\/\d +\d +\d +0s$/);
  t.match(sections[3], /^NAME +DESIRED +CURRENT +READY +AGE\nreplicaset\.apps\/echo-[a-z0-9]+ +\d +\d +\d +0s\n$/);
  const sys = (await c.kubectl(['get', 'all', '-n', 'kube-system'])).stdout;
  t.match(sys, /^NAME +READY +STATUS +RESTARTS +AGE\npod\/cilium-[a-z0-9]{5} (.*\n)*pod\/coredns-55cb58b774-2xvk2 /);
  t.match(sys, /\n\nNAME +TYPE .*\nservice\/hubble-relay +ClusterIP +10\.\S+ +<none> +80\/TCP +60s\nservice\/kube-dns +ClusterIP +10\.96\.0\.10 /);
  t.match(sys, /\n\nNAME +DESIRED +CURRENT +READY +UP-TO-DATE +AVAILABLE +NODE SELECTOR +AGE\ndaemonset\.apps\/cilium +3 +3 +3 +3 +3 +kubernetes\.io\/os=linux +60s\n/, "Cilium's agent DaemonSet");
  t.match(sys, /\n\nNAME +READY +UP-TO-DATE +AVAILABLE +AGE\n(.*\n)?deployment\.apps\/coredns +2\/2 +2 +2 +60s\n/);
  const everywhere = (await c.kubectl(['get', 'all', '-A'])).stdout;
  t.match(everywhere, /^NAMESPACE +NAME +READY +STATUS +RESTARTS +AGE\ndefault +pod\/echo-/);
  t.match(everywhere, /\nkube-system +replicaset\.apps\/coredns-55cb58b774 +2 +2 +2 +60s\n$/);
  t.same(await c.kubectl(['get', 'all', '-n', 'empty']), { stdout: '', stderr: 'No resources found in empty namespace.\n', exitCode: 0 });

  // The hubble-relay Service's ClusterIP is drawn at random: its column is as wide as it is.
  const relayIp = (await c.kubectl(['get', 'svc', '-n', 'kube-system', 'hubble-relay', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
  const ipCol = (ip: string) => ip.padEnd(Math.max('CLUSTER-IP'.length, relayIp.length) + 3);
  t.equal((await c.kubectl(['get', 'svc,ep', '-n', 'kube-system'])).stdout, [
    `NAME                   TYPE        ${ipCol('CLUSTER-IP')}EXTERNAL-IP   PORT(S)                  AGE`,
    `service/hubble-relay   ClusterIP   ${ipCol(relayIp)}<none>        80/TCP                   60s`,
    `service/kube-dns       ClusterIP   ${ipCol('10.96.0.10')}<none>        53/UDP,53/TCP,9153/TCP   60s`,
    '',
    'NAME                     ENDPOINTS                                                     AGE',
    'endpoints/hubble-relay   172.16.1.78:4245                                              60s',
    'endpoints/kube-dns       172.16.1.210:53,172.16.1.221:53,172.16.1.210:53 + 3 more...   60s',
    ''].join('\n'));
  t.equal((await c.kubectl(['get', 'svc', 'kubernetes'])).stdout.split('\n')[1]!.split(' ')[0], 'kubernetes', 'one kind: names stay bare');
  t.match((await c.kubectl(['get', 'pods', '--show-kind'])).stdout, /\npod\/netpod /, '--show-kind');
  c.close();
});

t.test('malformed YAML: kubectl\'s go-yaml message, lines counted from the document', async (t) => {
  const c = await labAt(1);
  const cases: Array<[string, string]> = [
    ['apiVersion: v1\nkind: Pod\nmetadata: {name: x\n', "yaml: line 3: did not find expected ',' or '}'"],
    ['kind: Pod\n  metadata: [', "yaml: line 2: mapping values are not allowed in this context"],
    ['apiVersion: v1\nkind: Pod\nmetadata:\n\tname: x\n', 'yaml: line 4: found character that cannot start any token'],
    ['apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: y\n   labels: {}\n', 'yaml: line 5: mapping values are not allowed in this context'],
    ['apiVersion: v1\nkind: Pod\nmetadata: {name: "x}\n', 'yaml: line 4: found unexpected end of stream'],
  ];
  for (const [yaml, msg] of cases) {
    t.same(await c.kubectl(['apply', '-f', '-'], yaml), { stdout: '', stderr: `error: error parsing STDIN: error converting YAML to JSON: ${msg}\n`, exitCode: 1 }, msg);
  }
  t.equal((await c.kubectl(['get', 'pods', '-o', 'name'])).stdout, 'pod/netpod\npod/webpod1\npod/webpod2\n', 'nothing applied');
  c.close();
});
