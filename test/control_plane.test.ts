// Issue 6, a linear control plane: a request's controller passes (one per
// document) keep Endpoints and EndpointSlices in shape as they go but write
// their content once per affected service, at the end of the request; the
// owner GC checks only what a delete can orphan. Counted work, not time, and
// the same objects as when each document is its own request.
import t from 'tap';
import { parse } from 'yaml';
import { startServer } from '../src/api/server.ts';
import { Cluster } from '../src/cluster/cluster.ts';
import { KubeApi } from '../src/cluster/kube/api.ts';
import { IpBitmap } from '../src/cluster/kube/ip_bitmap.ts';
import { jsonManifestText } from '../src/cluster/kube/request.ts';
import { trackerIfAny } from '../src/cluster/kube/tracker.ts';
import type { KObject } from '../src/cluster/kube/types.ts';
import { parseClusterDoc } from '../src/cluster/spec.ts';
import { Sim } from '../src/sim/sim.ts';

function newApi(): KubeApi {
  const spec = parseClusterDoc({ spec: { podCIDR: '10.0.0.0/14', nodes: [{ name: 'cp', controlPlane: true, podCIDR: '10.0.0.0/18' }, { name: 'w1', podCIDR: '10.1.0.0/18' }, { name: 'w2', podCIDR: '10.2.0.0/18' }] } });
  return new KubeApi(spec, new Sim(1), { seed: 7 });
}

const service = (name: string, app: string) => `apiVersion: v1
kind: Service
metadata: {name: ${name}, labels: {tier: web}}
spec:
  selector: {app: ${app}}
  ports: [{name: http, port: 80, targetPort: http}]`;

