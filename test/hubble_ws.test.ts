// WebSocket /v1/flows over real loopback TCP, frames decoded as a browser
// would: gRPC-framed GetFlowsResponse binary frames (flag byte, 4-byte
// big-endian length, protobuf) or protojson text frames; the query's hubble
// flags (filters, --not, last / first, follow), the CLI's messages for bad
// ones, the slots shared with the other streams, and the LostEvent a reader
// gets once the ring overtakes it.
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../src/api/server.ts';
import { NodeObserver } from '../src/hubble/observer.ts';
import { FlowPrinter } from '../src/hubble/printer/flows.ts';
import { GetFlowsResponse, type FlowObject, type GetFlowsRequestObject, type GetFlowsResponseObject } from '../src/hubble/proto.ts';
import type { HubbleService } from '../src/hubble/service.ts';
import { FakeCluster } from './helpers/fake_cluster.ts';
import { drain, inPod, seedLab } from './helpers/lab.ts';

const WEBPOD2 = '172.16.2.180';

const until = async (what: string, cond: () => boolean): Promise<void> => {
  for (let waited = 0; !cond(); waited += 5) {
    if (waited > 20_000) throw new Error(`still waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

interface Client { ws: WebSocket; frames: Buffer[]; texts: string[]; closed: Promise<{ code: number; reason: string }> }

function open(server: RunningServer, query: string, from = '127.0.0.1'): Promise<Client> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/flows${query}`, { localAddress: from });
  const c: Client = { ws, frames: [], texts: [], closed: new Promise((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() }))) };
  ws.on('message', (d: Buffer, binary: boolean) => { if (binary) c.frames.push(d); else c.texts.push(d.toString()); });
  return new Promise((resolve, reject) => { ws.once('open', () => resolve(c)); ws.once('error', reject); });
}

/** A binary frame's GetFlowsResponse, after checking its 5-byte gRPC prefix. */
function unframe(t: Test, f: Buffer): GetFlowsResponseObject {
  t.equal(f[0], 0, 'uncompressed');
  t.equal(f.readUInt32BE(1), f.length - 5, 'length prefix');
  return GetFlowsResponse.toObject(GetFlowsResponse.decode(f.subarray(5)), { longs: Number, defaults: false }) as GetFlowsResponseObject;
}

async function direct(svc: HubbleService, req: GetFlowsRequestObject): Promise<GetFlowsResponseObject[]> {
  const out: GetFlowsResponseObject[] = [];
  await svc.getFlows(req, (r) => { out.push(r); }, new AbortController().signal);
  return out;
}
const uuids = (rs: GetFlowsResponseObject[]) => rs.flatMap((r) => (r.flow ? [r.flow.uuid] : []));

