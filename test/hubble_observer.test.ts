// Hubble's observer and relay on flows recorded by hand: GetFlows' number /
// first / follow / since / until, field masks, lost events when a reader
// falls a ring behind, ServerStatus, GetNodes, GetNamespaces, and the relay's
// time-ordered merge. The lab-driven flows are in test/hubble.test.ts.
import t from 'tap';
import { HubbleError } from '../src/hubble/errors.ts';
import { NodeObserver, type FlowDecoder } from '../src/hubble/observer.ts';
import type { FlowObject, GetFlowsRequestObject, GetFlowsResponseObject } from '../src/hubble/proto.ts';
import { Relay } from '../src/hubble/relay.ts';
import { validCapacity } from '../src/hubble/ring.ts';

/** A clock the test moves: ns since epochMs. */
class Clock { epochMs = Date.UTC(2024, 9, 21, 11, 10, 0); ns = 0; now(): number { return this.ns; } }

const decoder = (nodeName: string): FlowDecoder => ({ nodeName, decode: () => null });

let seq = 0;
/** A flow at clock time, numbered in its Summary (`#7`). */
function flow(clock: Clock, node: string, extra: Partial<FlowObject> = {}): FlowObject {
  const total = clock.ns;
  const epochSec = Math.floor(clock.epochMs / 1000);
  return { time: { seconds: epochSec + Math.floor(total / 1e9), nanos: total % 1e9 }, uuid: `u${seq}`, verdict: 1, Type: 1, node_name: node,
    event_type: { type: 4, sub_type: 0 }, Summary: `#${seq++}`, ...extra };
}

function observer(clock: Clock, node = 'default/n1', capacity = 7): NodeObserver {
  return new NodeObserver(decoder(node), clock, { capacity });
}

/** Record n flows, 1 ms apart. */
function fill(o: NodeObserver, clock: Clock, n: number, extra: Partial<FlowObject> = {}): void {
  for (let i = 0; i < n; i++) { clock.ns += 1e6; o.record(flow(clock, o.nodeName, extra)); }
}

async function collect(svc: { getFlows: NodeObserver['getFlows'] }, req: GetFlowsRequestObject): Promise<GetFlowsResponseObject[]> {
  const out: GetFlowsResponseObject[] = [];
  await svc.getFlows(req, (r) => { out.push(r); }, new AbortController().signal);
  return out;
}
const summaries = (rs: GetFlowsResponseObject[]) => rs.filter((r) => r.flow).map((r) => r.flow!.Summary);

t.test('ring capacity is 2^n-1 up to 65535, as hubble-event-buffer-capacity', async (t) => {
  for (const [n, ok] of [[1, true], [3, true], [4095, true], [65535, true], [0, false], [4096, false], [100, false], [131071, false]] as const) {
    t.equal(validCapacity(n), ok, `${n}`);
  }
  t.throws(() => observer(new Clock(), 'x', 4096), /2\^n-1/);
});

t.test('number, first, since, until over one node', async (t) => {
  const clock = new Clock(), o = observer(clock, 'default/n1', 15);
  seq = 0;
  fill(o, clock, 10); // #0 .. #9 at 1..10 ms
  const cases: Array<{ name: string; req: GetFlowsRequestObject; want: string[] }> = [
    { name: 'last 3, oldest first', req: { number: 3 }, want: ['#7', '#8', '#9'] },
    { name: 'number as a Long (2^64-1 = all)', req: { number: { low: -1, high: -1, unsigned: true } }, want: Array.from({ length: 10 }, (_, i) => `#${i}`) },
    { name: 'number 0 without follow: everything held', req: {}, want: Array.from({ length: 10 }, (_, i) => `#${i}`) },
    { name: 'first 2', req: { number: 2, first: true }, want: ['#0', '#1'] },
    { name: 'since 8 ms', req: { since: { seconds: 1729509000, nanos: 8e6 } }, want: ['#7', '#8', '#9'] },
    { name: 'until 2 ms', req: { until: { seconds: 1729509000, nanos: 2e6 } }, want: ['#0', '#1'] },
    { name: 'since 3 ms, until 5 ms', req: { since: { seconds: 1729509000, nanos: 3e6 }, until: { seconds: 1729509000, nanos: 5e6 } }, want: ['#2', '#3', '#4'] },
    { name: 'last 2 before until 5 ms', req: { number: 2, until: { seconds: 1729509000, nanos: 5e6 } }, want: ['#3', '#4'] },
    { name: 'first 2 since 5 ms', req: { number: 2, first: true, since: { seconds: 1729509000, nanos: 5e6 } }, want: ['#4', '#5'] },
    { name: 'last 2 of a filter', req: { number: 2, whitelist: [{ uuid: ['u1', 'u3', 'u5'] }] }, want: ['#3', '#5'] },
    { name: 'blacklist drops', req: { number: 3, blacklist: [{ uuid: ['u9'] }] }, want: ['#6', '#7', '#8'] },
  ];
  for (const c of cases) {
    const rs = await collect(o, c.req);
    t.same(summaries(rs), c.want, c.name);
    t.ok(rs.every((r) => r.node_name === 'default/n1' && r.time === r.flow!.time), `${c.name}: node_name and time copied from the flow`);
  }
});

