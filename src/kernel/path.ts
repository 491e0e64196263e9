// The device layer of the packet path: dev_queue_xmit (tcx egress, taps,
// the wire) and netif_receive_skb (taps, tcx ingress, protocol dispatch).

import { BPF_F_INGRESS, BPF_F_NEIGH, TC_ACT_OK, TC_ACT_REDIRECT, TC_ACT_SHOT } from '../bpf/ctx.ts';
import { type SkBuff } from '../wire/skb.ts';
import { ETH_HLEN, ETH_P_ARP, ETH_P_IP } from '../wire/ethernet.ts';
import { IP_DADDR } from '../wire/ipv4.ts';
import { readU32 } from '../wire/addr.ts';
import { encapVxlan, type VxlanOuter } from '../wire/vxlan.ts';
import type { TcxLink } from './api.ts';
import type { Device } from './device.ts';
import { ipRcv } from './ip.ts';
import { ipFragment } from './frag.ts';
import { ipipXmit } from './ipip.ts';

/** XMIT_RECURSION_LIMIT: nested egress redirects beyond this are dropped, as in the kernel. */
const XMIT_RECURSION_LIMIT = 8;
const ZERO_MAC = new Uint8Array(6);

/**
 * Run a tcx chain. Kernel tcx semantics: TC_ACT_UNSPEC (TCX_NEXT) moves on
 * to the next program; OK, SHOT and REDIRECT end the chain; any other code
 * counts as TCX_NEXT. An empty or exhausted chain passes.
 */
export function runTcx(dev: Device, links: TcxLink[], skb: SkBuff): number {
  const node = dev.netns.node;
  const bpf = node.bpf, rt = node.runtime;
  for (let i = 0; i < links.length; i++) {
    skb.ifindex = dev.ifindex;
    const prog = links[i]!.prog;
    const ret = bpf !== null ? bpf.run(prog, skb, dev.ifindex) : prog.run(skb, rt);
    if (ret === TC_ACT_OK || ret === TC_ACT_SHOT || ret === TC_ACT_REDIRECT) return ret;
    // TC_ACT_UNSPEC (TCX_NEXT) and unknown codes move on to the next program.
  }
  return TC_ACT_OK;
}

/** skb_do_redirect(): apply the target a program left with bpf_redirect() or bpf_redirect_neigh(), after it returned. */
function applyRedirect(dev: Device, skb: SkBuff, depth: number, ingress: boolean): void {
  const node = dev.netns.node;
  const r = node.runtime.takeRedirect();
  const target = r ? node.deviceByIndexInternal(r.ifindex) : undefined;
  if (!r || !target) {
    if (ingress) dev.stats.rxDropped++; else dev.stats.txDropped++;
    return;
  }
  // Ingress redirects go through the backlog (a new softirq round); egress ones are inline.
  if (r.flags & BPF_F_INGRESS) node.hop(target, skb, 0);
  else if (r.flags & BPF_F_NEIGH) redirectNeigh(target, skb, r.nh, depth + 1);
  else devXmit(target, skb, depth + 1);
}

/**
 * __bpf_redirect_neigh_v4(): out of target through the neighbour layer, which fills in
 * L2 or queues the packet behind an ARP request (bpf_out_neigh_v4 -> neigh_output).
 * Without a next hop from the program, the route's for daddr is used.
 */
function redirectNeigh(target: Device, skb: SkBuff, nh: number, depth: number): void {
  const d = skb.data;
  if (skb.len < ETH_HLEN + 20 || ((d[12]! << 8) | d[13]!) !== ETH_P_IP) { target.stats.txDropped++; return; }
  if (nh === 0) {
    const daddr = readU32(d, ETH_HLEN + IP_DADDR);
    const route = target.netns.lookupRoute(daddr);
    if (!route) { target.stats.txDropped++; return; }
    nh = route.ifindex === target.ifindex && route.gateway ? route.gateway : daddr;
  }
  target.netns.neigh.output(target, nh, skb, depth);
}

function tap(dev: Device, skb: SkBuff, dir: 'in' | 'out'): void {
  const copy = skb.data.slice(0, skb.len);
  const ts = dev.netns.node.sim.now();
  for (const cb of dev.captures) cb(copy, dir, ts);
}

/** Clear what skb_scrub_packet clears when a packet crosses to another device/netns. */
export function scrub(skb: SkBuff, xnet: boolean): void {
  if (xnet) skb.mark = 0;
  skb.tunnel = undefined;
  skb.sockCookie = 0;
  const cb = skb.cb; cb[0] = 0; cb[1] = 0; cb[2] = 0; cb[3] = 0; cb[4] = 0;
}

