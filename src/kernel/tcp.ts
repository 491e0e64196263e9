// One TCP socket: the RFC 9293 state machine as Linux runs it (MSS option,
// window 64240, delayed ACKs, PSH on the last segment of a write, RTO).

import { newSkb } from '../wire/skb.ts';
import { buildTcpFrame } from '../wire/build.ts';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../wire/tcp.ts';
import type { Endpoint4, Route, TcpConnection } from './api.ts';
import { SocketError, type SocketErrorCode } from './api.ts';
import { ipLocalOut, pathMtu } from './ip.ts';
import type { NetnsImpl } from './netns.ts';
import type { TimerHandle } from '../sim/sim.ts';

export enum St { CLOSED, SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSING, TIME_WAIT, CLOSE_WAIT, LAST_ACK }

export const TCP_WINDOW = 64240;
const TCP_MAX_QUICKACKS = 16;
/** net.ipv4.tcp_min_snd_mss. */
const TCP_MIN_SND_MSS = 48;
const DELACK_NS = 40_000_000, RTO_MIN_NS = 200_000_000, RTO_INIT_NS = 1_000_000_000;
const SYN_RETRIES = 6, DATA_RETRIES = 15, TIME_WAIT_NS = 60_000_000_000;
const ZERO_MAC = new Uint8Array(6);

interface Seg { seq: number; flags: number; data: Uint8Array | null }

export class TcpSock implements TcpConnection {
  state = St.CLOSED;
  remote: Endpoint4;
  iss = 0; sndUna = 0; sndNxt = 0; sndWnd = TCP_WINDOW; rcvNxt = 0;
  /** The send MSS (mss_cache): the peer's MSS bounded by the path MTU. */
  mss = 536;
  ownMss = 1460;
  /** The MSS the peer announced (rx_opt.mss_clamp); 536 without the option. */
  private peerMss = 536;
  /** The path MTU the send MSS was last synced to (icsk_pmtu_cookie). */
  private pmtuCookie = 0;
  private outq: Array<{ data: Uint8Array; off: number }> = [];
  private unacked: Seg[] = [];
  private finQueued = false;
  private finSent = false;
  private pendingAcks = 0;
  /** Linux's quickack mode: the first data segments of a connection are ACKed at once (TCP_MAX_QUICKACKS). */
  private quickAcks = TCP_MAX_QUICKACKS;
  private delack: TimerHandle | null = null;
  private rtoTimer: TimerHandle | null = null;
  private rto = RTO_MIN_NS;
  private retries = 0;
  private ipId: number;
  private routeVer = -1;
  private route: Route | undefined;
  twUntil = 0;
  readonly cookie: number;
  /** Callbacks; data/end arriving before a callback is set are held. */
  private dataCbs: Array<(d: Uint8Array) => void> = [];
  private endCbs: Array<() => void> = [];
  private closeCbs: Array<(e?: SocketError) => void> = [];
  private heldData: Uint8Array[] = [];
  private gotEnd = false;
  private closed: { err?: SocketError } | null = null;
  /** Connect completion (active open) / accept notification (passive open). */
  onEstablished: (() => void) | null = null;
  onFail: ((e: SocketError) => void) | null = null;

  constructor(readonly ns: NetnsImpl, readonly local: Endpoint4, readonly peer: Endpoint4, remote?: Endpoint4, cookie?: number) {
    this.remote = remote ?? peer;
    this.ipId = ns.node.rng.u32() & 0xffff;
    // connect() hands in the cookie its cgroup/connect4 run keyed the socket-LB reverse entry with.
    this.cookie = cookie ?? ns.node.nextSocketCookie();
  }

  /** getpeername(2): runs the cgroup/getpeername4 hook each call. */
  getpeername(): Endpoint4 { return this.ns.sock.peerName(this); }

  // --- app side ---
  write(data: Uint8Array): void {
    if (this.finQueued || this.state === St.CLOSED || data.length === 0) return;
    this.outq.push({ data: data.slice(), off: 0 });
    if (this.state === St.ESTABLISHED || this.state === St.CLOSE_WAIT) this.pump();
  }
  end(): void {
    if (this.finQueued) return;
    this.finQueued = true;
    if (this.state === St.ESTABLISHED || this.state === St.CLOSE_WAIT) this.pump();
  }
  onData(cb: (d: Uint8Array) => void): void {
    this.dataCbs.push(cb);
    const held = this.heldData; this.heldData = [];
    for (const d of held) cb(d);
  }
  onEnd(cb: () => void): void { this.endCbs.push(cb); if (this.gotEnd) cb(); }
  onClose(cb: (err?: SocketError) => void): void { this.closeCbs.push(cb); if (this.closed) cb(this.closed.err); }
  get outqBytes(): number {
    let n = (this.sndNxt - this.sndUna) | 0;
    for (const c of this.outq) n += c.data.length - c.off;
    return n;
  }

