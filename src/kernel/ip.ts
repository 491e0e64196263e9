// IPv4 input, forwarding and local output (ip_rcv, ip_forward, ip_local_out)
// plus the ICMP the stack answers itself (echo, errors).

import { newSkb, type SkBuff } from '../wire/skb.ts';
import { readU16, readU32 } from '../wire/addr.ts';
import { buildIcmpEchoFrame, buildIcmpErrorFrame, ICMP_FRAG_NEEDED, ICMP_NET_UNREACH } from '../wire/build.ts';
import { checksum } from '../wire/checksum.ts';
import { ETH_HLEN } from '../wire/ethernet.ts';
import { ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_HLEN, ICMP_TIME_EXCEEDED } from '../wire/icmp.ts';
import { IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_TCP, IPPROTO_UDP, IP_DADDR, IP_SADDR, ipDecTtl } from '../wire/ipv4.ts';
import type { Route } from './api.ts';
import type { Device } from './device.ts';
import type { NetnsImpl } from './netns.ts';
import { devReceive } from './path.ts';
import { vxlanInnerOffset, vxlanVni, VXLAN_HLEN } from '../wire/vxlan.ts';
import { ipFragment, isFragment, PmtuCache, Reassembler } from './frag.ts';
import type { NfPacket } from '../netfilter/netfilter.ts';
import { nfHook } from './nf_hooks.ts';
import { ipipRcv } from './ipip.ts';
import { anyIpvs, ipvsForward, ipvsLocalOut, ipvsTook, ipvsXmit } from './ipvs.ts';

const ZERO_MAC = new Uint8Array(6);

/** ip_rcv: validate, then deliver locally or forward. Consumes skb. */
export function ipRcv(ns: NetnsImpl, dev: Device, skb: SkBuff): void {
  const f = skb.data, o = ETH_HLEN;
  if (skb.len < o + 20 || (f[o]! & 0xf0) !== 0x40) { dev.stats.rxDropped++; return; }
  const ihl = (f[o]! & 15) * 4, tot = readU16(f, o + 2);
  if (ihl < 20 || tot < ihl || o + tot > skb.len || checksum(f, o, ihl) !== 0) { dev.stats.rxDropped++; return; }
  skb.len = o + tot;
  // NF_INET_PRE_ROUTING (loopback traffic kept its conntrack entry on the way out: not tracked twice).
  let np: NfPacket | undefined;
  const nf = ns.netfilter;
  const hooked = nf !== null && dev.kind !== 'loopback' && !nf.idle();
  if (hooked) {
    // nf_defrag_ipv4: conntrack sees whole datagrams; a forwarded one is fragmented again on output.
    if (isFragment(skb.data)) {
      const whole = defragOf(ns).add(skb);
      if (whole === null) return;
      skb = whole;
    }
    const r = nfHook(ns, nf, 'PREROUTING', skb, undefined, dev.name, '');
    if (r === false) { dev.stats.rxDropped++; return; }
    np = r;
  }
  const daddr = readU32(skb.data, o + IP_DADDR);
  if ((ns.acceptAnyDestination && ns.refuseDestination?.(daddr) !== true) || ns.isLocal(daddr) || daddr === 0xffffffff) {
    if (isFragment(skb.data)) {
      const whole = defragOf(ns).add(skb);
      if (whole === null) return;
      skb = whole;
    }
    if (hooked) {
      const a = nfHook(ns, nf, 'INPUT', skb, np, dev.name, '');
      if (a === false) { dev.stats.rxDropped++; return; }
      // IPVS took it at LOCAL_IN (DNAT to a real server elsewhere): ip_vs_nat_xmit sends it on.
      if (anyIpvs && a !== undefined && ipvsTook(ns, a)) {
        ipvsXmit(ns, dev, skb, a, (out) => nfHook(ns, nf, 'POSTROUTING', skb, a, dev.name, out) !== false);
        return;
      }
    }
    ipLocalDeliver(ns, dev, skb, ihl);
    return;
  }
  if (!ns.ipForward) { dev.stats.rxDropped++; return; }
  ipForward(ns, dev, skb, np);
}

