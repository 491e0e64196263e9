// Mirrors the host-byte-order (little-endian, x86) field access of BPF C structs.

export function u16le(b: Uint8Array, o: number): number { return b[o]! | (b[o + 1]! << 8); }
export function u32le(b: Uint8Array, o: number): number { return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0; }
export function setU16le(b: Uint8Array, o: number, v: number): void { b[o] = v & 255; b[o + 1] = (v >>> 8) & 255; }
export function setU32le(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 255; b[o + 1] = (v >>> 8) & 255; b[o + 2] = (v >>> 16) & 255; b[o + 3] = (v >>> 24) & 255;
}
/** u64 as a JS number (exact below 2^53). */
export function u64le(b: Uint8Array, o: number): number { return u32le(b, o) + u32le(b, o + 4) * 0x100000000; }
export function setU64le(b: Uint8Array, o: number, v: number): void {
  setU32le(b, o, v >>> 0); setU32le(b, o + 4, Math.floor(v / 0x100000000) >>> 0);
}
/** Big-endian (network order) accessors. */
export function u16be(b: Uint8Array, o: number): number { return (b[o]! << 8) | b[o + 1]!; }
export function u32be(b: Uint8Array, o: number): number { return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0; }
export function setU16be(b: Uint8Array, o: number, v: number): void { b[o] = (v >>> 8) & 255; b[o + 1] = v & 255; }
export function setU32be(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24; b[o + 1] = (v >>> 16) & 255; b[o + 2] = (v >>> 8) & 255; b[o + 3] = v & 255;
}
