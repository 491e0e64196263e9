// Acceptance: virtual time in the two clocks. Library (fast) mode moves the
// clock only when every piece of work waits on the simulation and never for
// a cancelled timer; a `serve` (wall mode) runs on the wall clock: it never
// runs ahead, never stalls while something is due, and stamps captures with
// the wall clock's time.
import t from 'tap';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../src/api/server.ts';
import { CAPTURE_HEADER_LEN } from '../src/api/capture_codec.ts';
import { Cluster } from '../src/cluster/cluster.ts';
import { LABS } from '../src/cluster/labs/index.ts';
import { ip4, IPPROTO_TCP, scenario, seedLab, stepArgv, transcript } from './helpers/lab.ts';
import { TCP_FIN } from '../src/wire/tcp.ts';

const wallLab = (): Cluster => Cluster.fromYaml(LABS.cilium!, { seed: 3, epochMs: Date.now() });

async function post(s: RunningServer, path: string, body: unknown): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const r = await fetch(s.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return r.json() as Promise<{ stdout: string; stderr: string; exitCode: number }>;
}

interface Frame { tsMs: number; seenMs: number; frame: Uint8Array }

/** A live capture over the server's WebSocket, as `dplab tcpdump` opens it. */
async function capture(s: RunningServer, node: string, iface: string): Promise<{ frames: Frame[]; close(): void }> {
  const ws = new WebSocket(`${s.url.replace('http', 'ws')}/v1/nodes/${node}/capture?iface=${iface}`);
  const frames: Frame[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data, binary) => {
      if (!binary) { if (String(data).includes('listening')) resolve(); return; }
      const b = new Uint8Array(data as Buffer);
      const ns = new DataView(b.buffer, b.byteOffset).getBigUint64(0, false);
      frames.push({ tsMs: Number(ns / 1000n) / 1000, seenMs: Date.now(), frame: b.slice(CAPTURE_HEADER_LEN) });
    });
    ws.on('error', reject);
  });
  return { frames, close: () => ws.close() };
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return cond();
}

t.test('fast mode: a cancelled timer never moves the clock', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  await c.sim.settle(c.sim.sleep(1e6));
  const t0 = c.sim.now();
  c.sim.schedule(300e9, () => t.fail('a cancelled timer fired')).cancel();
  await c.sim.settle(c.sim.sleep(1e6));
  t.equal(c.sim.now() - t0, 1e6, 'settle: one millisecond later, not 300 s');
  c.sim.schedule(300e9, () => {}).cancel();
  await c.sim.runUntilIdle();
  t.ok(c.sim.now() - t0 < 10e9, 'runUntilIdle stops at the last live event');
});

// Each curl costs its process start (6 ms, as seed 000's captures show between iterations) and
// about a millisecond of network; 3 s leaves room for that and still catches any wait on a timer.
t.test('fast mode: a shell loop of 300 curls moves virtual time by under 3 s', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const t0 = c.sim.now();
  const r = await c.kubectl(['exec', 'netpod', '--', 'sh', '-c', 'for i in $(seq 300); do curl -s webpod | grep -c Hostname; done | uniq -c']);
  t.equal(r.exitCode, 0);
  t.match(r.stdout, /^\s*300 1$/m, 'every curl answered');
  const s = (c.sim.now() - t0) / 1e9;
  t.ok(s < 3, `virtual time advanced ${s.toFixed(3)} s`);
});

t.test('wall mode: the seed-003 transcript against a server keeps its clock on the wall clock', async (t) => {
  const c = wallLab();
  const s = await startServer(c, { port: 0, clock: 'wall' });
  t.teardown(async () => { await s.close(); c.close(); });
  const cap = await capture(s, 'k8s-s', 'ens5');
  const steps = transcript(scenario('seed003.txt'));
  t.ok(steps.length >= 12, 'transcript steps');
  const skews: number[] = [];
  const began = Date.now();
  for (const { node, cmd } of steps) {
    const argv = stepArgv(cmd);
    const r = argv[0] === 'kubectl' ? await post(s, '/v1/kubectl', { argv: argv.slice(1) }) : await post(s, `/v1/nodes/${node}/exec`, { argv });
    t.ok(r.exitCode === 0 || r.exitCode === 7, `${node}: ${cmd}: exit ${r.exitCode}`);
    skews.push(c.sim.wallMs() - Date.now());
  }
  cap.close();
  t.ok(skews.every((d) => Math.abs(d) <= 50), `clock within 50 ms of the wall clock after every command (${skews.map((d) => d.toFixed(1)).join(', ')})`);
  t.ok(cap.frames.length > 0, `frames captured on ens5 (${cap.frames.length})`);
  // A frame is stamped between the replay's start and the moment it reached us: never ahead of
  // the wall clock, never from a clock left behind (bounds that hold however loaded the machine is).
  const ahead = Math.max(...cap.frames.map((f) => f.tsMs - f.seenMs));
  t.ok(ahead <= 5, `no capture timestamp is ahead of the wall clock (max ${ahead.toFixed(2)} ms)`);
  const early = cap.frames.filter((f) => f.tsMs < began - 5);
  t.same(early.map((f) => f.tsMs), [], 'no capture timestamp is from before the replay began');
});

t.test('wall mode: ping -c 3 takes two seconds, as on a pod', async (t) => {
  const c = wallLab();
  const s = await startServer(c, { port: 0, clock: 'wall' });
  t.teardown(async () => { await s.close(); c.close(); });
  const start = Date.now();
  const r = await post(s, '/v1/kubectl', { argv: ['exec', 'netpod', '--', 'ping', '-c', '3', '172.16.1.111'] });
  const took = Date.now() - start;
  t.match(r.stdout, /3 packets transmitted, 3 received/);
  t.ok(took >= 1990, `the exec took ${took} ms of wall time`);
  t.ok(c.sim.wallMs() - Date.now() <= 5, 'the clock is not ahead of the wall clock afterwards');
});

/** TCP frames of the port-80 connection from netpod, by client port. */
function connections(frames: Frame[]): Map<number, Array<{ flags: number }>> {
  const by = new Map<number, Array<{ flags: number }>>();
  for (const f of frames) {
    const h = ip4(f.frame);
    if (!h || h.proto !== IPPROTO_TCP || (h.dport !== 80 && h.sport !== 80)) continue;
    const port = h.dport === 80 ? h.sport : h.dport;
    by.set(port, [...(by.get(port) ?? []), { flags: h.tcpFlags }]);
  }
  return by;
}

for (const clock of ['wall', 'fast'] as const) {
  t.test(`${clock} mode: a capture started before a curl gets the whole connection, FIN exchange included, 20 times out of 20`, async (t) => {
    const c = clock === 'wall' ? wallLab() : seedLab();
    const s = await startServer(c, { port: 0, clock });
    t.teardown(async () => { await s.close(); c.close(); });
    let whole = 0;
    const sizes = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const cap = await capture(s, 'k8s-s', 'ens5');
      const r = await post(s, '/v1/kubectl', { argv: ['exec', 'netpod', '--', 'curl', '-s', '172.16.1.111'] });
      t.equal(r.exitCode, 0, `curl ${i + 1}`);
      // No further command: the connection's end must arrive on its own.
      const done = (): boolean => [...connections(cap.frames).values()].some((p) => p.length >= 10 && p.filter((x) => x.flags & TCP_FIN).length >= 2);
      if (await until(done, 3000)) whole++;
      for (const p of connections(cap.frames).values()) sizes.add(p.length);
      cap.close();
    }
    t.equal(whole, 20, `whole connections captured (packets per connection: ${[...sizes].join(', ')})`);
  });
}