/** ip_forward: TTL, route, neighbour. */
function ipForward(ns: NetnsImpl, inDev: Device, skb: SkBuff, np?: NfPacket): void {
  const f = skb.data, o = ETH_HLEN;
  if (f[o + 8]! <= 1) { icmpError(ns, skb, ICMP_TIME_EXCEEDED, 0, 0); inDev.stats.rxDropped++; return; }
  const daddr = readU32(f, o + IP_DADDR);
  const r = ns.lookupRoute(daddr);
  const out = r ? ns.byIndex.get(r.ifindex) : undefined;
  if (r?.type === 'blackhole') { inDev.stats.rxDropped++; return; } // RTN_BLACKHOLE: discarded, no ICMP
  if (!r || !out) { icmpError(ns, skb, ICMP_DEST_UNREACH, ICMP_NET_UNREACH, 0); inDev.stats.rxDropped++; return; }
  const mtu = r.mtu ?? out.mtu;
  // ip_forward: DF over the next hop's MTU earns "fragmentation needed" with that MTU; without DF, ip_fragment after the TTL.
  const big = skb.len - ETH_HLEN > mtu;
  if (big && (f[o + 6]! & 0x40) !== 0) { icmpError(ns, skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, mtu); inDev.stats.rxDropped++; return; }
  ipDecTtl(f, o);
  // NF_INET_FORWARD, then NF_INET_POST_ROUTING (SNAT/MASQUERADE, a reply's de-DNAT).
  const nf = ns.netfilter;
  if (nf !== null && !nf.idle()) {
    const a = nfHook(ns, nf, 'FORWARD', skb, np, inDev.name, out.name);
    // ip_vs_reply4 at FORWARD: a real server's answer leaves from the VIP.
    if (anyIpvs && a) ipvsForward(ns, skb, a);
    if (a === false || nfHook(ns, nf, 'POSTROUTING', skb, a, inDev.name, out.name) === false) { inDev.stats.rxDropped++; return; }
  }
  if (big) {
    const nh = r.gateway || daddr;
    if (ipFragment(skb, mtu, (fr) => ns.neigh.output(out, nh, fr)) === 0) inDev.stats.rxDropped++;
    return;
  }
  ns.neigh.output(out, r.gateway || daddr, skb);
}

const defrags = new WeakMap<NetnsImpl, Reassembler>();
const pmtus = new WeakMap<NetnsImpl, PmtuCache>();
/** Set once any netns has learnt a PMTU: until then local output skips the cache lookup. */
let anyPmtu = false;

/** The netns's fragment queues (built at its first fragment). */
export function defragOf(ns: NetnsImpl): Reassembler {
  let d = defrags.get(ns);
  if (d === undefined) {
    d = new Reassembler({
      schedule: (delayNs, fn) => ns.node.sim.schedule(delayNs, fn),
      // ip_expire: ICMP time exceeded, "fragment reassembly time exceeded", about the first fragment.
      timeExceeded: (first) => icmpError(ns, newSkb(first, first.length, 0), ICMP_TIME_EXCEEDED, 1, 0),
    });
    defrags.set(ns, d);
  }
  return d;
}

/** The netns's learnt path MTUs. */
export function pmtuOf(ns: NetnsImpl): PmtuCache {
  let p = pmtus.get(ns);
  if (p === undefined) { p = new PmtuCache(); pmtus.set(ns, p); anyPmtu = true; }
  return p;
}

/** The MTU towards dst on route r out of dev: a learnt PMTU, else the route's mtu metric, else the device's (ip_dst_mtu_maybe_forward / dst_mtu). */
export function pathMtu(ns: NetnsImpl, dst: number, r: Route | undefined, dev: Device): number {
  const base = r?.mtu ?? dev.mtu;
  const p = pmtus.get(ns);
  if (p === undefined) return base;
  const learnt = p.get(dst, ns.node.sim.now());
  return learnt !== 0 && learnt < base ? learnt : base;
}

/** ip_local_out for locally generated packets (IPv4 header at ETH_HLEN written). Returns false without a route. */
export function ipLocalOut(ns: NetnsImpl, skb: SkBuff, route?: Route): boolean {
  const nf = ns.netfilter;
  if (nf !== null && !nf.idle()) return nfLocalOut(ns, nf, skb, route);
  return ipLocalOutRouted(ns, skb, route);
}

/**
 * __ip_local_out with netfilter: NF_INET_LOCAL_OUT, a new route when its DNAT
 * moved the destination (ip_route_me_harder), then NF_INET_POST_ROUTING.
 */
