// State that survives a restart: a Cluster given a SQLite store comes back
// with the same objects (resourceVersions, IPs, nodePorts) and the same Cilium
// identities, goes on as a run that never stopped, refuses a store that is not
// its own, and never keeps half a request when a write fails.
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from '../src/cluster/cluster.ts';
import { ClusterError } from '../src/cluster/facade.ts';
import { LABS } from '../src/cluster/labs/index.ts';
import type { KubeState } from '../src/cluster/kube/state.ts';
import { openSqliteStore, STORE_FILE } from '../src/cluster/store/sqlite.ts';
import { StoreError, type KubeStore } from '../src/cluster/store/store.ts';
import { scenario } from './helpers/lab.ts';

const LAB = LABS.cilium!;
const pod = (name: string, labels: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {${labels}}}
spec: {containers: [{name: c, image: traefik/whoami}]}
`;
/** A NodePort service with an allocated port, and a pod whose labels need a new identity. */
const LATER = `apiVersion: v1
kind: Service
metadata: {name: later}
spec: {type: NodePort, selector: {app: later}, ports: [{port: 80}]}
---
${pod('later', 'app: later, tier: new')}`;

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'dplab-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What must come back: every object as the API server holds it, the identities and the ipcache. */
async function view(c: Cluster): Promise<Record<string, string>> {
  const get = await c.kubectl(['get', 'ns,nodes,pods,svc,ep,endpointslices,deploy,rs', '-A', '-o', 'json']);
  const ids = await c.nodeExec('k8s-w1', ['cilium-dbg', 'identity', 'list']);
  const ips = await c.nodeExec('k8s-s', ['cilium-dbg', 'ip', 'list']);
  const svcs = await c.nodeExec('k8s-w2', ['cilium-dbg', 'service', 'list']);
  return { objects: get.stdout, identities: ids.stdout, ipcache: ips.stdout, services: svcs.stdout };
}

/** Edits before the restart: creates, a patch, deletes (of a lab pod and of a pod whose identity is released). */
async function edit(c: Cluster): Promise<void> {
  c.apply(scenario('whoami-lb.yaml'));
  c.apply(scenario('nodeport.yaml'));
  c.apply(pod('gone', 'app: gone'));
  await c.kubectl(['patch', 'svc', 'webapp', '--type', 'merge', '-p', '{"spec":{"sessionAffinity":"ClientIP"}}']);
  await c.kubectl(['delete', 'pod', 'webpod2', 'gone']);
}

function open(dir: string): KubeStore {
  const s = openSqliteStore(dir);
  return s;
}

t.test('a restart brings back the objects, IPs, nodePorts, resourceVersions and identities', async (t) => {
  const dir = tempDir(t);
  const s1 = open(dir);
  const c1 = Cluster.fromYaml(LAB, { seed: 3, store: s1 });
  await edit(c1);
  const before = await view(c1);
  c1.close(); s1.close();

  const s2 = open(dir);
  t.teardown(() => s2.close());
  const c2 = Cluster.fromYaml(LAB, { seed: 3, store: s2 });
  t.teardown(() => c2.close());
  const after = await view(c2);
  t.equal(after.objects, before.objects, 'kubectl get -o json: same objects, resourceVersions, pod IPs, nodePorts');
  t.equal(after.identities, before.identities, 'cilium-dbg identity list: same numbers for the same labels');
  t.equal(after.ipcache, before.ipcache, 'cilium-dbg ip list: same IP -> identity');
  t.equal(after.services, before.services, 'cilium-dbg service list: same service and backend ids');
  const pods = (await c2.kubectl(['get', 'pods'])).stdout;
  t.notMatch(pods, /webpod2|gone/, 'deleted pods stay deleted');
  t.match(pods, /webapp-\w+-\w+ +1\/1 +Running/, 'applied pods are back');
  const curl = await c2.kubectl(['exec', 'netpod', '--', 'curl', '-s', '-m', '2', '192.168.10.101:30088']);
  t.match(curl.stdout, /^Hostname: echo-/, 'the datapath is rebuilt: the NodePort answers');
  const svc = await c2.kubectl(['exec', 'netpod', '--', 'curl', '-s', '-m', '2', 'webapp:9000']);
  t.match(svc.stdout, /^Hostname: webapp-/, 'a ClusterIP service answers');
});

/** Drops every *Timestamp / *Time field: a restarted clock starts again, the rest must be equal. */
function untimed(json: string): unknown {
  return JSON.parse(json, (k, v) => (/Time(stamp)?$/.test(k) ? undefined : v));
}

t.test('after a restart the cluster goes on as one that never stopped (names, IPs, nodePorts, identities)', async (t) => {
  const dir = tempDir(t);
  const s1 = open(dir);
  const c1 = Cluster.fromYaml(LAB, { seed: 3, store: s1 });
  await edit(c1);
  c1.close(); s1.close();
  const s2 = open(dir);
  t.teardown(() => s2.close());
  const restarted = Cluster.fromYaml(LAB, { seed: 3, store: s2 });
  t.teardown(() => restarted.close());
  restarted.apply(LATER);

  const straight = Cluster.fromYaml(LAB, { seed: 3 });
  t.teardown(() => straight.close());
  await edit(straight);
  straight.apply(LATER);
  const [a, b] = [await view(restarted), await view(straight)];
  t.same(untimed(a.objects!), untimed(b.objects!), 'same objects as without the restart');
  t.equal(a.identities, b.identities, 'the new label set draws the identity it would have drawn');
  t.equal(a.ipcache, b.ipcache);
  t.equal(a.services, b.services, 'the new service takes the id it would have taken');
});

/** A store whose writes fail on demand (a full disk). */
class FlakyStore implements KubeStore {
  readonly path = '/flaky/store.db';
  fail = false;
  saved: KubeState | undefined;
  load(): undefined { return undefined; }
  save(state: KubeState): void { if (this.fail) throw new StoreError('cannot write to the store /flaky/store.db: database or disk is full'); this.saved = state; }
  close(): void {}
}

t.test('a write that cannot be made durable fails the request and leaves nothing of it', async (t) => {
  const store = new FlakyStore();
  const c = Cluster.fromYaml(LAB, { seed: 3, store });
  t.teardown(() => c.close());
  const pods = (await c.kubectl(['get', 'pods', '-A', '-o', 'wide'])).stdout;
  const eps = (await c.nodeExec('k8s-w1', ['cilium-dbg', 'endpoint', 'list'])).stdout;
  store.fail = true;
  let err: unknown;
  try { c.apply(scenario('whoami-lb.yaml')); } catch (e) { err = e; }
  t.ok(err instanceof ClusterError, 'a ClusterError');
  t.equal((err as ClusterError).status, 503);
  t.equal((err as ClusterError).message, 'storage: cannot write to the store /flaky/store.db: database or disk is full');
  t.equal((await c.kubectl(['get', 'pods', '-A', '-o', 'wide'])).stdout, pods, 'no object of the request');
  t.equal((await c.nodeExec('k8s-w1', ['cilium-dbg', 'endpoint', 'list'])).stdout, eps, 'no endpoint of the request');
  const del = await c.kubectl(['delete', 'pod', 'webpod1']);
  t.equal(del.exitCode, 1, 'kubectl delete fails');
  t.match(del.stderr, /storage: cannot write/);
  t.match((await c.kubectl(['get', 'pod', 'webpod1'])).stdout, /webpod1 +1\/1 +Running/, 'the pod is still there');

  store.fail = false;
  t.same(c.apply(scenario('whoami-lb.yaml')), ['deployment.apps/webapp created', 'service/webapp created'], 'the same request succeeds once the store writes');
  t.ok(store.saved?.objects.Deployment?.['default/webapp'], 'and is saved');
});

/** Builds a cluster on dir's store and closes both; returns what opening threw (StoreError) or undefined. */
function startOn(dir: string, yaml: string, seed: number, reset = false): string | undefined {
  let store: KubeStore | undefined;
  try {
    store = openSqliteStore(dir, { reset });
    Cluster.fromYaml(yaml, { seed, store }).close();
    return undefined;
  } catch (e) {
    if (e instanceof StoreError) return e.message;
    throw e;
  } finally { store?.close(); }
}

const OTHER = LAB.replace(/metadata: \{name: (\w+)\}/, 'metadata: {name: other}');
const refusals: Array<{ name: string; spoil: (dir: string) => void; yaml?: string; seed?: number; want: RegExp }> = [
  { name: 'another cluster', spoil: () => {}, yaml: OTHER, want: /holds cluster "\w+", not cluster "other": give another --data-dir, or start afresh with `dplab serve --reset`/ },
  { name: 'changed manifests', spoil: () => {}, yaml: `${LAB}\n---\n${pod('extra', 'app: extra')}`, want: /was saved for cluster "\w+" as it was then; its spec or manifests have changed since/ },
  { name: 'another seed', spoil: () => {}, seed: 4, want: /was saved with --seed 3: start with --seed 3, or start afresh with `dplab serve --reset`/ },
  { name: 'a newer format', spoil: (dir) => { const db = new Database(join(dir, STORE_FILE)); db.pragma('user_version = 99'); db.close(); }, want: /was written by a newer dplab \(format 99; this one reads 1\)/ },
  { name: 'not a dplab file', spoil: (dir) => { rmSync(join(dir, STORE_FILE)); const db = new Database(join(dir, STORE_FILE)); db.exec('CREATE TABLE t (x)'); db.close(); }, want: /is not a dplab store/ },
  { name: 'a damaged file', spoil: (dir) => { writeFileSync(join(dir, STORE_FILE), Buffer.alloc(8192, 0x5a)); rmSync(join(dir, `${STORE_FILE}-wal`), { force: true }); }, want: /is damaged \(file is not a database\): start afresh with `dplab serve --reset`/ },
  { name: 'a damaged row', spoil: (dir) => { const db = new Database(join(dir, STORE_FILE)); db.prepare("UPDATE objects SET body = '{' WHERE kind = 'Pod'").run(); db.close(); }, want: /is damaged \(Pod [\w/-]+ is not JSON\)/ },
];

t.test('a store that is not this cluster\'s is refused with a way out; --reset starts afresh', async (t) => {
  for (const r of refusals) {
    await t.test(r.name, async (t) => {
      const dir = tempDir(t);
      t.equal(startOn(dir, LAB, 3), undefined, 'a first start saves the lab');
      r.spoil(dir);
      const msg = startOn(dir, r.yaml ?? LAB, r.seed ?? 3);
      t.match(msg, r.want);
      t.ok(msg?.includes(join(dir, STORE_FILE)), 'names the file');
      t.equal(startOn(dir, r.yaml ?? LAB, r.seed ?? 3, true), undefined, '--reset: starts afresh');
      t.equal(startOn(dir, r.yaml ?? LAB, r.seed ?? 3), undefined, 'and the new store is its own');
    });
  }
});

t.test('one store, one server: a second opener is told it is in use', async (t) => {
  const dir = tempDir(t);
  const first = openSqliteStore(dir);
  t.teardown(() => first.close());
  t.throws(() => openSqliteStore(dir), { message: `the store ${join(dir, STORE_FILE)} is in use by another dplab serve: stop it, or give another --data-dir, or --ephemeral` });
  t.throws(() => openSqliteStore(dir, { reset: true }), { message: /is in use by another dplab serve/ }, '--reset does not delete a store in use');
});
