// Internet checksum (RFC 1071) and the incremental update BPF helpers use (RFC 1624).

/** Ones'-complement sum of bytes [off, off+len), folded to 16 bits, not inverted. */
export function sum16(buf: Uint8Array, off: number, len: number, initial = 0): number {
  let s = initial;
  const end = off + len - 1;
  let i = off;
  for (; i < end; i += 2) s += (buf[i]! << 8) | buf[i + 1]!;
  if (i === end) s += buf[i]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** Final checksum value (inverted ones'-complement sum). */
export function checksum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  return ~sum16(buf, off, len, initial) & 0xffff;
}

/** Incrementally replace a 16-bit or 32-bit field in a stored checksum: HC' = ~(~HC + ~m + m'). */
export function csumReplace(csum: number, from: number, to: number, size: 2 | 4): number {
  let s = ~csum & 0xffff;
  if (size === 4) {
    s += (~from >>> 16) & 0xffff; s += ~from & 0xffff;
    s += to >>> 16; s += to & 0xffff;
  } else {
    s += ~from & 0xffff; s += to & 0xffff;
  }
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