/** Pods whose port named http is 80 or 8080: two port groups, two EndpointSlices. */
const pod = (i: number, app = 'bulk') => `apiVersion: v1
kind: Pod
metadata: {name: ${app}-${i}, labels: {app: ${app}}}
spec: {containers: [{name: web, image: traefik/whoami, ports: [{name: http, containerPort: ${i % 3 === 0 ? 8080 : 80}}]}]}`;

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: dep}
spec:
  replicas: 5
  selector: {matchLabels: {app: dep}}
  template:
    metadata: {labels: {app: dep}}
    spec: {containers: [{name: web, image: traefik/whoami, ports: [{name: http, containerPort: 80}]}]}`;

/** Every object but its resourceVersion (a request's intermediate writes are not counted alike). */
function objects(api: KubeApi): Record<string, KObject[]> {
  const out: Record<string, KObject[]> = {};
  for (const kind of ['Pod', 'Service', 'Endpoints', 'EndpointSlice', 'ReplicaSet', 'Deployment']) {
    out[kind] = api.list(kind).map((o) => ({ ...o, metadata: { ...o.metadata, resourceVersion: '' } }));
  }
  return out;
}

function work(api: KubeApi) {
  const w = trackerIfAny(api.snapshot())?.work;
  if (!w) throw new Error('no tracker on the committed state');
  return { ...w };
}

t.test('one request gives the objects, names, uids and IPs of one request per document', async (t) => {
  const docs = [service('bulk', 'bulk'), ...Array.from({ length: 40 }, (_, i) => pod(i)), deployment, service('dep', 'dep'), ...Array.from({ length: 10 }, (_, i) => pod(i, 'dep'))];
  const one = newApi(), many = newApi();
  one.apply(docs.join('\n---\n'));
  for (const d of docs) many.apply(d);
  const a = objects(one), b = objects(many);
  t.same(a, b, 'same objects but resourceVersions');
  const slices = one.list('EndpointSlice', 'default').filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'bulk');
  t.equal(slices.length, 2, 'one slice per port group');
  t.same(slices.map((s) => s.endpoints.length).sort(), [14, 26], 'every pod in its group');
  const ep = one.get('Endpoints', 'default', 'bulk')!;
  t.same(ep.subsets.map((s: { addresses: unknown[] }) => s.addresses.length).sort(), [14, 26]);

  // Delete in one request or document by document: the same again.
  const del = [...Array.from({ length: 30 }, (_, i) => pod(i)), deployment].join('\n---\n');
  one.delete(del);
  for (const d of [...Array.from({ length: 30 }, (_, i) => pod(i)), deployment]) many.delete(d);
  t.same(objects(one), objects(many), 'same objects after deletes');
  t.equal(one.list('Pod').filter((p) => p.metadata.labels?.app === 'dep').length, 10, 'the deployment took its replica set and pods along, the bare dep pods stay');
  t.same(one.list('EndpointSlice', 'default').filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'bulk').map((s) => (s.endpoints ?? []).length).sort(), [4, 6], "pods 30-39 left: 30, 33, 36, 39 on 8080");
});

t.test('a request costs O(pods + services) of endpoint work, not O(pods x documents)', async (t) => {
  const run = (n: number) => {
    const api = newApi();
    api.apply([service('bulk', 'bulk'), service('other', 'other'), ...Array.from({ length: n }, (_, i) => pod(i))].join('\n---\n'));
    const applied = work(api);
    const services = api.list('Service').length;
    api.delete(Array.from({ length: n }, (_, i) => pod(i)).join('\n---\n'));
    return { applied, deleted: work(api), services, left: api.list('Pod').length };
  };
  const small = run(200), big = run(400);
  for (const [n, r] of [[200, small], [400, big]] as const) {
    // The first pass of a request visits every service: each is written once at the end, whatever the number of documents.
    t.ok(r.applied.endpointWrites <= r.services, `apply ${n}: ${r.applied.endpointWrites} endpoint writes for ${r.services} services`);
    t.ok(r.deleted.endpointWrites <= r.services, `delete ${n}: ${r.deleted.endpointWrites} endpoint writes for ${r.services} services`);
    t.ok(r.applied.modelBuilds <= r.services && r.deleted.modelBuilds <= r.services, 'one endpoint model per service and request');
    // Each pod enters the model when stored (no address yet) and when started: at most twice.
    t.ok(r.applied.modelPodUpdates <= 2 * n, `apply ${n}: ${r.applied.modelPodUpdates} pod updates of the model`);
    t.ok(r.deleted.modelPodUpdates <= n, `delete ${n}: ${r.deleted.modelPodUpdates} pod updates of the model`);
  }
  t.ok(big.applied.modelPodUpdates <= 2 * small.applied.modelPodUpdates + 2, 'twice the pods, at most twice the work');
});

t.test('Pending pods are retried only when an address was freed, and then start with a new resourceVersion', async (t) => {
  // Two workers with a /29 each: 6 pod addresses apiece, 12 in all.
  const spec = parseClusterDoc({ spec: { podCIDR: '10.0.0.0/16', nodes: [{ name: 'cp', controlPlane: true, podCIDR: '10.0.0.0/29' }, { name: 'w1', podCIDR: '10.0.1.0/29' }, { name: 'w2', podCIDR: '10.0.2.0/29' }] } });
  const sim = new Sim(1);
  const api = new KubeApi(spec, sim, { seed: 7 });
  api.apply(Array.from({ length: 14 }, (_, i) => pod(i, 'full')).join('\n---\n'));
  const pending = () => api.list('Pod').filter((p) => p.metadata.labels?.app === 'full' && !p.status?.podIP);
  // coredns holds one address on each worker: 10 of the 14 run.
  t.same(pending().map((p) => p.metadata.name), ['full-10', 'full-11', 'full-12', 'full-13'], 'the pods past the addresses left stay Pending');
  t.match(pending()[0]!.status.conditions[0].message, /Too many pods/, "with the scheduler's reason");
  const before = pending().map((p) => JSON.stringify(p));
  // Later on the clock: a retry would stamp a new lastTransitionTime.
  const later = sim.sleep(60e9);
  await sim.runUntilIdle();
  await later;
  // Neither an unrelated write nor an unrelated delete frees an address: the Pending pods stay exactly as they were.
  api.apply(service('web', 'web'));
  api.delete(service('web', 'web'));
  t.same(pending().map((p) => JSON.stringify(p)), before, 'not retried (same status, same resourceVersion)');
  const rv = Number(api.get('Pod', 'default', 'full-10')!.metadata.resourceVersion);
  api.delete(pod(0, 'full'));
  const started = api.get('Pod', 'default', 'full-10')!;
  t.ok(started.status.podIP, 'an address freed: the first Pending pod starts');
  t.ok(Number(started.metadata.resourceVersion) > rv, 'as a change of the object (a new resourceVersion)');
  t.same(pending().map((p) => p.metadata.name), ['full-11', 'full-12', 'full-13'], 'the others still wait');
  const ips = api.list('Pod').map((p) => p.status?.podIP).filter(Boolean);
  t.equal(new Set(ips).size, ips.length, 'no address handed out twice');
});

/** POST a manifest to the server; resolves with the status and body, and records the answer's turn in `order`. */
async function post(url: string, path: string, yaml: string, order: string[], tag: string): Promise<{ status: number; body: { lines?: string[]; error?: string } }> {
  const r = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ yaml }) });
  const body = await r.json() as { lines?: string[]; error?: string };
  order.push(tag);
  return { status: r.status, body };
}

/** Resolves once cond holds, checking between turns of the event loop. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((res) => setImmediate(res));
}

t.test('a big apply over HTTP runs in slices: /healthz sent meanwhile is answered first; a write queued behind a failing apply sees the state unchanged', async (t) => {
  const cluster = Cluster.fromYaml(`apiVersion: dplab.dev/v1alpha1
