// Issue 6, a linear control plane: a request's controller passes (one per
// document) keep Endpoints and EndpointSlices in shape as they go but write
// their content once per affected service, at the end of the request; the
// owner GC checks only what a delete can orphan. Counted work, not time, and
// the same objects as when each document is its own request.
import t from 'tap';
import { KubeApi } from '../src/cluster/kube/api.ts';
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
