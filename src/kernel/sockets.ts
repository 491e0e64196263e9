// The socket layer of one netns: TCP demux/connect/listen, cgroup sock_addr
// hooks, and the UDP/ping entry points (udp.ts).

import { newSkb, type SkBuff } from '../wire/skb.ts';
import type { SockAddrCtx } from '../bpf/program.ts';
import { readU16, readU32 } from '../wire/addr.ts';
import { buildTcpFrame } from '../wire/build.ts';
import { checksum } from '../wire/checksum.ts';
import { ETH_HLEN } from '../wire/ethernet.ts';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IP_DADDR, IP_SADDR, pseudoHeaderSum } from '../wire/ipv4.ts';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, newTcpRxOptions, parseTcpOptions, type TcpRxOptions } from '../wire/tcp.ts';
import type { CgroupHook, Endpoint4, PingReply, PmtuDisc, SocketApi, TcpConnection, UdpSocket } from './api.ts';
import { SocketError } from './api.ts';
import { ipLocalOut } from './ip.ts';
import type { NetnsImpl } from './netns.ts';
import { St, TcpSock } from './tcp.ts';
import { PingTable, UdpSock } from './udp.ts';

/** net.ipv4.ip_local_port_range defaults. */
export const PORT_LOW = 32768, PORT_HIGH = 60999;
const ZERO_MAC = new Uint8Array(6);
/** The options of the segment being received (one parse at a time, no allocation per segment). */
const RX_OPTS = newTcpRxOptions();

type Listener = { port: number; onConnection: (c: TcpConnection) => void };

export class Sockets implements SocketApi {
  /** local port -> (peer ip * 65536 + peer port) -> socket. */
  readonly tcp = new Map<number, Map<number, TcpSock>>();
  readonly listeners = new Map<number, Listener>();
  readonly udp = new Map<number, UdpSock>();
  private pingTable: PingTable | null = null;

  constructor(readonly ns: NetnsImpl) {}

  get pings(): PingTable { return this.pingTable ??= new PingTable(this.ns); }

  /** Run the node's cgroup programs for hook; false if one rejects. */
  runCgroup(hook: CgroupHook, ctx: SockAddrCtx): boolean {
    const node = this.ns.node;
    const progs = node.cgroup[hook];
    for (let i = 0; i < progs.length; i++) {
      const p = progs[i]!;
      if ((node.bpf !== null ? node.bpf.run(p, ctx) : p.run(ctx, node.runtime)) === 0) return false;
    }
    return true;
  }

  sockAddr(ip: number, port: number, protocol: number, cookie: number, src: Endpoint4): SockAddrCtx {
    return { userIp4: ip, userPort: port, protocol, sockCookie: cookie, netnsCookie: this.ns.cookie, srcIp4: src.ip, srcPort: src.port, epId: this.ns.epId };
  }

  // ---- TCP ----
  tcpListen(port: number, onConnection: (c: TcpConnection) => void): { close(): void } {
    if (this.listeners.has(port)) throw new SocketError('EADDRINUSE', 'Address already in use');
    const l: Listener = { port, onConnection };
    this.listeners.set(port, l);
    return { close: () => { if (this.listeners.get(port) === l) this.listeners.delete(port); } };
  }

  tcpConnect(to: Endpoint4, opts: { timeoutNs?: number } = {}): Promise<TcpConnection> {
    const node = this.ns.node;
    const cookie = node.nextSocketCookie();
    const ctx = this.sockAddr(to.ip, to.port, IPPROTO_TCP, cookie, { ip: 0, port: 0 });
    if (!this.runCgroup('connect4', ctx)) return Promise.reject(new SocketError('ECONNREFUSED', 'Connection refused'));
    const peer: Endpoint4 = { ip: ctx.userIp4 >>> 0, port: ctx.userPort };
    const local = this.ns.isLocal(peer.ip);
    const route = local ? undefined : this.ns.lookupRoute(peer.ip);
    const dev = local ? this.ns.byIndex.get(1) : route ? this.ns.byIndex.get(route.ifindex) : undefined;
    if (!dev) return Promise.reject(new SocketError('ENETUNREACH', 'Network is unreachable'));
    const srcIp = local ? peer.ip : this.ns.selectSource(dev, route);
    const port = this.pickTcpPort(peer);
    if (port < 0) return Promise.reject(new SocketError('EADDRINUSE', 'Cannot assign requested address'));
    // The program knows the address it passed to connect(); cgroup/getpeername4 runs only if it calls getpeername().
    const s = new TcpSock(this.ns, { ip: srcIp, port }, peer, { ip: to.ip >>> 0, port: to.port }, cookie);
    s.ownMss = (route?.mtu ?? dev.mtu) - 40;
    s.iss = node.rng.u32();
    s.sndUna = s.iss;
    s.state = St.SYN_SENT;
    this.hash(s);
    return new Promise<TcpConnection>((resolve, reject) => {
      let deadline: { cancel(): void } | null = null;
      s.onEstablished = () => { deadline?.cancel(); resolve(s); };
      s.onFail = (e) => { deadline?.cancel(); reject(e); };
      if (opts.timeoutNs !== undefined) deadline = node.sim.schedule(opts.timeoutNs, () => { if (s.state === St.SYN_SENT) s.fail('ETIMEDOUT'); });
      s.sendSyn(false);
    });
  }

