// A sliced apply commits, syncs the datapath, then saves: after a restart,
// applying the same manifests again is a no-op that leaves every object as
// the store kept it, resourceVersion included (an unchanged object used to be
// stored without one: the request drops it from what the user sent).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from '../src/cluster/cluster.ts';
import { openSqliteStore } from '../src/cluster/store/sqlite.ts';

const manifest = `apiVersion: v1
kind: Service
metadata: {name: again}
spec: {selector: {app: again}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: again, labels: {app: again}}
spec: {containers: [{name: c, image: traefik/whoami}]}`;

t.test('an unchanged re-apply after a restart keeps each object as stored, resourceVersion included', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dplab-sync-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const open = () => { const store = openSqliteStore(dir); return { store, c: Cluster.lab('cilium', { seed: 3, store, hubble: false }) }; };
  const close = (x: { store: { close(): void }; c: Cluster }) => { x.c.close(); x.store.close(); };

  let x = open();
  t.same(await x.c.applySliced(manifest), ['service/again created', 'pod/again created']);
  close(x);

  x = open();
  const kept = ['Service', 'Pod'].map((k) => JSON.stringify(x.c.api.get(k, 'default', 'again')));
  t.same(await x.c.applySliced(manifest), ['service/again unchanged', 'pod/again unchanged']);
  for (const [i, kind] of ['Service', 'Pod'].entries()) {
    const o = x.c.api.get(kind, 'default', 'again')!;
    t.ok(o.metadata.resourceVersion, `${kind}: has a resourceVersion`);
    t.same(JSON.parse(JSON.stringify(o)), JSON.parse(kept[i]!), `${kind}: as the store kept it`);
  }
  t.ok(x.c.identityOf('default', 'again'), 'the pod has its endpoint again');
  close(x);

  x = open();
  t.ok(x.c.api.get('Pod', 'default', 'again')!.metadata.resourceVersion, 'and so after one more restart');
  close(x);
});
