// Zeroed byte buffers for frames (and perf events), carved from shared 32 KiB slabs: a fresh
// `new Uint8Array(n)` above V8's on-heap limit (64 bytes) costs a backing
// store allocation (~0.5 µs), which dominated the per-packet path. Slabs are
// never reused, so carved bytes start zero; a slab is freed once no frame
// in it is referenced.

const SLAB_BYTES = 32 * 1024;
/** Frames above this get their own buffer (their copy/checksum cost dwarfs the allocation). */
const SLAB_MAX_FRAME = 2048;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/** A zeroed Uint8Array of len bytes (byteOffset may be non-zero: use subarray-safe reads). */
export function allocBytes(len: number): Uint8Array {
  if (len > SLAB_MAX_FRAME) return new Uint8Array(len);
  if (used + len > SLAB_BYTES) { slab = new ArrayBuffer(SLAB_BYTES); used = 0; }
  const b = new Uint8Array(slab, used, len);
  used += (len + 7) & ~7;
  return b;
}
