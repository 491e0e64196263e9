// IPVS in a netns (net/netfilter/ipvs/ip_vs_core.c): the kube-ipvs0 dummy,
// the connection table, and the hooks where Linux runs them:
// ip_vs_remote_request4 at LOCAL_IN after filter INPUT (Netfilter.ipvsLocalIn,
// the packet then leaves by POSTROUTING as ip_vs_nat_xmit sends it),
// ip_vs_local_request4 at LOCAL_OUT for the node's own connections, and
// ip_vs_reply4 at FORWARD / LOCAL_IN for the real servers' answers (Masq
// forwarding only). With net.ipv4.vs.conntrack=1 (what kube-proxy sets) a new
// connection's conntrack entry gets the real server in its reply tuple
// (ip_vs_update_conntrack), so MASQUERADE in KUBE-POSTROUTING and
// `conntrack -L` work as on a node. A node without IPVS pays one boolean check.

import type { CtEntry } from '../netfilter/conntrack.ts';
import { Ipvs, type IpvsProto, type RealServer, type VirtualService } from '../netfilter/ipvs.ts';
import type { Netfilter, NfPacket } from '../netfilter/netfilter.ts';
import { writeNat } from '../netfilter/packet.ts';
import { u32ToIp } from '../wire/addr.ts';
import { ETH_HLEN } from '../wire/ethernet.ts';
import { IPPROTO_TCP, IPPROTO_UDP, ipDecTtl } from '../wire/ipv4.ts';
import type { SkBuff } from '../wire/skb.ts';
import type { KernelNode, NetDevice } from './api.ts';
import type { Device } from './device.ts';
import type { NetnsImpl } from './netns.ts';
import type { LinuxNode } from './node.ts';

const TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_ACK = 0x10;

/** IPVS's own connection states and timeouts (ip_vs_proto_tcp.c tcp_timeouts, ip_vs_proto_udp.c), seconds. */
type ConnState = 'SYN_RECV' | 'ESTABLISHED' | 'FIN_WAIT' | 'TIME_WAIT' | 'CLOSE' | 'UDP';
const TIMEOUT: Record<ConnState, number> = { SYN_RECV: 60, ESTABLISHED: 900, FIN_WAIT: 120, TIME_WAIT: 120, CLOSE: 10, UDP: 300 };
/** `ipvsadm -L --timeout`: the tcp (ESTABLISHED), tcpfin (FIN_WAIT) and udp timeouts. */
export const timeoutLine = (): string => `Timeout (tcp tcpfin udp): ${TIMEOUT.ESTABLISHED} ${TIMEOUT.FIN_WAIT} ${TIMEOUT.UDP}\n`;
/** Connections kept at most (the kernel bounds them by memory; we bound them by count). */
export const MAX_CONNS = 1 << 20;

/** One ip_vs_conn: client -> virtual service, bound to a real server. */
export interface IpvsConn {
  proto: number; caddr: number; cport: number; vaddr: number; vport: number; daddr: number; dport: number;
  svc: VirtualService; dest: RealServer; state: ConnState; expiresNs: number;
  /** Which side sent a FIN first (0 client, 1 real server), -1 none. */
  finDir: number;
}

const PROTO: Record<number, IpvsProto> = { [IPPROTO_TCP]: 'TCP', [IPPROTO_UDP]: 'UDP' };
/** Connection keys: the client's tuple to the VIP (in), the real server's answer to the client (out). */
const inKey = (proto: number, c: number, cp: number, v: number, vp: number) => `${proto}:${c}:${cp}:${v}:${vp}`;
const outKey = (proto: number, d: number, dp: number, c: number, cp: number) => `${proto}:${d}:${dp}:${c}:${cp}`;

/** What the LOCAL_IN hook did with a packet. */
export type IpvsVerdict = 'continue' | 'taken' | 'unreachable' | 'drop';

/** One netns's IPVS: the table ipvsadm programs, kube-ipvs0, the connections. */
export class IpvsNs {
  readonly ipvs = new Ipvs();
  private readonly byIn = new Map<string, IpvsConn>();
  private readonly byOut = new Map<string, IpvsConn>();
  private nextSweepNs = 0;
  /** Packets the LOCAL_IN hook took (DNATed towards a remote real server): ipRcv transmits them. */
  taken: NfPacket | null = null;

  constructor(readonly ns: NetnsImpl, readonly nf: Netfilter, readonly dummy: Device) {}

  private now(): number { return this.ns.node.sim.now(); }