kind: Cluster
metadata: {name: sliced}
spec:
  podCIDR: 10.0.0.0/14
  nodes:
    - {name: cp, controlPlane: true, podCIDR: 10.0.0.0/18}
    - {name: w1, podCIDR: 10.1.0.0/18}
    - {name: w2, podCIDR: 10.2.0.0/18}
`);
  const server = await startServer(cluster, { port: 0 });
  t.teardown(async () => { await server.close(); cluster.close(); });
  const N = 3000;
  const bulk = [service('bulk', 'bulk'), ...Array.from({ length: N }, (_, i) => pod(i))].join('\n---\n');

  const order: string[] = [];
  const apply = post(server.url, '/v1/apply', bulk, order, 'apply');
  // The apply's work has begun (its first slice ran): a health check sent now waits for no more than a slice.
  await until(() => cluster.api.slicedWrites > 0);
  const health = fetch(`${server.url}/healthz`).then(async (r) => { order.push('healthz'); return r.status; });
  const [applied, healthStatus] = await Promise.all([apply, health]);
  t.equal(healthStatus, 200);
  t.equal(applied.status, 200);
  t.equal(applied.body.lines!.length, N + 1, 'every object applied');
  t.same(order, ['healthz', 'apply'], "/healthz's answer came before the apply's");

  // A big apply that fails at its last document, and a small one sent while it runs: the small one waits, then sees nothing of the failed one.
  const failing = [...Array.from({ length: N }, (_, i) => pod(i, 'doomed')), 'apiVersion: v1\nkind: Pod\nmetadata: {name: doomed-bad}\nspec: {containers: []}'].join('\n---\n');
  order.length = 0;
  const fail = post(server.url, '/v1/apply', failing, order, 'failing');
  await until(() => cluster.api.slicedWrites > 0);
  const small = post(server.url, '/v1/apply', pod(0, 'doomed'), order, 'small');
  const [f, s] = await Promise.all([fail, small]);
  t.equal(f.status, 422, 'the big apply is refused');
  t.match(f.body.error, /doomed-bad/, 'naming the bad document');
  t.same(s.body.lines, ['pod/doomed-0 created'], 'the queued write found no trace of the refused apply (created, not configured)');
  t.same(order, ['failing', 'small'], 'and was answered after it');
  t.same(cluster.api.list('Pod').filter((p) => p.metadata.labels?.app === 'doomed').map((p) => p.metadata.name), ['doomed-0'], 'only the small write is there');
});

t.test('a write committed in one turn while a sliced one is under way comes first; the sliced one is worked out again on top of it', async (t) => {
  const api = newApi();
  const N = 3000;
  const big = api.applySliced([service('bulk', 'bulk'), ...Array.from({ length: N }, (_, i) => pod(i))].join('\n---\n'));
  await new Promise((res) => setImmediate(res));
  t.equal(api.slicedWrites, 1, 'the sliced apply is under way');
  // What `kubectl apply` from inside an exec does: one synchronous write.
  t.same(api.apply(pod(5)), ['pod/bulk-5 created'], 'the synchronous write is applied at once');
  const lines = await big;
  t.equal(lines.length, N + 1);
  t.equal(lines[6], 'pod/bulk-5 unchanged', 'the sliced apply saw the state with it');
  t.equal(lines[7], 'pod/bulk-6 created');
  t.equal(api.list('Pod').filter((p) => p.metadata.labels?.app === 'bulk').length, N, 'each pod once');
  t.equal(api.slicedWrites, 0);
});

t.test("IPAM's bitmap draws the address a probe one by one would (first free from a random start, wrapping), through fills and frees", async (t) => {
  const rng = new Sim(3).rng;
  let mismatches = 0, draws = 0;
  for (const [net, prefix] of [[0x0a010000, 24], [0x0a020000, 22], [0xfa000000, 28], [0x0a030000, 30], [0xc0a80000, 20]] as const) {
    const size = 2 ** (32 - prefix);
    const used = new Set<number>();
    const bits = new IpBitmap();
    const reserved = new Set([net + 1 + rng.below(size - 2)]);
    for (let k = 0; k < size * 1.5; k++) {
      if (rng.below(4) === 0 && used.size > 0) { const x = [...used][rng.below(used.size)]!; used.delete(x); bits.delete(x); continue; }
      const start = rng.below(size - 2);
      let probe: number | undefined;
      for (let i = 0; i < size - 2 && probe === undefined; i++) { const ip = net + 1 + ((start + i) % (size - 2)); if (!used.has(ip) && !reserved.has(ip)) probe = ip; }
      const drawn = bits.nextFree(net + 1, net + size - 2, net + 1 + start, reserved);
      draws++;
      if (drawn !== probe) mismatches++;
      if (probe !== undefined) { used.add(probe); bits.add(probe); }
    }
  }
  t.equal(mismatches, 0, `${draws} draws, the same address (or none) each time`);
});

t.test('JSON manifests (as the route passes a JSON body on) give the objects of the same YAML, sliced and redone over a sync write alike', async (t) => {
  const N = 2000;
  const docs = [service('bulk', 'bulk'), ...Array.from({ length: N }, (_, i) => pod(i)), deployment];
  const fromYaml = newApi(), fromJson = newApi(), redone = newApi();
  fromYaml.apply(docs.join('\n---\n'));
  const json = jsonManifestText(docs.map((d) => parse(d) as unknown));
  t.equal((await fromJson.applySliced(json)).length, docs.length);
  t.same(objects(fromJson), objects(fromYaml), 'same objects but resourceVersions');
  const sliced = redone.applySliced(json);
  await new Promise((res) => setImmediate(res));
  t.equal(redone.slicedWrites, 1, 'the sliced apply is under way');
  t.same(redone.apply(pod(5)), ['pod/bulk-5 created'], 'a synchronous write lands meanwhile');
  const lines = await sliced;
  t.equal(lines[6], 'pod/bulk-5 unchanged', 'the redo parsed the JSON again and saw it');
  t.equal(redone.list('Pod').filter((p) => p.metadata.labels?.app === 'bulk').length, N, 'each pod once');
  t.same(fromJson.delete(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs.slice(1, 101).map((d) => parse(d) as unknown) })).length, 100, 'a JSON List deletes');
});
