// Mirrors bpf/lib/csum.h + the l3/l4 csum_replace helpers: incremental
// checksum updates after rewriting addresses and ports in place.

import { csumReplace } from '../../src/wire/checksum.ts';
import { u16be, u32be, setU16be, setU32be } from './bytes.ts';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../src/wire/ipv4.ts';

const ETH_HLEN = 14;
/** Offset of the L4 checksum for proto, or -1 when there is none to fix. */
export function l4CsumOff(proto: number): number {
  return proto === IPPROTO_TCP ? 16 : proto === IPPROTO_UDP ? 6 : -1;
}

/** bpf_l3_csum_replace on the IPv4 header checksum. */
export function l3CsumReplace(d: Uint8Array, from: number, to: number, size: 2 | 4): void {
  const o = ETH_HLEN + 10;
  setU16be(d, o, csumReplace(u16be(d, o), from, to, size));
}

/** bpf_l4_csum_replace; pseudo: the field is part of the pseudo header (address). UDP csum 0 stays 0. */
export function l4CsumReplace(d: Uint8Array, l4off: number, proto: number, from: number, to: number, size: 2 | 4): void {
  const co = l4CsumOff(proto);
  if (co < 0) return;
  const o = l4off + co;
  const cur = u16be(d, o);
  if (proto === IPPROTO_UDP && cur === 0) return;
  let n = csumReplace(cur, from, to, size);
  if (proto === IPPROTO_UDP && n === 0) n = 0xffff;
  setU16be(d, o, n);
}

/** Rewrite the IPv4 address at ipOff+12 (saddr) or +16 (daddr), fixing L3 and L4 checksums. */
export function rewriteAddr(d: Uint8Array, fieldOff: number, proto: number, l4off: number, to: number): void {
  const from = u32be(d, fieldOff);
  if (from === to) return;
  setU32be(d, fieldOff, to);
  l3CsumReplace(d, from, to, 4);
  l4CsumReplace(d, l4off, proto, from, to, 4);
}

/** Rewrite a 16-bit L4 port (or ICMP echo id) at off, fixing the L4 checksum. */
export function rewritePort(d: Uint8Array, off: number, proto: number, l4off: number, to: number): void {
  const from = u16be(d, off);
  if (from === to) return;
  setU16be(d, off, to);
  if (proto === 1) {
    // ICMP checksum covers no pseudo header: the id is plain payload of the sum.
    const co = l4off + 2;
    setU16be(d, co, csumReplace(u16be(d, co), from, to, 2));
    return;
  }
  l4CsumReplace(d, l4off, proto, from, to, 2);
}
