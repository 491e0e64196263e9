// The flow store (beyond Hubble): flows the ring overwrites stay readable from
// disk in sequence with the ring, so --first / --since / a slow follower reach
// past the ring; bounded by size, oldest segments out first.
import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowStore } from '../src/hubble/flow_store.ts';
import { NodeObserver } from '../src/hubble/observer.ts';
import type { FlowObject, GetFlowsRequestObject, GetFlowsResponseObject } from '../src/hubble/proto.ts';

const dir = mkdtempSync(join(tmpdir(), 'dplab-flowstore-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

class Clock { epochMs = Date.UTC(2024, 9, 21, 11, 10, 0); ns = 0; now(): number { return this.ns; } }
const EPOCH_S = 1729509000;

function flow(i: number, clock: Clock): FlowObject {
  return { time: { seconds: EPOCH_S + Math.floor(clock.ns / 1e9), nanos: clock.ns % 1e9 }, uuid: `u${i}`, verdict: 1, Type: 1, node_name: 'default/n1',
    event_type: { type: 4, sub_type: 0 }, Summary: `#${i}`, is_reply: { value: false }, IP: { source: '10.0.0.1', destination: '10.0.0.2', ipVersion: 1 },
    l4: i % 2 ? { ICMPv4: { type: 0, code: 0 } } : { TCP: { source_port: 40000 + i, destination_port: 80, flags: { SYN: true } } },
    source: { identity: 300, pod_name: 'a', namespace: 'default' } };
}
async function collect(o: NodeObserver, req: GetFlowsRequestObject): Promise<GetFlowsResponseObject[]> {
  const out: GetFlowsResponseObject[] = [];
  await o.getFlows(req, (r) => { out.push(r); }, new AbortController().signal);
  return out;
}
const summaries = (rs: GetFlowsResponseObject[]) => rs.map((r) => r.flow?.Summary ?? `lost ${r.lost_events?.num_events_lost}`);

t.test('flows past the ring come back from disk, in order, unchanged', async (t) => {
  const nodeDir = join(dir, 'n1');
  t.ok(!existsSync(nodeDir));
  const clock = new Clock(), store = new FlowStore({ dir: nodeDir, segmentBytes: 2000 });
  const o = new NodeObserver({ nodeName: 'default/n1', decode: () => null }, clock, { capacity: 7, store });
  for (let i = 0; i < 100; i++) { clock.ns += 1e6; o.record(flow(i, clock)); }
  const all = await collect(o, { first: true });
  t.same(summaries(all), Array.from({ length: 100 }, (_, i) => `#${i}`), 'first: all 100 flows, though the ring holds 7');
  t.same(all[2]!.flow, flow(2, Object.assign(new Clock(), { ns: 3e6 })), 'a stored flow reads back as it was written (is_reply false, sub_type 0)');
  t.same(all[3]!.flow!.l4, { ICMPv4: { type: 0, code: 0 } }, 'ICMP echo reply type 0 kept');
  t.same(summaries(await collect(o, { number: 10 })), Array.from({ length: 10 }, (_, i) => `#${90 + i}`), 'last 10 across store and ring');
  t.same(summaries(await collect(o, { since: { seconds: EPOCH_S, nanos: 50e6 }, until: { seconds: EPOCH_S, nanos: 52e6 } })), ['#49', '#50', '#51'], 'since/until in the stored past');
  t.same(summaries(await collect(o, { number: 3, whitelist: [{ protocol: ['tcp'] }] })), ['#94', '#96', '#98']);
  await new Promise((r) => setImmediate(r));
  t.ok(readdirSync(nodeDir).filter((f) => f.endsWith('.flows')).length > 1, 'written off the packet path, after the run: several segments on disk');
  t.equal(o.serverStatus().num_flows, 7, 'ServerStatus still reports the ring');
  o.close();
});

t.test('bounded: the oldest segments go; a reader behind the store gets a LostEvent', async (t) => {
  const nodeDir = join(dir, 'n2');
  const clock = new Clock(), store = new FlowStore({ dir: nodeDir, segmentBytes: 1000, maxBytes: 3000 });
  const o = new NodeObserver({ nodeName: 'default/n1', decode: () => null }, clock, { capacity: 7, store });
  for (let i = 0; i < 200; i++) { clock.ns += 1e6; o.record(flow(i, clock)); }
  store.flush();
  t.ok(store.bytes <= 3000 + 1000, `store within its bound (${store.bytes} bytes)`);
  const first = await collect(o, { first: true });
  const oldest = Number(first[0]!.flow!.Summary.slice(1));
  t.ok(oldest > 0 && oldest < 193, `the oldest kept is #${oldest}`);
  t.same(summaries(first).slice(-1), ['#199']);

  // A follower stalled before the oldest kept flow loses what the store dropped.
  let release!: () => void, stalled = false;
  const got: GetFlowsResponseObject[] = [];
  const ac = new AbortController();
  const done = o.getFlows({ follow: true }, (r) => { got.push(r); if (!stalled) { stalled = true; return new Promise<void>((res) => { release = res; }) as unknown as void; } }, ac.signal);
  clock.ns += 1e6; o.record(flow(200, clock));
  await new Promise((r) => setImmediate(r));
  for (let i = 201; i < 400; i++) { clock.ns += 1e6; o.record(flow(i, clock)); }
  store.flush();
  release();
  await new Promise((r) => setImmediate(r));
  const kept = store.oldest(o.ring.oldest);
  t.equal(got[1]!.lost_events?.num_events_lost, kept - 201, 'lost exactly what the store no longer holds');
  t.equal(got[2]!.flow!.Summary, `#${kept}`, 'then on from the oldest kept flow');
  t.equal(got.at(-1)!.flow!.Summary, '#399');
  ac.abort(); await done; o.close();
});

t.test('a new store starts empty', async (t) => {
  const nodeDir = join(dir, 'n3');
  new FlowStore({ dir: nodeDir }).close();
  writeFileSync(join(nodeDir, '0000000000000000.flows'), 'left by a previous run');
  writeFileSync(join(nodeDir, 'notes.txt'), 'not ours');
  const store = new FlowStore({ dir: nodeDir });
  t.same(readdirSync(nodeDir).sort(), ['notes.txt'], 'old segments removed, other files left');
  t.equal(store.oldest(42), 42, 'nothing kept yet');
});

t.test('on a lab: a ring of 7 with the store gives what a ring of 4,095 gives', async (t) => {
  const { Cluster } = await import('../src/cluster/cluster.ts');
  const { LABS } = await import('../src/cluster/labs/index.ts');
  const small = Cluster.fromYaml(LABS.cilium!, { seed: 3, hubble: { capacity: 7, flowStore: { dir: join(dir, 'lab') } } });
  const big = Cluster.fromYaml(LABS.cilium!, { seed: 3 });
  t.teardown(() => { small.close(); big.close(); });
  const lines = async (c: InstanceType<typeof Cluster>) => {
    await c.sim.settle(c.kubectl(['exec', 'netpod', '--', 'curl', '-s', '172.16.2.180']));
    await c.sim.settle(c.sim.sleep(50e6));
    const out: string[] = [];
    await c.hubble()!.getFlows({ first: true }, (r) => { if (r.flow) out.push(`${r.flow.node_name} ${r.flow.uuid} ${r.flow.Summary}`); }, new AbortController().signal);
    return out;
  };
  const [a, b] = [await lines(small), await lines(big)];
  const onS = b.filter((l) => l.startsWith('default/k8s-s ')).length;
  t.ok(onS > 7, `${onS} flows on k8s-s: more than its ring of 7 holds`);
  t.same(a, b);
  t.same(readdirSync(join(dir, 'lab')).sort(), ['k8s-s', 'k8s-w1', 'k8s-w2'], 'one directory per node');
});

t.test('a store that cannot write stops keeping flows; the ring goes on', async (t) => {
  const nodeDir = join(dir, 'n4');
  const clock = new Clock(), store = new FlowStore({ dir: nodeDir });
  const o = new NodeObserver({ nodeName: 'default/n1', decode: () => null }, clock, { capacity: 7, store });
  rmSync(nodeDir, { recursive: true });
  writeFileSync(nodeDir, 'a file where the directory was');
  for (let i = 0; i < 20; i++) { clock.ns += 1e6; o.record(flow(i, clock)); }
  store.flush();
  t.match(store.error, /ENOTDIR|EEXIST|ENOENT/, `the error is kept (${store.error})`);
  t.same(summaries(await collect(o, { first: true })), Array.from({ length: 7 }, (_, i) => `#${13 + i}`), 'the ring still answers');
  rmSync(nodeDir, { force: true });
});
