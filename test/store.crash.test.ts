// kill -9 in the middle of a burst: `dplab serve` on a data directory takes
// 100 concurrent applies (each a Service and the Pod it selects, one request)
// and is SIGKILLed when a seeded number of them have been answered. Restarted
// on the same directory it must hold exactly the answered applies plus, at
// most, writes that were in flight when the kill came (committed and durable,
// their answer cut off: no server can avoid that unless the client learns the
// outcome), each whole: service, pod with its IP, uid and resourceVersion, and
// the EndpointSlice that selects it, all from one commit; nothing never sent.
// A client that lost an answer learns the outcome by re-applying: an apply
// that did land answers "unchanged" and changes nothing, one that did not is
// created, and then the store holds every apply of the burst.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Any } from '../src/cluster/kube/types.ts';
import { Rng } from '../src/sim/sim.ts';
import { startCli, type LiveCli } from './helpers/run_cli.ts';

// Several real servers start and stop here: give a loaded 2-core machine time (tap's default is 120 s a file).
t.setTimeout(300_000);

const N = 100;

/** Apply i of round r: two objects in one request. */
const manifest = (r: number, i: number): string => `apiVersion: v1
kind: Service
metadata: {name: crash-${r}-${i}}
spec: {selector: {app: crash-${r}-${i}}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: crash-${r}-${i}, labels: {app: crash-${r}-${i}}}
spec: {containers: [{name: c, image: traefik/whoami}]}
`;

interface Server { live: LiveCli; url: string }

async function serve(dir: string): Promise<Server> {
  const live = startCli(['serve', '--port', '0', '--seed', '3', '--clock', 'fast', '--data-dir', dir]);
  await live.waitFor('stdout', /\n/);
  const m = /on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(live.stdout);
  if (!m) throw new Error(`no serving line: ${live.stdout} ${live.stderr}`);
  return { live, url: m[1]! };
}

interface Obj { kind: string; metadata: { name: string; uid?: string; resourceVersion?: string; creationTimestamp?: string; labels?: Record<string, string> }; spec?: Any; status?: Any; endpoints?: Any[] }

/** The pods, services and endpoint slices the server holds. */
async function held(url: string): Promise<{ pods: Map<string, Obj>; services: Map<string, Obj>; slices: Obj[]; all: Obj[] }> {
  const res = await fetch(`${url}/v1/kubectl`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ argv: ['get', 'pods,svc,endpointslices', '-o', 'json'] }) });
  const out = await res.json() as { stdout: string; exitCode: number };
  if (out.exitCode !== 0) throw new Error(`kubectl get failed: ${JSON.stringify(out)}`);
  const items = (JSON.parse(out.stdout) as { items: Obj[] }).items;
  const of = (kind: string) => new Map(items.filter((o) => o.kind === kind).map((o) => [o.metadata.name, o]));
  return { pods: of('Pod'), services: of('Service'), slices: items.filter((o) => o.kind === 'EndpointSlice'), all: items };
}

