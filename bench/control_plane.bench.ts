// Issue 6, a linear control plane: apply, then delete, N pods under one
// Service in one request each (POST /v1/apply, /v1/delete) against `dplab
// serve` in its own process (a control plane and 4 workers with /18 pod CIDRs:
// every pod gets an address, and no node holds more than Cilium's 4,095
// endpoint ids; --ephemeral), while one loopback client polls GET /healthz back to
// back. Per round: the request's wall time (until the answer, so committed and
// synced into the datapath), the server's CPU time for it (/proc of its pid),
// and the /healthz latency p50/p99/max with how many polls answered during the
// request. Each figure is the median of rounds (bench/lib/harness.ts), a fresh
// server each round. Prints one JSON object.
// Bodies: `json` posts the objects as a JSON array, as kubectl (and `dplab
// apply`) do: they parse the YAML on the client and send the API server JSON.
// `yaml` posts the same manifests as `{yaml}`, parsed by the server's `yaml`
// library (what a client that sends YAML costs the server).
// Run: node --import tsx bench/control_plane.bench.ts [pods] [--rounds N]

import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchArgs, runBench } from './lib/harness.ts';
import { millis, type Figures, type Measured } from './lib/figures.ts';

const args = benchArgs();
const [PODS] = args.rest.map(Number).concat([10000]).slice(0, 1) as [number];
const BIN = resolve(import.meta.dirname, '../bin/dplab.js');

const CLUSTER = `apiVersion: dplab.dev/v1alpha1
kind: Cluster
metadata: {name: control-plane}
spec:
  datapath: cilium
  routing: native
  podCIDR: 10.0.0.0/13
  nodes:
    - {name: cp, controlPlane: true, podCIDR: 10.0.0.0/18}
    - {name: w1, podCIDR: 10.1.0.0/18}
    - {name: w2, podCIDR: 10.2.0.0/18}
    - {name: w3, podCIDR: 10.3.0.0/18}
    - {name: w4, podCIDR: 10.4.0.0/18}
`;
const SERVICE = 'apiVersion: v1\nkind: Service\nmetadata: {name: bulk}\nspec:\n  selector: {app: bulk}\n  ports: [{port: 80, targetPort: 80}]';
const pods = Array.from({ length: PODS }, (_, i) => `apiVersion: v1\nkind: Pod\nmetadata: {name: bulk-${i}, labels: {app: bulk}}\nspec: {containers: [{name: web, image: traefik/whoami, ports: [{containerPort: 80}]}]}`);
const podObjs = Array.from({ length: PODS }, (_, i) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `bulk-${i}`, labels: { app: 'bulk' } }, spec: { containers: [{ name: 'web', image: 'traefik/whoami', ports: [{ containerPort: 80 }] }] } }));
const serviceObj = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'bulk' }, spec: { selector: { app: 'bulk' }, ports: [{ port: 80, targetPort: 80 }] } };
/** Request bodies per format: JSON objects as kubectl sends them, or the YAML text. */
const BODIES = {
  json: { warm: JSON.stringify(serviceObj), apply: JSON.stringify([serviceObj, ...podObjs]), delete: JSON.stringify(podObjs) },
  yaml: { warm: JSON.stringify({ yaml: SERVICE }), apply: JSON.stringify({ yaml: [SERVICE, ...pods].join('\n---\n') }), delete: JSON.stringify({ yaml: pods.join('\n---\n') }) },
};

const latency = (ms: number): Measured => ({ kind: 'measured', value: Number(ms.toFixed(2)), better: 'lower' });
function pct(sorted: number[], p: number): number { return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! : NaN; }

/** The server's CPU ms so far (utime + stime of its process). */
function cpuMsOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

async function startServer(file: string): Promise<{ url: string; pid: number; stop: () => void }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--ephemeral', '--cluster', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise<string>((res, rej) => {
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); const m = /on (http:\/\/\S+)/.exec(out); if (m) res(m[1]!); });
    child.on('exit', (code) => rej(new Error(`dplab serve exited (${code}): ${out}`)));
  });
  return { url, pid: child.pid!, stop: () => { child.kill('SIGTERM'); } };
}

/** GET /healthz back to back until `done` settles; every answer's latency in ms (a failed poll counts as failed). */
async function poll(url: string, done: Promise<unknown>): Promise<{ ms: number[]; failed: number }> {
  let over = false;
  void done.finally(() => { over = true; });
  const ms: number[] = [];
  let failed = 0;
  while (!over) {
    const t0 = performance.now();
    try { const r = await fetch(`${url}/healthz`); await r.arrayBuffer(); if (r.status !== 200) failed++; } catch { failed++; }
    ms.push(performance.now() - t0);
  }
  return { ms: ms.sort((a, b) => a - b), failed };
}

async function request(url: string, path: string, body: string): Promise<string[]> {
  const r = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const answer = await r.json() as { lines?: string[]; error?: string };
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${answer.error}`);
  return answer.lines!;
}

/** One request timed with /healthz polled meanwhile; N is the calibration's operation count (pods). */
async function timed(server: { url: string; pid: number }, path: string, body: string, expect: number): Promise<Figures> {
  const cpu0 = cpuMsOf(server.pid);
  const t0 = performance.now();
  const req = request(server.url, path, body);
  const h = await poll(server.url, req);
  const lines = await req;
  const wallMs = performance.now() - t0;
  const cpuMs = cpuMsOf(server.pid) - cpu0;
  if (lines.length !== expect) throw new Error(`${path}: ${lines.length} lines, want ${expect}`);
  return {
    wallMs: millis(wallMs, 'wall', PODS), serverCpuMs: millis(cpuMs, 'cpu', PODS),
    healthz: { answered: h.ms.length - h.failed, failed: h.failed, p50Ms: latency(pct(h.ms, 0.5)), p99Ms: latency(pct(h.ms, 0.99)), maxMs: latency(h.ms[h.ms.length - 1] ?? NaN) },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'dplab-cp-'));
const file = join(dir, 'cluster.yaml');
writeFileSync(file, CLUSTER);

/** Both requests on a fresh server: apply then delete, each with its own /healthz figures. */
async function round(format: keyof typeof BODIES): Promise<Figures> {
  const server = await startServer(file);
  const b = BODIES[format];
  try {
    await request(server.url, '/v1/apply', b.warm); // warm: the route, the Service
    const apply = await timed(server, '/v1/apply', b.apply, PODS + 1);
    const del = await timed(server, '/v1/delete', b.delete, PODS);
    return { apply, delete: del };
  } finally { server.stop(); }
}

try {
  await runBench({
    header: {
      method: `dplab serve --cluster (control plane + 4 workers, /18 pod CIDRs) --ephemeral in its own process; POST /v1/apply of one Service + ${PODS} Pods (one request; json: a JSON array of the objects, as kubectl sends them; yaml: {yaml} parsed by the server), then POST /v1/delete of the ${PODS} Pods (one request), each while one loopback client polls GET /healthz back to back; wall time until the answer, server CPU (/proc/<pid>/stat) over the same span; a fresh server each round`,
      pods: PODS, issueFloor: 'apply of 10,000 pods under one Service in under 2 s',
    },
    rounds: 3,
    cases: [{ name: 'json', run: () => round('json') }, { name: 'yaml', run: () => round('yaml') }],
  }, args);
} finally { rmSync(dir, { recursive: true, force: true }); }
