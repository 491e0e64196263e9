// Linux's ipip driver for the fallback tunnel device `tunl0` (remote any,
// local any, ttl inherit), as Calico's IP-in-IP mode uses it: a route
// `via NODE dev tunl0 onlink` sends the packet to NODE wrapped in an outer
// IPv4 header (protocol 4), and protocol-4 datagrams to a local address are
// unwrapped and received on tunl0.

import { ETH_HLEN, ETH_P_IP, writeEth } from '../wire/ethernet.ts';
import { encapIpip, decapIpip, IPIP_HLEN, type IpipOuter } from '../wire/ipip.ts';
import { IP_FRAG, IP_TTL } from '../wire/ipv4.ts';
import type { SkBuff } from '../wire/skb.ts';
import type { KernelNode, NetDevice } from './api.ts';
import type { Device } from './device.ts';
import { ipLocalOut } from './ip.ts';
import type { NetnsImpl } from './netns.ts';
import type { LinuxNode } from './node.ts';
import { devReceive, devXmit } from './path.ts';

const ZERO_MAC = new Uint8Array(6);
/** The tunnel device of each netns (the fallback tunl0: one per netns, as the ipip module creates it). */
const tunnels = new WeakMap<NetnsImpl, Device>();

/** Create the host's tunl0 (ipip fallback device), up, MTU = underlay MTU - 20 unless given. */
export function createIpipTunnel(node: KernelNode, opts: { name?: string; mtu?: number; underlayMtu?: number } = {}): NetDevice {
  const ns = node.hostNs as NetnsImpl;
  if (tunnels.has(ns)) throw new Error('RTNETLINK answers: File exists');
  const mtu = opts.mtu ?? (opts.underlayMtu ?? 1500) - IPIP_HLEN;
  const d = (node as LinuxNode).createDevice(ns, opts.name ?? 'tunl0', 'ipip', { mac: ZERO_MAC, mtu });
  tunnels.set(ns, d);
  return d;
}

/**
 * neigh_output for a NOARP tunnel: no link layer to resolve. The next hop
 * (the route's gateway, else the destination: rt_nexthop) becomes the outer
 * destination, carried to the xmit as the skb's tunnel key.
 */
export function ipipOutput(dev: Device, nextHop: number, skb: SkBuff, depth: number): void {
  writeEth(skb.data, ZERO_MAC, ZERO_MAC, ETH_P_IP);
  skb.tunnel = { remoteIpv4: nextHop, tunnelId: 0 };
  devXmit(dev, skb, depth);
}

const outer: IpipOuter = { srcMac: ZERO_MAC, dstMac: ZERO_MAC, src: 0, dst: 0, ttl: 0, id: 0, df: false };

/**
 * ipip_tunnel_xmit -> ip_tunnel_xmit: outer source from the route to the
 * remote, TTL inherited from the inner header, DF copied from it; the outer
 * datagram leaves through ip_local_out (netfilter OUTPUT/POSTROUTING, the
 * underlay route, fragmentation).
 */
export function ipipXmit(dev: Device, skb: SkBuff): void {
  const ns = dev.netns;
  const remote = skb.tunnel?.remoteIpv4 ?? 0;
  const route = remote !== 0 ? ns.lookupRoute(remote) : undefined;
  const out = route ? ns.byIndex.get(route.ifindex) : undefined;
  // A route back into the tunnel itself would loop (ip_tunnel_xmit: "dev == rt->dst.dev" -> collisions++).
  if (!route || !out || out === dev) { dev.stats.txDropped++; return; }
  const f = skb.data;
  outer.src = ns.selectSource(out, route); outer.dst = remote;
  outer.ttl = f[ETH_HLEN + IP_TTL]!; outer.id = ns.nextIpId();
  outer.df = (f[ETH_HLEN + IP_FRAG]! & 0x40) !== 0;
  const frame = encapIpip(f, skb.len, outer);
  // The inner skb becomes the outer one (skb_scrub_packet, same netns: the mark stays).
  skb.data = frame; skb.len = frame.length; skb.ifindex = out.ifindex; skb.ingressIfindex = 0;
  skb.tunnel = undefined; skb.sockCookie = 0;
  const cb = skb.cb; cb[0] = 0; cb[1] = 0; cb[2] = 0; cb[3] = 0; cb[4] = 0;
  if (!ipLocalOut(ns, skb, route)) dev.stats.txDropped++;
}

/**
 * ipip_rcv: a protocol-4 datagram delivered locally. With a tunnel device up
 * in the netns, its inner packet is received on it (the outer header gone);
 * false when there is none (the caller drops, as the kernel sends no
 * "protocol unreachable" for a registered protocol).
 */
export function ipipRcv(ns: NetnsImpl, skb: SkBuff): boolean {
  const tun = tunnels.get(ns);
  if (tun === undefined || !tun.up) return false;
  const inner = decapIpip(skb.data, skb.len);
  if (inner === null) return false;
  skb.data = inner; skb.len = inner.length;
  skb.tunnel = undefined; skb.sockCookie = 0;
  devReceive(tun, skb);
  return true;
}