t.test('bad requests are INVALID_ARGUMENT before anything is sent', async (t) => {
  const clock = new Clock(), o = observer(clock);
  fill(o, clock, 3);
  const bad: Array<[string, GetFlowsRequestObject, RegExp]> = [
    ['first with follow', { first: true, follow: true }, /first cannot be specified with follow/],
    ['until before since', { since: { seconds: 10, nanos: 0 }, until: { seconds: 5, nanos: 0 } }, /until/],
    ['nanos out of range', { since: { seconds: 1, nanos: 2e9 } }, /timestamp/],
    ['field mask path', { field_mask: { paths: ['source.nope'] } }, /fieldmask/],
    ['field mask below a scalar', { field_mask: { paths: ['Summary.x'] } }, /fieldmask/],
    ['bad filter', { whitelist: [{ source_ip: ['10.0.0.300'] }] }, /source_ip/],
  ];
  for (const [name, req, re] of bad) {
    let sent = 0;
    const err = await o.getFlows(req, () => { sent++; }, new AbortController().signal).then(() => null, (e: unknown) => e);
    t.ok(err instanceof HubbleError && err.code === 'INVALID_ARGUMENT' && err.grpcStatus === 3, `${name}: INVALID_ARGUMENT`);
    t.match((err as Error).message, re, name);
    t.equal(sent, 0, `${name}: nothing sent`);
  }
});

t.test('field mask keeps only the listed paths', async (t) => {
  const clock = new Clock(), o = observer(clock);
  o.record(flow(clock, o.nodeName, { source: { ID: 5, identity: 300, namespace: 'default', pod_name: 'a', labels: ['k8s:app=a'] }, IP: { source: '10.0.0.1', destination: '10.0.0.2', ipVersion: 1 } }));
  const [r] = await collect(o, { field_mask: { paths: ['source.identity', 'source.pod_name', 'Summary', 'IP'] } });
  t.same(r!.flow, { source: { identity: 300, pod_name: 'a' }, Summary: r!.flow!.Summary, IP: { source: '10.0.0.1', destination: '10.0.0.2', ipVersion: 1 } });
  t.equal(o.ring.at(0)!.flow!.source!.ID, 5, 'the ring keeps the whole flow');
});

t.test('follow: history, then new flows as they come; abort ends the stream', async (t) => {
  const clock = new Clock(), o = observer(clock, 'default/n1', 15);
  seq = 0;
  fill(o, clock, 5);
  const got: string[] = [];
  const ac = new AbortController();
  const done = o.getFlows({ number: 2, follow: true }, (r) => { got.push(r.flow!.Summary); }, ac.signal);
  await new Promise((r) => setImmediate(r));
  t.same(got, ['#3', '#4'], 'the last 2 first');
  fill(o, clock, 3);
  await new Promise((r) => setImmediate(r));
  t.same(got, ['#3', '#4', '#5', '#6', '#7'], 'then each new flow');
  ac.abort();
  await done;
  fill(o, clock, 1);
  await new Promise((r) => setImmediate(r));
  t.equal(got.length, 5, 'nothing after abort');
  t.equal(o.notifier.waiting, 0, 'no reader left waiting');

  const only: string[] = [];
  const ac2 = new AbortController();
  const d2 = o.getFlows({ follow: true }, (r) => { only.push(r.flow!.Summary); }, ac2.signal);
  await new Promise((r) => setImmediate(r));
  t.same(only, [], 'follow alone sends no history');
  fill(o, clock, 1);
  await new Promise((r) => setImmediate(r));
  t.same(only, ['#9'], 'only what comes after');
  ac2.abort(); await d2;
});

t.test('a reader that falls a ring behind gets a LostEvent, then the oldest flow held', async (t) => {
  const clock = new Clock(), o = observer(clock, 'default/n1', 7);
  seq = 0;
  const got: GetFlowsResponseObject[] = [];
  let release!: () => void;
  let stalled = false;
  const ac = new AbortController();
  // The first send stalls (a slow client): meanwhile the ring turns over twice.
  const done = o.getFlows({ follow: true }, (r) => {
    got.push(r);
    if (!stalled) { stalled = true; return new Promise<void>((res) => { release = res; }) as unknown as void; }
  }, ac.signal);
  fill(o, clock, 1);
  await new Promise((r) => setImmediate(r));
  t.equal(got.length, 1);
  fill(o, clock, 20); // #1..#20; the reader's next is #1, the ring keeps #14..#20
  release();
  await new Promise((r) => setImmediate(r));
  const lost = got[1]!.lost_events;
  t.ok(lost, 'a LostEvent comes next');
  t.equal(lost!.source, 3, 'source HUBBLE_RING_BUFFER');
  t.equal(lost!.num_events_lost, 13, 'the 13 flows overwritten before it read them');
  t.equal(got[1]!.node_name, 'default/n1');
  t.same(summaries(got.slice(2)), ['#14', '#15', '#16', '#17', '#18', '#19', '#20'], 'then the oldest held, in order');
  t.equal(o.lostToReaders, 13, 'counted');
  const st = o.serverStatus();
  t.equal(st.num_flows, 7); t.equal(st.max_flows, 7); t.equal(st.seen_flows, 21);
  ac.abort(); await done;
});

