// Heap bytes per conntrack entry: a node's real cilium_ct4_global (LRU hash,
// 14-byte tuple -> 56-byte ct_entry) filled to 500k entries by the datapath's
// own ct_lookup4 + ct_create4 on TCP SYN frames of distinct flows. Each figure
// is the median of rounds (bench/lib/harness.ts). Prints JSON.
// Run: node --expose-gc --import tsx bench/ct_memory.bench.ts [entries] [--rounds N]

import { BpfRuntime } from '../src/bpf/runtime.ts';
import { IdAllocator } from '../src/bpf/ids.ts';
import { buildTcpFrame } from '../src/wire/build.ts';
import { TCP_SYN } from '../src/wire/tcp.ts';
import { createNodeMaps } from '../maps/index.ts';
import { ctCreate4, ctLookup4, CT_NEW } from '../programs/lib/conntrack.ts';
import { TUPLE_F_OUT } from '../maps/cilium_ct4_global.ts';
import type { DatapathEnv } from '../programs/lib/common.ts';
import { benchArgs, runBench } from './lib/harness.ts';
import { perSec, size, span, type Figures } from './lib/figures.ts';

const args = benchArgs();
const ENTRIES = Number(args.rest[0] ?? 500_000);
const gc = (globalThis as { gc?: () => void }).gc;
const MAC = new Uint8Array(6);

const rt = new BpfRuntime({
  fibLookup: () => ({ ret: 0, ifindex: 0, nh: 0, smac: MAC, dmac: MAC }), ktimeNs: () => 0, prandomU32: () => 0, monoSeconds: () => 1000,
});
/** A SYN of flow i: 10.244.x.y -> 10.96.x.y:80 with a varying source port. */
function syn(i: number): Uint8Array {
  return buildTcpFrame({
    srcMac: MAC, dstMac: MAC, src: (0x0af40000 + (i & 0xffff)) >>> 0, dst: (0x0a600000 + (i >>> 16)) >>> 0, ttl: 64, id: 0, df: true,
    sport: 1024 + (i % 60000), dport: 80, seq: i, ack: 0, flags: TCP_SYN, window: 64240,
  });
}

/** One round: a fresh node's maps filled with ENTRIES flows, measured, then dropped. */
function fill(): Figures {
  gc?.(); gc?.();
  const before = process.memoryUsage();
  const maps = createNodeMaps(new IdAllocator());
  const env = { maps, node: {} } as unknown as DatapathEnv;
  const stop = span();
  for (let i = 0; i < ENTRIES; i++) {
    const f = syn(i);
    if (ctLookup4(rt, env, f, f.length, 14, 34, 6, TUPLE_F_OUT) !== CT_NEW) throw new Error(`flow ${i} not new`);
    if (ctCreate4(rt, env, f, f.length, 34, 6, 0, 0, 12345) !== 0) throw new Error(`ct_create4 failed at ${i}`);
  }
  const fillMs = stop().cpuMs;
  gc?.(); gc?.();
  const created = process.memoryUsage();
  if (maps.ct4.size !== ENTRIES) throw new Error(`ct4 holds ${maps.ct4.size}/${ENTRIES}`);
  // A second packet of every flow: ct_lookup4 hits, and the map caches a value view per entry (the steady state).
  for (let i = 0; i < ENTRIES; i++) {
    const f = syn(i);
    if (ctLookup4(rt, env, f, f.length, 14, 34, 6, TUPLE_F_OUT) === CT_NEW) throw new Error(`flow ${i} lost`);
  }
  gc?.(); gc?.();
  const after = process.memoryUsage();
  const perEntry = (m: NodeJS.MemoryUsage) => ({ heap: Math.round((m.heapUsed - before.heapUsed) / ENTRIES), total: Math.round((m.heapUsed - before.heapUsed + m.arrayBuffers - before.arrayBuffers) / ENTRIES) });
  const c = perEntry(created), a = perEntry(after);
  return {
    ct4Entries: maps.ct4.size,
    heapBytesPerEntry: size(a.heap),
    heapPlusArrayBufferBytesPerEntry: size(a.total),
    afterCreateOnly: { heapBytesPerEntry: size(c.heap), heapPlusArrayBufferBytesPerEntry: size(c.total) },
    floorBytesPerEntry: 250,
    fillEntriesPerSec: perSec(ENTRIES, fillMs, 'cpu'),
  };
}

await runBench({
  header: {
    method: 'createNodeMaps() cilium_ct4_global filled by programs/lib/conntrack ctLookup4+ctCreate4 on distinct TCP SYN frames, then one more ctLookup4 per flow (hit: the value view is cached, the steady state); heap measured after gc() before/after (the other node maps are small and count against us); fillEntriesPerSec per CPU second',
  },
  rounds: 5,
  cases: [{ name: 'ct4', at: '', run: fill }],
}, args);
