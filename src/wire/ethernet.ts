// Ethernet II header: dst mac, src mac, ethertype.

import { readU16, writeU16 } from './addr.ts';

export const ETH_HLEN = 14;
export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;

export function ethDst(f: Uint8Array): Uint8Array { return f.subarray(0, 6); }
export function ethSrc(f: Uint8Array): Uint8Array { return f.subarray(6, 12); }
export function ethType(f: Uint8Array): number { return readU16(f, 12); }

/** Write an Ethernet header at the start of f. */
export function writeEth(f: Uint8Array, dst: Uint8Array, src: Uint8Array, type: number): void {
  // Byte copies: subarray()+set() for 6 bytes costs more than the copy (per-packet path).
  for (let i = 0; i < 6; i++) { f[i] = dst[i]!; f[6 + i] = src[i]!; }
  writeU16(f, 12, type);
}
