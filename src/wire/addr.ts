// IPv4 and MAC address conversions between u32 / bytes and text.

/** "10.0.0.1" -> u32 (host order). Throws on malformed input. */
export function ipToU32(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) throw new Error(`invalid IPv4 address "${s}"`);
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) throw new Error(`invalid IPv4 address "${s}"`);
    v = v * 256 + o;
  }
  return v >>> 0;
}

/** True if s is a dotted-quad IPv4 address. */
export function isIpv4(s: string): boolean {
  try { ipToU32(s); return true; } catch { return false; }
}

/** u32 -> "10.0.0.1". */
export function u32ToIp(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Parse "a.b.c.d/n" into network address and prefix length. Throws on malformed input. */
export function parseCidr(s: string): { ip: number; prefixLen: number } {
  const [a, p, extra] = s.split('/');
  if (a === undefined || p === undefined || extra !== undefined || !/^\d{1,2}$/.test(p) || Number(p) > 32) throw new Error(`invalid CIDR "${s}"`);
  const prefixLen = Number(p);
  return { ip: (ipToU32(a) & prefixMask(prefixLen)) >>> 0, prefixLen };
}

/** Netmask of a prefix length as u32. */
export function prefixMask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** True if ip lies in net/len. */
export function inPrefix(ip: number, net: number, len: number): boolean {
  const m = prefixMask(len);
  return ((ip & m) >>> 0) === ((net & m) >>> 0);
}

/** Read a big-endian u32 from buf at off. */
export function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}
/** Write a big-endian u32. */
export function writeU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 24; buf[off + 1] = (v >>> 16) & 255; buf[off + 2] = (v >>> 8) & 255; buf[off + 3] = v & 255;
}
/** Read a big-endian u16. */
export function readU16(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}
/** Write a big-endian u16. */
export function writeU16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 8) & 255; buf[off + 1] = v & 255;
}

/** "aa:bb:..." (lowercase) from 6 bytes. */
export function macToString(mac: Uint8Array, upper = false): string {
  const s = Array.from(mac.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':');
  return upper ? s.toUpperCase() : s;
}
/** 6 bytes from "aa:bb:cc:dd:ee:ff". */
export function macFromString(s: string): Uint8Array {
  const parts = s.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new Error(`invalid MAC "${s}"`);
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}
export const BROADCAST_MAC = new Uint8Array([255, 255, 255, 255, 255, 255]);
