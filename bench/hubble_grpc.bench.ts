// Hubble's gRPC API under load, server and clients in separate processes as
// `dplab serve` and `hubble observe` are: (1) flows per second streamed to
// one client reading a full 65,535-flow ring (GetFlows --all, each response
// read raw, and decoded to an object as dplab hubble does); (2) 50 followers while the
// observer records 10,000 flows/s for 3 s: flows each follower got, lost
// events, server CPU. The flows are the seed lab's own (ping, curl :80 /
// :8080, DNS, the world), recorded again with fresh uuids and times.
// Run: node --expose-gc --import tsx bench/hubble_grpc.bench.ts [--rounds N] [--only one,followers]

import { spawn, type ChildProcess } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { CHANNEL_OPTIONS, HubbleClient } from '../src/hubble/grpc/client.ts';
import { observerService } from '../src/hubble/grpc/definition.ts';
import { GetFlowsResponse, type GetFlowsRequestObject } from '../src/hubble/proto.ts';
import { perSec, span, type Figures } from './lib/figures.ts';
import { benchArgs, runBench } from './lib/harness.ts';

const RING = 65535;
const FOLLOWERS = 50;
const RATE = 10_000;
const FOLLOW_MS = 3000;

// ---- the server process: the seed lab's flows in one observer, served over gRPC; commands on stdin ----
async function serverChild(): Promise<void> {
  const { Cluster } = await import('../src/cluster/cluster.ts');
  const { LABS } = await import('../src/cluster/labs/index.ts');
  const { NodeObserver } = await import('../src/hubble/observer.ts');
  const { startHubbleGrpc } = await import('../src/grpc/server.ts');
  const lab = Cluster.fromYaml(LABS.cilium!, { seed: 3 });
  for (const cmd of ['ping -c 1 172.16.1.111', 'curl -s 172.16.2.180', 'curl -s 172.16.2.180:8080', 'curl -s wttr.in/seoul']) {
    await lab.sim.settle(lab.kubectl(['exec', 'netpod', '--', ...cmd.split(' ')]));
    await lab.sim.settle(lab.sim.sleep(50e6));
  }
  type Flow = Parameters<InstanceType<typeof NodeObserver>['record']>[0];
  const real: Flow[] = [];
  await lab.hubble()!.getFlows({ number: 10_000 }, (r) => { if (r.flow) real.push(r.flow); }, new AbortController().signal);
  lab.close();
  const clock = { epochMs: Date.now(), ns: 0, now() { return this.ns; } };
  const obs = new NodeObserver({ nodeName: 'default/k8s-s', decode: () => null }, clock, { capacity: RING });
  let seq = 0;
  const record = (n: number): void => {
    for (let i = 0; i < n; i++) {
      clock.ns += 1000;
      const f = real[seq % real.length]!;
      const ns = clock.ns;
      obs.record({ ...f, uuid: `00000000-0000-4000-8000-${String(seq++).padStart(12, '0')}`,
        time: { seconds: Math.floor(clock.epochMs / 1000) + Math.floor(ns / 1e9), nanos: ns % 1e9 } });
    }
  };
  record(RING);
  const server = await startHubbleGrpc(obs, { port: 0 });
  process.stdout.write(`ready ${server.address} ${real.length}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, a, b] = line.split(' ');
    if (cmd === 'cpu') { const u = process.cpuUsage(); process.stdout.write(`cpu ${(u.user + u.system) / 1000}\n`); }
    if (cmd === 'rate') {
      // a flows/s for b ms, in 10 ms steps on the wall clock; then this process's CPU for it.
      const perStep = Number(a) / 100, steps = Number(b) / 10;
      const cpu = process.cpuUsage();
      const start = performance.now();
      for (let s = 0; s < steps; s++) {
        record(perStep);
        const wait = start + (s + 1) * 10 - performance.now();
        await new Promise((r) => setTimeout(r, Math.max(0, wait)));
      }
      const used = process.cpuUsage(cpu);
      process.stdout.write(`done ${steps * perStep} ${(used.user + used.system) / 1000}\n`);
    }
  }
  await server.close();
}

// ---- the bench: clients in this process ----
interface Server { child: ChildProcess; address: string; lines: AsyncIterator<string> }

async function startServerChild(): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--server-child'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = (await lines.next()).value as string;
  const m = /^ready (\S+) (\d+)$/.exec(first);
  if (!m) throw new Error(`server child: ${first}`);
  return { child, address: m[1]!, lines };
}

/**
 * GetFlows read as raw messages: each counted, only lost_events decoded (the
 * oneof's field 1 is a flow, field 3 lost events: the message's first byte
 * tells), so the client's decoding does not set the pace.
 */
function rawFlows(c: grpc.Client, req: GetFlowsRequestObject, got: { flows: number; lost: number }, signal?: AbortSignal): Promise<void> {
  const m = observerService.GetFlows;
  return new Promise((resolve, reject) => {
    const call = c.makeServerStreamRequest(m.path, m.requestSerialize, (b: Buffer) => b, req, new grpc.Metadata(), {});
    signal?.addEventListener('abort', () => call.cancel(), { once: true });
    call.on('data', (b: Buffer) => {
      if (b[0] === 0x0a) got.flows++;
      else if (b[0] === 0x1a) got.lost += Number((GetFlowsResponse.toObject(GetFlowsResponse.decode(b), { longs: Number }) as { lost_events?: { num_events_lost?: number } }).lost_events?.num_events_lost ?? 0);
    });
    call.on('end', resolve);
    call.on('error', (e: grpc.ServiceError) => (e.code === grpc.status.CANCELLED ? resolve() : reject(e)));
  });
}

const ALL = { low: -1, high: -1, unsigned: true };

/** The server process's CPU time so far (ms). */
async function serverCpuMs(server: Server): Promise<number> {
  server.child.stdin!.write('cpu\n');
  return Number(/^cpu ([\d.]+)$/.exec((await server.lines.next()).value as string)![1]);
}

async function oneRaw(server: Server): Promise<Figures> {
  const c = new grpc.Client(server.address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  const got = { flows: 0, lost: 0 };
  const cpu0 = await serverCpuMs(server);
  const stop = span();
  await rawFlows(c, { number: ALL }, got);
  const t = stop();
  const serverCpu = (await serverCpuMs(server)) - cpu0;
  c.close();
  if (got.flows !== RING) throw new Error(`got ${got.flows} flows, want ${RING}`);
  return { flowsPerSec: perSec(got.flows, t.wallMs, 'wall'), flowsPerServerCpuSec: perSec(got.flows, serverCpu, 'cpu'), clientCpuPercent: Math.round(t.cpuMs / t.wallMs * 100) };
}

async function oneDecoded(server: Server): Promise<Figures> {
  const client = await HubbleClient.dial(server.address);
  let flows = 0;
  const stop = span();
  await client.getFlows({ number: ALL }, (r) => { if (r.flow) flows++; });
  const t = stop();
  client.close();
  if (flows !== RING) throw new Error(`got ${flows} flows, want ${RING}`);
  return { flowsPerSec: perSec(flows, t.wallMs, 'wall'), clientCpuPercent: Math.round(t.cpuMs / t.wallMs * 100) };
}

async function followers(server: Server): Promise<Figures> {
  const clients = Array.from({ length: FOLLOWERS }, () => new grpc.Client(server.address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS));
  const got = clients.map(() => ({ flows: 0, lost: 0 }));
  const ac = new AbortController();
  setMaxListeners(FOLLOWERS + 1, ac.signal);
  const streams = clients.map((c, i) => rawFlows(c, { follow: true }, got[i]!, ac.signal));
  await new Promise((r) => setTimeout(r, 300));
  server.child.stdin!.write(`rate ${RATE} ${FOLLOW_MS}\n`);
  const [, sent, cpuMs] = /^done (\d+) ([\d.]+)$/.exec((await server.lines.next()).value as string)!;
  // Wait (up to a minute) for the last flows to reach every follower: how far behind the slowest one ended.
  const drain = span();
  while (got.some((g) => g.flows + g.lost < Number(sent)) && drain().wallMs < 60_000) await new Promise((r) => setTimeout(r, 20));
  const behindMs = drain().wallMs;
  ac.abort();
  await Promise.all(streams);
  for (const c of clients) c.close();
  return {
    flowsRecorded: Number(sent),
    deliveredMinPerFollower: { kind: 'measured', value: Math.min(...got.map((g) => g.flows)), better: 'higher' },
    deliveredFraction: Number((got.reduce((s, g) => s + g.flows, 0) / (Number(sent) * FOLLOWERS)).toFixed(4)),
    lostEvents: { kind: 'measured', value: got.reduce((s, g) => s + g.lost, 0), better: 'lower' },
    lastFlowAfterMs: { kind: 'measured', value: Math.round(behindMs), better: 'lower' },
    serverCpuPercent: { kind: 'measured', value: Math.round(Number(cpuMs) / FOLLOW_MS * 100), better: 'lower' },
  };
}

if (process.argv.includes('--server-child')) {
  await serverChild();
} else {
  const args = benchArgs();
  const server = await startServerChild();
  await runBench({
    header: {
      bench: 'hubble_grpc',
      method: `gRPC server (observer.Observer over h2c, dplab's startHubbleGrpc) in its own process with one observer holding a full ${RING}-flow ring of the seed lab's flows; clients in this process (grpc-js, with dplab hubble's 8 MiB HTTP/2 receive window, as grpc-go grows its own). one.raw: GetFlows --all read as raw messages (counted, not decoded), wall time from call to end, and flows per CPU second of the server process (what one core of it streams); one.decoded: the same through dplab's HubbleClient, each response decoded to an object as dplab hubble does. followers: ${FOLLOWERS} raw GetFlows --follow while the server records ${RATE} flows/s for ${FOLLOW_MS} ms (10 ms steps on the wall clock); lastFlowAfterMs: how long after the last flow was recorded the slowest follower had it (or its LostEvent).`,
    },
    rounds: 3,
    cases: [
      { name: 'one.raw', run: () => oneRaw(server) },
      { name: 'one.decoded', run: () => oneDecoded(server) },
      { name: 'followers', run: () => followers(server) },
    ],
    done: () => { server.child.stdin!.end(); server.child.kill(); },
  }, args);
}