  // --- output ---
  private routeFor(): Route | undefined {
    if (this.routeVer !== this.ns.fibVersion) { this.route = this.ns.lookupRoute(this.peer.ip); this.routeVer = this.ns.fibVersion; }
    return this.route;
  }

  xmit(flags: number, seq: number, data: Uint8Array | null, withMss = false): void {
    if (flags & TCP_ACK) { this.pendingAcks = 0; if (this.delack) { this.delack.cancel(); this.delack = null; } }
    this.ipId = (this.ipId + 1) & 0xffff;
    const f = buildTcpFrame({
      srcMac: ZERO_MAC, dstMac: ZERO_MAC, src: this.local.ip, dst: this.peer.ip, ttl: this.ns.defaultTtl, id: this.ipId, df: true,
      sport: this.local.port, dport: this.peer.port, seq, ack: flags & TCP_ACK ? this.rcvNxt : 0, flags, window: TCP_WINDOW,
      mss: withMss ? this.ownMss : undefined,
    }, data ?? undefined);
    const skb = newSkb(f, f.length, 0);
    skb.sockCookie = this.cookie;
    ipLocalOut(this.ns, skb, this.ns.isLocal(this.peer.ip) ? undefined : this.routeFor());
  }

  sendSyn(ack: boolean): void {
    const flags = ack ? TCP_SYN | TCP_ACK : TCP_SYN;
    this.unacked = [{ seq: this.iss, flags, data: null }];
    this.sndNxt = (this.iss + 1) >>> 0;
    this.rto = RTO_INIT_NS;
    this.xmit(flags, this.iss, null, true);
    this.armRto();
  }

  /** The path MTU towards the peer now: a learnt PMTU, the route's mtu metric or the device's. */
  private pathMtuNow(): number {
    if (this.ns.isLocal(this.peer.ip)) return this.ownMss + 40;
    const r = this.routeFor();
    const dev = r ? this.ns.byIndex.get(r.ifindex) : undefined;
    return r && dev ? pathMtu(this.ns, this.peer.ip, r, dev) : this.pmtuCookie || this.ownMss + 40;
  }

  /** tcp_sync_mss: the send MSS for a path MTU (40 bytes of IP and TCP header, no options), never above the peer's. */
  private syncMss(pmtu: number): void {
    this.pmtuCookie = pmtu;
    this.mss = Math.max(TCP_MIN_SND_MSS, Math.min(this.ownMss, this.peerMss, pmtu - 40));
  }

  /** The peer's MSS option (0: none) fixes the send MSS. */
  setPeerMss(peerMss: number): void {
    this.peerMss = peerMss || 536;
    this.syncMss(this.pathMtuNow());
  }

  /** tcp_current_mss: a PMTU learnt (or expired) since the last segment re-syncs the MSS first. */
  private currentMss(): number {
    const pmtu = this.pathMtuNow();
    if (pmtu !== this.pmtuCookie) this.syncMss(pmtu);
    return this.mss;
  }

  /**
   * tcp_v4_mtu_reduced, after a "fragmentation needed" about one of our
   * segments taught the route a smaller PMTU: later segments fit it, and the
   * segments in flight that no longer do are sent again, cut to the new MSS
   * (tcp_simple_retransmit; the router dropped them).
   */
  mtuReduced(): void {
    if (this.state === St.CLOSED || this.state === St.TIME_WAIT) return;
    const pmtu = this.pathMtuNow();
    if (this.pmtuCookie !== 0 && pmtu >= this.pmtuCookie) return;
    this.syncMss(pmtu);
    if (this.state === St.SYN_SENT || this.state === St.SYN_RECV) return;
    const mss = this.mss;
    const kept: Seg[] = [];
    for (const s of this.unacked) {
      if (s.data === null || s.data.length <= mss) { kept.push(s); continue; }
      for (let off = 0; off < s.data.length; off += mss) {
        const piece = s.data.subarray(off, off + mss);
        const flags = off + mss >= s.data.length ? s.flags : s.flags & ~TCP_PSH;
        const seg: Seg = { seq: (s.seq + off) >>> 0, flags, data: piece };
        kept.push(seg);
        this.xmit(seg.flags, seg.seq, piece);
      }
    }
    this.unacked = kept;
  }

