// Shared pieces of the map implementations: memlock estimates and key helpers.

import type { MapSpec } from '../map.ts';

export const BPF_F_NO_PREALLOC = 1;

/** Possible CPUs the emulated kernels report (per-CPU maps keep this many copies). */
export const DEFAULT_NCPUS = 2;

/**
 * Kernel struct sizes used by the memlock estimates (x86_64, kernel 6.x
 * `*_mem_usage` callbacks, which bpftool prints as `memlock`):
 *  - array:  sizeof(bpf_array) + max_entries * round_up(value, 8)
 *            (per-CPU: + max_entries * 8 + max_entries * round_up(value, 8) * ncpus)
 *  - hash:   sizeof(bpf_htab) + 16 * n_buckets + 4 * ncpus * 8 (map locks)
 *            + elem_size * N, elem_size = 48 + round_up(key, 8) + (percpu ? 8 : round_up(value, 8)),
 *            N = max_entries (+ ncpus extra elems for non-LRU) when preallocated, else live entries
 *            (+ 8 llist bytes each); per-CPU adds round_up(value, 8) * ncpus per element.
 *  - lpm:    sizeof(lpm_trie) + (40 + data_size + value_size) * live entries
 * The header sizes are calibrated on the seed (prog_array 50 x 4B = 720B;
 * cilium_metrics percpu_hash = 19384B with 25 entries on 2 CPUs).
 */
export const BPF_ARRAY_HDR = 320;
export const BPF_HTAB_HDR = 336;
export const LPM_TRIE_HDR = 336;
const HTAB_ELEM_HDR = 48;
const LPM_NODE_HDR = 40;

export function round8(n: number): number { return (n + 7) & ~7; }

function pow2AtLeast(n: number): number { let p = 1; while (p < n) p *= 2; return p; }

/** memlock of an array-like map (array, percpu_array, prog_array, perf_event_array). */
export function arrayMemlock(spec: MapSpec, percpu: boolean, nCpus: number): number {
  const v = round8(spec.valueSize);
  return BPF_ARRAY_HDR + (percpu ? spec.maxEntries * 8 + spec.maxEntries * v * nCpus : spec.maxEntries * v);
}

/** memlock of a hash-like map with `live` entries. */
export function htabMemlock(spec: MapSpec, live: number, percpu: boolean, lru: boolean, nCpus: number): number {
  const v = round8(spec.valueSize);
  const elem = HTAB_ELEM_HDR + round8(spec.keySize) + (percpu ? 8 : v);
  const prealloc = (spec.flags & BPF_F_NO_PREALLOC) === 0;
  let usage = BPF_HTAB_HDR + 16 * pow2AtLeast(spec.maxEntries) + 4 * nCpus * 8;
  if (prealloc) {
    const n = spec.maxEntries + (lru ? 0 : nCpus);
    usage += elem * n;
    if (percpu) usage += v * nCpus * n;
  } else {
    usage += (elem + 8) * live;
    if (percpu) usage += v * nCpus * live;
  }
  return usage;
}

/** memlock of an LPM trie with `live` entries. */
export function lpmMemlock(spec: MapSpec, live: number): number {
  return LPM_TRIE_HDR + (LPM_NODE_HDR + (spec.keySize - 4) + spec.valueSize) * live;
}

/** Little-endian u32 (host order) at off: array indexes and LPM prefix lengths. */
export function readU32LE(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

/** 4-byte little-endian key for an array index. */
export function u32Key(i: number): Uint8Array {
  const k = new Uint8Array(4);
  k[0] = i & 255; k[1] = (i >>> 8) & 255; k[2] = (i >>> 16) & 255; k[3] = i >>> 24;
  return k;
}
