// UDP sockets (with sendmsg4/recvmsg4 hooks) and ICMP echo (ping sockets).

import { newSkb, type SkBuff } from '../wire/skb.ts';
import { readU16, readU32 } from '../wire/addr.ts';
import { buildIcmpEchoFrame, buildPortUnreachFrame, buildUdpFrame } from '../wire/build.ts';
import { checksum } from '../wire/checksum.ts';
import { ETH_HLEN } from '../wire/ethernet.ts';
import { IPPROTO_UDP, IP_DADDR, IP_SADDR, pseudoHeaderSum } from '../wire/ipv4.ts';
import type { Endpoint4, PingReply, PmtuDisc, Route, UdpSocket } from './api.ts';
import type { SockAddrCtx } from '../bpf/program.ts';
import type { Device } from './device.ts';
import { PingLocalError, SocketError } from './api.ts';
import { ipLocalOut, pathMtu } from './ip.ts';
import { IP_MAX_LEN, MIN_PMTU } from './frag.ts';
import type { NetnsImpl } from './netns.ts';
import type { Sockets } from './sockets.ts';
import type { TimerHandle } from '../sim/sim.ts';

const ZERO_MAC = new Uint8Array(6);
type Msg = { data: Uint8Array; from: Endpoint4 };
type Waiter = { resolve: (m: Msg | null) => void; reject: (e: SocketError) => void; timer: TimerHandle; address: boolean };
type RouteCache = { dst: number; ver: number; route: Route | undefined; dev: Device; src: number };

export class UdpSock implements UdpSocket {
  readonly local: Endpoint4;
  readonly cookie: number;
  private queue: Msg[] = [];
  private waiters: Waiter[] = [];
  private closed = false;
  /** The connected peer (after connect4's translation): fixed destination and the only accepted source. */
  peer: Endpoint4 | undefined;
  /** sk_err: an ICMP error for the connected peer, reported once by the next recv. */
  private err: SocketError | undefined;
  /** sendmsg4/recvmsg4 context, refilled per datagram (programs only use it during the call). */
  private readonly ctx: SockAddrCtx = { userIp4: 0, userPort: 0, protocol: IPPROTO_UDP, sockCookie: 0, netnsCookie: 0, srcIp4: 0, srcPort: 0, epId: 0 };
  private rc: RouteCache | null = null;

  constructor(readonly ns: NetnsImpl, port: number, private readonly onMessage?: (data: Uint8Array, from: Endpoint4, reply: (d: Uint8Array) => void) => void) {
    this.local = { ip: 0, port };
    this.cookie = ns.node.nextSocketCookie();
  }

  send(to: Endpoint4, data: Uint8Array): void { this.sendFrom(this.local.ip, to, data); }

  /**
   * connect(2) on a UDP socket (udp_pre_connect, ip4_datagram_connect): cgroup connect4 runs once, so socket LB
   * picks the backend here and not per datagram; the route fixes the source address; from now on only the peer's
   * datagrams are delivered and ICMP errors about it are reported to the next recv.
   */
  connect(to: Endpoint4): void {
    if (this.closed) throw new SocketError('EBADF', 'Bad file descriptor');
    const ctx = this.fillCtx(to.ip, to.port);
    if (!this.ns.sock.runCgroup('connect4', ctx)) throw new SocketError('EHOSTUNREACH', 'No route to host');
    const peer = { ip: ctx.userIp4 >>> 0, port: ctx.userPort };
    const c = this.routeTo(peer.ip);
    if (this.local.ip === 0) this.local.ip = c.src;
    this.peer = peer;
    this.err = undefined;
  }

  /** send(2) on a connected socket: no address, so no sendmsg4 run (udp_sendmsg runs it only for msg_name). */
  write(data: Uint8Array): void {
    if (!this.peer) throw new SocketError('EDESTADDRREQ', 'Destination address required');
    this.transmit(this.local.ip, this.peer.ip, this.peer.port, data);
  }

