// The agent API under load (issue 7). A server process of its own (this file
// with --server: the seed lab, 100k entries written into k8s-s's
// cilium_ct4_global, the main HTTP server on a free loopback port) and:
//  - mapGetCt100k: `map get cilium_ct4_global` end to end, as HTTP (GET
//    /nodes/k8s-s/v1/map/cilium_ct4_global, body read and parsed) and as the
//    CLI (`dplab cilium --node k8s-s map get cilium_ct4_global`, its own
//    process, output read to the end; `dplab --version` alone for its start-up); wall ms;
//  - lxcUnderLoad: GET /nodes/k8s-s/v1/map/cilium_lxc by 50 concurrent
//    keep-alive connections (bare sockets opened beforehand, lib/http_client.ts),
//    40 requests each; p50/p99 latency in ms;
//  - watch50k: one WebSocket on /nodes/k8s-s/map/cilium_ct4_global/watch while
//    the server makes 50,000 CT updates a second for 2 s (500 every 10 ms);
//    messages delivered, lost, and the rate the reader saw.
// Floors: map get <= 1 s; p99 <= 20 ms; watch without loss.
// Run: node --import tsx bench/agent_api.bench.ts [--rounds N]

import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { Agent, request } from 'node:http';
import WebSocket from 'ws';
import { benchArgs, runBench } from './lib/harness.ts';
import { millis, perSec, size, type Figures } from './lib/figures.ts';
import { Client } from './lib/http_client.ts';

const CT_ENTRIES = 100_000;
const BIN = resolve(import.meta.dirname, '../bin/dplab.js');

/** --server: the server process. */
async function serve(): Promise<void> {
  const { Cluster } = await import('../src/cluster/cluster.ts');
  const { ciliumOf } = await import('../src/cilium/plugin.ts');
  const { startServer } = await import('../src/api/server.ts');
  const { CtKey4Global, CtEntry } = await import('../maps/cilium_ct4_global.ts');
  const cluster = Cluster.lab('cilium', { seed: 1 });
  const ct = ciliumOf(cluster.cni)!.agent('k8s-s').maps.ct4;
  const entry = (i: number) => new CtEntry({ lifetime: 21600 + (i % 600), packets: i % 97, bytes: (i % 97) * 80, flags: 0x10, rxFlagsSeen: 0x1a, txFlagsSeen: 0x1a, sourceSecurityId: 25054 }).encode();
  const key = (i: number) => new CtKey4Global({ daddr: 0xac100000 + (i & 0xffff), saddr: 0xac100100 + (i >>> 16), dport: 80, sport: 1024 + (i % 60000), nexthdr: 6, flags: 0 }).encode();
  for (let i = 0; i < CT_ENTRIES; i++) ct.update(key(i), entry(i));
  const server = await startServer(cluster, { port: 0, clock: 'fast' });
  process.stdout.write(`URL ${server.url}\n`);
  let next = CT_ENTRIES;
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d: string) => {
    // `cpu`: this process's CPU time so far (user + system), to price a request.
    if (d.startsWith('cpu')) { const u = process.cpuUsage(); process.stdout.write(`CPU ${(u.user + u.system) / 1000}\n`); return; }
    const m = /^burst (\d+) (\d+)/.exec(d);
    if (!m) return;
    // n updates at rate per second: every 10 ms, as many as the rate asks for by now (a late tick catches up).
    const n = Number(m[1]), rate = Number(m[2]), t0 = performance.now();
    let done = 0;
    const timer = setInterval(() => {
      const due = Math.min(n, Math.floor((performance.now() - t0) * rate / 1000));
      for (; done < due; done++) { ct.update(key(next % CT_ENTRIES), entry(next)); next++; }
      if (done === n) { clearInterval(timer); process.stdout.write(`DONE ${(performance.now() - t0).toFixed(0)}\n`); }
    }, 10);
  });
}

async function startServer(): Promise<{ url: string; child: ChildProcess; lines: (re: RegExp) => Promise<string> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--server'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const waiters: Array<[RegExp, (s: string) => void]> = [];
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) { const m = w[0].exec(out); if (m) { waiters.splice(waiters.indexOf(w), 1); out = out.slice(m.index + m[0].length); w[1](m[1] ?? m[0]); } }
  });
  const lines = (re: RegExp) => new Promise<string>((res, rej) => { waiters.push([re, res]); child.once('exit', (c) => rej(new Error(`server exited ${c}`))); });
  const url = await lines(/URL (\S+)\n/);
  return { url, child, lines };
}

function get(url: string, agent: Agent): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  return new Promise((res, rej) => {
    request(url, { agent }, (r) => { let n = 0; r.on('data', (d: Buffer) => { n += d.length; }); r.on('end', () => res({ ms: performance.now() - t0, bytes: n })); }).on('error', rej).end();
  });
}

