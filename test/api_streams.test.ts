// Capture and monitor WebSockets via injectWS against the fake cluster.
import t from 'tap';
import type { WebSocket } from 'ws';
import { buildApp } from '../src/api/app.ts';
import { decodeCaptureMessage, encodeCaptureMessage } from '../src/api/capture_codec.ts';
import { FakeCluster, pingFrame } from './helpers/fake_cluster.ts';

async function setup(t: { teardown(fn: () => unknown): void }) {
  const cluster = new FakeCluster();
  const app = buildApp(cluster);
  t.teardown(() => app.close());
  await app.ready();
  return { cluster, app };
}

/** Collects messages until the socket closes or n have arrived. */
function collect(ws: WebSocket, n: number): Promise<{ msgs: { data: Buffer; binary: boolean }[]; code?: number }> {
  return new Promise((resolve) => {
    const msgs: { data: Buffer; binary: boolean }[] = [];
    ws.on('message', (data: Buffer, binary: boolean) => { msgs.push({ data, binary }); if (msgs.length === n) resolve({ msgs }); });
    ws.on('close', (code: number) => resolve({ msgs, code }));
  });
}

const until = async (cond: () => boolean): Promise<void> => { while (!cond()) await new Promise((r) => setTimeout(r, 5)); };

t.test('capture streams frames as 8-byte wall-clock ns + frame', async (t) => {
  const { app, cluster } = await setup(t);
  let got!: ReturnType<typeof collect>;
  const ws = await app.injectWS('/v1/nodes/k8s-w1/capture?iface=eth0', {}, { onInit: (w) => { got = collect(w, 3); } });
  await until(() => cluster.captureCount() === 1);
  await cluster.sim.settle(cluster.sim.sleep(1_234_567));
  cluster.emitFrame('k8s-w1', 'eth0', pingFrame(1));
  cluster.emitFrame('k8s-w2', 'eth0', pingFrame(9), 'out');
  cluster.emitFrame('k8s-w1', 'eth0', pingFrame(1, true));
  const { msgs: [first, ...msgs] } = await got;
  t.same(JSON.parse(first!.data.toString()), { listening: { node: 'k8s-w1', iface: 'eth0' } }, 'first a text message saying the capture is attached');
  t.same(msgs.map((m) => m.binary), [true, true]);
  const a = decodeCaptureMessage(new Uint8Array(msgs[0]!.data));
  t.same([...a.frame], [...pingFrame(1)], 'frame bytes unchanged');
  const expectNs = BigInt(cluster.sim.epochMs) * 1_000_000n + 1_234_567n;
  t.equal(BigInt(a.sec) * 1_000_000_000n + BigInt(a.nsec), expectNs, 'timestamp is the virtual wall clock');
  t.equal(a.nsec % 1000, 567, 'sub-microsecond part kept');
  t.same([...decodeCaptureMessage(new Uint8Array(msgs[1]!.data)).frame], [...pingFrame(1, true)]);
  ws.terminate();
  await until(() => cluster.captureCount() === 0);
  t.pass('closing the socket stops the capture');
});

const refusals = [
  { url: '/v1/nodes/k8s-w9/capture?iface=eth0', code: 4404, error: 'node "k8s-w9" not found' },
  { url: '/v1/nodes/k8s-w1/capture?iface=eth7', code: 4404, error: 'eth7: No such device exists (SIOCGIFHWADDR: No such device)' },
  { url: '/v1/nodes/k8s-w1/capture', code: 4400, error: 'capture needs ?iface=NAME' },
  { url: '/v1/nodes/nowhere/monitor', code: 4404, error: 'node "nowhere" not found' },
];
for (const c of refusals) {
  t.test(`refuses ${c.url} with ${c.code}`, async (t) => {
    const { app, cluster } = await setup(t);
    let got!: ReturnType<typeof collect>;
    const ws = await app.injectWS(c.url, {}, { onInit: (w) => { got = collect(w, 99); } });
    const { msgs, code } = await got;
    ws.terminate(); // injectWS's in-memory stream never ends on its own; TCP clients hang up by themselves
    t.equal(code, c.code);
    t.same(msgs.map((m) => JSON.parse(m.data.toString())), [{ error: c.error, field: JSON.parse(msgs[0]!.data.toString()).field }]);
    t.equal(msgs[0]!.binary, false, 'the error is a text message');
    t.equal(cluster.captureCount() + cluster.monitorCount(), 0);
  });
}

t.test('monitor streams MonitorLine JSON for its node only', async (t) => {
  const { app, cluster } = await setup(t);
  let got!: ReturnType<typeof collect>;
  const ws = await app.injectWS('/v1/nodes/k8s-s/monitor', {}, { onInit: (w) => { got = collect(w, 2); } });
  await until(() => cluster.monitorCount() === 1);
  cluster.emitMonitor('k8s-s', 'Listening for events on 2 CPUs with 64x4096 of shared memory');
  cluster.emitMonitor('k8s-w1', 'not this one');
  cluster.emitMonitor('k8s-s', '-> endpoint 1234 flow 0x0 , identity 5678->9012 state new ifindex lxc1 orig-ip 172.16.0.230: 172.16.0.230 -> 172.16.1.111 EchoRequest');
  const { msgs } = await got;
  const lines = msgs.map((m) => JSON.parse(m.data.toString()) as { node: string; text: string; wallMs: number });
  t.same(lines.map((l) => [l.node, l.text.slice(0, 12)]), [['k8s-s', 'Listening fo'], ['k8s-s', '-> endpoint ']]);
  t.equal(lines[0]!.wallMs, cluster.sim.wallMs());
  ws.terminate();
  await until(() => cluster.monitorCount() === 0);
  t.pass('closing the socket stops the monitor');
});

t.test('capture codec round-trips the timestamp', async (t) => {
  const epochMs = Date.UTC(2024, 9, 21, 11, 10, 0);
  const m = decodeCaptureMessage(encodeCaptureMessage({ frame: new Uint8Array([1, 2, 3]), wallMs: epochMs + 1.234567, tsNs: 1_234_567 }, epochMs));
  t.same({ sec: m.sec, nsec: m.nsec, frame: [...m.frame] }, { sec: Date.UTC(2024, 9, 21, 11, 10, 0) / 1000, nsec: 1_234_567, frame: [1, 2, 3] });
  t.throws(() => decodeCaptureMessage(new Uint8Array(3)), /shorter than its header/);
});
