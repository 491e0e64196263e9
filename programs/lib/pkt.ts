// Mirrors revalidate_data()/ip4 header access: the few parsed fields a program
// needs, read once into the run's own view (no per-packet allocation).

import { runLocal, type Runtime } from '../../src/bpf/program.ts';
import { u16be, u32be } from './bytes.ts';

export const ETH_HLEN = 14;
export const ETH_P_IP = 0x0800, ETH_P_ARP = 0x0806;

/** Parsed IPv4 view of the current packet. */
export interface Ip4View { ok: boolean; saddr: number; daddr: number; proto: number; l4off: number; sport: number; dport: number; frag: boolean }
const IP4 = runLocal<Ip4View>(() => ({ ok: false, saddr: 0, daddr: 0, proto: 0, l4off: 0, sport: 0, dport: 0, frag: false }));

/** Parse the IPv4 header at ETH_HLEN into the run's view; .ok is false when truncated or not v4. */
export function parseIp4(rt: Runtime, d: Uint8Array, len: number): Ip4View {
  const v = rt.local(IP4);
  v.ok = false;
  if (len < ETH_HLEN + 20 || (d[ETH_HLEN]! >> 4) !== 4) return v;
  const ihl = (d[ETH_HLEN]! & 15) * 4;
  v.saddr = u32be(d, ETH_HLEN + 12); v.daddr = u32be(d, ETH_HLEN + 16);
  v.proto = d[ETH_HLEN + 9]!; v.l4off = ETH_HLEN + ihl;
  const fw = u16be(d, ETH_HLEN + 6);
  v.frag = (fw & 0x3fff) !== 0;
  v.sport = 0; v.dport = 0;
  // ipv4_has_l4_header: only an unfragmented datagram or a first fragment carries the L4 header.
  if ((v.proto === 6 || v.proto === 17) && (fw & 0x1fff) === 0 && len >= v.l4off + 4) { v.sport = u16be(d, v.l4off); v.dport = u16be(d, v.l4off + 2); }
  v.ok = true;
  return v;
}
