// Write latency with durability on: one apply (a Service and the Pod it
// selects) on the seed lab, from the call to the return, with a SQLite store
// (WAL, synchronous=FULL: the transaction is on disk before apply returns)
// against the same apply in memory (--ephemeral). The two clusters take turns,
// apply by apply, so both see the same machine load and the same state size.
// The gap between their medians is what durability costs. Prints one JSON object.
// Run: node --import tsx bench/store.bench.ts [applies] [--dir DIR]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from '../src/cluster/cluster.ts';
import { openSqliteStore } from '../src/cluster/store/sqlite.ts';

const argv = process.argv.slice(2);
const dirFlag = argv.indexOf('--dir');
const DIR_BASE = dirFlag >= 0 ? argv[dirFlag + 1]! : tmpdir();
const APPLIES = Number(argv.find((a, i) => /^\d+$/.test(a) && argv[i - 1] !== '--dir') ?? 200);
const WARMUP = 20;

const manifest = (i: number): string => `apiVersion: v1
kind: Service
metadata: {name: bench-${i}}
spec: {selector: {app: bench-${i}}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: bench-${i}, labels: {app: bench-${i}}}
spec: {containers: [{name: c, image: traefik/whoami}]}
`;

function stats(ms: number[]): { median: number; p99: number; min: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number): number => +s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(3);
  return { median: q(0.5), p99: q(0.99), min: +s[0]!.toFixed(3), max: +s[s.length - 1]!.toFixed(3) };
}

const dir = mkdtempSync(join(DIR_BASE, 'dplab-store-bench-'));
const store = openSqliteStore(dir);
// The store's own share: one transaction (diff, JSON, write, fsync) per apply.
const saveMs: number[] = [];
const save = store.save.bind(store);
store.save = (state, datapath) => { const t0 = performance.now(); save(state, datapath); saveMs.push(performance.now() - t0); };
const durable = Cluster.lab('cilium', { seed: 3, store });
const ephemeral = Cluster.lab('cilium', { seed: 3 });
const times: Record<'durable' | 'ephemeral', number[]> = { durable: [], ephemeral: [] };
try {
  for (let i = 0; i < WARMUP + APPLIES; i++) {
    for (const [name, c] of [['durable', durable], ['ephemeral', ephemeral]] as const) {
      const t0 = performance.now();
      c.apply(manifest(i));
      const dt = performance.now() - t0;
      if (i >= WARMUP) times[name].push(dt);
    }
  }
} finally {
  durable.close(); ephemeral.close(); store.close();
  rmSync(dir, { recursive: true, force: true });
}
const d = stats(times.durable), e = stats(times.ephemeral);
console.log(JSON.stringify({
  bench: 'store',
  what: 'apply of a Service + Pod on the seed lab, ms from call to return (wall clock)',
  applies: APPLIES, warmup: WARMUP, store: 'SQLite (better-sqlite3), WAL, synchronous=FULL', dir: DIR_BASE,
  durable_ms: d, ephemeral_ms: e, store_save_ms: stats(saveMs.slice(-APPLIES)),
  durability_cost_median_ms: +(d.median - e.median).toFixed(3),
}, null, 2));
