// /healthz latency of a `dplab serve` (its own process, wall clock, loopback)
// under 50 concurrent keep-alive clients, idle and while four execs spin
// (`timeout` ends them when the window closes), side by side: each round
// measures idle, then spinning. Issue 6's figure: p99 under 50 ms with four
// spinning execs. Each figure is the median of rounds (bench/lib/harness.ts).
// Prints one JSON object.
//
// The clients are bare HTTP/1.1 keep-alive sockets (a request written, the
// answer read by its Content-Length): fetch() costs ~10x the CPU of the
// server's answer, so on a shared 2-core machine it measured the load
// generator, not the server. Connections are opened before the clock starts
// (libuv accepts one new connection per event-loop turn).
// Run: node --import tsx bench/exec_isolation.bench.ts [clients seconds] [--rounds N]

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { benchArgs, runBench } from './lib/harness.ts';
import type { Figures, Measured } from './lib/figures.ts';
import { Client } from './lib/http_client.ts';

const args = benchArgs();
const [CLIENTS, SECONDS] = args.rest.map(Number).concat([50, 3]).slice(0, 2) as [number, number];
const SPINNERS = 4;
const BIN = resolve(import.meta.dirname, '../bin/dplab.js');

const latency = (ms: number): Measured => ({ kind: 'measured', value: Number(ms.toFixed(2)), better: 'lower' });

/** A server of its own, so the load generator never shares its event loop. */
async function startServer(): Promise<{ url: URL; stop: () => void; cpuMs: () => number | undefined }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--ephemeral', '--exec-cpu-ms', '600000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise<string>((res, rej) => {
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); const m = /on (http:\/\/\S+)/.exec(out); if (m) res(m[1]!); });
    child.on('exit', (code) => rej(new Error(`dplab serve exited (${code}): ${out}`)));
  });
  return { url: new URL(url), stop: () => { child.kill('SIGTERM'); }, cpuMs: () => processCpuMs(child.pid!) };
}

/** A process's user + system CPU time in ms from /proc (Linux; undefined elsewhere): the server's cost per answer, which the host's load does not stretch. */
function processCpuMs(pid: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms (USER_HZ 100)
  } catch { return undefined; }
}

function pct(sorted: number[], p: number): number { return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!; }

interface Hammered { ms: number[]; failed: number; clientCpuUsPerRequest: number }

/** CLIENTS connections, each a loop of GET /healthz for SECONDS; every request's latency in ms. */
async function hammer(clients: Client[]): Promise<Hammered> {
  const ms: number[] = [];
  let failed = 0;
  const cpu0 = process.cpuUsage();
  const until = performance.now() + SECONDS * 1000;
  await Promise.all(clients.map(async (c) => {
    while (performance.now() < until) {
      const t0 = performance.now();
      try { if (await c.get() !== 200) failed++; } catch { failed++; return; }
      ms.push(performance.now() - t0);
    }
  }));
  const cpu = process.cpuUsage(cpu0);
  return { ms: ms.sort((a, b) => a - b), failed, clientCpuUsPerRequest: (cpu.user + cpu.system) / Math.max(1, ms.length) };
}

async function post(url: URL, path: string, body: unknown): Promise<{ exitCode: number }> {
  const r = await fetch(new URL(path, url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return await r.json() as { exitCode: number };
}

/** Spins the whole window, then `timeout` ends it (exit 124), as a user would bound it. */
function spin(url: URL, seconds: number): Promise<{ exitCode: number }> {
  return post(url, '/v1/exec', { pod: 'netpod', argv: ['sh', '-c', `timeout ${seconds} sh -c 'while true; do :; done'`] });
}

async function spinning(url: URL, clients: Client[]): Promise<{ r: Hammered; stillSpinning: boolean }> {
  const spinners = Array.from({ length: SPINNERS }, () => spin(url, SECONDS + 1));
  await new Promise((r) => setTimeout(r, 200)); // they are spinning
  const r = await hammer(clients);
  const codes = (await Promise.all(spinners)).map((s) => s.exitCode);
  return { r, stillSpinning: codes.every((c) => c === 124) };
}

const server = await startServer();
const clients = await Promise.all(Array.from({ length: CLIENTS }, () => Client.open(server.url)));
try {
  await hammer(clients); // warm up: JIT, the server's first answers
  await spin(server.url, 0.5); // and its first exec (the shell's modules load once)
  await runBench({
    header: {
      method: `${CLIENTS} keep-alive connections (opened beforehand) each looping GET /healthz for ${SECONDS} s against \`dplab serve\` in its own process; each round: idle, then while ${SPINNERS} execs of \`while true; do :; done\` spin in netpod`,
      clients: CLIENTS, seconds: SECONDS,
    },
    rounds: 3,
    cases: [{
      name: 'healthz',
      at: '',
      run: async () => {
        const load1 = Number(loadavg()[0]!.toFixed(1));
        const c0 = server.cpuMs();
        const idle = await hammer(clients);
        const c1 = server.cpuMs();
        const spun = await spinning(server.url, clients);
        const both = (f: (r: Hammered) => number): Figures => ({ idle: latency(f(idle)), spinning: latency(f(spun.r)) });
        return {
          p50Ms: both((r) => pct(r.ms, 0.5)),
          p99Ms: both((r) => pct(r.ms, 0.99)),
          maxMs: both((r) => r.ms[r.ms.length - 1]!),
          requests: { idle: idle.ms.length, spinning: spun.r.ms.length },
          failed: { idle: idle.failed, spinning: spun.r.failed },
          clientCpuUsPerRequest: { idle: Math.round(idle.clientCpuUsPerRequest), spinning: Math.round(spun.r.clientCpuUsPerRequest) },
          ...(c0 !== undefined && c1 !== undefined ? { serverCpuUsPerAnswerIdle: Math.round((c1 - c0) * 1000 / Math.max(1, idle.ms.length)) } : {}),
          spinnersRanTheWholeWindow: spun.stillSpinning,
          loadAvg1: load1,
        };
      },
    }],
  }, args);
} finally {
  for (const c of clients) c.close();
  server.stop();
}
