// Issue 6: a sliced write's datapath sync (CNI ADD per pod, endpoints,
// ipcache, LB maps) runs in slices too. /healthz sent during that phase is
// answered before the apply; writes stay queued behind it; a write in one turn
// meanwhile finishes it first; and the maps hold the same bytes as after a
// sync in one turn. Order and contents, never time.
import t from 'tap';
import { startServer } from '../src/api/server.ts';
import { ciliumOf } from '../src/cilium/plugin.ts';
import { Cluster } from '../src/cluster/cluster.ts';

const CLUSTER = `apiVersion: dplab.dev/v1alpha1
kind: Cluster
metadata: {name: sync}
spec:
  routing: native
  podCIDR: 10.0.0.0/14
  nodes:
    - {name: cp, controlPlane: true, podCIDR: 10.0.0.0/18}
    - {name: w1, podCIDR: 10.1.0.0/18}
    - {name: w2, podCIDR: 10.2.0.0/18}
`;
const SERVICE = 'apiVersion: v1\nkind: Service\nmetadata: {name: bulk}\nspec:\n  selector: {app: bulk}\n  ports: [{port: 80, targetPort: 80}]';
const pod = (i: number, app = 'bulk') => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${app}-${i}, labels: {app: ${app}}}\nspec: {containers: [{name: web, image: traefik/whoami, ports: [{containerPort: 80}]}]}`;
const bulk = (n: number) => [SERVICE, ...Array.from({ length: n }, (_, i) => pod(i))].join('\n---\n');
const N = 1500;

/** POST a manifest; resolves with the status and lines, recording the answer's turn in `order`. */
async function post(url: string, path: string, yaml: string, order: string[], tag: string): Promise<{ status: number; lines?: string[] }> {
  const r = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ yaml }) });
  const body = await r.json() as { lines?: string[] };
  order.push(tag);
  return { status: r.status, lines: body.lines };
}

/** Resolves once cond holds (true) or `done` settled first (false), checking between turns of the event loop. */
async function until(cond: () => boolean, done: Promise<unknown>): Promise<boolean> {
  let over = false;
  void done.finally(() => { over = true; });
  while (!cond()) { if (over) return false; await new Promise((res) => setImmediate(res)); }
  return true;
}

/** Every node's datapath maps as hex entries, by node and map name. */
function mapBytes(c: Cluster): Record<string, string[]> {
  const ctl = ciliumOf(c.cni)!;
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  const out: Record<string, string[]> = {};
  for (const node of ctl.nodeNames()) {
    for (const m of ctl.agent(node).maps.list()) {
      if (m.spec.type === 'prog_array' || m.spec.type === 'perf_event_array') continue;
      out[`${node}/${m.spec.name}`] = m.entries().map(([k, v]) => `${hex(k)}=${hex(v)}`);
    }
  }
  return out;
}

t.test('/healthz sent during the datapath sync of a big apply are answered before it; a write sent then waits for it', async (t) => {
  const cluster = Cluster.fromYaml(CLUSTER, { hubble: false });
  const server = await startServer(cluster, { port: 0 });
  t.teardown(async () => { await server.close(); cluster.close(); });

  const order: string[] = [];
  const apply = post(server.url, '/v1/apply', bulk(N), order, 'apply');
  t.ok(await until(() => cluster.datapathSyncing, apply), 'the apply reached its datapath sync (committed, pods being plumbed)');
  t.ok(cluster.api.slicedWrites > 0, 'the apply is still under way');
  const health = fetch(`${server.url}/healthz`).then((r) => { order.push('healthz'); return r.status; });
  const write = post(server.url, '/v1/apply', pod(0, 'late'), order, 'write');
  const [applied, healthStatus, written] = await Promise.all([apply, health, write]);
  t.equal(healthStatus, 200);
  t.equal(applied.status, 200);
  t.equal(applied.lines!.length, N + 1, 'every object applied');
  t.same(written.lines, ['pod/late-0 created']);
  t.same(order, ['healthz', 'apply', 'write'], '/healthz first, then the apply, then the write queued behind it');
  t.notOk(cluster.datapathSyncing);
  const missing = cluster.api.list('Pod').filter((p) => p.metadata.namespace === 'default' && cluster.identityOf('default', p.metadata.name) === undefined);
  t.same(missing.map((p) => p.metadata.name), [], 'every pod has its endpoint once the apply answered');
  const fe = ciliumOf(cluster.serviceProxy)!.frontends().find((f) => f.name === 'bulk' && f.type === 'ClusterIP');
  t.equal(fe?.backends.filter((b) => b.ready).length, N, 'the Service has every pod as a backend');
});

t.test('a write in one turn during the sliced sync finishes it first; the maps end as after syncs in one turn', async (t) => {
  const sliced = Cluster.fromYaml(CLUSTER, { hubble: false });
  const oneTurn = Cluster.fromYaml(CLUSTER, { hubble: false });
  t.teardown(() => { sliced.close(); oneTurn.close(); });

  const apply = sliced.applySliced(bulk(N));
  t.ok(await until(() => sliced.datapathSyncing, apply), 'the datapath sync is under way');
  // What `kubectl apply` from inside an exec does: a write committed at once.
  t.same(sliced.apply(pod(0, 'exec')), ['pod/exec-0 created']);
  t.notOk(sliced.datapathSyncing, 'the sync under way was finished first');
  const plumbed = sliced.api.list('Pod').filter((p) => p.metadata.namespace === 'default' && sliced.identityOf('default', p.metadata.name) !== undefined);
  t.equal(plumbed.length, N + 1, 'so every pod, the new one too, has its endpoint when the write returns');
  t.equal((await apply).length, N + 1);

  oneTurn.apply(bulk(N));
  oneTurn.apply(pod(0, 'exec'));
  t.same(mapBytes(sliced), mapBytes(oneTurn), 'same entries, same bytes, on every node');

  // Deleting them sliced too: the maps come back to the one-turn delete's.
  const del = Array.from({ length: N }, (_, i) => pod(i)).join('\n---\n');
  t.equal((await sliced.deleteSliced(del)).length, N);
  oneTurn.delete(del);
  t.same(mapBytes(sliced), mapBytes(oneTurn), 'and after a delete');
});