  private fillCtx(ip: number, port: number): SockAddrCtx {
    const ctx = this.ctx, ns = this.ns;
    ctx.userIp4 = ip; ctx.userPort = port; ctx.protocol = IPPROTO_UDP; ctx.sockCookie = this.cookie;
    ctx.netnsCookie = ns.cookie; ctx.srcIp4 = this.local.ip; ctx.srcPort = this.local.port; ctx.epId = ns.epId;
    return ctx;
  }

  /** sendmsg with an address: cgroup sendmsg4 may rewrite the destination; src 0 = pick by route. */
  sendFrom(src: number, to: Endpoint4, data: Uint8Array): void {
    if (this.closed) return;
    const ctx = this.fillCtx(to.ip, to.port);
    if (!this.ns.sock.runCgroup('sendmsg4', ctx)) return;
    this.transmit(src, ctx.userIp4 >>> 0, ctx.userPort, data);
  }

  private transmit(src: number, dst: number, dport: number, data: Uint8Array): void {
    if (this.closed) return;
    const ns = this.ns;
    const c = this.routeTo(dst);
    if (!src) src = c.src;
    // IP_PMTUDISC_WANT, a UDP socket's default: DF while the datagram fits the path MTU, else
    // fragmented here (after a "fragmentation needed" taught a smaller one, the next datagrams are).
    const len = 28 + data.length;
    if (len > IP_MAX_LEN) return; // EMSGSIZE: nothing is sent
    const base = c.route?.mtu ?? c.dev.mtu;
    const df = len <= base && (len <= MIN_PMTU || c.route === undefined || len <= pathMtu(ns, dst, c.route, c.dev));
    const f = buildUdpFrame({ srcMac: ZERO_MAC, dstMac: ZERO_MAC, src, dst, ttl: ns.defaultTtl, id: ns.nextIpId(), df, sport: this.local.port, dport }, data);
    const skb = newSkb(f, f.length, 0);
    skb.sockCookie = this.cookie;
    ipLocalOut(ns, skb, c.route);
  }

  /** Route, device and source address for dst, cached while the FIB (fibVersion) and the device's state stay. */
  private routeTo(dst: number): RouteCache {
    const ns = this.ns;
    let c = this.rc;
    if (c !== null && c.dst === dst && c.ver === ns.fibVersion && c.dev.up) return c;
    const local = ns.isLocal(dst);
    const route = local ? undefined : ns.lookupRoute(dst);
    const dev = route ? ns.byIndex.get(route.ifindex) : local ? ns.byIndex.get(1) : undefined;
    if (!dev) throw new SocketError('ENETUNREACH', 'Network is unreachable');
    c = this.rc = { dst, ver: ns.fibVersion, route, dev, src: local ? dst : ns.selectSource(dev, route) };
    return c;
  }