  /**
   * inet_getname(peer), i.e. getpeername() and accept() with an address: cgroup/getpeername4 runs on the
   * real peer and may map it back (socket-LB reverse translation), once per call as in Linux.
   */
  peerName(s: TcpSock): Endpoint4 {
    const ctx = this.sockAddr(s.peer.ip, s.peer.port, IPPROTO_TCP, s.cookie, s.local);
    this.runCgroup('getpeername4', ctx);
    return { ip: ctx.userIp4 >>> 0, port: ctx.userPort };
  }

  /** Linux's __inet_hash_connect: random even start in the range, step 2, unique 4-tuple. */
  private pickTcpPort(peer: Endpoint4): number {
    const range = PORT_HIGH - PORT_LOW + 1;
    const start = this.ns.node.rng.below(range) & ~1;
    const key = peer.ip * 65536 + peer.port;
    const now = this.ns.node.sim.now();
    for (const parity of [0, 1]) {
      for (let i = 0; i < range; i += 2) {
        const port = PORT_LOW + ((start + i) % range & ~1) + parity;
        if (port > PORT_HIGH || this.listeners.has(port)) continue;
        const conns = this.tcp.get(port);
        const old = conns?.get(key);
        if (old && !(old.state === St.TIME_WAIT && old.twUntil <= now)) continue;
        return port;
      }
    }
    return -1;
  }

  hash(s: TcpSock): void {
    let m = this.tcp.get(s.local.port);
    if (!m) { m = new Map(); this.tcp.set(s.local.port, m); }
    m.set(s.peer.ip * 65536 + s.peer.port, s);
  }

  unhash(s: TcpSock): void {
    const m = this.tcp.get(s.local.port);
    const k = s.peer.ip * 65536 + s.peer.port;
    if (m && m.get(k) === s) { m.delete(k); if (m.size === 0) this.tcp.delete(s.local.port); }
  }

