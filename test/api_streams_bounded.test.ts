// Bounded WebSocket streams over real loopback TCP: caps per client address
// and in total (refused with {error} and 4000+status), and readers that do not
// keep up lose messages, counted and reported to them.
import t from 'tap';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../src/api/server.ts';
import { decodeCaptureMessage } from '../src/api/capture_codec.ts';
import type { StreamLimits } from '../src/api/stream_limits.ts';
import { FakeCluster, pingFrame } from './helpers/fake_cluster.ts';

/** Waits for cond; fails (instead of hanging) after 20 s of waiting. */
const until = async (cond: () => boolean): Promise<void> => {
  for (let waited = 0; !cond(); waited += 5) {
    if (waited > 20_000) throw new Error(`still waiting for ${cond.toString()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

async function serve(t: { teardown(fn: () => unknown): void }, streams: Partial<StreamLimits>): Promise<{ cluster: FakeCluster; server: RunningServer }> {
  const cluster = new FakeCluster();
  const server = await startServer(cluster, { port: 0, clock: 'manual', streams });
  t.teardown(() => server.close());
  return { cluster, server };
}

interface Client { ws: WebSocket; texts: unknown[]; binary: Buffer[]; closed: Promise<number> }

/** Opens a stream from a loopback source address; resolves once the handshake is done. */
function open(server: RunningServer, path: string, from = '127.0.0.1'): Promise<Client> {
  const ws = new WebSocket(server.url.replace('http', 'ws') + path, { localAddress: from });
  const c: Client = { ws, texts: [], binary: [], closed: new Promise((r) => ws.on('close', (code) => r(code))) };
  ws.on('message', (d: Buffer, isBinary: boolean) => { if (isBinary) c.binary.push(d); else c.texts.push(JSON.parse(d.toString())); });
  return new Promise((resolve, reject) => { ws.once('open', () => resolve(c)); ws.once('error', reject); });
}

const CAPTURE = '/v1/nodes/k8s-w1/capture?iface=eth0';
const MONITOR = '/v1/nodes/k8s-s/monitor';

// Each step opens a stream from an address and expects it kept open or refused; earlier ones stay open.
const capCases: { name: string; limits: Partial<StreamLimits>; steps: { from: string; path: string; code?: number; error?: RegExp }[] }[] = [
  {
    name: 'per client: the third stream from one address is refused with 429, others still get theirs',
    limits: { maxStreams: 10, maxPerClient: 2 },
    steps: [
      { from: '127.0.0.1', path: CAPTURE }, { from: '127.0.0.1', path: MONITOR },
      { from: '127.0.0.1', path: CAPTURE, code: 4429, error: /^too many streams from 127\.0\.0\.1: 2 open, the most one client may have \(dplab serve --max-streams-per-client\)$/ },
      { from: '127.0.0.2', path: MONITOR },
    ],
  },
  {
    name: 'in total: beyond --max-streams every client is refused with 503',
    limits: { maxStreams: 3, maxPerClient: 2 },
    steps: [
      { from: '127.0.0.1', path: CAPTURE }, { from: '127.0.0.2', path: CAPTURE }, { from: '127.0.0.3', path: MONITOR },
      { from: '127.0.0.4', path: MONITOR, code: 4503, error: /^too many streams: 3 open, the most this server takes \(dplab serve --max-streams\)$/ },
      { from: '127.0.0.1', path: CAPTURE, code: 4503, error: /^too many streams: 3 open/ },
    ],
  },
];

for (const c of capCases) {
  t.test(c.name, async (t) => {
    const { cluster, server } = await serve(t, c.limits);
    const kept: Client[] = [];
    for (const [i, s] of c.steps.entries()) {
      const cl = await open(server, s.path, s.from);
      if (s.code === undefined) {
        kept.push(cl);
        await until(() => cluster.captureCount() + cluster.monitorCount() === kept.length);
        continue;
      }
      t.equal(await cl.closed, s.code, `step ${i}: close code`);
      t.equal(cl.texts.length, 1, `step ${i}: one text message`);
      t.match(cl.texts[0], { error: s.error }, `step ${i}: the error`);
      t.equal(cluster.captureCount() + cluster.monitorCount(), kept.length, `step ${i}: nothing subscribed for the refused stream`);
    }
    // A closed stream frees its slot: the first refused request now gets through.
    const refused = c.steps.find((s) => s.code !== undefined)!;
    kept.shift()!.ws.close();
    await until(() => cluster.captureCount() + cluster.monitorCount() === kept.length - 0);
    const again = await open(server, CAPTURE, refused.from === '127.0.0.4' ? '127.0.0.1' : refused.from);
    await until(() => cluster.captureCount() + cluster.monitorCount() === kept.length + 1);
    t.pass('a freed slot is taken again');
    again.ws.close();
    for (const k of kept) k.ws.close();
    t.equal((await fetch(`${server.url}/healthz`)).status, 200, '/healthz answers');
  });
}

/** Feeds `n` messages in bursts while the client's socket is paused, so the server's send buffer fills. */
async function flood(emit: () => void, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    emit();
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
}

t.test('a capture reader that stops reading loses frames, counted exactly and reported as {dropped}', async (t) => {
  const { cluster, server } = await serve(t, { bufferBytes: 16 << 10 });
  const c = await open(server, CAPTURE);
  await until(() => cluster.captureCount() === 1 && c.texts.length === 1);
  const raw = (c.ws as unknown as { _socket: import('node:net').Socket })._socket;
  raw.pause();
  // 27 MB: more than loopback's socket buffers take, so the server's own send buffer fills.
  const N = 3000;
  const frame = new Uint8Array(9000).fill(7);
  frame.set(pingFrame(1));
  await flood(() => cluster.emitFrame('k8s-w1', 'eth0', frame), N);
  raw.resume();
  await until(() => { const d = c.texts.at(-1) as { dropped?: number }; return d.dropped !== undefined && c.binary.length + d.dropped === N; });
  const dropped = (c.texts.at(-1) as { dropped: number }).dropped;
  t.ok(dropped > 0, `frames were dropped (${dropped} of ${N})`);
  t.ok(c.binary.length > 0, `frames were delivered (${c.binary.length})`);
  t.same([...decodeCaptureMessage(new Uint8Array(c.binary[0]!)).frame.slice(0, 14)], [...frame.slice(0, 14)], 'delivered frames are whole');
  // After it caught up, nothing more is lost.
  cluster.emitFrame('k8s-w1', 'eth0', frame);
  await until(() => c.binary.length + dropped === N + 1);
  t.same(c.texts.filter((m) => 'dropped' in (m as object)).length, 1, 'one report for the burst');
  c.ws.close();
});

t.test('a monitor reader that stops reading gets {lost: N} for what it missed, in order, then lines again', async (t) => {
  const { cluster, server } = await serve(t, { bufferBytes: 16 << 10 });
  const c = await open(server, MONITOR);
  await until(() => cluster.monitorCount() === 1);
  const raw = (c.ws as unknown as { _socket: import('node:net').Socket })._socket;
  raw.pause();
  const N = 3000;
  const pad = 'x'.repeat(9000);
  let i = 0;
  await flood(() => cluster.emitMonitor('k8s-s', `${i++} ${pad}`), N);
  raw.resume();
  const lost = (): number => c.texts.reduce((n: number, m) => n + ((m as { lost?: number }).lost ?? 0), 0);
  const lines = (): { text: string }[] => c.texts.filter((m) => 'text' in (m as object)) as { text: string }[];
  await until(() => lines().length + lost() === N);
  t.ok(lost() > 0, `lines were lost (${lost()} of ${N})`);
  // Each report stands where the gap is: the line after it is numbered past the lines before plus the loss.
  let expect = 0;
  const misplaced: number[] = [];
  for (const m of c.texts as ({ text: string } | { lost: number })[]) {
    if ('lost' in m) { expect += m.lost; continue; }
    if (Number(m.text.split(' ')[0]) !== expect) misplaced.push(expect);
    expect++;
  }
  t.same(misplaced, [], 'every line and loss report in stream order');
  cluster.emitMonitor('k8s-s', 'after');
  await until(() => lines().at(-1)?.text === 'after');
  t.pass('lines flow again once the reader caught up');
  c.ws.close();
});