  /**
   * recvfrom (address: true, the default) or read(2)/recv(2) (false: no address asked, so no recvmsg4 run).
   * Rejects with the pending ICMP error of a connected socket (once, as sock_error clears sk_err).
   */
  recv(timeoutNs: number, opts: { address?: boolean } = {}): Promise<Msg | null> {
    const address = opts.address ?? true;
    const m = this.queue.shift();
    if (m) return Promise.resolve(this.read(m, address));
    const err = this.err;
    if (err) { this.err = undefined; return Promise.reject(err); }
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject, address, timer: this.ns.node.sim.schedule(timeoutNs, () => { const i = this.waiters.indexOf(w); if (i >= 0) this.waiters.splice(i, 1); resolve(null); }) };
      this.waiters.push(w);
    });
  }

  /**
   * udp_recvmsg copying a datagram out: cgroup recvmsg4 runs on the source address, and only when the caller
   * passed a buffer for it (socket LB shows the service address there).
   */
  private read(m: Msg, address: boolean): Msg {
    if (!address) return m;
    const ctx = this.fillCtx(m.from.ip, m.from.port);
    this.ns.sock.runCgroup('recvmsg4', ctx);
    return { data: m.data, from: { ip: ctx.userIp4 >>> 0, port: ctx.userPort } };
  }

  /** __udp4_lib_err for a connected socket: the error wakes one reader, or waits for the next recv. */
  icmpError(code: 'ECONNREFUSED' | 'EHOSTUNREACH' | 'ENETUNREACH', dst: number, dport: number): void {
    if (this.closed || !this.peer || this.peer.ip !== dst || this.peer.port !== dport) return;
    const e = new SocketError(code, code === 'ECONNREFUSED' ? 'Connection refused' : code === 'ENETUNREACH' ? 'Network is unreachable' : 'No route to host');
    const w = this.waiters.shift();
    if (w) { w.timer.cancel(); w.reject(e); } else this.err = e;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ns.sock.udp.get(this.local.port) === this) this.ns.sock.udp.delete(this.local.port);
    for (const w of this.waiters) { w.timer.cancel(); w.resolve(null); }
    this.waiters = [];
  }

  /** A datagram for this socket: a server (onMessage) or a waiting reader reads it now, else it queues. */
  private deliver(data: Uint8Array, src: Endpoint4, dst: number): void {
    if (this.onMessage) {
      const { from } = this.read({ data, from: src }, true);
      this.onMessage(data, from, (d) => this.sendFrom(this.ns.isLocal(dst) || this.ns.acceptAnyDestination ? dst : 0, from, d));
      return;
    }
    const w = this.waiters.shift();
    if (w) { w.timer.cancel(); w.resolve(this.read({ data, from: src }, w.address)); return; }
    this.queue.push({ data, from: src });
  }

  /** udp_rcv: checksum, socket lookup (the reader's recvmsg4 comes at read), or ICMP port unreachable. */
  static rcv(socks: Sockets, skb: SkBuff, l4: number): void {
    const f = skb.data, o = ETH_HLEN, ns = socks.ns;
    const saddr = readU32(f, o + IP_SADDR), daddr = readU32(f, o + IP_DADDR);
    const len = readU16(f, l4 + 4);
    if (len < 8 || l4 + len > skb.len) return;
    if (readU16(f, l4 + 6) !== 0 && checksum(f, l4, len, pseudoHeaderSum(saddr, daddr, IPPROTO_UDP, len)) !== 0) return;
    const sport = readU16(f, l4), dport = readU16(f, l4 + 2);
    const found = socks.udp.get(dport);
    // A connected socket matches only its peer's datagrams (compute_score: daddr and dport must agree).
    const s = found && (!found.peer || (found.peer.ip === saddr && found.peer.port === sport)) ? found : undefined;
    if (!s) {
      if (daddr === 0xffffffff) return;
      const err = buildPortUnreachFrame({ srcMac: ZERO_MAC, dstMac: ZERO_MAC, src: daddr, dst: saddr, ttl: ns.defaultTtl, id: ns.nextIpId() }, f.subarray(0, skb.len));
      ipLocalOut(ns, newSkb(err, err.length, 0));
      return;
    }
    s.deliver(f.slice(l4 + 8, l4 + len), { ip: saddr, port: sport }, daddr);
  }
}

/** Outstanding echo requests of a netns, keyed by id and sequence. */
export class PingTable {
  private readonly pending = new Map<number, { resolve: (r: PingReply | null) => void; sentNs: number; timer: TimerHandle }>();
  constructor(private readonly ns: NetnsImpl) {}