  private pump(): void {
    const mss = this.currentMss();
    while (this.outq.length !== 0) {
      const inflight = (this.sndNxt - this.sndUna) | 0;
      if (inflight >= this.sndWnd) break;
      const c = this.outq[0]!;
      const rem = c.data.length - c.off;
      const n = Math.min(mss, rem, this.sndWnd - inflight);
      const last = n === rem;
      const seg = c.data.subarray(c.off, c.off + n);
      c.off += n;
      if (last) this.outq.shift();
      const flags = TCP_ACK | (last ? TCP_PSH : 0);
      this.unacked.push({ seq: this.sndNxt, flags, data: seg });
      this.xmit(flags, this.sndNxt, seg);
      this.sndNxt = (this.sndNxt + n) >>> 0;
      this.armRto();
    }
    if (this.outq.length === 0 && this.finQueued && !this.finSent) {
      this.finSent = true;
      this.unacked.push({ seq: this.sndNxt, flags: TCP_FIN | TCP_ACK, data: null });
      this.xmit(TCP_FIN | TCP_ACK, this.sndNxt, null);
      this.sndNxt = (this.sndNxt + 1) >>> 0;
      this.state = this.state === St.CLOSE_WAIT ? St.LAST_ACK : St.FIN_WAIT_1;
      this.armRto();
    }
  }

  private armRto(): void {
    if (this.rtoTimer) return;
    this.rtoTimer = this.ns.node.sim.schedule(this.rto, () => { this.rtoTimer = null; this.onRto(); });
  }

  private onRto(): void {
    if (this.unacked.length === 0 || this.state === St.CLOSED) return;
    const synPhase = this.state === St.SYN_SENT || this.state === St.SYN_RECV;
    if (++this.retries > (synPhase ? SYN_RETRIES : DATA_RETRIES)) { this.fail('ETIMEDOUT'); return; }
    this.rto *= 2;
    // Go-back-N from the first unacknowledged segment.
    for (const s of this.unacked) this.xmit(s.flags, s.seq, s.data, (s.flags & TCP_SYN) !== 0);
    this.armRto();
  }

  sendAckNow(): void { this.xmit(TCP_ACK, this.sndNxt, null); }

  private scheduleAck(): void {
    if (++this.pendingAcks >= 2) { this.sendAckNow(); return; }
    if (!this.delack) this.delack = this.ns.node.sim.schedule(DELACK_NS, () => { this.delack = null; if (this.pendingAcks > 0 && this.state !== St.CLOSED) this.sendAckNow(); });
  }

  // --- input ---
  input(flags: number, seq: number, ack: number, win: number, payload: Uint8Array, peerMss: number): void {
    if (flags & TCP_RST) { this.onRst(flags, ack); return; }
    if (this.state === St.SYN_SENT) {
      if ((flags & (TCP_SYN | TCP_ACK)) !== (TCP_SYN | TCP_ACK) || ack !== ((this.iss + 1) >>> 0)) return;
      this.rcvNxt = (seq + 1) >>> 0; this.sndUna = ack; this.sndWnd = win;
      this.setPeerMss(peerMss);
      this.unacked = []; this.stopRto();
      this.state = St.ESTABLISHED;
      this.sendAckNow();
      this.onEstablished?.(); this.onEstablished = null;
      return;
    }
    if (this.state === St.TIME_WAIT) { if (flags & TCP_FIN) this.sendAckNow(); return; }
    if (this.state === St.SYN_RECV) {
      if (flags & TCP_SYN) { this.xmit(TCP_SYN | TCP_ACK, this.iss, null, true); return; }
      if (!(flags & TCP_ACK) || ack !== ((this.iss + 1) >>> 0)) return;
      this.sndUna = ack; this.sndWnd = win; this.unacked = []; this.stopRto();
      this.state = St.ESTABLISHED;
      this.onEstablished?.(); this.onEstablished = null;
    } else if (flags & TCP_ACK) {
      this.onAck(ack, win);
      if (this.state === St.CLOSED) return;
    }
    const len = payload.length;
    if (len > 0) {
      if (seq !== this.rcvNxt || this.gotEnd) { this.sendAckNow(); return; }
      this.rcvNxt = (this.rcvNxt + len) >>> 0;
      // A connection starts in quickack mode (a pure ACK goes out before the app's reply, as on
      // Linux); after that the delayed ACK is armed first, so a reply written from onData carries it.
      if (this.quickAcks > 0) { this.quickAcks--; this.sendAckNow(); } else this.scheduleAck();
      this.deliver(payload.slice());
    }
    if ((flags & TCP_FIN) && ((seq + len) >>> 0) === this.rcvNxt && !this.gotEnd) this.onFin();
  }