async function mapGet(url: string, send: (s: string) => void, lines: (re: RegExp) => Promise<string>): Promise<Figures> {
  const cpu = async () => { const w = lines(/CPU (\S+)\n/); send('cpu\n'); return Number(await w); };
  const c0 = await cpu();
  const t0 = performance.now();
  const r = await fetch(`${url}/nodes/k8s-s/v1/map/cilium_ct4_global`);
  const model = await r.json() as { cache: unknown[] };
  const httpMs = performance.now() - t0;
  const serverCpuMs = (await cpu()) - c0;
  const t1 = performance.now();
  const cli = spawn(process.execPath, [BIN, '--server', url, 'cilium', '--node', 'k8s-s', 'map', 'get', 'cilium_ct4_global'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let nl = 0;
  cli.stdout!.on('data', (d: Buffer) => { for (const b of d) if (b === 10) nl++; });
  await new Promise((res) => cli.on('exit', res));
  const cliMs = performance.now() - t1;
  // The CLI's start-up alone (tsx compiles src/ when dist/ is stale): `dplab --version`.
  const t2 = performance.now();
  await new Promise((res) => spawn(process.execPath, [BIN, '--version'], { stdio: 'ignore' }).on('exit', res));
  const cliStartMs = performance.now() - t2;
  return { httpMs: millis(httpMs, 'wall'), httpServerCpuMs: millis(serverCpuMs, 'cpu'), cliMs: millis(cliMs, 'wall'), cliStartOnlyMs: millis(cliStartMs, 'wall'), entries: model.cache.length, cliLines: nl };
}

async function lxcUnderLoad(url: string, send: (s: string) => void, lines: (re: RegExp) => Promise<string>): Promise<Figures> {
  const cpu = async () => { const w = lines(/CPU (\S+)\n/); send('cpu\n'); return Number(await w); };
  const clients = await Promise.all(Array.from({ length: 50 }, () => Client.open(new URL(url), '/nodes/k8s-s/v1/map/cilium_lxc')));
  const times: number[] = [];
  const c0 = await cpu();
  await Promise.all(clients.map(async (c) => {
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      if (await c.get() !== 200) throw new Error('GET cilium_lxc: not 200');
      times.push(performance.now() - t0);
    }
  }));
  const serverCpuMs = (await cpu()) - c0;
  for (const c of clients) c.close();
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!;
  return { p50Ms: size(Number(q(0.5).toFixed(2))), p99Ms: size(Number(q(0.99).toFixed(2))), serverCpuMsPerRequest: size(Number((serverCpuMs / times.length).toFixed(3))), requests: times.length };
}

async function watch(url: string, send: (s: string) => void, lines: (re: RegExp) => Promise<string>): Promise<Figures> {
  const N = 100_000, RATE = 50_000;
  const ws = new WebSocket(`${url.replace('http', 'ws')}/nodes/k8s-s/map/cilium_ct4_global/watch`);
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  let got = 0, lost = 0, first = 0, last = 0;
  ws.on('message', (d: Buffer) => {
    const s = d.toString();
    if (s.startsWith('{"lost"')) { lost += (JSON.parse(s) as { lost: number }).lost; return; }
    if (got++ === 0) first = performance.now();
    last = performance.now();
  });
  send(`burst ${N} ${RATE}\n`);
  const ms = Number(await lines(/DONE (\d+)\n/));
  const t0 = performance.now();
  while (got + lost < N && performance.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
  ws.close();
  return { delivered: got, lost, updates: N, updateRate: perSec(N, ms, 'wall'), readerRate: perSec(got, last - first, 'wall') };
}

const args = benchArgs();
if (process.argv.includes('--server')) await serve();
else {
  const s = await startServer();
  const send = (x: string) => s.child.stdin!.write(x);
  await get(`${s.url}/nodes/k8s-s/v1/map/cilium_lxc`, new Agent()); // warm-up
  await runBench({
    header: { method: 'server in its own process (seed lab, --clock fast), clients on loopback; wall times', ctEntries: CT_ENTRIES, floors: { mapGetMs: 1000, lxcP99Ms: 20, watch: 'no loss at 50k updates/s' } },
    rounds: 3,
    cases: [
      { name: 'mapGetCt100k', run: () => mapGet(s.url, send, s.lines) },
      { name: 'lxcUnderLoad', run: () => lxcUnderLoad(s.url, send, s.lines) },
      { name: 'watch50k', run: () => watch(s.url, send, s.lines) },
    ],
    done: () => { s.child.kill('SIGTERM'); },
  }, args);
}
