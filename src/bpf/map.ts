// Contract of the BPF map engine (kernel semantics). Implementations live in
// src/bpf/maps/*.ts; Cilium's own maps (names, layouts, print formats) in maps/.

export type MapType =
  | 'hash' | 'lru_hash' | 'lpm_trie' | 'array' | 'percpu_hash' | 'percpu_array'
  | 'lru_percpu_hash' | 'prog_array' | 'perf_event_array';

/** Update flags (include/uapi/linux/bpf.h). */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

/** errno values returned negated by the program-side API. */
export const ENOENT = 2;
export const E2BIG = 7;
export const ENOMEM = 12;
export const EEXIST = 17;
export const EINVAL = 22;
/** LPM trie full (trie_update_elem). */
export const ENOSPC = 28;

/** Static description of a map, as `bpftool map show` prints it. */
export interface MapSpec {
  name: string;
  type: MapType;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** BPF_F_NO_PREALLOC = 1 etc. */
  flags: number;
}

/**
 * A live map. The program-side API mirrors the helpers: lookup returns the
 * stored value itself (writes through, like the pointer bpf_map_lookup_elem
 * returns), update/delete return 0 or a negative errno. Keys compare by bytes.
 */
export interface BpfMap {
  readonly id: number;
  readonly spec: MapSpec;
  lookup(key: Uint8Array): Uint8Array | undefined;
  update(key: Uint8Array, value: Uint8Array, flags?: number): number;
  delete(key: Uint8Array): number;
  /** Copies of all entries, in a stable order (insertion order; LPM: by prefix). */
  entries(): Array<[Uint8Array, Uint8Array]>;
  /** Visit all entries in entries()' order through reused scratch buffers (no copy per entry); hash-like maps only. */
  forEach?(fn: (key: Uint8Array, value: Uint8Array) => void): void;
  readonly size: number;
  /** Bytes `bpftool map show` prints as memlock (estimate of the kernel's *_mem_usage). */
  readonly memlock?: number;
  /**
   * Follow every update and delete (user space, programs, LRU evictions, GC
   * sweeps); returns the function that stops. Values a program changes in place
   * through lookup() are not updates, as in the kernel. Absent on map types
   * without entries (perf event arrays).
   */
  watch?(fn: MapWatcher): () => void;
}

/** What changed: an update (new or replaced value) or a delete. */
export type MapChange = 'update' | 'delete';

/**
 * Called synchronously after a change with the key and the value stored (an
 * update) or the value removed (a delete; undefined when the map has none to
 * show). The bytes are the map's own or the caller's: copy what you keep.
 */
export type MapWatcher = (change: MapChange, key: Uint8Array, value: Uint8Array | undefined) => void;
