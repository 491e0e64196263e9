// /healthz latency of a `dplab serve` (its own process, wall clock, loopback)
// under 50 concurrent keep-alive clients, idle and while four execs spin
// (`timeout` ends them when the window closes). Issue 6's figure: p99 under
// 50 ms with four spinning execs. Each figure is the median of rounds
// (bench/lib/harness.ts). Prints one JSON object.
// Run: node --import tsx bench/exec_isolation.bench.ts [clients seconds] [--rounds N]

import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { benchArgs, runBench } from './lib/harness.ts';
import type { Figures, Measured } from './lib/figures.ts';

const args = benchArgs();
const [CLIENTS, SECONDS] = args.rest.map(Number).concat([50, 3]).slice(0, 2) as [number, number];
const SPINNERS = 4;
const BIN = resolve(import.meta.dirname, '../bin/dplab.js');

const latency = (ms: number): Measured => ({ kind: 'measured', value: Number(ms.toFixed(2)), better: 'lower' });

/** A server of its own, so the load generator never shares its event loop. */
async function startServer(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--ephemeral', '--exec-cpu-ms', '600000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise<string>((res, rej) => {
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); const m = /on (http:\/\/\S+)/.exec(out); if (m) res(m[1]!); });
    child.on('exit', (code) => rej(new Error(`dplab serve exited (${code}): ${out}`)));
  });
  return { url, stop: () => { child.kill('SIGTERM'); } };
}

function pct(sorted: number[], p: number): number { return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!; }

/** CLIENTS loops of GET /healthz for SECONDS; every request's latency in ms. */
async function hammer(url: string): Promise<{ ms: number[]; failed: number }> {
  const ms: number[] = [];
  let failed = 0;
  const until = performance.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      try { const r = await fetch(`${url}/healthz`); await r.arrayBuffer(); if (r.status !== 200) failed++; } catch { failed++; }
      ms.push(performance.now() - t0);
    }
  }));
  return { ms: ms.sort((a, b) => a - b), failed };
}

function spin(url: string): Promise<{ exitCode: number }> {
  // Spins the whole window, then `timeout` ends it (exit 124), as a user would bound it.
  const script = `timeout ${SECONDS + 1} sh -c 'while true; do :; done'`;
  return fetch(`${url}/v1/exec`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pod: 'netpod', argv: ['sh', '-c', script] }) })
    .then((r) => r.json() as Promise<{ exitCode: number }>);
}

function figures(r: { ms: number[]; failed: number }): Figures {
  return { p50Ms: latency(pct(r.ms, 0.5)), p99Ms: latency(pct(r.ms, 0.99)), maxMs: latency(r.ms[r.ms.length - 1]!), requests: r.ms.length, failed: r.failed };
}

const server = await startServer();
try {
  await hammer(server.url); // warm up: JIT, keep-alive sockets
  await runBench({
    header: { method: `${CLIENTS} keep-alive clients GET /healthz for ${SECONDS} s against \`dplab serve\` in its own process; spinning: ${SPINNERS} execs of \`while true; do :; done\` in netpod`, clients: CLIENTS, seconds: SECONDS },
    rounds: 3,
    cases: [
      { name: 'idle', run: async () => figures(await hammer(server.url)) },
      {
        name: 'fourSpinningExecs',
        run: async () => {
          const spinners = Array.from({ length: SPINNERS }, () => spin(server.url));
          await new Promise((r) => setTimeout(r, 200)); // they are spinning
          const f = figures(await hammer(server.url));
          const codes = (await Promise.all(spinners)).map((s) => s.exitCode);
          return { ...f, spinnersStillRunning: codes.every((c) => c === 124) };
        },
      },
    ],
  }, args);
} finally { server.stop(); }