t.test('the seed lab\'s flows over /v1/flows', async (t) => {
  const lab = seedLab();
  t.teardown(() => lab.close());
  for (const cmd of [`ping -c 1 ${WEBPOD2}`, `curl -s ${WEBPOD2}`, `curl -s ${WEBPOD2}:8080`]) { await inPod(lab, 'netpod', cmd.split(' ')); await drain(lab); }
  const server = await startServer(lab, { port: 0, clock: 'manual' });
  t.teardown(() => server.close());
  const svc = lab.hubble()!;

  await t.test('binary frames: one GetFlowsResponse each, the query as hubble observe flags, then a normal close', async (t) => {
    const cases: Array<[string, GetFlowsRequestObject]> = [
      ['', { number: 20 }],
      ['?pod=webpod2&last=5', { number: 5, whitelist: [{ source_pod: ['webpod2'] }, { destination_pod: ['webpod2'] }] }],
      ['?from-pod=netpod&to-port=8080&tcp-flags=syn', { number: 20, whitelist: [{ source_pod: ['netpod'], destination_port: ['8080'], tcp_flags: [{ SYN: true }] }] }],
      ['?pod=netpod&not.type=trace-sock&all=true', { number: 2 ** 64 - 1, whitelist: [{ source_pod: ['netpod'] }, { destination_pod: ['netpod'] }], blacklist: [{ event_type: [{ type: 7 }] }] }],
      ['?verdict=FORWARDED&type=trace%3Ato-network&first=3', { number: 3, first: true, whitelist: [{ verdict: [1], event_type: [{ type: 4, match_sub_type: true, sub_type: 11 }] }] }],
    ];
    for (const [q, req] of cases) {
      const c = await open(server, q);
      t.same(await c.closed, { code: 1000, reason: 'end of flows' }, `${q || '(no query)'}: closed normally after the last flow`);
      const got = c.frames.map((f) => unframe(t, f));
      t.same(uuids(got), uuids(await direct(svc, req)), `${q || '(no query)'}: ${got.length} frames, the flows GetFlows gives`);
      t.same(c.texts, [], 'no text frames');
    }
    const c = await open(server, '?to-pod=webpod2&tcp-flags=syn&to-port=80');
    await c.closed;
    const syn = c.frames.map((f) => unframe(t, f)).find((r) => r.flow && r.flow.event_type.sub_type === undefined)!.flow!;
    t.match(syn, { IP: { source: '172.16.0.230', destination: WEBPOD2, ipVersion: 1 }, l4: { TCP: { destination_port: 80, flags: { SYN: true } } },
      source: { pod_name: 'netpod' }, destination: { pod_name: 'webpod2' }, is_reply: {}, Summary: 'TCP Flags: SYN', node_name: 'default/k8s-w2' }, 'fields survive the framing');
  });

  await t.test('?format=json: protojson text frames, as hubble observe -o json prints them', async (t) => {
    const c = await open(server, '?format=json&pod=webpod2&last=3');
    await c.closed;
    t.same(c.frames, [], 'no binary frames');
    const want = await direct(svc, { number: 3, whitelist: [{ source_pod: ['webpod2'] }, { destination_pod: ['webpod2'] }] });
    const printer = new FlowPrinter({ output: 'jsonpb', timeLayout: 'StampMilli', nodeName: false, ipTranslation: true });
    const lines = want.filter((r) => r.flow).map((r) => printer.write(r).stdout.trimEnd());
    t.same(c.texts.filter((x) => x.startsWith('{"flow"')), lines, 'frame for frame the CLI\'s JSON lines');
    const first = JSON.parse(c.texts.find((x) => x.startsWith('{"flow"'))!) as { flow: Record<string, unknown>; node_name: string; time: string };
    t.match(first, { flow: { verdict: 'FORWARDED', Type: 'L3_L4', IP: { ipVersion: 'IPv4' } }, node_name: /^default\/k8s-/, time: /^2024-10-21T\d\d:\d\d:\d\d(\.\d+)?Z$/ }, 'proto names, enum names, RFC 3339');
  });

  await t.test('follow: new flows as they come, until the client closes', async (t) => {
    const c = await open(server, '?follow=true&to-pod=webpod2&protocol=icmp');
    await inPod(lab, 'netpod', ['ping', '-c', '1', WEBPOD2]);
    await drain(lab);
    await until('the echo request', () => c.frames.some((f) => unframe(t, f).flow?.l4?.ICMPv4?.type === 8));
    t.ok(c.frames.map((f) => unframe(t, f)).every((r) => !r.flow || (r.flow.destination?.pod_name === 'webpod2' && r.flow.l4?.ICMPv4)), 'only what the filter lets through');
    c.ws.close();
    t.equal((await c.closed).code, 1005);
  });

  await t.test('bad queries: the hubble CLI\'s message as {error}, then close 4400', async (t) => {
    const cases: Array<[string, string]> = [
      ['?verdict=DROP', 'invalid argument "DROP" for "--verdict" flag: invalid --verdict value: DROP'],
      ['?pod=netpod&namespace=default', 'invalid argument "default" for "-n, --namespace" flag: filters --namespace and --pod cannot be combined'],
      ['?last=5&all=true', 'cannot set both --last and --all'],
      ['?first=2&follow=true', 'cannot set both --first and --follow'],
      ['?since=yesterday', 'failed to parse the since time: failed to convert yesterday to time'],
      ['?bogus=1', 'unknown query parameter "bogus"'],
      ['?output=json', 'unknown query parameter "output"'],
      ['?follow=maybe', 'query parameter "follow" is true or false, not "maybe"'],
      ['?format=xml', 'format is binary or json, not "xml"'],
      ['?ip=not-an-ip', 'invalid source_ip filter: "not-an-ip" is not an IP address or CIDR'],
    ];
    for (const [q, error] of cases) {
      const c = await open(server, q);
      const closed = await c.closed;
      t.equal(closed.code, 4400, `${q}: 4400`);
      t.match(JSON.parse(c.texts[0]!), { error }, `${q}: ${error}`);
    }
  });
});