  /** tcp_v4_rcv: checksum, demux to a connection or listener, else RST. */
  tcpRcv(skb: SkBuff, l4: number): void {
    const f = skb.data, o = ETH_HLEN;
    const saddr = readU32(f, o + IP_SADDR), daddr = readU32(f, o + IP_DADDR);
    const l4len = skb.len - l4;
    if (l4len < 20 || checksum(f, l4, l4len, pseudoHeaderSum(saddr, daddr, IPPROTO_TCP, l4len)) !== 0) return;
    const sport = readU16(f, l4), dport = readU16(f, l4 + 2);
    const seq = readU32(f, l4 + 4), ack = readU32(f, l4 + 8);
    const doff = (f[l4 + 12]! >>> 4) * 4, flags = f[l4 + 13]!, win = readU16(f, l4 + 14);
    const payload = f.subarray(l4 + doff, skb.len);
    const rx = parseTcpOptions(f, l4, doff, RX_OPTS);
    const s = this.tcp.get(dport)?.get(saddr * 65536 + sport);
    if (s && !(s.state === St.TIME_WAIT && (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN)) {
      s.input(flags, seq, ack, win, payload, rx);
      return;
    }
    if (s) this.unhash(s); // a new SYN reuses a TIME_WAIT tuple
    const l = this.listeners.get(dport);
    if (l && (flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN) { this.accept(l, saddr, sport, daddr, seq, rx); return; }
    if (!(flags & TCP_RST)) this.sendReset(saddr, sport, daddr, dport, flags, seq, ack, payload.length);
  }

  private accept(l: Listener, saddr: number, sport: number, daddr: number, seq: number, rx: TcpRxOptions): void {
    const c = new TcpSock(this.ns, { ip: daddr, port: l.port }, { ip: saddr, port: sport });
    const route = this.ns.isLocal(saddr) ? undefined : this.ns.lookupRoute(saddr);
    const dev = route ? this.ns.byIndex.get(route.ifindex) : this.ns.byIndex.get(1);
    c.ownMss = (route?.mtu ?? dev?.mtu ?? 1500) - 40;
    c.synReceived(rx);
    c.iss = this.ns.node.rng.u32();
    c.sndUna = c.iss;
    c.rcvNxt = (seq + 1) >>> 0;
    c.state = St.SYN_RECV;
    // accept(2) with an address buffer (Go's accept4, as every server of ours) is inet_getname(peer): one hook run.
    c.onEstablished = () => { c.remote = this.peerName(c); l.onConnection(c); };
    this.hash(c);
    c.sendSyn(true);
  }

  /** tcp_v4_send_reset. */
  private sendReset(saddr: number, sport: number, daddr: number, dport: number, flags: number, seq: number, ack: number, len: number): void {
    const withAck = (flags & TCP_ACK) === 0;
    const ackNo = (seq + len + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0)) >>> 0;
    const f = buildTcpFrame({
      srcMac: ZERO_MAC, dstMac: ZERO_MAC, src: daddr, dst: saddr, ttl: this.ns.defaultTtl, id: 0, df: true,
      sport: dport, dport: sport, seq: withAck ? 0 : ack, ack: withAck ? ackNo : 0, flags: withAck ? TCP_RST | TCP_ACK : TCP_RST, window: 0,
    });
    ipLocalOut(this.ns, newSkb(f, f.length, 0));
  }

  // ---- UDP / ICMP ----
  udpBind(port: number, onMessage?: (data: Uint8Array, from: Endpoint4, reply: (d: Uint8Array) => void) => void): UdpSocket {
    if (port === 0) port = this.pickUdpPort();
    if (this.udp.has(port)) throw new SocketError('EADDRINUSE', 'Address already in use');
    const s = new UdpSock(this.ns, port, onMessage);
    this.udp.set(port, s);
    return s;
  }

  private pickUdpPort(): number {
    const range = PORT_HIGH - PORT_LOW + 1;
    const start = this.ns.node.rng.below(range);
    for (let i = 0; i < range; i++) { const p = PORT_LOW + (start + i) % range; if (!this.udp.has(p)) return p; }
    throw new SocketError('EADDRINUSE', 'No ephemeral port');
  }

  udpRcv(skb: SkBuff, l4: number): void { UdpSock.rcv(this, skb, l4); }

  ping(to: number, opts: { seq: number; id: number; payloadBytes: number; timeoutNs: number; ttl?: number; pmtudisc?: PmtuDisc }): Promise<PingReply | null> {
    return this.pings.send(to, opts);
  }

  pingRcv(skb: SkBuff, l4: number): void { this.pings.rcv(skb, l4); }

  /** ICMP errors for our sockets; unreachable during a TCP handshake fails it like Linux's hard errors. */
  icmpErrorRcv(skb: SkBuff, l4: number): void {
    const f = skb.data;
    const inner = l4 + 8;
    if (skb.len >= inner + 28 && f[inner + 9] === IPPROTO_ICMP && this.pingTable !== null) { this.pingTable.errorRcv(skb, l4); return; }
    if (skb.len >= inner + 28 && f[inner + 9] === IPPROTO_UDP && f[l4] === 3) { this.udpErr(f, l4, inner); return; }
    if (skb.len < inner + 28 || f[inner + 9] !== IPPROTO_TCP || f[l4] !== 3) return;
    const ihl = (f[inner]! & 15) * 4;
    const dst = readU32(f, inner + 16);
    const sport = readU16(f, inner + ihl), dport = readU16(f, inner + ihl + 2);
    const s = this.tcp.get(sport)?.get(dst * 65536 + dport);
    const code = f[l4 + 1]!;
    // tcp_v4_err: "fragmentation needed" (ip.ts has learnt the PMTU from it) shrinks the segments.
    if (s && code === 4) { s.mtuReduced(); return; }
    if (s && s.state === St.SYN_SENT && (code === 1 || code === 0 || code === 3)) s.fail(code === 3 ? 'ECONNREFUSED' : 'EHOSTUNREACH');
  }

  /** __udp4_lib_err: the quoted datagram names our socket and its peer; only a connected socket hears of it. */
  private udpErr(f: Uint8Array, l4: number, inner: number): void {
    const ihl = (f[inner]! & 15) * 4;
    const code = UDP_UNREACH[f[l4 + 1]!];
    const s = this.udp.get(readU16(f, inner + ihl));
    if (code && s) s.icmpError(code, readU32(f, inner + 16), readU16(f, inner + ihl + 2));
  }
}

/** ICMP type 3 code -> the errno __udp4_lib_err reports (icmp_err_convert); frag-needed (4) only teaches the PMTU. */
const UDP_UNREACH: Record<number, 'ECONNREFUSED' | 'EHOSTUNREACH' | 'ENETUNREACH'> = { 0: 'ENETUNREACH', 1: 'EHOSTUNREACH', 3: 'ECONNREFUSED' };