  send(to: number, o: { seq: number; id: number; payloadBytes: number; timeoutNs: number; ttl?: number; pmtudisc?: PmtuDisc }): Promise<PingReply | null> {
    const ns = this.ns;
    const route = ns.isLocal(to) ? undefined : ns.lookupRoute(to);
    const dev = route ? ns.byIndex.get(route.ifindex) : ns.isLocal(to) ? ns.byIndex.get(1) : undefined;
    if (!dev) return Promise.reject(new SocketError('ENETUNREACH', 'Network is unreachable'));
    // __ip_append_data: with IP_PMTUDISC_DO nothing goes over the path MTU, otherwise nothing over 64 KiB (EMSGSIZE,
    // queued by ip_local_error with the MTU); __ip_make_skb sets DF for DO, and for WANT while the datagram fits the MTU.
    const mtu = route ? pathMtu(ns, to >>> 0, route, dev) : dev.mtu;
    const ipLen = 20 + 8 + o.payloadBytes, pmtud = o.pmtudisc ?? 'want';
    if (ipLen > (pmtud === 'do' ? mtu : IP_MAX_LEN)) return Promise.reject(new PingLocalError('EMSGSIZE', mtu, 'Message too long'));
    const df = pmtud === 'do' || (pmtud === 'want' && ipLen <= mtu);
    const src = ns.isLocal(to) ? to : ns.selectSource(dev, route);
    // iputils ping: struct timeval (16 bytes) then bytes counting up from 0x10.
    const payload = new Uint8Array(o.payloadBytes);
    const wall = ns.node.sim.wallMs();
    const sec = Math.floor(wall / 1000), usec = Math.floor((wall % 1000) * 1000);
    if (payload.length >= 16) {
      const dv = new DataView(payload.buffer);
      dv.setUint32(0, sec >>> 0, true); dv.setUint32(4, Math.floor(sec / 2 ** 32), true); dv.setUint32(8, usec, true);
    }
    for (let i = 16; i < payload.length; i++) payload[i] = i & 255;
    const f = buildIcmpEchoFrame({ srcMac: ZERO_MAC, dstMac: ZERO_MAC, src, dst: to >>> 0, ttl: o.ttl ?? ns.defaultTtl, id: ns.nextIpId(), df, reply: false, echoId: o.id, seq: o.seq }, payload);
    const key = (o.id & 0xffff) * 65536 + (o.seq & 0xffff);
    const p = new Promise<PingReply | null>((resolve) => {
      const timer = ns.node.sim.schedule(o.timeoutNs, () => { this.pending.delete(key); resolve(null); });
      this.pending.set(key, { resolve, sentNs: ns.node.sim.now(), timer });
    });
    ipLocalOut(ns, newSkb(f, f.length, 0), route);
    return p;
  }

  rcv(skb: SkBuff, l4: number): void {
    const f = skb.data, o = ETH_HLEN;
    const key = readU16(f, l4 + 4) * 65536 + readU16(f, l4 + 6);
    const w = this.pending.get(key);
    if (!w) return;
    this.pending.delete(key);
    w.timer.cancel();
    w.resolve({ ttl: f[o + 8]!, rttNs: this.ns.node.sim.now() - w.sentNs, bytes: skb.len - l4, from: readU32(f, o + IP_SADDR) });
  }

  /** An ICMP error quoting one of our echo requests (IP_RECVERR): the probe ends with it. */
  errorRcv(skb: SkBuff, l4: number): void {
    const f = skb.data, o = ETH_HLEN, inner = l4 + 8;
    const il4 = inner + (f[inner]! & 15) * 4;
    if (skb.len < il4 + 8 || f[il4] !== 8) return;
    const key = readU16(f, il4 + 4) * 65536 + readU16(f, il4 + 6);
    const w = this.pending.get(key);
    if (!w) return;
    this.pending.delete(key);
    w.timer.cancel();
    const type = f[l4]!, code = f[l4 + 1]!;
    const info = type === 3 && code === 4 ? readU16(f, l4 + 6) : 0;
    w.resolve({ ttl: f[o + 8]!, rttNs: this.ns.node.sim.now() - w.sentNs, bytes: skb.len - l4, from: readU32(f, o + IP_SADDR), icmp: { type, code, info } });
  }
}
