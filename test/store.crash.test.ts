// kill -9 in the middle of a burst: `dplab serve` on a data directory takes
// 100 concurrent applies (each a Service and the Pod it selects, one request)
// and is SIGKILLed when a seeded number of them have been answered. Restarted
// on the same directory it must hold every answered apply, each whole (both
// objects or neither), and nothing that was never sent. An answer goes out
// only after its write is durable; an apply that was written but whose answer
// the kill cut off may be there too (as on any API server), never half of one.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** Names of the pods and services the server holds, with each pod's IP. */
async function held(url: string): Promise<{ pods: Map<string, string>; services: Set<string> }> {
  const res = await fetch(`${url}/v1/kubectl`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ argv: ['get', 'pods,svc', '-o', 'json'] }) });
  const out = await res.json() as { stdout: string; exitCode: number };
  if (out.exitCode !== 0) throw new Error(`kubectl get failed: ${JSON.stringify(out)}`);
  const items = (JSON.parse(out.stdout) as { items: Array<{ kind: string; metadata: { name: string }; status?: { podIP?: string } }> }).items;
  const pods = new Map(items.filter((o) => o.kind === 'Pod').map((o) => [o.metadata.name, o.status?.podIP ?? '']));
  return { pods, services: new Set(items.filter((o) => o.kind === 'Service').map((o) => o.metadata.name)) };
}

/**
 * Fires N applies at once and SIGKILLs the server when `killAfter` of them
 * have been answered (after all of them when killAfter = N). Returns the
 * indexes answered 200 (an answer already on its way still counts).
 */
async function burst(s: Server, round: number, killAfter: number): Promise<{ acked: Set<number>; failed: string[] }> {
  const acked = new Set<number>();
  const failed: string[] = [];
  const kill = (): void => { s.live.child.kill('SIGKILL'); };
  if (killAfter === 0) setImmediate(kill);
  await Promise.all(Array.from({ length: N }, async (_, i) => {
    try {
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
  return { acked, failed };
}

t.test('SIGKILL at random points of 100 concurrent applies loses no acknowledged apply and keeps none by half', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dplab-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rng = new Rng(20261206);
  // Two kills at seeded points mid-burst, then one after the whole burst was answered.
  const points = [1 + rng.below(N - 1), 1 + rng.below(N - 1), N];
  const found: Array<Set<number>> = [];
  let s = await serve(dir);
  for (const [round, killAfter] of points.entries()) {
    const { acked, failed } = await burst(s, round, killAfter);
    t.same(failed, [], `round ${round}: no error answers`);
    t.ok(acked.size >= killAfter, `round ${round}: killed after ${acked.size} answers (aimed at ${killAfter})`);
    s = await serve(dir);
    t.teardown(() => { s.live.child.kill('SIGKILL'); });
    const { pods, services } = await held(s.url);
    const here = (r: number): Set<number> => new Set([...pods.keys()].filter((n) => n.startsWith(`crash-${r}-`)).map((n) => Number(n.split('-')[2])));
    const got = here(round);
    t.same([...acked].filter((i) => !got.has(i)), [], `round ${round}: every answered apply is back (${acked.size} answered, ${got.size} back)`);
    t.same([...got].filter((i) => !services.has(`crash-${round}-${i}`)), [], `round ${round}: no pod without its service`);
    t.same([...services].filter((n) => n.startsWith(`crash-${round}-`) && !pods.has(n)), [], `round ${round}: no service without its pod`);
    t.ok([...got].every((i) => i >= 0 && i < N), 'nothing that was never sent');
    if (killAfter === N) t.same([...got].sort((a, b) => a - b), [...acked].sort((a, b) => a - b), `round ${round}: killed once all were answered: exactly the acknowledged applies`);
    const ips = [...pods.values()];
    t.equal(new Set(ips).size, ips.length, 'every pod keeps an IP of its own');
    t.notOk(ips.includes(''), 'and has one');
    found.forEach((f, r) => t.same(here(r), f, `round ${r}'s applies are still there after a later restart`));
    found.push(got);
  }
  s.live.child.kill('SIGINT');
  t.equal((await s.live.exited).code, 0, 'the last server stops cleanly');
});