  /** Drops expired connections (and ones whose service or real server is gone), fixing the counters. */
  sweep(): void {
    const now = this.now();
    for (const c of this.byIn.values()) if (c.expiresNs <= now || !this.alive(c)) this.expire(c);
    this.nextSweepNs = now + 1e9;
  }

  /** Connections in the table (after expiry). */
  connections(): IpvsConn[] { this.sweep(); return [...this.byIn.values()]; }

  /**
   * `ipvsadm -L -n -c` (/proc/net/ip_vs_conn through print_conn): the
   * connections, then the persistence templates (state NONE, client port 0),
   * expiry as minutes:seconds left.
   */
  connList(): string {
    const now = this.now();
    const ap = (a: number, p: number) => `${u32ToIp(a)}:${p}`;
    const left = (ns: number) => { const s = Math.max(0, Math.floor((ns - now) / 1e9)); return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`; };
    const line = (proto: string, exp: number, state: string, c: string, v: string, d: string) =>
      `${proto.padEnd(3)} ${left(exp)}  ${state.padEnd(11)} ${c.padEnd(18)} ${v.padEnd(18)} ${d}\n`;
    let out = 'IPVS connection entries\npro expire state       source             virtual            destination\n';
    for (const c of this.connections()) {
      out += line(PROTO[c.proto]!, c.expiresNs, c.state === 'UDP' ? 'UDP' : c.state, ap(c.caddr, c.cport), ap(c.vaddr, c.vport), ap(c.daddr, c.dport));
    }
    for (const svc of this.ipvs.sorted()) {
      for (const [client, t] of svc.templates) {
        if (t.expiresNs <= now || !svc.dests.includes(t.dest)) continue;
        out += line(svc.proto, t.expiresNs, 'NONE', ap(client, 0), ap(svc.addr, svc.port), ap(t.dest.addr, t.dest.port));
      }
    }
    return out;
  }

  private alive(c: IpvsConn): boolean {
    return this.ipvs.find(c.svc.proto, c.svc.addr, c.svc.port) === c.svc && c.svc.dests.includes(c.dest);
  }

  private expire(c: IpvsConn): void {
    this.byIn.delete(inKey(c.proto, c.caddr, c.cport, c.vaddr, c.vport));
    this.byOut.delete(outKey(c.proto, c.daddr, c.dport, c.caddr, c.cport));
    if (c.state === 'ESTABLISHED') { if (c.dest.active > 0) c.dest.active--; } else if (c.dest.inactive > 0) c.dest.inactive--;
  }

  /** ip_vs_schedule + ip_vs_conn_new: a new connection for the packet's first segment; null with no real server. */
  private schedule(svc: VirtualService, p: NfPacket['pkt']): IpvsConn | null | undefined {
    if (this.now() >= this.nextSweepNs) this.sweep();
    if (this.byIn.size >= MAX_CONNS) return undefined;
    const dest = svc.schedule(p.src, p.dst, this.now());
    if (dest === null) return null;
    svc.advance(this.now());
    const c: IpvsConn = {
      proto: p.proto, caddr: p.src, cport: p.sport, vaddr: p.dst, vport: p.dport, daddr: dest.addr, dport: dest.port,
      svc, dest, state: p.proto === IPPROTO_TCP ? 'SYN_RECV' : 'UDP', expiresNs: 0, finDir: -1,
    };
    // A new connection starts inactive (IP_VS_CONN_F_INACTIVE); TCP turns active when established.
    dest.conns++; svc.conns++; dest.inactive++;
    this.byIn.set(inKey(c.proto, c.caddr, c.cport, c.vaddr, c.vport), c);
    this.byOut.set(outKey(c.proto, c.daddr, c.dport, c.caddr, c.cport), c);
    return c;
  }

  /** set_tcp_state, reduced to the transitions that move ActiveConn/InActConn; refreshes the timer. */
  private track(c: IpvsConn, flags: number, dir: number): void {
    if (c.proto === IPPROTO_TCP) {
      const was = c.state;
      if (flags & TCP_RST) c.state = 'CLOSE';
      else if (c.state === 'SYN_RECV' && dir === 0 && (flags & TCP_ACK) && !(flags & TCP_SYN) && !(flags & TCP_FIN)) c.state = 'ESTABLISHED';
      else if ((c.state === 'ESTABLISHED' || c.state === 'SYN_RECV') && (flags & TCP_FIN)) { c.state = 'FIN_WAIT'; c.finDir = dir; }
      else if (c.state === 'FIN_WAIT' && (flags & TCP_FIN) && dir !== c.finDir) c.state = 'TIME_WAIT';
      if (was !== 'ESTABLISHED' && c.state === 'ESTABLISHED') { c.dest.inactive--; c.dest.active++; }
      if (was === 'ESTABLISHED' && c.state !== 'ESTABLISHED') { c.dest.active--; c.dest.inactive++; }
    }
    c.expiresNs = this.now() + TIMEOUT[c.state] * 1e9;
  }

  /** The connection a packet belongs to, in (client -> VIP, dir 0) or out (real server -> client, dir 1). */
  private lookup(p: NfPacket['pkt']): { c: IpvsConn; dir: number } | undefined {
    let c = this.byIn.get(inKey(p.proto, p.src, p.sport, p.dst, p.dport));
    if (c !== undefined) return this.live(c, 0);
    c = this.byOut.get(outKey(p.proto, p.src, p.sport, p.dst, p.dport));
    return c === undefined ? undefined : this.live(c, 1);
  }
  private live(c: IpvsConn, dir: number): { c: IpvsConn; dir: number } | undefined {
    if (c.expiresNs > this.now() && this.alive(c)) return { c, dir };
    this.expire(c);
    return undefined;
  }

  /**
   * ip_vs_in / ip_vs_out for one packet: a new connection for a SYN (any UDP
   * datagram) to a virtual service, the client's packets DNATed to the real
   * server, the real server's answers SNATed back to the VIP, counters moved.
   * `np.pkt` is rewritten (natChanged); the caller writes the bytes.
   * `repliesOnly` (ip_vs_reply4 at FORWARD): a forwarded packet is never
   * scheduled, only a real server's answer is translated.
   */
  process(np: NfPacket, repliesOnly = false): IpvsVerdict {
    const p = np.pkt;
    if (p.frag || (p.proto !== IPPROTO_TCP && p.proto !== IPPROTO_UDP)) return 'continue';
    const hit = this.lookup(p);
    let c: IpvsConn;
    if (repliesOnly && hit?.dir !== 1) return 'continue';
    if (hit === undefined) {
      const svc = this.ipvs.find(PROTO[p.proto]!, p.dst, p.dport);
      if (svc === undefined) return 'continue';
      // ip_vs_in: only a SYN starts a TCP connection; other segments go on to the stack.
      if (p.proto === IPPROTO_TCP && ((p.tcpFlags & (TCP_SYN | TCP_ACK | TCP_RST)) !== TCP_SYN)) return 'continue';
      const made = this.schedule(svc, p);
      // ip_vs_leave: no real server -> ICMP port unreachable ("Connection refused" for TCP).
      if (made === null) return 'unreachable';
      if (made === undefined) return 'drop';
      c = made;
      this.track(c, p.tcpFlags, 0);
      c.svc.count(c.dest, p.len, true);
      this.dnat(np, c);
      return 'taken';
    }
    c = hit.c;
    c.svc.advance(this.now());
    this.track(c, p.tcpFlags, hit.dir);
    c.svc.count(c.dest, p.len, hit.dir === 0);
    if (hit.dir === 0) { this.dnat(np, c); return 'taken'; }
    // ip_vs_out: the answer leaves from the VIP.
    if (p.src !== c.vaddr || p.sport !== c.vport) { p.src = c.vaddr; p.sport = c.vport; np.natChanged = true; }
    return 'continue';
  }

  /** ip_vs_nat_xmit's mangling, and ip_vs_update_conntrack: the unconfirmed entry's reply comes from the real server. */
  private dnat(np: NfPacket, c: IpvsConn): void {
    const p = np.pkt;
    if (p.dst !== c.daddr || p.dport !== c.dport) { p.dst = c.daddr; p.dport = c.dport; np.natChanged = true; }
    const e: CtEntry | null = np.ct;
    if (e !== null && !e.confirmed && !np.reply) {
      e.reply = { ...e.reply, src: c.daddr, sport: c.dport };
      e.ipvs = true;
    }
  }
}

const byNs = new WeakMap<NetnsImpl, IpvsNs>();
/** Set once a netns has IPVS: until then the hooks below cost one check. */
export let anyIpvs = false;

/** The netns's IPVS, if it has one. */
export function ipvsOf(ns: NetnsImpl): IpvsNs | undefined { return byNs.get(ns); }

/**
 * Loads IPVS in the node's host netns: the kube-ipvs0 dummy (created by
 * kube-proxy with netlink, never set up), conntrack always on (vs/conntrack=1
 * needs it), the LOCAL_IN hook in netfilter. Idempotent.
 */
export function enableIpvs(kernel: KernelNode, dummyName = 'kube-ipvs0'): IpvsNs {
  const node = kernel as LinuxNode, ns = node.hostNs;
  const existing = byNs.get(ns);
  if (existing) return existing;
  const nf = node.enableNetfilter();
  // kube-proxy's netlink LinkAdd of a Dummy: never set up (`state DOWN`), its addresses still local.
  const dummy = (ns.devices.get(dummyName) as Device | undefined) ?? node.createDevice(ns, dummyName, 'dummy', { mtu: 1500 });
  dummy.up = false;
  dummy.txqlen = 0;
  const v = new IpvsNs(ns, nf, dummy);
  nf.trackAlways = true;
  nf.ipvsLocalIn = (np) => {
    const r = v.process(np);
    if (r !== 'taken') return r;
    // A real server on this node (the API server on the node IP): the packet goes on to the local stack, DNATed.
    if (ns.isLocal(np.pkt.dst)) return 'continue';
    v.taken = np;
    return 'taken';
  };
  byNs.set(ns, v);
  anyIpvs = true;
  return v;
}

/** True (once) when the LOCAL_IN hook took this packet: the caller transmits it with ipvsXmit. */
export function ipvsTook(ns: NetnsImpl, np: NfPacket): boolean {
  const v = byNs.get(ns);
  if (v === undefined || v.taken !== np) return false;
  v.taken = null;
  return true;
}

/** Adds an address to kube-ipvs0 (/32, scope global), as netlink AddrAdd does; false when already there. */
export function bindAddress(v: IpvsNs, ip: number): boolean {
  if (v.dummy.addrs.some((a) => a.ip === ip)) return false;
  v.ns.addAddress(v.dummy, ip, 32);
  return true;
}

/** Removes an address from kube-ipvs0 (netlink AddrDel), with its local route. */
export function unbindAddress(v: IpvsNs, ip: number): boolean {
  const i = v.dummy.addrs.findIndex((a) => a.ip === ip);
  if (i < 0) return false;
  v.dummy.addrs.splice(i, 1);
  if (v.ns.local.get(ip) === v.dummy) {
    v.ns.local.delete(ip);
    for (const o of v.ns.byIndex.values()) if (o.addrs.some((x) => x.ip === ip)) { v.ns.local.set(ip, o); break; }
  }
  v.ns.fibVersion++;
  return true;
}

/** Out device and next hop towards dst, or undefined without a route. */
function routeTo(ns: NetnsImpl, dst: number): { dev: Device; nh: number } | undefined {
  const r = ns.lookupRoute(dst);
  const dev = r ? ns.byIndex.get(r.ifindex) : undefined;
  return r && dev ? { dev, nh: r.gateway || dst } : undefined;
}

/**
 * ip_vs_nat_xmit for a packet the LOCAL_IN hook DNATed to a remote real
 * server: TTL decremented, routed, POSTROUTING (MASQUERADE, conntrack
 * confirm), out. `postrouting` runs netfilter's hook (false = dropped).
 */
export function ipvsXmit(ns: NetnsImpl, inDev: NetDevice, skb: SkBuff, np: NfPacket, postrouting: (outDev: string) => boolean): void {
  const rt = routeTo(ns, np.pkt.dst);
  if (rt === undefined) { (inDev as Device).stats.rxDropped++; return; }
  const f = skb.data;
  if (f[ETH_HLEN + 8]! <= 1) { (inDev as Device).stats.rxDropped++; return; }
  ipDecTtl(f, ETH_HLEN);
  if (!postrouting(rt.dev.name)) { (inDev as Device).stats.rxDropped++; return; }
  ns.neigh.output(rt.dev, rt.nh, skb);
}

/**
 * ip_vs_local_request4 (LOCAL_OUT, after nat OUTPUT) and the reply side for
 * local real servers: the node's own connection to a VIP is DNATed in place
 * (the caller re-routes); 'unreachable' when the service has no real server.
 */
export function ipvsLocalOut(ns: NetnsImpl, skb: SkBuff, np: NfPacket): IpvsVerdict {
  const v = byNs.get(ns);
  if (v === undefined) return 'continue';
  const r = v.process(np);
  if (np.natChanged) { writeNat(skb.data, ETH_HLEN, np.pkt); np.natChanged = false; }
  return r === 'taken' ? 'continue' : r;
}

/** ip_vs_reply4 at FORWARD: a real server's answer to a client elsewhere leaves from the VIP. */
export function ipvsForward(ns: NetnsImpl, skb: SkBuff, np: NfPacket): void {
  const v = byNs.get(ns);
  if (v === undefined) return;
  v.process(np, true);
  if (np.natChanged) { writeNat(skb.data, ETH_HLEN, np.pkt); np.natChanged = false; }
}
