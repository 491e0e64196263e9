// Map engine figures as JSON: ops/s of the hot paths and heap bytes per CT entry,
// each the median of interleaved rounds (bench/lib/harness.ts).
// Run: node --expose-gc --import tsx bench/maps.bench.ts [--rounds N] [--only hash,lru]

import { createMap, LruHashMap } from '../src/bpf/maps/index.ts';
import { CILIUM_CT4_GLOBAL, CtEntry, CtKey4Global } from '../maps/cilium_ct4_global.ts';
import { CILIUM_IPCACHE, IpcacheKey, RemoteEndpointInfo, ipcacheLookupKey } from '../maps/cilium_ipcache.ts';
import { runBench } from './lib/harness.ts';
import { perSec, size, span, type Measured } from './lib/figures.ts';

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Rate of fn over n calls after a warm-up, per CPU second of this process:
 * time the machine gives to other processes does not count against us.
 */
function opsPerSec(n: number, fn: (i: number) => void): Measured {
  for (let i = 0; i < Math.min(n, 200_000); i++) fn(i);
  const stop = span();
  for (let i = 0; i < n; i++) fn(i);
  return perSec(n, stop().cpuMs, 'cpu');
}

function ctKey(out: Uint8Array, i: number): Uint8Array {
  // 10.0.x.y -> 10.1.x.y, sport varies: a realistic spread of tuples.
  out[0] = 10; out[1] = 1; out[2] = (i >>> 8) & 255; out[3] = i & 255;
  out[4] = 10; out[5] = 0; out[6] = (i >>> 16) & 255; out[7] = (i >>> 24) & 255;
  out[8] = 0; out[9] = 80; out[10] = (i * 7) & 255; out[11] = (i >>> 3) & 255; out[12] = 6; out[13] = 0;
  return out;
}

const key = new Uint8Array(14);
const val = new CtEntry({ lifetime: 100, sourceSecurityId: 39126 }).encode();

// Hash lookup (hits) on a 64k-entry 14-byte-key hash map.
const hash = createMap({ name: 'h', type: 'hash', keySize: 14, valueSize: 56, maxEntries: 65536, flags: 0 }, 1);
for (let i = 0; i < 65536; i++) hash.update(ctKey(key, i), val);
const hashLookup = () => opsPerSec(5_000_000, (i) => { hash.lookup(ctKey(key, i & 65535)); });

// LRU lookup + in-place counter update, plus inserts that evict (the CT hot path).
const lru = createMap({ ...CILIUM_CT4_GLOBAL, maxEntries: 65536 }, 2) as LruHashMap;
for (let i = 0; i < 65536; i++) lru.update(ctKey(key, i), val);
const lruLookupUpdate = () => opsPerSec(5_000_000, (i) => {
  const v = lru.lookup(ctKey(key, i & 65535));
  if (v !== undefined) v[16] = (v[16]! + 1) & 255;
});
let n = 65536; // keeps growing across rounds: every insert is a new key that evicts
const lruInsertEvict = () => opsPerSec(2_000_000, () => { lru.update(ctKey(key, n++), val); });

// LPM lookup in an ipcache with ~20 prefixes (pod /32s, node /32s, pod CIDRs, /0).
const lpm = createMap(CILIUM_IPCACHE, 3);
const prefixes: Array<[number, number]> = [[0, 0], [0x0a000000, 8], [0xac100000, 16], [0xac100000, 24], [0xac100100, 24], [0xac100200, 24]];
for (let i = 0; i < 14; i++) prefixes.push([0xac100000 + (i % 3) * 256 + 10 + i, 32]);
for (const [ip, len] of prefixes) lpm.update(new IpcacheKey(ip, len).encode(), new RemoteEndpointInfo(1000 + len).encode());
const lk = new Uint8Array(24);
const probes = [0xac10000a, 0xac10010f, 0xac100263, 0x08080808, 0x0a000001];
const lpmLookup = () => opsPerSec(3_000_000, (i) => { lpm.lookup(ipcacheLookupKey(lk, probes[i % 5]!)); });

// Heap per CT entry at 500k entries (cilium_ct4_global's real size, LRU, lookups done so value views exist).
function heapPerEntry(count: number): { heapBytesPerEntry: Measured; totalBytesPerEntry: Measured } {
  gc?.(); gc?.();
  const before = process.memoryUsage();
  const ct = createMap(CILIUM_CT4_GLOBAL, 4);
  const k = new CtKey4Global({ daddr: 0, saddr: 0, dport: 80, sport: 0, nexthdr: 6, flags: 0 }).encode();
  for (let i = 0; i < count; i++) { ct.update(ctKey(k, i), val); ct.lookup(k); }
  gc?.(); gc?.();
  const after = process.memoryUsage();
  if (ct.size !== count) throw new Error('lost entries');
  const heap = after.heapUsed - before.heapUsed;
  const ab = after.arrayBuffers - before.arrayBuffers;
  return { heapBytesPerEntry: size(Math.round(heap / count)), totalBytesPerEntry: size(Math.round((heap + ab) / count)) };
}
const CT4_ENTRIES = 500_000;

await runBench({
  header: { method: 'hot paths of the map engine, ops per CPU second of this process (process.cpuUsage) after a warm-up; heap per CT entry measured after gc() before/after filling' },
  rounds: 5,
  cases: [
    { name: 'hashLookup', at: '', run: () => ({ hashLookupOpsPerSec: hashLookup() }) },
    { name: 'lruLookupUpdate', at: '', run: () => ({ lruLookupUpdateOpsPerSec: lruLookupUpdate() }) },
    { name: 'lruInsertEvict', at: '', run: () => ({ lruInsertEvictOpsPerSec: lruInsertEvict() }) },
    { name: 'lpmLookup', at: '', run: () => ({ lpmLookup20PrefixesOpsPerSec: lpmLookup() }) },
    {
      name: 'ct4Heap', at: '', run: () => {
        const mem = heapPerEntry(CT4_ENTRIES);
        return { ct4Entries: CT4_ENTRIES, ct4HeapBytesPerEntry: mem.heapBytesPerEntry, ct4HeapPlusArrayBufferBytesPerEntry: mem.totalBytesPerEntry };
      },
    },
  ],
});
