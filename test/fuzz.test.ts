// The admission fuzzer's fast subset (the full run: `npm run fuzz`): seeded
// manifests and patches, valid and broken, through apply / patch / delete,
// with zero 5xx, zero uncaught exceptions, no prototype pollution and the
// user's objects always equal to the model's.
import t, { type Test } from 'tap';
import { buildApp } from '../src/api/app.ts';
import { ClusterError } from '../src/cluster/facade.ts';
import { apiTarget, fuzz, type Outcome, type Target } from './helpers/fuzz.ts';
import { seedLab } from './helpers/lab.ts';

// 3,400 requests, each checked against the model: generous on a loaded 2-core machine.
t.setTimeout(300_000);

const report = (t: Test, r: Awaited<ReturnType<typeof fuzz>>, ops: number) => {
  t.same(r.failures, [], 'no failure');
  t.equal(r.ops, ops, 'every request answered');
  t.notOk(Object.keys(r.byStatus).some((s) => Number(s) >= 500), 'no 5xx');
  t.ok(r.accepted > ops / 4 && r.refused > ops / 4, `both kinds exercised (${r.accepted} accepted, ${r.refused} refused)`);
};

t.test('the API server against the model, three seeds', async (t) => {
  for (const seed of [1, 2, 3]) {
    const r = await fuzz(apiTarget(seed), { seed, ops: 1000 });
    report(t, r, 1000);
  }
});

/** The whole lab over HTTP (apply and delete through routes, patch through the same API server the kubectl verb uses). */
function httpTarget(t: Test): Target {
  const c = seedLab();
  const app = buildApp(c);
  t.teardown(async () => { await app.close(); c.close(); });
  const post = async (url: string, yaml: string): Promise<Outcome> => {
    const r = await app.inject({ method: 'POST', url, payload: { yaml } });
    return r.statusCode === 200 ? { status: 200 } : { status: r.statusCode, error: r.json().error };
  };
  return {
    apply: (yaml) => post('/v1/apply', yaml),
    delete: (kind, ns, name) => post('/v1/delete', JSON.stringify({ apiVersion: kind === 'Deployment' ? 'apps/v1' : kind === 'NetworkPolicy' ? 'networking.k8s.io/v1' : 'v1', kind, metadata: { name, namespace: ns } })),
    patch: async (kind, ns, name, type, p) => {
      try { c.api.patch(kind, ns, name, type, p); return { status: 200 }; } catch (e) {
        if (e instanceof ClusterError) return { status: e.status, error: e.message };
        throw e;
      }
    },
    list: (kind) => c.api.list(kind),
    version: () => c.api.snapshot(),
  };
}

t.test('the lab over HTTP, datapath and all', async (t) => {
  const r = await fuzz(httpTarget(t), { seed: 7, ops: 400 });
  report(t, r, 400);
});
