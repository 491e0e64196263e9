// ARP for IPv4 over Ethernet (RFC 826), read at an offset and built as whole frames.

import { readU16, readU32, writeU16, writeU32, BROADCAST_MAC } from './addr.ts';
import { ETH_HLEN, ETH_P_ARP, ETH_P_IP, writeEth } from './ethernet.ts';

export const ARP_LEN = 28;
export const ARPOP_REQUEST = 1, ARPOP_REPLY = 2;
export const ARPHRD_ETHER = 1;
/** Length of a whole ARP frame as Linux sends it (the NIC pads to 60 on the wire). */
export const ARP_FRAME_LEN = ETH_HLEN + ARP_LEN;

const ZERO_MAC = new Uint8Array(6);

export function arpHrd(f: Uint8Array, o = ETH_HLEN): number { return readU16(f, o); }
export function arpPro(f: Uint8Array, o = ETH_HLEN): number { return readU16(f, o + 2); }
export function arpOp(f: Uint8Array, o = ETH_HLEN): number { return readU16(f, o + 6); }
export function arpSenderMac(f: Uint8Array, o = ETH_HLEN): Uint8Array { return f.subarray(o + 8, o + 14); }
export function arpSenderIp(f: Uint8Array, o = ETH_HLEN): number { return readU32(f, o + 14); }
export function arpTargetMac(f: Uint8Array, o = ETH_HLEN): Uint8Array { return f.subarray(o + 18, o + 24); }
export function arpTargetIp(f: Uint8Array, o = ETH_HLEN): number { return readU32(f, o + 24); }

/** True if the ARP body at o is Ethernet/IPv4 with 6/4-byte addresses (the only kind we speak). */
export function arpIsEthIpv4(f: Uint8Array, o = ETH_HLEN): boolean {
  return f.length >= o + ARP_LEN && arpHrd(f, o) === ARPHRD_ETHER && arpPro(f, o) === ETH_P_IP && f[o + 4] === 6 && f[o + 5] === 4;
}

/** Write a 28-byte Ethernet/IPv4 ARP body at o. */
export function writeArp(f: Uint8Array, o: number, op: number, sha: Uint8Array, spa: number, tha: Uint8Array, tpa: number): void {
  writeU16(f, o, ARPHRD_ETHER); writeU16(f, o + 2, ETH_P_IP); f[o + 4] = 6; f[o + 5] = 4;
  writeU16(f, o + 6, op);
  f.set(sha.subarray(0, 6), o + 8); writeU32(f, o + 14, spa);
  f.set(tha.subarray(0, 6), o + 18); writeU32(f, o + 24, tpa);
}

/** Broadcast "who-has targetIp tell srcIp" (target MAC zero, as Linux sends it). */
export function buildArpRequest(srcMac: Uint8Array, srcIp: number, targetIp: number): Uint8Array {
  const f = new Uint8Array(ARP_FRAME_LEN);
  writeEth(f, BROADCAST_MAC, srcMac, ETH_P_ARP);
  writeArp(f, ETH_HLEN, ARPOP_REQUEST, srcMac, srcIp, ZERO_MAC, targetIp);
  return f;
}

/** Unicast "srcIp is-at srcMac" to the asker (dstMac, dstIp). */
export function buildArpReply(srcMac: Uint8Array, srcIp: number, dstMac: Uint8Array, dstIp: number): Uint8Array {
  const f = new Uint8Array(ARP_FRAME_LEN);
  writeEth(f, dstMac, srcMac, ETH_P_ARP);
  writeArp(f, ETH_HLEN, ARPOP_REPLY, srcMac, srcIp, dstMac, dstIp);
  return f;
}