  private onAck(ack: number, win: number): void {
    this.sndWnd = win;
    const acked = (ack - this.sndUna) | 0, ahead = (this.sndNxt - ack) | 0;
    if (acked <= 0 || ahead < 0) return;
    this.sndUna = ack;
    const u = this.unacked;
    let i = 0;
    while (i < u.length && (((u[i]!.seq + (u[i]!.data ? u[i]!.data!.length : 1)) - ack) | 0) <= 0) i++;
    if (i > 0) u.splice(0, i);
    this.retries = 0; this.rto = RTO_MIN_NS; this.stopRto();
    if (u.length !== 0) this.armRto();
    const finAcked = this.finSent && ack === this.sndNxt;
    if (finAcked) {
      if (this.state === St.FIN_WAIT_1) this.state = St.FIN_WAIT_2;
      else if (this.state === St.CLOSING) { this.enterTimeWait(); return; }
      else if (this.state === St.LAST_ACK) { this.finish(); return; }
    }
    this.pump();
  }

  private onFin(): void {
    this.rcvNxt = (this.rcvNxt + 1) >>> 0;
    this.gotEnd = true;
    switch (this.state) {
      case St.ESTABLISHED: this.state = St.CLOSE_WAIT; this.scheduleAck(); break;
      case St.FIN_WAIT_1: this.state = St.CLOSING; this.sendAckNow(); break;
      case St.FIN_WAIT_2: this.sendAckNow(); this.enterTimeWait(); break;
      default: break;
    }
    for (const cb of this.endCbs) cb();
  }

  private onRst(flags: number, ack: number): void {
    if (this.state === St.SYN_SENT) {
      if ((flags & TCP_ACK) && ack === ((this.iss + 1) >>> 0)) this.fail('ECONNREFUSED');
      return;
    }
    if (this.state === St.SYN_RECV) { this.state = St.CLOSED; this.ns.sock.unhash(this); this.stopTimers(); return; }
    if (this.state === St.TIME_WAIT) { this.ns.sock.unhash(this); return; }
    this.fail('ECONNRESET');
  }

  private deliver(d: Uint8Array): void {
    if (this.dataCbs.length === 0) { this.heldData.push(d); return; }
    for (const cb of this.dataCbs) cb(d);
  }

  private stopRto(): void { if (this.rtoTimer) { this.rtoTimer.cancel(); this.rtoTimer = null; } }
  private stopTimers(): void { this.stopRto(); if (this.delack) { this.delack.cancel(); this.delack = null; } }

  /** TIME_WAIT is kept lazily: the socket stays hashed until a new tuple needs it. */
  private enterTimeWait(): void {
    this.state = St.TIME_WAIT;
    this.twUntil = this.ns.node.sim.now() + TIME_WAIT_NS;
    this.stopTimers();
    this.notifyClose();
  }

  private finish(): void {
    this.state = St.CLOSED;
    this.stopTimers();
    this.ns.sock.unhash(this);
    this.notifyClose();
  }

  fail(code: SocketErrorCode): void {
    const wasConnecting = this.state === St.SYN_SENT;
    this.state = St.CLOSED;
    this.stopTimers();
    this.ns.sock.unhash(this);
    const err = new SocketError(code, code === 'ECONNREFUSED' ? 'Connection refused' : code === 'ETIMEDOUT' ? 'Connection timed out' : 'Connection reset by peer');
    if (wasConnecting) { this.onFail?.(err); this.onFail = null; return; }
    this.notifyClose(err);
  }

  private notifyClose(err?: SocketError): void {
    if (this.closed) return;
    this.closed = err ? { err } : {};
    for (const cb of this.closeCbs) cb(err);
  }
}
