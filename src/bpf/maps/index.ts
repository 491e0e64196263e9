// Map engine entry point: one class per kernel map type, and a factory by MapSpec.type.

import type { BpfMap, MapSpec } from '../map.ts';
import { ArrayMap } from './array.ts';
import { HashMap } from './hash.ts';
import { LpmTrieMap } from './lpm_trie.ts';
import { LruHashMap } from './lru_hash.ts';
import { PercpuArrayMap } from './percpu_array.ts';
import { PercpuHashMap } from './percpu_hash.ts';
import { PerfEventArrayMap } from './perf_event_array.ts';
import { ProgArrayMap } from './prog_array.ts';

export { ArrayMap, HashMap, LpmTrieMap, LruHashMap, PercpuArrayMap, PercpuHashMap, PerfEventArrayMap, ProgArrayMap };
export type { PerfReader } from './perf_event_array.ts';
export { BPF_F_NO_PREALLOC, DEFAULT_NCPUS, u32Key, readU32LE } from './base.ts';

/** Create the map implementing spec.type. Throws for types the engine does not model (lru_percpu_hash). */
export function createMap(spec: MapSpec, id: number): BpfMap {
  switch (spec.type) {
    case 'hash': return new HashMap(spec, id);
    case 'lru_hash': return new LruHashMap(spec, id);
    case 'lpm_trie': return new LpmTrieMap(spec, id);
    case 'array': return new ArrayMap(spec, id);
    case 'percpu_hash': return new PercpuHashMap(spec, id);
    case 'percpu_array': return new PercpuArrayMap(spec, id);
    case 'prog_array': return new ProgArrayMap(spec, id);
    case 'perf_event_array': return new PerfEventArrayMap(spec, id);
    case 'lru_percpu_hash': throw new Error(`map type ${spec.type} is not modelled (${spec.name})`);
  }
}
