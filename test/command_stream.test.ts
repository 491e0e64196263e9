// The command streams over real loopback TCP (src/api/command_stream.ts):
// GET /v1/kubectl/stream (a writer that waits: a slow reader holds the
// command back and loses nothing) and GET /v1/nodes/{node}/exec (a source that
// cannot wait: a slow reader gets {lost: N}); {"signal":"SIGINT"} on both;
// bad input is {error} and close 4400; and every way a client can leave
// (mid-stream, mid-admission, never sending its command, a huge frame, a bad
// message) gives its stream slot back.
import t from 'tap';
import Fastify from 'fastify';
import websocket from '@fastify/websocket';
import WebSocket from 'ws';
import type { Socket } from 'node:net';
import { startServer, type RunningServer } from '../src/api/server.ts';
import { kubectlStreamRoutes } from '../src/api/routes/kubectl_stream.ts';
import { StreamRegistry, streamLimits, type StreamLimits } from '../src/api/stream_limits.ts';
import { StreamFake } from './helpers/stream_fake.ts';

/** Waits for cond; fails (instead of hanging) after 20 s of waiting. */
const until = async (cond: () => boolean): Promise<void> => {
  for (let waited = 0; !cond(); waited += 5) {
    if (waited > 20_000) throw new Error(`still waiting for ${cond.toString()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

async function serve(t: { teardown(fn: () => unknown): void }, streams: Partial<StreamLimits> = {}): Promise<{ cluster: StreamFake; server: RunningServer; registry: StreamRegistry }> {
  const cluster = new StreamFake();
  const registry = new StreamRegistry(streamLimits(streams));
  const server = await startServer(cluster, { port: 0, streamRegistry: registry });
  t.teardown(() => server.close());
  return { cluster, server, registry };
}

interface Client { ws: WebSocket; msgs: Record<string, unknown>[]; closed: Promise<number>; raw(): Socket }

function open(server: RunningServer, path: string, from = '127.0.0.1'): Promise<Client> {
  const ws = new WebSocket(server.url.replace('http', 'ws') + path, { localAddress: from });
  const c: Client = {
    ws, msgs: [], closed: new Promise((r) => ws.on('close', (code) => r(code))),
    raw: () => (ws as unknown as { _socket: Socket })._socket,
  };
  ws.on('message', (d: Buffer) => c.msgs.push(JSON.parse(d.toString()) as Record<string, unknown>));
  ws.on('error', () => {});
  return new Promise((resolve, reject) => { ws.once('open', () => resolve(c)); ws.once('unexpected-response', () => reject(new Error('no upgrade'))); });
}

const KUBECTL = '/v1/kubectl/stream';
const CT = '/v1/nodes/k8s-w1/exec?command=conntrack&command=-E';

t.test('kubectl stream, a reader that stops reading: the command waits, and every line arrives in order', async (t) => {
  const { cluster, server, registry } = await serve(t, { bufferBytes: 16 << 10 });
  const c = await open(server, KUBECTL);
  c.raw().pause();
  // 27 MB: more than loopback's socket buffers take, so the server's own send buffer fills.
  const N = 3000;
  c.ws.send(JSON.stringify({ argv: ['print', String(N), '9000'] }));
  await until(() => cluster.blocked);
  t.ok(cluster.wrote < N, `the command is held back (${cluster.wrote} of ${N} lines written)`);
  c.raw().resume();
  t.equal(await c.closed, 1000);
  t.same(c.msgs.at(-1), { exitCode: 0 });
  const lines = c.msgs.slice(0, -1);
  t.equal(lines.length, N, 'no line lost');
  t.same(lines.filter((m, i) => !String(m.stdout).startsWith(`${i} `)), [], 'in order');
  t.notOk(c.msgs.some((m) => 'lost' in m), 'no {lost}: Hubble counts its own lost flows');
  t.ok(cluster.waits > 0, `writes waited (${cluster.waits})`);
  await until(() => registry.open === 0);
});

/** N conntrack lines of 9 kB each, yielding now and then so the socket can fill. */
async function flood(cluster: { emit(line: string): void }, n: number): Promise<void> {
  const pad = 'x'.repeat(9000);
  for (let i = 0; i < n; i++) {
    cluster.emit(`${i} ${pad}`);
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
}

t.test('node exec stream, a reader that stops reading: lines skipped and reported as {lost}, then SIGINT\'s last words', async (t) => {
  const { cluster, server, registry } = await serve(t, { bufferBytes: 16 << 10 });
  const c = await open(server, CT);
  await until(() => cluster.follows === 1);
  c.raw().pause();
  const N = 3000;
  await flood(cluster, N);
  c.raw().resume();
  const lost = (): number => c.msgs.reduce((n, m) => n + ((m.lost as number | undefined) ?? 0), 0);
  const lines = (): Record<string, unknown>[] => c.msgs.filter((m) => 'stdout' in m);
  await until(() => lines().length + lost() === N);
  t.ok(lost() > 0, `lines were lost (${lost()} of ${N})`);
  t.ok(lines().length > 0, `lines were delivered (${lines().length})`);
  c.ws.send(JSON.stringify({ signal: 'SIGINT' }));
  t.equal(await c.closed, 1000);
  t.same(c.msgs.slice(-2), [{ stderr: `conntrack v1.4.7 (conntrack-tools): ${N} flow events have been shown.\n` }, { exitCode: 0 }]);
  await until(() => registry.open === 0 && cluster.follows === 0);
});

t.test('node exec stream: a loss not reported yet still comes before {exitCode} when the command ends at once', async (t) => {
  const { cluster, server, registry } = await serve(t, { bufferBytes: 16 << 10 });
  const c = await open(server, `${CT}&command=-q`);
  await until(() => cluster.follows === 1);
  c.raw().pause();
  const N = 3000;
  await flood(cluster, N);
  c.ws.send(JSON.stringify({ signal: 'SIGINT' }));
  await until(() => cluster.follows === 0);
  c.raw().resume();
  t.equal(await c.closed, 1000);
  const lost = c.msgs.reduce((n, m) => n + ((m.lost as number | undefined) ?? 0), 0);
  t.ok(lost > 0, `lines were lost (${lost})`);
  t.equal(c.msgs.filter((m) => 'stdout' in m).length + lost, N, 'every line delivered or counted');
  t.same(c.msgs.slice(-2), [{ lost: c.msgs.at(-2)!.lost }, { exitCode: 0 }], 'the report, then the exit code');
  await until(() => registry.open === 0);
});

t.test('a kubectl reader that leaves while the command waits on it: the command ends, the slot is free', async (t) => {
  const { cluster, server, registry } = await serve(t, { bufferBytes: 16 << 10 });
  const c = await open(server, KUBECTL);
  c.raw().pause();
  c.ws.send(JSON.stringify({ argv: ['print', '3000', '9000'] }));
  await until(() => cluster.blocked);
  c.ws.terminate();
  await until(() => cluster.running === 0 && registry.open === 0);
  t.ok(cluster.wrote < 3000, `it stopped writing (${cluster.wrote} of 3000 lines)`);
});

t.test('{"signal":"SIGINT"} stops a kubectl follow: its last output, {exitCode}, close 1000, slot free', async (t) => {
  const { cluster, server, registry } = await serve(t);
  const c = await open(server, KUBECTL);
  c.ws.send(JSON.stringify({ argv: ['print', '2', '1', 'follow'] }));
  await until(() => c.msgs.length === 2);
  t.equal(registry.open, 1);
  c.ws.send(JSON.stringify({ signal: 'SIGINT' }));
  t.equal(await c.closed, 1000);
  t.same(c.msgs, [{ stdout: '0 x\n' }, { stdout: '1 x\n' }, { stdout: 'bye\n' }, { exitCode: 0 }]);
  await until(() => registry.open === 0 && cluster.running === 0);
});

const badFirst: [string, string, RegExp][] = [
  ['not JSON', 'argv please', /^the first message must be JSON: \{"argv": \[\.\.\.\]\}$/],
  ['argv not a list', '{"argv": "hubble"}', /^argv must be a list of strings$/],
  ['argv with a number', '{"argv": ["exec", 1]}', /^argv must be a list of strings$/],
  ['no argv', '{"signal": "SIGINT"}', /^argv must be a list of strings$/],
  ['257 words', JSON.stringify({ argv: Array(257).fill('a') }), /^argv takes at most 256 words of 8192 characters$/],
  ['a word of 8193 characters', JSON.stringify({ argv: ['x'.repeat(8193)] }), /^argv takes at most 256 words/],
];
t.test('kubectl stream, a bad first message: {error}, close 4400, slot free', async (t) => {
  const { cluster, server, registry } = await serve(t);
  for (const [name, first, error] of badFirst) {
    const c = await open(server, KUBECTL);
    c.ws.send(first);
    t.equal(await c.closed, 4400, name);
    t.match(c.msgs, [{ error, field: 'argv' }], name);
    t.equal(c.msgs.length, 1, name);
  }
  await until(() => registry.open === 0);
  t.equal(cluster.running, 0, 'no command ran');
});

const badLater: [string, string | Buffer][] = [
  ['an unknown signal', '{"signal": "SIGKILL"}'],
  ['stdin', '{"stdin": "y\\n"}'],
  ['not JSON', 'q'],
  ['a large message', Buffer.alloc(64 << 10, 0x20)],
];
t.test('a message other than a signal to a running command: {error}, close 4400, the command stopped', async (t) => {
  const { cluster, server, registry } = await serve(t);
  for (const [name, msg] of badLater) {
    const c = await open(server, CT);
    await until(() => cluster.follows === 1);
    c.ws.send(msg);
    t.equal(await c.closed, 4400, name);
    t.same(c.msgs, [{ error: 'only {"signal": "SIGINT"} or {"signal": "SIGTERM"} may be sent to a running command', field: 'signal' }], name);
    await until(() => cluster.follows === 0 && registry.open === 0);
  }
  const k = await open(server, KUBECTL);
  k.ws.send(JSON.stringify({ argv: ['print', '0', '0', 'follow'] }));
  await until(() => cluster.running === 1);
  k.ws.send('{"signal": "SIGHUP"}');
  t.equal(await k.closed, 4400, 'kubectl stream too');
  await until(() => cluster.running === 0 && registry.open === 0);
});

t.test('a client that leaves frees its slot and stops its command: mid-stream, mid-admission, or with a frame over 1 MiB', async (t) => {
  const { cluster, server, registry } = await serve(t);
  const k = await open(server, KUBECTL);
  k.ws.send(JSON.stringify({ argv: ['print', '1', '1', 'follow'] }));
  const e = await open(server, CT);
  await until(() => cluster.running === 1 && cluster.follows === 1 && registry.open === 2);
  k.ws.terminate();
  e.ws.terminate();
  await until(() => registry.open === 0 && cluster.running === 0 && cluster.follows === 0);
  t.pass('mid-stream: both stopped, both slots free');

  // Gone as soon as the server accepted the upgrade, before the client saw it open.
  for (let i = 0; i < 20; i++) {
    const ws = new WebSocket(server.url.replace('http', 'ws') + (i % 2 ? KUBECTL : CT));
    ws.on('error', () => {});
    ws.once('upgrade', () => ws.terminate());
  }
  await until(() => registry.open === 0 && cluster.follows === 0);
  t.pass('mid-admission: no slot kept');

  const big = await open(server, KUBECTL);
  big.ws.send(JSON.stringify({ argv: ['x'.repeat((1 << 20) + 1)] }));
  t.equal(await big.closed, 1009, 'ws refuses a message over the server\'s 1 MiB');
  await until(() => registry.open === 0);
  t.equal(cluster.running, 0);
});

t.test('a command that outlives its client keeps the slot until it ends: a client cannot run more than its slots', async (t) => {
  const { cluster, server, registry } = await serve(t, { maxPerClient: 1 });
  const c = await open(server, KUBECTL);
  c.ws.send(JSON.stringify({ argv: ['hold'] }));
  await until(() => cluster.running === 1);
  c.ws.terminate();
  await until(() => cluster.aborts === 1);
  t.equal(registry.open, 1, 'the client left, its command still runs: the slot is still taken');
  const next = await open(server, KUBECTL);
  t.equal(await next.closed, 4429, 'so its next stream is refused');
  cluster.release();
  await until(() => registry.open === 0 && cluster.running === 0);
  t.pass('the command ended: the slot is free');
});

t.test('kubectl stream: the slot is taken at the upgrade, so clients that never send their command count against the limits', async (t) => {
  const { server, registry } = await serve(t, { maxPerClient: 2 });
  const idle = [await open(server, KUBECTL), await open(server, KUBECTL)];
  const third = await open(server, KUBECTL);
  t.equal(await third.closed, 4429);
  t.match(third.msgs, [{ error: /^too many streams from 127\.0\.0\.1: 2 open/ }]);
  t.equal(registry.open, 2);
  for (const c of idle) c.ws.close();
  await until(() => registry.open === 0);
});

t.test('kubectl stream: a first message that never comes ends the stream with 4408 and frees the slot', async (t) => {
  const cluster = new StreamFake();
  const registry = new StreamRegistry(streamLimits());
  const app = Fastify();
  await app.register(websocket, { options: { maxPayload: 1 << 20 } });
  await app.register(kubectlStreamRoutes, { cluster, registry, firstMessageMs: 200 });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const c = await open({ url } as RunningServer, KUBECTL);
  t.equal(registry.open, 1);
  t.equal(await c.closed, 4408);
  t.same(c.msgs, [{ error: 'no command: the first message (the command line) did not come within 0.2 s' }]);
  await until(() => registry.open === 0);
});

t.test('a closing server stops running commands (close 1001) instead of waiting for their clients', async (t) => {
  const { cluster, server, registry } = await serve(t);
  const k = await open(server, KUBECTL);
  k.ws.send(JSON.stringify({ argv: ['print', '1', '1', 'follow'] }));
  const e = await open(server, CT);
  await until(() => cluster.running === 1 && cluster.follows === 1);
  await server.close();
  t.same([await k.closed, await e.closed], [1001, 1001]);
  await until(() => registry.open === 0 && cluster.running === 0 && cluster.follows === 0);
  t.pass('slots free, commands stopped');
});
