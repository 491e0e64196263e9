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
  f.set(dst.subarray(0, 6), 0); f.set(src.subarray(0, 6), 6); writeU16(f, 12, type);
}
