// Captured frames decoded to what a comparison looks at: addresses and ports
// on the wire, and for VXLAN the inner packet (which the outer node addresses hide).

import { u32ToIp, readU16 } from '../wire/addr.ts';
import { ETH_HLEN, ETH_P_IP, ethType } from '../wire/ethernet.ts';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, ipDaddr, ipIhl, ipProto, ipSaddr } from '../wire/ipv4.ts';
import { VXLAN_PORT_CILIUM, VXLAN_PORT_IANA } from '../wire/vxlan.ts';

/** One IPv4 packet as seen on a device. */
export interface Packet {
  dir: 'in' | 'out';
  proto: 'tcp' | 'udp' | 'icmp' | number;
  src: string;
  dst: string;
  /** TCP/UDP ports; undefined for other protocols. */
  sport?: number;
  dport?: number;
  /** TCP flags byte (SYN 0x02, ACK 0x10...). */
  tcpFlags?: number;
  /** The encapsulated packet of a VXLAN frame. */
  inner?: Omit<Packet, 'dir' | 'wallMs'>;
  wallMs: number;
}

const VXLAN_PORTS = new Set([VXLAN_PORT_CILIUM, VXLAN_PORT_IANA]);

/** The IPv4 packet in an Ethernet frame at offset o; undefined for ARP, IPv6 and runts. */
function ipv4At(f: Uint8Array, o: number): Omit<Packet, 'dir' | 'wallMs'> | undefined {
  if (f.length < o + ETH_HLEN + 20 || ethType(f.subarray(o)) !== ETH_P_IP) return undefined;
  const ip = o + ETH_HLEN;
  const p = ipProto(f, ip), l4 = ip + ipIhl(f, ip);
  const out: Omit<Packet, 'dir' | 'wallMs'> = { proto: p === IPPROTO_TCP ? 'tcp' : p === IPPROTO_UDP ? 'udp' : p === IPPROTO_ICMP ? 'icmp' : p, src: u32ToIp(ipSaddr(f, ip)), dst: u32ToIp(ipDaddr(f, ip)) };
  if ((p === IPPROTO_TCP || p === IPPROTO_UDP) && f.length >= l4 + 4) {
    out.sport = readU16(f, l4);
    out.dport = readU16(f, l4 + 2);
    if (p === IPPROTO_TCP && f.length >= l4 + 14) out.tcpFlags = f[l4 + 13]!;
    // UDP header 8 + VXLAN header 8, then the inner Ethernet frame.
    if (p === IPPROTO_UDP && VXLAN_PORTS.has(out.dport)) {
      const inner = ipv4At(f, l4 + 16);
      if (inner) out.inner = inner;
    }
  }
  return out;
}

/** Decode one captured frame; undefined when it carries no IPv4 packet. */
export function decodeFrame(frame: Uint8Array, dir: 'in' | 'out', wallMs: number): Packet | undefined {
  const p = ipv4At(frame, 0);
  return p ? { dir, wallMs, ...p } : undefined;
}