/** A cluster whose Hubble is one observer with a small ring, fed by the test. */
function smallRing(): { cluster: FakeCluster; obs: NodeObserver; record: (n: number) => void } {
  const clock = { epochMs: Date.UTC(2024, 9, 21, 11, 10, 0), ns: 0, now() { return this.ns; } };
  const obs = new NodeObserver({ nodeName: 'default/n1', decode: () => null }, clock, { capacity: 7 });
  const cluster = Object.assign(new FakeCluster(), { hubble: () => obs });
  let n = 0;
  const record = (count: number) => {
    for (let i = 0; i < count; i++) {
      clock.ns += 1e6;
      const f: FlowObject = { time: { seconds: 1729509000 + Math.floor(clock.ns / 1e9), nanos: clock.ns % 1e9 }, uuid: `u${n}`, verdict: 1, Type: 1,
        node_name: 'default/n1', event_type: { type: 4, sub_type: 0 }, Summary: `#${n++} ${'x'.repeat(200)}` };
      obs.record(f);
    }
  };
  return { cluster, obs, record };
}

t.test('a reader that does not keep up: the stream waits, the ring overtakes it, a LostEvent says how many', async (t) => {
  const { cluster, record } = smallRing();
  const server = await startServer(cluster, { port: 0, clock: 'manual', streams: { bufferBytes: 1024 } });
  t.teardown(() => server.close());
  const c = await open(server, '?follow=true');
  c.ws.pause();
  // Paused, the client reads nothing: kernel buffers fill, the server holds its 1 KiB and stops; the 7-flow ring laps it.
  for (let round = 0; round < 40; round++) { record(500); await new Promise((r) => setTimeout(r, 5)); }
  c.ws.resume();
  await until('a lost_events frame', () => c.frames.some((f) => unframe(t, f).lost_events));
  const lost = c.frames.map((f) => unframe(t, f)).find((r) => r.lost_events)!;
  t.match(lost.lost_events, { source: 3 }, 'HUBBLE_RING_BUFFER, as Hubble reports a lapped reader');
  t.ok(lost.lost_events!.num_events_lost > 0, `${lost.lost_events!.num_events_lost} flows lost`);
  const seqs = c.frames.map((f) => unframe(t, f)).flatMap((r) => (r.flow ? [Number(/^#(\d+)/.exec(r.flow.Summary)![1])] : []));
  t.ok(seqs.every((v, i) => i === 0 || v > seqs[i - 1]!), 'the flows that came are in order');
  c.ws.close();
  await c.closed;
});

t.test('flows streams take the same slots as capture and monitor streams', async (t) => {
  const { cluster } = smallRing();
  const server = await startServer(cluster, { port: 0, clock: 'manual', streams: { maxStreams: 10, maxPerClient: 2 } });
  t.teardown(() => server.close());
  const monitor = new WebSocket(`${server.url.replace('http', 'ws')}/v1/nodes/k8s-s/monitor`);
  await new Promise((r) => monitor.once('open', r));
  const follow = await open(server, '?follow=true');
  const refused = await open(server, '?follow=true');
  t.equal((await refused.closed).code, 4429, 'a third stream from one client is refused');
  t.match(JSON.parse(refused.texts[0]!), { error: /^too many streams from 127\.0\.0\.1: 2 open/ });
  const other = await open(server, '?follow=true', '127.0.0.2');
  t.equal(other.ws.readyState, WebSocket.OPEN, 'another client still gets one');
  for (const c of [follow, other]) c.ws.close();
  monitor.close();
  const noHubble = await startServer(new FakeCluster(), { port: 0, clock: 'manual' });
  t.teardown(() => noHubble.close());
  const c = await open(noHubble, '');
  t.equal((await c.closed).code, 4501, 'a cluster without Hubble: 501');
  t.match(JSON.parse(c.texts[0]!), { error: /has no Hubble/ });
});
