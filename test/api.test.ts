// The HTTP API against a fake cluster: every route, JSON errors, no partial applies.
import t from 'tap';
import { buildApp } from '../src/api/app.ts';
import { FakeCluster } from './helpers/fake_cluster.ts';

const POD = (name: string) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec: {}\n`;

/** Fresh fake cluster and app per test, closed at the end of the test. */
export function setup(t: { teardown(fn: () => unknown): void }) {
  const cluster = new FakeCluster();
  const app = buildApp(cluster);
  t.teardown(() => app.close());
  return { cluster, app };
}

t.test('apply and delete return kubectl lines', async (t) => {
  const { app, cluster } = setup(t);
  const a = await app.inject({ method: 'POST', url: '/v1/apply', payload: { yaml: `${POD('netpod')}---\n${POD('webpod1')}` } });
  t.equal(a.statusCode, 200);
  t.same(a.json(), { lines: ['pod/netpod created', 'pod/webpod1 created'] });
  const d = await app.inject({ method: 'POST', url: '/v1/delete', payload: { yaml: POD('webpod1') } });
  t.same(d.json(), { lines: ['pod/webpod1 deleted'] });
  t.same([...cluster.objects.keys()], ['pod/netpod']);
});

t.test('a failed apply answers 4xx JSON and changes nothing', async (t) => {
  const { app, cluster } = setup(t);
  const r = await app.inject({ method: 'POST', url: '/v1/apply', payload: { yaml: `${POD('a')}---\nkind: Widget\nmetadata:\n  name: w\n` } });
  t.equal(r.statusCode, 400);
  t.same(r.json(), { error: 'error: resource mapping not found for kind "Widget"', field: 'kind' });
  t.equal(cluster.objects.size, 0, 'the valid first document was not applied either');
});

const badRequests: { name: string; method: 'GET' | 'POST'; url: string; payload?: unknown; body?: string; status: number; error: RegExp; field?: string }[] = [
  { name: 'apply without yaml', method: 'POST', url: '/v1/apply', payload: {}, status: 400, error: /required property 'yaml'/, field: 'yaml' },
  { name: 'apply with a number', method: 'POST', url: '/v1/apply', payload: { yaml: 5 }, status: 400, error: /must be string/, field: 'yaml' },
  { name: 'delete of a missing object', method: 'POST', url: '/v1/delete', payload: { yaml: POD('ghost') }, status: 404, error: /pods "ghost" not found/ },
  { name: 'apply with broken JSON', method: 'POST', url: '/v1/apply', body: '{"yaml":', status: 400, error: /JSON/ },
  { name: 'kubectl argv not a list', method: 'POST', url: '/v1/kubectl', payload: { argv: 'get pods' }, status: 400, error: /must be array/, field: 'argv' },
  { name: 'kubectl argv of numbers', method: 'POST', url: '/v1/kubectl', payload: { argv: [1, {}] }, status: 400, error: /must be string/, field: 'argv' },
  { name: 'exec without pod', method: 'POST', url: '/v1/exec', payload: { argv: ['ls'] }, status: 400, error: /required property 'pod'/, field: 'pod' },
  { name: 'exec with empty argv', method: 'POST', url: '/v1/exec', payload: { pod: 'x', argv: [] }, status: 400, error: /fewer than 1 items/, field: 'argv' },
  { name: 'exec in a missing pod', method: 'POST', url: '/v1/exec', payload: { pod: 'nope', argv: ['ls'] }, status: 404, error: /pods "nope" not found/, field: 'pod' },
  { name: 'node exec on a missing node', method: 'POST', url: '/v1/nodes/k8s-w9/exec', payload: { argv: ['ip', 'addr'] }, status: 404, error: /node "k8s-w9" not found/, field: 'node' },
  { name: 'unknown route', method: 'GET', url: '/v1/nothing?x=1', status: 404, error: /^no route GET \/v1\/nothing$/ },
  { name: 'wrong method', method: 'GET', url: '/v1/apply', status: 404, error: /no route GET/ },
];
for (const c of badRequests) {
  t.test(`4xx: ${c.name}`, async (t) => {
    const { app } = setup(t);
    const r = await app.inject({
      method: c.method, url: c.url,
      ...(c.body !== undefined ? { body: c.body, headers: { 'content-type': 'application/json' } } : c.payload !== undefined ? { payload: c.payload as object } : {}),
    });
    t.equal(r.statusCode, c.status);
    t.match(r.headers['content-type'], /application\/json/);
    const j = r.json() as { error: string; field?: string };
    t.match(j.error, c.error);
    t.equal(j.field, c.field);
  });
}

t.test('kubectl passes argv and stdin and returns ExecResult', async (t) => {
  const { app, cluster } = setup(t);
  const r = await app.inject({ method: 'POST', url: '/v1/kubectl', payload: { argv: ['apply', '-f', '-'], stdin: POD('netpod') } });
  t.same(r.json(), { stdout: 'pod/netpod created\n', stderr: '', exitCode: 0 });
  const g = await app.inject({ method: 'POST', url: '/v1/kubectl', payload: { argv: ['get', 'pods'] } });
  t.same(g.json(), { stdout: 'NAME     READY   STATUS    RESTARTS   AGE\nnetpod   1/1     Running   0          1m\n', stderr: '', exitCode: 0 });
  const e = await app.inject({ method: 'POST', url: '/v1/kubectl', payload: { argv: ['exec', 'netpod', '--', 'curl', 'x'] } });
  t.equal(e.statusCode, 200, 'a failing command is still a successful request');
  t.same(e.json(), { stdout: '', stderr: 'command terminated with exit code 7\n', exitCode: 7 });
  t.same(cluster.calls, ['kubectl apply -f -', 'kubectl get pods', 'kubectl exec netpod -- curl x']);
});

t.test('pod exec defaults the namespace; node exec runs on the node', async (t) => {
  const { app, cluster } = setup(t);
  cluster.apply(POD('netpod'));
  const p = await app.inject({ method: 'POST', url: '/v1/exec', payload: { pod: 'netpod', argv: ['ip', 'route'] } });
  t.same(p.json(), { stdout: 'netpod: ip route\n', stderr: '', exitCode: 0 });
  const n = await app.inject({ method: 'POST', url: '/v1/nodes/k8s-w1/exec', payload: { argv: ['bpftool', 'net', 'show'] } });
  t.same(n.json(), { stdout: '', stderr: 'bpftool: command not found\n', exitCode: 127 });
  t.same(cluster.calls, ['exec default/netpod ip route', 'node k8s-w1 bpftool net show']);
});

t.test('GET /v1/nodes and /healthz', async (t) => {
  const { app } = setup(t);
  t.same((await app.inject('/v1/nodes')).json(), { nodes: ['k8s-s', 'k8s-w1', 'k8s-w2'] });
  const h = await app.inject('/healthz');
  t.equal(h.statusCode, 200);
  t.match(h.json(), { ok: true, lab: 'fake' });
});

t.test('demo traffic runs rounds from netpod while the app is up, and stops on close', async (t) => {
  const cluster = new FakeCluster();
  cluster.apply(`${POD('netpod')}---\n${POD('webpod1')}---\n${POD('webpod2')}`);
  const app = buildApp(cluster, { demoTraffic: { intervalMs: 10 } });
  await app.ready();
  while (cluster.calls.filter((c) => c.startsWith('exec')).length < 8) await new Promise((r) => setTimeout(r, 5));
  await app.close();
  const n = cluster.calls.length;
  t.same(cluster.calls.slice(0, 5), [
    'kubectl get pods -n default -o wide',
    'exec default/netpod curl -s webpod',
    'exec default/netpod curl -s 172.16.1.11',
    'exec default/netpod ping -c 1 172.16.1.11',
    'exec default/netpod nslookup webpod',
  ]);
  t.match(cluster.calls[6], /^exec default\/netpod curl -s 172\.16\.2\.12$/, 'the next round curls the other webpod');
  await new Promise((r) => setTimeout(r, 50));
  t.equal(cluster.calls.length, n, 'no traffic after close');
});