function nfLocalOut(ns: NetnsImpl, nf: NonNullable<NetnsImpl['netfilter']>, skb: SkBuff, route?: Route): boolean {
  const f = skb.data, dst = readU32(f, ETH_HLEN + IP_DADDR);
  const outName = (r: Route | undefined) => (ns.isLocal(readU32(f, ETH_HLEN + IP_DADDR)) ? 'lo' : r ? ns.byIndex.get(r.ifindex)?.name ?? '' : '');
  let r = ns.isLocal(dst) ? undefined : route ?? ns.lookupRoute(dst);
  const a = nfHook(ns, nf, 'OUTPUT', skb, undefined, '', outName(r));
  if (a === false) return true;
  // ip_vs_local_request4 (LOCAL_OUT): the node's own connection to a VIP; no real server -> ICMP port unreachable to itself.
  if (anyIpvs && a && ipvsLocalOut(ns, skb, a) === 'unreachable') { icmpError(ns, skb, ICMP_DEST_UNREACH, 3, 0); return true; }
  const now = readU32(f, ETH_HLEN + IP_DADDR);
  if (now !== dst) r = ns.isLocal(now) ? undefined : ns.lookupRoute(now);
  if (!ns.isLocal(now) && !r) return false;
  if (nfHook(ns, nf, 'POSTROUTING', skb, a, '', outName(r)) === false) return true;
  return ipLocalOutRouted(ns, skb, now !== dst ? r : route);
}

/** ip_local_out's routing and output once the hooks have run. */
function ipLocalOutRouted(ns: NetnsImpl, skb: SkBuff, route?: Route): boolean {
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
  const nh = r.gateway || dst;
  if (skb.len - ETH_HLEN > dev.mtu || (r.mtu !== undefined && skb.len - ETH_HLEN > r.mtu) || (anyPmtu && pmtus.has(ns))) {
    const mtu = pathMtu(ns, dst, r, dev);
    if (skb.len - ETH_HLEN > mtu) {
      // ip_finish_output -> ip_fragment; a local DF packet over the MTU is the socket's EMSGSIZE, checked before it got here.
      if ((skb.data[ETH_HLEN + 6]! & 0x40) !== 0) { dev.stats.txDropped++; return true; }
      if (ipFragment(skb, mtu, (fr) => ns.neigh.output(dev, nh, fr)) === 0) dev.stats.txDropped++;
      return true;
    }
  }
  ns.neigh.output(dev, nh, skb);
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
    case IPPROTO_IPIP: if (!ipipRcv(ns, skb)) dev.stats.rxDropped++; return;
    default: dev.stats.rxDropped++;
  }
}

function icmpRcv(ns: NetnsImpl, dev: Device, skb: SkBuff, l4: number): void {
  const f = skb.data, o = ETH_HLEN;
  if (skb.len - l4 < ICMP_HLEN || checksum(f, l4, skb.len - l4) !== 0) { dev.stats.rxDropped++; return; }
  const type = f[l4]!;
  if (type === ICMP_ECHO) {
    const saddr = readU32(f, o + IP_SADDR), daddr = readU32(f, o + IP_DADDR);
    // A reply too big for the path back goes without DF, to be fragmented (icmp_reply's socket does not set DF on what exceeds the MTU).
    const back = ns.isLocal(saddr) ? undefined : ns.lookupRoute(saddr);
    const backDev = back ? ns.byIndex.get(back.ifindex) : undefined;
    const fits = backDev === undefined || skb.len - ETH_HLEN <= pathMtu(ns, saddr, back, backDev);
    const reply = buildIcmpEchoFrame({
      srcMac: ZERO_MAC, dstMac: ZERO_MAC, src: daddr, dst: saddr, ttl: ns.defaultTtl, id: ns.nextIpId(), df: fits && (f[o + 6]! & 0x40) !== 0,
      reply: true, echoId: readU16(f, l4 + 4), seq: readU16(f, l4 + 6),
    }, f.subarray(l4 + ICMP_HLEN, skb.len));
    ipLocalOut(ns, newSkb(reply, reply.length, 0));
  } else if (type === ICMP_ECHOREPLY) {
    ns.sock.pingRcv(skb, l4);
  } else if (type === ICMP_DEST_UNREACH || type === ICMP_TIME_EXCEEDED) {
    // icmp_unreach -> ipv4_update_pmtu: "fragmentation needed" teaches the route towards the quoted destination its PMTU.
    if (type === ICMP_DEST_UNREACH && f[l4 + 1] === ICMP_FRAG_NEEDED && skb.len >= l4 + ICMP_HLEN + 20) {
      const qdst = readU32(f, l4 + ICMP_HLEN + IP_DADDR), mtu = readU16(f, l4 + 6);
      const r = ns.lookupRoute(qdst), d = r ? ns.byIndex.get(r.ifindex) : undefined;
      if (r && d && mtu >= 68) pmtuOf(ns).update(qdst, mtu, r.mtu ?? d.mtu, ns.node.sim.now());
    }
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