async function apply(url: string, yaml: string): Promise<{ status: number; lines?: string[]; error?: string }> {
  const res = await fetch(`${url}/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ yaml }) });
  return { status: res.status, ...await res.json() as { lines?: string[]; error?: string } };
}

/** What is wrong with apply i of a round as found (empty: whole): both objects complete, the slice selecting the pod at its IP. */
function wholeness(h: Awaited<ReturnType<typeof held>>, name: string): string[] {
  const bad: string[] = [];
  const pod = h.pods.get(name), svc = h.services.get(name);
  if (!pod || !svc) return [`${name}: ${pod ? 'pod without its service' : 'service without its pod'}`];
  for (const o of [pod, svc]) if (!o.metadata.uid || !o.metadata.resourceVersion || !o.metadata.creationTimestamp) bad.push(`${o.kind} ${name}: metadata incomplete`);
  if (pod.status?.phase !== 'Running' || !pod.status?.podIP || !pod.spec?.nodeName || pod.spec?.containers?.[0]?.image !== 'traefik/whoami') bad.push(`pod ${name}: not running with an IP on a node`);
  if (pod.metadata.labels?.app !== name || svc.spec?.selector?.app !== name || !svc.spec?.clusterIP) bad.push(`${name}: labels, selector or clusterIP lost`);
  const slice = h.slices.find((sl) => sl.metadata.labels?.['kubernetes.io/service-name'] === name);
  if (!slice?.endpoints?.some((e: { addresses: string[] }) => e.addresses.includes(pod.status?.podIP))) bad.push(`${name}: no EndpointSlice with the pod's IP`);
  return bad;
}

/**
 * Fires N applies at once and SIGKILLs the server when `killAfter` of them
 * have been answered (after all of them when killAfter = N). Returns the
 * indexes answered 200 (an answer already on its way when the kill was sent
 * still counts) and those in flight when it was sent (sent, not answered).
 */
async function burst(s: Server, round: number, killAfter: number): Promise<{ acked: Set<number>; inFlight: Set<number>; failed: string[] }> {
  const acked = new Set<number>();
  const sent = new Set<number>();
  let inFlight: Set<number> | undefined;
  const failed: string[] = [];
  const kill = (): void => {
    inFlight ??= new Set([...sent].filter((i) => !acked.has(i)));
    s.live.child.kill('SIGKILL');
  };
  if (killAfter === 0) setImmediate(kill);
  await Promise.all(Array.from({ length: N }, async (_, i) => {
    try {
      sent.add(i);
      const res = await fetch(`${s.url}/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ yaml: manifest(round, i) }) });
      const body = await res.text();
      if (res.status !== 200) { failed.push(`${i}: ${res.status} ${body}`); return; }
      acked.add(i);
      if (acked.size === killAfter) kill();
    } catch { /* cut off by the kill: not acknowledged */ }
  }));
  if (killAfter === N) kill();
  const exit = await s.live.exited;
  if (exit.code !== null) failed.push(`server exited by itself (code ${exit.code}): ${exit.stderr}`);
  // Answers that were already on their way when the kill was sent were in flight then.
  return { acked, inFlight: new Set([...inFlight!].filter((i) => !acked.has(i))), failed };
}

t.test('SIGKILL at random points of 100 concurrent applies: exactly the acknowledged applies plus at most the cut-off ones, each whole; re-applying those is idempotent', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dplab-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rng = new Rng(20261206);
  // Two kills at seeded points mid-burst, then one after the whole burst was answered.
  const points = [1 + rng.below(N - 1), 1 + rng.below(N - 1), N];
  let s = await serve(dir);
  for (const [round, killAfter] of points.entries()) {
    const { acked, inFlight, failed } = await burst(s, round, killAfter);
    t.same(failed, [], `round ${round}: no error answers`);
    t.ok(acked.size >= killAfter, `round ${round}: killed after ${acked.size} answers (aimed at ${killAfter})`);
    t.equal(acked.size + inFlight.size, N, `round ${round}: every apply was answered or in flight at the kill`);
    s = await serve(dir);
    t.teardown(() => { s.live.child.kill('SIGKILL'); });
    const h = await held(s.url);
    const here = (r: number): Set<number> => new Set([...new Set([...h.pods.keys(), ...h.services.keys()])].filter((n) => n.startsWith(`crash-${r}-`)).map((n) => Number(n.split('-')[2])));
    const got = here(round);
    t.same([...acked].filter((i) => !got.has(i)), [], `round ${round}: every acknowledged apply is back (${acked.size} acknowledged, ${got.size} back)`);
    const extra = [...got].filter((i) => !acked.has(i));
    t.same(extra.filter((i) => !inFlight.has(i)), [], `round ${round}: the others back (${extra.length}) were in flight at the kill (${inFlight.size})`);
    t.ok(extra.length <= inFlight.size, `round ${round}: at most the ${inFlight.size} in flight`);
    if (killAfter === N) t.same([...got].sort((a, b) => a - b), [...acked].sort((a, b) => a - b), `round ${round}: killed once all were answered: exactly the acknowledged applies`);
    t.same([...got].flatMap((i) => wholeness(h, `crash-${round}-${i}`)), [], `round ${round}: each apply found is whole (service, pod with IP, uid, resourceVersion, its EndpointSlice)`);
    const ips = [...h.pods.values()].map((p) => p.status?.podIP);
    t.equal(new Set(ips).size, ips.length, 'every pod keeps an IP of its own');
    const rvs = h.all.map((o) => Number(o.metadata.resourceVersion));
    t.equal(new Set(rvs).size, rvs.length, 'and every object its own resourceVersion');

    // The client learns what became of the applies it got no answer for: re-applied, a landed one is unchanged (same objects), a lost one is created.
    const before = JSON.stringify([...extra].sort().map((i) => [h.pods.get(`crash-${round}-${i}`), h.services.get(`crash-${round}-${i}`)]));
    for (const i of [...inFlight].sort((a, b) => a - b)) {
      const r = await apply(s.url, manifest(round, i));
      const verb = got.has(i) ? 'unchanged' : 'created';
      t.same(r.lines, [`service/crash-${round}-${i} ${verb}`, `pod/crash-${round}-${i} ${verb}`], `round ${round}: apply ${i} again: ${verb}`);
    }
    const after = await held(s.url);
    t.equal(JSON.stringify([...extra].sort().map((i) => [after.pods.get(`crash-${round}-${i}`), after.services.get(`crash-${round}-${i}`)])), before, `round ${round}: the re-apply changed none of the applies that had landed`);
    t.same([...Array(N).keys()].flatMap((i) => wholeness(after, `crash-${round}-${i}`)), [], `round ${round}: after the re-apply, every apply of the burst is there, whole`);
    for (let r = 0; r < round; r++) t.same(here(r).size, N, `round ${r}'s applies are still there after a later restart`);
  }
  // Everything of the three rounds, as the last server left it, after one more restart.
  const last = JSON.stringify((await held(s.url)).all);
  s.live.child.kill('SIGINT');
  t.equal((await s.live.exited).code, 0, 'the last server stops cleanly');
  s = await serve(dir);
  t.equal(JSON.stringify((await held(s.url)).all), last, 'a clean restart brings back the same objects, byte for byte');
  s.live.child.kill('SIGINT');
  t.equal((await s.live.exited).code, 0);
});