t.test('ServerStatus, GetNodes and GetNamespaces of one node', async (t) => {
  const clock = new Clock(), o = new NodeObserver(decoder('default/n1'), clock, { capacity: 4095, version: '1.16.3+gf2217191' });
  t.same(o.serverStatus(), { num_flows: 0, max_flows: 4095, seen_flows: 0, uptime_ns: 0, version: '1.16.3+gf2217191', flows_rate: 0 });
  for (let i = 0; i < 60; i++) { clock.ns += 1e9; o.record(flow(clock, o.nodeName, { source: { namespace: i % 2 ? 'kube-system' : 'default' } })); }
  const st = o.serverStatus();
  t.equal(st.num_flows, 60); t.equal(st.seen_flows, 60); t.equal(st.uptime_ns, 60e9);
  t.ok(Math.abs(st.flows_rate - 1) < 0.05, `about one flow a second over the last minute (${st.flows_rate})`);
  let err: unknown;
  try { o.getNodes(); } catch (e) { err = e; }
  t.ok(err instanceof HubbleError && err.code === 'UNIMPLEMENTED', 'a node answers GetNodes with Unimplemented');
  t.same(o.getNamespaces(), { namespaces: [{ cluster: '', namespace: 'default' }, { cluster: '', namespace: 'kube-system' }] });
  clock.ns += 3601e9;
  t.same(o.getNamespaces(), { namespaces: [] }, 'forgotten an hour after their last flow');
});

t.test('relay: node status first, then every node\'s answer merged in time order', async (t) => {
  const clock = new Clock();
  const a = observer(clock, 'default/a', 15), b = observer(clock, 'default/b', 15);
  const relay = new Relay(() => [{ observer: a, address: '192.168.10.10:4244' }, { observer: b, address: '192.168.10.101:4244' }], clock, 'v');
  seq = 0;
  for (let i = 0; i < 6; i++) { clock.ns += 1e6; (i % 2 ? b : a).record(flow(clock, i % 2 ? 'default/b' : 'default/a')); }
  const rs = await collect(relay, { number: 2 });
  t.same(rs[0]!.node_status, { state_change: 1, node_names: ['default/a', 'default/b'] }, 'NODE_CONNECTED with the nodes');
  t.same(summaries(rs), ['#2', '#3', '#4', '#5'], 'number applies per node (2 each), merged by time');
  t.same(rs.slice(1).map((r) => r.node_name), ['default/a', 'default/b', 'default/a', 'default/b']);

  const live: string[] = [];
  const ac = new AbortController();
  const done = relay.getFlows({ follow: true }, (r) => { if (r.flow) live.push(`${r.node_name} ${r.flow.Summary}`); }, ac.signal);
  await new Promise((r) => setImmediate(r));
  // One synchronous burst on both nodes: the relay still sends it in time order.
  clock.ns += 1e6; const f1 = flow(clock, 'default/b'); clock.ns += 1e6; const f2 = flow(clock, 'default/a'); clock.ns += 1e6; const f3 = flow(clock, 'default/b');
  a.record(f2); b.record(f1); b.record(f3);
  await new Promise((r) => setImmediate(r));
  t.same(live, ['default/b #6', 'default/a #7', 'default/b #8']);
  ac.abort(); await done;

  const st = relay.serverStatus();
  t.equal(st.num_flows, 9); t.equal(st.max_flows, 30); t.equal(st.seen_flows, 9);
  t.same(st.num_connected_nodes, { value: 2 }); t.same(st.num_unavailable_nodes, { value: 0 });
  const nodes = relay.getNodes().nodes;
  t.same(nodes.map((n) => [n.name, n.address, n.state, n.num_flows, n.max_flows]), [['default/a', '192.168.10.10:4244', 1, 4, 15], ['default/b', '192.168.10.101:4244', 1, 5, 15]]);
});

t.test('a client that never takes its response does not hold the stream once aborted', async (t) => {
  const clock = new Clock(), o = observer(clock);
  fill(o, clock, 3);
  const ac = new AbortController();
  let sent = 0;
  const done = o.getFlows({ follow: true, number: 3 }, () => { sent++; return new Promise<void>(() => {}) as unknown as void; }, ac.signal);
  await new Promise((r) => setImmediate(r));
  t.equal(sent, 1, 'stalled on the first response');
  ac.abort();
  await done;
  t.pass('getFlows resolved on abort');
  const failing = await o.getFlows({}, () => Promise.reject(new Error('stream closed')) as unknown as void, new AbortController().signal).then(() => null, (e: Error) => e.message);
  t.equal(failing, 'stream closed', "a transport error ends getFlows with it");
});
