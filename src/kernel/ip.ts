// IPv4 input, forwarding and local output (ip_rcv, ip_forward, ip_local_out)
// plus the ICMP the stack answers itself (echo, errors).

import { newSkb, type SkBuff } from '../wire/skb.ts';
import { readU16, readU32 } from '../wire/addr.ts';
import { buildIcmpEchoFrame, buildIcmpErrorFrame, ICMP_FRAG_NEEDED, ICMP_NET_UNREACH } from '../wire/build.ts';
import { checksum } from '../wire/checksum.ts';
import { ETH_HLEN } from '../wire/ethernet.ts';
import { ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_HLEN, ICMP_TIME_EXCEEDED } from '../wire/icmp.ts';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IP_DADDR, IP_SADDR, ipDecTtl } from '../wire/ipv4.ts';
import type { Route } from './api.ts';
import type { Device } from './device.ts';
import type { NetnsImpl } from './netns.ts';
import { devReceive } from './path.ts';
import { vxlanInnerOffset, vxlanVni, VXLAN_HLEN } from '../wire/vxlan.ts';

const ZERO_MAC = new Uint8Array(6);

/** ip_rcv: validate, then deliver locally or forward. Consumes skb. */
export function ipRcv(ns: NetnsImpl, dev: Device, skb: SkBuff): void {
  const f = skb.data, o = ETH_HLEN;
  if (skb.len < o + 20 || (f[o]! & 0xf0) !== 0x40) { dev.stats.rxDropped++; return; }
  const ihl = (f[o]! & 15) * 4, tot = readU16(f, o + 2);
  if (ihl < 20 || tot < ihl || o + tot > skb.len || checksum(f, o, ihl) !== 0) { dev.stats.rxDropped++; return; }
  skb.len = o + tot;
  const daddr = readU32(f, o + IP_DADDR);
  if ((ns.acceptAnyDestination && ns.refuseDestination?.(daddr) !== true) || ns.isLocal(daddr) || daddr === 0xffffffff) { ipLocalDeliver(ns, dev, skb, ihl); return; }
  if (!ns.ipForward) { dev.stats.rxDropped++; return; }
  ipForward(ns, dev, skb);
}

/** ip_forward: TTL, route, neighbour. */
function ipForward(ns: NetnsImpl, inDev: Device, skb: SkBuff): void {
  const f = skb.data, o = ETH_HLEN;
  if (f[o + 8]! <= 1) { icmpError(ns, skb, ICMP_TIME_EXCEEDED, 0, 0); inDev.stats.rxDropped++; return; }
  const daddr = readU32(f, o + IP_DADDR);
  const r = ns.lookupRoute(daddr);
  const out = r ? ns.byIndex.get(r.ifindex) : undefined;
  if (!r || !out) { icmpError(ns, skb, ICMP_DEST_UNREACH, ICMP_NET_UNREACH, 0); inDev.stats.rxDropped++; return; }
  const mtu = r.mtu ?? out.mtu;
  if (skb.len - ETH_HLEN > mtu && (f[o + 6]! & 0x40) !== 0) { icmpError(ns, skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, mtu); return; }
  ipDecTtl(f, o);
  ns.neigh.output(out, r.gateway || daddr, skb);
}

/** ip_local_out for locally generated packets (IPv4 header at ETH_HLEN written). Returns false without a route. */
export function ipLocalOut(ns: NetnsImpl, skb: SkBuff, route?: Route): boolean {
  const dst = readU32(skb.data, ETH_HLEN + IP_DADDR);
  if (ns.isLocal(dst)) {
    const lo = ns.byIndex.get(1);
    if (!lo) return false;
    ns.neigh.output(lo, dst, skb);
    return true;
  }
  const r = route ?? ns.lookupRoute(dst);
  const dev = r ? ns.byIndex.get(r.ifindex) : undefined;
  if (!r || !dev) return false;
  ns.neigh.output(dev, r.gateway || dst, skb);
  return true;
}