/** dev_queue_xmit: tcx egress, taps, then the device's wire. Consumes skb. */
export function devXmit(dev: Device, skb: SkBuff, depth: number): void {
  if (!dev.up || depth > XMIT_RECURSION_LIMIT) { dev.stats.txDropped++; return; }
  skb.ifindex = dev.ifindex;
  if (dev.tcx.egress.length !== 0) {
    const v = runTcx(dev, dev.tcx.egress, skb);
    if (v === TC_ACT_SHOT) { dev.stats.txDropped++; return; }
    if (v === TC_ACT_REDIRECT) { applyRedirect(dev, skb, depth, false); return; }
  }
  dev.stats.txPackets++; dev.stats.txBytes += skb.len;
  if (dev.captures.length !== 0) tap(dev, skb, 'out');
  const node = dev.netns.node;
  switch (dev.kind) {
    case 'veth': {
      const peer = dev.peer;
      // veth_xmit -> is_skb_forwardable: a frame over the peer's MTU (plus a VLAN tag's room) is dropped.
      if (!peer || !peer.up || skb.len > peer.mtu + ETH_HLEN + 4) { dev.stats.txDropped++; return; }
      scrub(skb, peer.netns !== dev.netns);
      node.hop(peer, skb, node.latency.vethNs);
      return;
    }
    case 'netdev':
      // The NIC sends no frame over its MTU.
      if (!dev.underlay || skb.len > dev.mtu + ETH_HLEN) { dev.stats.txDropped++; return; }
      scrub(skb, true);
      dev.underlay.transmit(dev, skb);
      return;
    case 'loopback':
      node.hop(dev, skb, 0);
      return;
    case 'vxlan':
      vxlanXmit(dev, skb);
      return;
    case 'ipip':
      ipipXmit(dev, skb);
      return;
    default:
      return; // dummy: consumed
  }
}

/** Linux vxlan (external/collect_md): encapsulate with the skb's tunnel key and send via the host stack. */
function vxlanXmit(dev: Device, skb: SkBuff): void {
  const t = skb.tunnel;
  const ns = dev.netns;
  if (!t) { dev.stats.txDropped++; return; }
  // The underlay route to a tunnel endpoint only changes with the FIB (fibVersion) or its device's state.
  let c = dev.vxlanRoute;
  if (c === undefined || c.ver !== ns.fibVersion || c.remote !== t.remoteIpv4 || !c.out.up) {
    const route = ns.lookupRoute(t.remoteIpv4);
    const out = route ? ns.byIndex.get(route.ifindex) : undefined;
    if (!route || !out) { dev.stats.txDropped++; return; }
    c = dev.vxlanRoute = { ver: ns.fibVersion, remote: t.remoteIpv4, out, nextHop: route.gateway || t.remoteIpv4, src: ns.selectSource(out, route) };
  }
  const out = c.out;
  vxOuter.srcMac = out.mac; vxOuter.src = c.src; vxOuter.dst = t.remoteIpv4; vxOuter.ttl = ns.defaultTtl;
  vxOuter.id = ns.nextIpId(); vxOuter.dport = dev.vxlan?.port;
  const frame = encapVxlan(skb.data, skb.len, vxOuter, t.tunnelId);
  // The inner skb is consumed here: reuse it as the outer one, fields as a fresh skb has them (mark kept).
  skb.data = frame; skb.len = frame.length; skb.ifindex = out.ifindex; skb.ingressIfindex = 0;
  skb.tunnel = undefined; skb.sockCookie = 0;
  const cb = skb.cb; cb[0] = 0; cb[1] = 0; cb[2] = 0; cb[3] = 0; cb[4] = 0;
  // The outer datagram (DF clear, as vxlan sends without `df set`) is fragmented when it exceeds the underlay's MTU.
  if (frame.length - ETH_HLEN > out.mtu) {
    const nh = c.nextHop;
    if (ipFragment(skb, out.mtu, (fr) => ns.neigh.output(out, nh, fr)) === 0) dev.stats.txDropped++;
    return;
  }
  ns.neigh.output(out, c.nextHop, skb);
}
/** Reused outer-header fields for encapVxlan (read synchronously). */
const vxOuter: VxlanOuter = { srcMac: ZERO_MAC, dstMac: ZERO_MAC, src: 0, dst: 0, ttl: 0, id: 0, dport: undefined };

/** netif_receive_skb: taps, tcx ingress, then ARP or IP. Consumes skb. */
export function devReceive(dev: Device, skb: SkBuff): void {
  if (!dev.up) { dev.stats.rxDropped++; return; }
  dev.stats.rxPackets++; dev.stats.rxBytes += skb.len;
  skb.ifindex = dev.ifindex; skb.ingressIfindex = dev.ifindex;
  if (dev.captures.length !== 0) tap(dev, skb, 'in');
  if (dev.tcx.ingress.length !== 0) {
    const v = runTcx(dev, dev.tcx.ingress, skb);
    if (v === TC_ACT_SHOT) { dev.stats.rxDropped++; return; }
    if (v === TC_ACT_REDIRECT) { applyRedirect(dev, skb, 0, true); return; }
  }
  netifReceive(dev, skb);
}

/** Protocol dispatch after the tc layer (eth_type_trans + ptype handlers). */
export function netifReceive(dev: Device, skb: SkBuff): void {
  const f = skb.data;
  if (skb.len < ETH_HLEN) { dev.stats.rxDropped++; return; }
  const type = (f[12]! << 8) | f[13]!;
  if (type === ETH_P_IP) {
    // PACKET_OTHERHOST: a unicast frame for another MAC on a shared segment is not ours.
    if (dev.kind === 'netdev' && (f[0]! & 1) === 0 && !sameMac(f, dev.mac)) { dev.stats.rxDropped++; return; }
    ipRcv(dev.netns, dev, skb);
  } else if (type === ETH_P_ARP) {
    dev.netns.neigh.rcv(dev, skb);
  } else {
    dev.stats.rxDropped++;
  }
}

function sameMac(f: Uint8Array, mac: Uint8Array): boolean {
  return f[0] === mac[0] && f[1] === mac[1] && f[2] === mac[2] && f[3] === mac[3] && f[4] === mac[4] && f[5] === mac[5];
}
