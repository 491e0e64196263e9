// Mirrors Cilium's cilium_ct_any4_global map: non-TCP conntrack, same layout as cilium_ct4_global.

import type { MapSpec } from '../src/bpf/map.ts';
export { CtEntry, CtKey4Global, CT4_FORMAT as CT_ANY4_FORMAT } from './cilium_ct4_global.ts';

/** LRU_HASH, 14-byte tuple -> 56-byte ct_entry, CTMapEntriesGlobalAnyDefault 2<<17. */
export const CILIUM_CT_ANY4_GLOBAL: MapSpec = { name: 'cilium_ct_any4_global', type: 'lru_hash', keySize: 14, valueSize: 56, maxEntries: 262144, flags: 0 };
