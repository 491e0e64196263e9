// Byte and text helpers shared by the Cilium map files (Go fmt look-alikes, u8proto names).

/** IPv4 bytes at off (network order) -> dotted quad. */
export function ip4At(b: Uint8Array, off: number): string {
  return `${b[off]!}.${b[off + 1]!}.${b[off + 2]!}.${b[off + 3]!}`;
}

/** u32 IPv4 (host value, as src/wire/addr's ipToU32) written big-endian at off. */
export function putIp4(b: Uint8Array, off: number, ip: number): void {
  b[off] = ip >>> 24; b[off + 1] = (ip >>> 16) & 255; b[off + 2] = (ip >>> 8) & 255; b[off + 3] = ip & 255;
}
export function getIp4(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

export function dv(b: Uint8Array): DataView { return new DataView(b.buffer, b.byteOffset, b.byteLength); }

/** Go's %-Nd. */
export function ld(n: number | bigint, w: number): string { return String(n).padEnd(w, ' '); }

/** Go's %#0Nx: "0x" then at least N hex digits. */
export function hexN(n: number, digits: number): string { return '0x' + n.toString(16).padStart(digits, '0'); }

/** pkg/u8proto names. */
const PROTO: Record<number, string> = { 0: 'ANY', 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6', 132: 'SCTP' };
export function u8protoName(p: number): string { return PROTO[p] ?? String(p); }
export function u8protoFromName(s: string): number {
  for (const [k, v] of Object.entries(PROTO)) if (v === s.toUpperCase() || v === s) return Number(k);
  throw new Error(`unknown protocol ${s}`);
}

/** Bytes <-> MAC "AA:BB:..." (upper case, as Cilium's mac.Uint64MAC prints). */
export function macUpper(b: Uint8Array, off: number): string {
  const p: string[] = [];
  for (let i = 0; i < 6; i++) p.push(b[off + i]!.toString(16).toUpperCase().padStart(2, '0'));
  return p.join(':');
}
export function macBytes(s: string): Uint8Array {
  const parts = s.split(':');
  if (parts.length !== 6) throw new Error(`invalid MAC ${s}`);
  return Uint8Array.from(parts, (x) => parseInt(x, 16));
}

/** Kernel object names are cut to BPF_OBJ_NAME_LEN - 1 = 15 chars (bpftool shows `cilium_calls_00`). */
export function kernelObjName(name: string): string { return name.slice(0, 15); }

/** bpf.LocalMapName: prefix + %05d. */
export function localMapName(prefix: string, id: number): string { return prefix + String(id).padStart(5, '0'); }