function ipLocalDeliver(ns: NetnsImpl, dev: Device, skb: SkBuff, ihl: number): void {
  const f = skb.data, o = ETH_HLEN;
  switch (f[o + 9]) {
    case IPPROTO_TCP: ns.sock.tcpRcv(skb, o + ihl); return;
    case IPPROTO_UDP:
      if (vxlanRcv(ns, skb)) return;
      ns.sock.udpRcv(skb, o + ihl); return;
    case IPPROTO_ICMP: icmpRcv(ns, dev, skb, o + ihl); return;
    default: dev.stats.rxDropped++;
  }
}

function icmpRcv(ns: NetnsImpl, dev: Device, skb: SkBuff, l4: number): void {
  const f = skb.data, o = ETH_HLEN;
  if (skb.len - l4 < ICMP_HLEN || checksum(f, l4, skb.len - l4) !== 0) { dev.stats.rxDropped++; return; }
  const type = f[l4]!;
  if (type === ICMP_ECHO) {
    const saddr = readU32(f, o + IP_SADDR), daddr = readU32(f, o + IP_DADDR);
    const reply = buildIcmpEchoFrame({
      srcMac: ZERO_MAC, dstMac: ZERO_MAC, src: daddr, dst: saddr, ttl: ns.defaultTtl, id: ns.nextIpId(), df: (f[o + 6]! & 0x40) !== 0,
      reply: true, echoId: readU16(f, l4 + 4), seq: readU16(f, l4 + 6),
    }, f.subarray(l4 + ICMP_HLEN, skb.len));
    ipLocalOut(ns, newSkb(reply, reply.length, 0));
  } else if (type === ICMP_ECHOREPLY) {
    ns.sock.pingRcv(skb, l4);
  } else if (type === ICMP_DEST_UNREACH || type === ICMP_TIME_EXCEEDED) {
    ns.sock.icmpErrorRcv(skb, l4);
  }
}

/** icmp_send: an error about skb back to its source (never about ICMP errors or broadcasts). */
export function icmpError(ns: NetnsImpl, skb: SkBuff, type: number, code: number, mtu: number): void {
  const f = skb.data, o = ETH_HLEN;
  const saddr = readU32(f, o + IP_SADDR);
  if (saddr === 0 || readU32(f, o + IP_DADDR) === 0xffffffff) return;
  if (f[o + 9] === IPPROTO_ICMP) {
    const t = f[o + (f[o]! & 15) * 4];
    if (t !== ICMP_ECHO && t !== ICMP_ECHOREPLY) return;
  }
  const back = ns.lookupRoute(saddr);
  const out = back ? ns.byIndex.get(back.ifindex) : undefined;
  if (!back || !out) return;
  const src = ns.selectSource(out, back);
  const frame = buildIcmpErrorFrame({ srcMac: ZERO_MAC, dstMac: ZERO_MAC, src, dst: saddr, ttl: ns.defaultTtl, id: ns.nextIpId() }, type, code, f.subarray(0, skb.len), o, mtu);
  ipLocalOut(ns, newSkb(frame, frame.length, 0), back);
}

/** vxlan_rcv: UDP to a vxlan device's port on a local address -> inner frame on that device's ingress. */
function vxlanRcv(ns: NetnsImpl, skb: SkBuff): boolean {
  if (ns.vxlanDevs.length === 0) return false;
  const f = skb.data, len = skb.len;
  for (const vx of ns.vxlanDevs) {
    const off = vxlanInnerOffset(f, vx.vxlan!.port, len);
    if (off < 0) continue;
    const remote = readU32(f, ETH_HLEN + IP_SADDR);
    skb.tunnel = { remoteIpv4: remote, tunnelId: vxlanVni(f, off - VXLAN_HLEN) };
    skb.data = f.subarray(off, len); skb.len = len - off;
    skb.mark = 0; skb.sockCookie = 0;
    devReceive(vx, skb);
    return true;
  }
  return false;
}
