// One TCP socket: the RFC 9293 state machine as Linux runs it: the SYN options
// Linux sends (MSS, SACK permitted, timestamps, window scale 7), timestamps on
// every segment (RFC 7323), the receive window of tcp_select_window with the
// default tcp_rmem, delayed ACKs, PSH on the last segment of a write, and the
// retransmission timer of Linux 6.8 (tcp_rtt_estimator, tcp_set_rto, backoff).

import { newSkb } from '../wire/skb.ts';
import { buildTcpFrame } from '../wire/build.ts';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCPOLEN_TSTAMP_ALIGNED, type TcpRxOptions } from '../wire/tcp.ts';
import type { Endpoint4, FileAccess, Route, TcpConnection } from './api.ts';
import { SocketError, type SocketErrorCode } from './api.ts';
import { ipLocalOut, pathMtu } from './ip.ts';
import type { NetnsImpl } from './netns.ts';
import type { TimerHandle } from '../sim/sim.ts';

export enum St { CLOSED, SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSING, TIME_WAIT, CLOSE_WAIT, LAST_ACK }

/**
 * Receive-space defaults: tcp_rmem[1] = 131072 gives a full space of 65536
 * (tcp_win_from_space: half the buffer) and tcp_rmem[2] = 6291456 a window
 * scale of ilog2(6291456) - 15 = 7 (tcp_select_initial_window).
 */
const FULL_SPACE = 65536;
export const RCV_WSCALE = 7;
/** The window of a SYN for a 1460-byte MSS (tcp_select_initial_window: 65536 rounded down to a multiple of the MSS). */
export const TCP_WINDOW = 64240;
/** TCP_MSS_DEFAULT and TCP_MIN_MSS, the bounds of the first rcv_mss guess. */
const TCP_MSS_DEFAULT = 536, TCP_MIN_MSS = 88;
const TCP_MAX_QUICKACKS = 16;
/** net.ipv4.tcp_min_snd_mss. */
const TCP_MIN_SND_MSS = 48;
const DELACK_NS = 40_000_000, TIME_WAIT_NS = 60_000_000_000;
/**
 * The retransmission timer counts jiffies, as icsk_rto does; HZ=250 (as src/netfilter/recent.ts): one jiffy is 4 ms.
 * TCP_RTO_MIN HZ/5, TCP_TIMEOUT_INIT 1 s, TCP_TIMEOUT_FALLBACK 3 s, TCP_RTO_MAX 120 s.
 */
const JIFFY_US = 4000, JIFFY_NS = JIFFY_US * 1000;
const TCP_RTO_MIN_US = 200_000, TCP_RTO_MIN = 50, TCP_TIMEOUT_INIT = 250, TCP_TIMEOUT_FALLBACK = 750, TCP_RTO_MAX = 30_000;
/** tcp_syn_retries 6 (+ tcp_syn_linear_timeouts 4: the first SYN timeouts do not back off), tcp_synack_retries 5, tcp_retries2 15. */
const SYN_RETRIES = 6, SYN_LINEAR_TIMEOUTS = 4, SYNACK_RETRIES = 5, TCP_RETRIES2 = 15;
/** usecs_to_jiffies: rounded up. */
const usToJiffies = (us: number): number => Math.ceil(us / JIFFY_US);

/**
 * tcp_model_timeout: how long (ms) `boundary` retransmissions take when the RTO starts at rto_base and doubles
 * up to TCP_RTO_MAX: (2^(b+1) - 1) * base while doubling, then TCP_RTO_MAX per retransmission.
 */
function modelTimeoutMs(boundary: number, rtoBase: number): number {
  const thresh = Math.floor(Math.log2(TCP_RTO_MAX / rtoBase));
  const j = boundary <= thresh ? ((2 << boundary) - 1) * rtoBase : ((2 << thresh) - 1) * rtoBase + (boundary - thresh) * TCP_RTO_MAX;
  return j * (JIFFY_US / 1000);
}
const ZERO_MAC = new Uint8Array(6);

/** A segment in flight: when it was (last) sent, and whether it was ever retransmitted (Karn: no RTT sample from it). */
interface Seg { seq: number; flags: number; data: Uint8Array | null; sentNs: number; retrans: boolean }

/** tcp_select_initial_window: the full space rounded down to a multiple of mss, at most 65535. */
function initialWindow(mss: number): number {
  const space = FULL_SPACE > mss ? FULL_SPACE - FULL_SPACE % mss : FULL_SPACE;
  return Math.min(space, 0xffff);
}

/** ALIGN(x, 1 << ws). */
function alignWs(x: number, ws: number): number { return ((x + (1 << ws) - 1) >>> ws) << ws; }

/** murmur3's finaliser: a 32-bit mix for the keyed hash below. */
function fmix32(h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Linux's ts_secret is one random key per kernel (per node here). It is taken
 * from the node's seeded stream without drawing from it, so adding timestamps
 * moved no port, sequence number or MAC address of the lab.
 */
const tsSecrets = new WeakMap<object, number>();
function tsSecret(node: NetnsImpl['node']): number {
  let k = tsSecrets.get(node);
  if (k === undefined) {
    const st = node.rng.save();
    k = fmix32((st[0]! ^ fmix32(st[1]! ^ fmix32(st[2]! ^ fmix32(st[3]! ^ 0x7473)))) >>> 0);
    tsSecrets.set(node, k);
  }
  return k;
}

/** secure_tcp_ts_off(saddr, daddr): the same offset for every connection between two addresses, as in Linux. */
function tsOffset(node: NetnsImpl['node'], saddr: number, daddr: number): number {
  return fmix32(Math.imul(fmix32(tsSecret(node) ^ saddr) ^ daddr, 0x9e3779b1));
}

const FILE_READ = 1, FILE_WRITE = 2;

export class TcpSock implements TcpConnection {
  state = St.CLOSED;
  remote: Endpoint4;
  /** AppArmor's cached file access (MAY_READ / MAY_WRITE granted to the file's label). */
  private fileAllow = 0;
  iss = 0; sndUna = 0; sndNxt = 0; sndWnd = TCP_WINDOW; rcvNxt = 0;
  /** The send MSS (mss_cache): the peer's MSS bounded by the path MTU, less the timestamp option. */
  mss = 536;
  /** advmss: the MSS we announce (path MTU - 40). */
  ownMss = 1460;
  /** Options both ends agreed on; an active open offers all three until the SYN-ACK answers. */
  tsOk = true; sackOk = true; wsOk = true;
  /** Window scale shifts: ours (announced in the SYN) and the peer's. */
  rcvWscale = RCV_WSCALE; sndWscale = 0;
  /** ts_recent: the peer's timestamp we echo; tsOff: this address pair's offset (tsoffset). */
  private tsRecent = 0;
  private tsOff = 0;
  /** Receive window state of tcp_select_window: rcv_wnd last offered at rcv_wup, rcv_ssthresh, window_clamp, rcv_mss. */
  private rcvWnd = 0;
  private rcvWup = 0;
  private rcvSsthresh = 0;
  private windowClamp = 0;
  private rcvMss = TCP_MSS_DEFAULT;
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
  /** icsk_rto (jiffies), icsk_backoff, icsk_retransmits, retrans_stamp (ns of the first retransmission, 0: none). */
  private rto = TCP_TIMEOUT_INIT;
  private backoff = 0;
  private retransmits = 0;
  private retransStamp = 0;
  /** tcp_rtt_estimator's state, in microseconds: srtt_us (<< 3), mdev_us (<< 2), mdev_max_us, rttvar_us, rtt_seq. */
  private srttUs = 0;
  private mdevUs = 0;
  private mdevMaxUs = 0;
  private rttvarUs = 0;
  private rttSeq = 0;
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
    this.tsOff = tsOffset(ns.node, local.ip, peer.ip);
  }

  /** getpeername(2): runs the cgroup/getpeername4 hook each call. */
  getpeername(): Endpoint4 { return this.ns.sock.peerName(this); }

  /**
   * AppArmor's file check on read(2)/write(2) (apparmor_file_permission -> aa_file_perm). Access already
   * granted is cached on the file (fctx->allow); otherwise Ubuntu's __file_sock_perm checks the task's label
   * and then the file's, and its aa_inet_file_perm looks up the peer each time (map_sock_addr: inet_getname
   * with peer=1), which runs cgroup/getpeername4: two runs per access the file has not been granted yet.
   * inet_getname refuses (ENOTCONN, no hook) a socket that is closed or still connecting.
   */
  fileAccess(access: FileAccess, confined: boolean): void {
    const bit = access === 'read' ? FILE_READ : FILE_WRITE;
    if (!confined || !this.ns.node.appArmor || (this.fileAllow & bit) !== 0) return;
    this.fileAllow |= bit;
    for (let label = 0; label < 2; label++) if (this.state !== St.CLOSED && this.state !== St.SYN_SENT) this.getpeername();
  }

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

  /** A SYN or SYN-ACK carries the handshake options and an unscaled window; every later segment the agreed timestamp. */
  xmit(flags: number, seq: number, data: Uint8Array | null): void {
    if (flags & TCP_ACK) { this.pendingAcks = 0; if (this.delack) { this.delack.cancel(); this.delack = null; } }
    this.ipId = (this.ipId + 1) & 0xffff;
    const syn = (flags & TCP_SYN) !== 0;
    const f = buildTcpFrame({
      srcMac: ZERO_MAC, dstMac: ZERO_MAC, src: this.local.ip, dst: this.peer.ip, ttl: this.ns.defaultTtl, id: this.ipId, df: true,
      sport: this.local.port, dport: this.peer.port, seq, ack: flags & TCP_ACK ? this.rcvNxt : 0, flags,
      window: syn ? Math.min(this.rcvWnd, 0xffff) : this.selectWindow(),
      mss: syn ? this.ownMss : undefined, sackPerm: syn && this.sackOk, wscale: syn && this.wsOk ? this.rcvWscale : undefined,
      tsVal: this.tsOk ? this.tsNow() : undefined, tsEcr: this.tsRecent,
    }, data ?? undefined);
    const skb = newSkb(f, f.length, 0);
    skb.sockCookie = this.cookie;
    ipLocalOut(this.ns, skb, this.ns.isLocal(this.peer.ip) ? undefined : this.routeFor());
  }

  /** tcp_time_stamp with this connection's tsoffset: the clock in milliseconds plus a random offset per address pair. */
  private tsNow(): number { return (Math.floor(this.ns.node.sim.now() / 1e6) + this.tsOff) >>> 0; }

  /** SYN (active open, tcp_connect_init) or SYN-ACK (passive, after synReceived). */
  sendSyn(ack: boolean): void {
    const flags = ack ? TCP_SYN | TCP_ACK : TCP_SYN;
    if (ack) this.rcvWup = this.rcvNxt;
    else {
      // tcp_select_initial_window on advmss (no timestamp known yet), offering window scale 7.
      this.rcvWnd = initialWindow(this.ownMss);
      this.rcvSsthresh = this.rcvWnd;
      this.windowClamp = 0xffff << RCV_WSCALE;
    }
    this.unacked = [{ seq: this.iss, flags, data: null, sentNs: this.ns.node.sim.now(), retrans: false }];
    this.sndNxt = (this.iss + 1) >>> 0;
    this.rto = TCP_TIMEOUT_INIT;
    this.xmit(flags, this.iss, null);
    this.armRto();
  }

  /**
   * A listener's SYN (tcp_conn_request, tcp_openreq_init_rwin): the SYN-ACK answers the options
   * the SYN offered, and its window is the full space rounded to the MSS less the timestamp option.
   */
  synReceived(rx: TcpRxOptions): void {
    this.tsOk = rx.ts; this.sackOk = rx.sackPerm; this.wsOk = rx.wscale >= 0;
    this.tsRecent = rx.tsVal;
    this.rcvWscale = this.wsOk ? RCV_WSCALE : 0;
    this.sndWscale = this.wsOk ? Math.min(rx.wscale, 14) : 0;
    this.rcvWnd = initialWindow(this.ownMss - (this.tsOk ? TCPOLEN_TSTAMP_ALIGNED : 0));
    this.rcvSsthresh = this.rcvWnd;
    this.windowClamp = 0xffff << this.rcvWscale;
    this.setPeerMss(rx.mss);
  }

  /** The SYN-ACK's options decide what the connection keeps (tcp_rcv_synsent_state_process). */
  private synAckReceived(rx: TcpRxOptions): void {
    if (rx.ts) this.tsRecent = rx.tsVal; else this.tsOk = false;
    if (!rx.sackPerm) this.sackOk = false;
    if (rx.wscale >= 0) this.sndWscale = Math.min(rx.wscale, 14);
    else { this.wsOk = false; this.rcvWscale = 0; this.sndWscale = 0; this.windowClamp = Math.min(this.windowClamp, 0xffff); }
    this.setPeerMss(rx.mss);
  }

  /**
   * tcp_init_buffer_space and tcp_initialize_rcv_mss, once established: the window clamp keeps one
   * segment in reserve (65536 - advmss), which caps rcv_ssthresh: windows 502, 509, then 501 with MSS 1460.
   */
  private initBufferSpace(): void {
    const adv = this.ownMss;
    if (this.windowClamp >= FULL_SPACE) this.windowClamp = FULL_SPACE;
    if (this.windowClamp > 2 * adv && this.windowClamp + adv > FULL_SPACE) this.windowClamp = Math.max(2 * adv, FULL_SPACE - adv);
    this.rcvSsthresh = Math.min(this.rcvSsthresh, this.windowClamp);
    this.rcvMss = Math.max(TCP_MIN_MSS, Math.min(adv, this.mss, this.rcvWnd >>> 1, TCP_MSS_DEFAULT));
  }

  /**
   * tcp_select_window: never shrink the window offered before; else the free space (the whole
   * buffer: the lab's apps read at once) capped at rcv_ssthresh, rounded up to the scale unit.
   * The value on the wire is scaled down by our window scale.
   */
  private selectWindow(): number {
    const ws = this.rcvWscale;
    let cur = (this.rcvWup + this.rcvWnd - this.rcvNxt) | 0;
    if (cur < 0) cur = 0;
    let w = this.freeWindow();
    if (w < cur) w = alignWs(cur, ws);
    this.rcvWnd = w;
    this.rcvWup = this.rcvNxt;
    return Math.min(w, 0xffff << ws) >>> ws;
  }

  /** __tcp_select_window with an empty receive queue. */
  private freeWindow(): number {
    const full = Math.min(this.windowClamp, FULL_SPACE);
    const free = Math.min(FULL_SPACE, this.rcvSsthresh);
    if (this.rcvWscale !== 0) return alignWs(free, this.rcvWscale);
    const mss = Math.min(this.rcvMss, full);
    const w = this.rcvWnd;
    if (w <= free - mss || w > free) return free - free % mss;
    if (mss === full && free > w + (full >> 1)) return free;
    return w;
  }

  /** The path MTU towards the peer now: a learnt PMTU, the route's mtu metric or the device's. */
  private pathMtuNow(): number {
    if (this.ns.isLocal(this.peer.ip)) return this.ownMss + 40;
    const r = this.routeFor();
    const dev = r ? this.ns.byIndex.get(r.ifindex) : undefined;
    return r && dev ? pathMtu(this.ns, this.peer.ip, r, dev) : this.pmtuCookie || this.ownMss + 40;
  }

  /** tcp_sync_mss: the send MSS for a path MTU (40 bytes of IP and TCP header), never above the peer's, less the timestamp option. */
  private syncMss(pmtu: number): void {
    this.pmtuCookie = pmtu;
    this.mss = Math.max(TCP_MIN_SND_MSS, Math.min(this.ownMss, this.peerMss, pmtu - 40)) - (this.tsOk ? TCPOLEN_TSTAMP_ALIGNED : 0);
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
        // tcp_simple_retransmit: the pieces go out as retransmissions.
        const seg: Seg = { seq: (s.seq + off) >>> 0, flags, data: piece, sentNs: this.ns.node.sim.now(), retrans: true };
        if (this.retransStamp === 0) this.retransStamp = seg.sentNs;
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
      this.unacked.push({ seq: this.sndNxt, flags, data: seg, sentNs: this.ns.node.sim.now(), retrans: false });
      this.xmit(flags, this.sndNxt, seg);
      this.sndNxt = (this.sndNxt + n) >>> 0;
      this.armRto();
    }
    if (this.outq.length === 0 && this.finQueued && !this.finSent) {
      this.finSent = true;
      this.unacked.push({ seq: this.sndNxt, flags: TCP_FIN | TCP_ACK, data: null, sentNs: this.ns.node.sim.now(), retrans: false });
      this.xmit(TCP_FIN | TCP_ACK, this.sndNxt, null);
      this.sndNxt = (this.sndNxt + 1) >>> 0;
      this.state = this.state === St.CLOSE_WAIT ? St.LAST_ACK : St.FIN_WAIT_1;
      this.armRto();
    }
  }

  /** The retransmission timer, icsk_rto from now, unless it runs already (tcp_event_new_data_sent arms it when nothing was in flight). */
  private armRto(): void {
    if (this.rtoTimer) return;
    this.rtoTimer = this.ns.node.sim.schedule(this.rto * JIFFY_NS, () => { this.rtoTimer = null; this.onRto(); });
  }

  /** tcp_rearm_rto: after an ACK that took segments off the queue, icsk_rto from now, or no timer when nothing is left. */
  private rearmRto(): void {
    this.stopRto();
    if (this.unacked.length !== 0) this.armRto();
  }

  /**
   * tcp_retransmit_timer. tcp_write_timeout first: a SYN gives up after tcp_syn_retries + tcp_syn_linear_timeouts
   * retransmissions (SYNs at 0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s, ETIMEDOUT at 131 s), a SYN-ACK after
   * tcp_synack_retries (0, 1, 3, 7, 15, 31 s, given up at 63 s), data once tcp_retries2's model time (924.6 s)
   * has passed since the first retransmission. Then the RTO doubles up to TCP_RTO_MAX; an active open's
   * first tcp_syn_linear_timeouts timeouts keep it.
   */
  private onRto(): void {
    if (this.unacked.length === 0 || this.state === St.CLOSED) return;
    const now = this.ns.node.sim.now();
    if (this.state === St.SYN_SENT) {
      if (this.retransmits >= SYN_RETRIES + SYN_LINEAR_TIMEOUTS) { this.fail('ETIMEDOUT'); return; }
    } else if (this.state === St.SYN_RECV) {
      if (this.retransmits >= SYNACK_RETRIES) { this.fail('ETIMEDOUT'); return; }
    } else if (this.retransmits > 0 && now - this.retransStamp >= modelTimeoutMs(TCP_RETRIES2, TCP_RTO_MIN) * 1e6) {
      this.fail('ETIMEDOUT'); return;
    }
    // Go-back-N from the first unacknowledged segment.
    for (const s of this.unacked) { this.xmit(s.flags, s.seq, s.data); s.sentNs = now; s.retrans = true; }
    if (this.retransStamp === 0) this.retransStamp = now;
    this.retransmits++;
    this.backoff++;
    if (this.state !== St.SYN_SENT || this.backoff > SYN_LINEAR_TIMEOUTS) this.rto = Math.min(this.rto * 2, TCP_RTO_MAX);
    this.armRto();
  }

  /**
   * tcp_ack_update_rtt: the time since the first newly acknowledged segment was sent, unless a retransmitted
   * one is among them (Karn); then, with timestamps, the echoed TSval's age (ms). A sample updates the
   * estimator and the RTO and ends the backoff.
   */
  private ackRtt(firstAcktNs: number, retransAcked: boolean, tsEcr: number): void {
    let rttUs = firstAcktNs >= 0 && !retransAcked ? Math.floor((this.ns.node.sim.now() - firstAcktNs) / 1000) : -1;
    if (rttUs < 0 && tsEcr > 0) {
      const delta = (this.tsNow() - tsEcr) >>> 0;
      if (delta < 0x7fffffff / 1000) rttUs = Math.max(delta, 1) * 1000;
    }
    if (rttUs < 0) return;
    this.rttEstimator(rttUs);
    this.rto = Math.min(usToJiffies((this.srttUs >>> 3) + this.rttvarUs), TCP_RTO_MAX); // tcp_set_rto, tcp_bound_rto
    this.backoff = 0;
  }

  /**
   * tcp_rtt_estimator (Van Jacobson's, as Linux scales it): srtt += err/8; mdev moves by err/4, but by err/32
   * when the RTT fell below srtt (so a falling RTT does not raise the RTO); rttvar follows the largest mdev
   * of each window of data, at least tcp_rto_min, and decays by a quarter per RTT towards it.
   */
  private rttEstimator(mrttUs: number): void {
    let m = mrttUs, srtt = this.srttUs;
    if (srtt !== 0) {
      m -= srtt >>> 3;
      srtt += m;
      if (m < 0) {
        m = -m - (this.mdevUs >>> 2);
        if (m > 0) m >>= 3;
      } else m -= this.mdevUs >>> 2;
      this.mdevUs += m;
      if (this.mdevUs > this.mdevMaxUs) {
        this.mdevMaxUs = this.mdevUs;
        if (this.mdevMaxUs > this.rttvarUs) this.rttvarUs = this.mdevMaxUs;
      }
      if (((this.sndUna - this.rttSeq) | 0) > 0) {
        if (this.mdevMaxUs < this.rttvarUs) this.rttvarUs -= (this.rttvarUs - this.mdevMaxUs) >> 2;
        this.rttSeq = this.sndNxt;
        this.mdevMaxUs = TCP_RTO_MIN_US;
      }
    } else {
      srtt = m * 8;
      this.mdevUs = m * 2;
      this.rttvarUs = Math.max(this.mdevUs, TCP_RTO_MIN_US);
      this.mdevMaxUs = this.rttvarUs;
      this.rttSeq = this.sndNxt;
    }
    this.srttUs = Math.max(1, srtt);
  }

  /** tcp_init_metrics (no per-destination metrics cache): a handshake that gave no RTT sample leaves a 3 s RTO. */
  private initMetrics(): void {
    if (this.srttUs !== 0) return;
    this.rttvarUs = this.mdevUs = this.mdevMaxUs = TCP_TIMEOUT_FALLBACK * JIFFY_US;
    this.rto = TCP_TIMEOUT_FALLBACK;
  }

  /** srtt and rto as `ss -i` prints them (ms), for tests and tools. */
  rttInfo(): { srttMs: number; rttvarMs: number; rtoMs: number; backoff: number } {
    return { srttMs: (this.srttUs >>> 3) / 1000, rttvarMs: this.rttvarUs / 1000, rtoMs: this.rto * (JIFFY_US / 1000), backoff: this.backoff };
  }

  sendAckNow(): void { this.xmit(TCP_ACK, this.sndNxt, null); }

  private scheduleAck(): void {
    if (++this.pendingAcks >= 2) { this.sendAckNow(); return; }
    if (!this.delack) this.delack = this.ns.node.sim.schedule(DELACK_NS, () => { this.delack = null; if (this.pendingAcks > 0 && this.state !== St.CLOSED) this.sendAckNow(); });
  }

  // --- input ---
  /** One segment for this socket; rx holds its parsed options (valid only during the call). */
  input(flags: number, seq: number, ack: number, win: number, payload: Uint8Array, rx: TcpRxOptions): void {
    if (flags & TCP_RST) { this.onRst(flags, ack); return; }
    if (this.state === St.SYN_SENT) {
      if ((flags & (TCP_SYN | TCP_ACK)) !== (TCP_SYN | TCP_ACK) || ack !== ((this.iss + 1) >>> 0)) return;
      this.rcvNxt = (seq + 1) >>> 0; this.rcvWup = this.rcvNxt; this.sndUna = ack; this.sndWnd = win;
      this.synAckReceived(rx);
      this.initBufferSpace();
      const syn = this.unacked[0];
      this.retransmits = 0;
      if (syn) this.ackRtt(syn.sentNs, syn.retrans, this.tsOk && rx.ts ? rx.tsEcr : 0);
      this.initMetrics();
      this.unacked = []; this.retransStamp = 0; this.stopRto();
      this.state = St.ESTABLISHED;
      this.sendAckNow();
      this.onEstablished?.(); this.onEstablished = null;
      return;
    }
    // tcp_replace_ts_recent: echo the timestamp of the oldest segment not yet acknowledged (RFC 7323).
    if (rx.ts && this.tsOk && ((seq - this.rcvWup) | 0) <= 0) this.tsRecent = rx.tsVal;
    if (this.state === St.TIME_WAIT) { if (flags & TCP_FIN) this.sendAckNow(); return; }
    if (this.state === St.SYN_RECV) {
      if (flags & TCP_SYN) {
        // inet_rtx_syn_ack: a SYN-ACK sent again is a retransmission (no RTT sample from it).
        this.xmit(TCP_SYN | TCP_ACK, this.iss, null);
        const sa = this.unacked[0];
        if (sa) { sa.retrans = true; sa.sentNs = this.ns.node.sim.now(); }
        return;
      }
      if (!(flags & TCP_ACK) || ack !== ((this.iss + 1) >>> 0)) return;
      this.sndUna = ack; this.sndWnd = win << this.sndWscale;
      // tcp_synack_rtt_meas, then tcp_init_transfer's tcp_init_metrics.
      const sa = this.unacked[0];
      this.retransmits = 0;
      if (sa) this.ackRtt(sa.sentNs, sa.retrans, this.tsOk && rx.ts ? rx.tsEcr : 0);
      this.initMetrics();
      this.unacked = []; this.retransStamp = 0; this.stopRto();
      this.initBufferSpace();
      this.state = St.ESTABLISHED;
      this.onEstablished?.(); this.onEstablished = null;
    } else if (flags & TCP_ACK) {
      this.onAck(ack, win, this.tsOk && rx.ts ? rx.tsEcr : 0);
      if (this.state === St.CLOSED) return;
    }
    const len = payload.length;
    if (len > 0) {
      if (seq !== this.rcvNxt || this.gotEnd) { this.sendAckNow(); return; }
      this.rcvNxt = (this.rcvNxt + len) >>> 0;
      if (len >= this.rcvMss) this.rcvMss = Math.min(len, this.ownMss); // tcp_measure_rcv_mss
      // A connection starts in quickack mode (a pure ACK goes out before the app's reply, as on
      // Linux); after that the delayed ACK is armed first, so a reply written from onData carries it.
      if (this.quickAcks > 0) { this.quickAcks--; this.sendAckNow(); } else this.scheduleAck();
      this.deliver(payload.slice());
    }
    if ((flags & TCP_FIN) && ((seq + len) >>> 0) === this.rcvNxt && !this.gotEnd) this.onFin();
  }

  /** tcp_ack with tcp_clean_rtx_queue; tsEcr is the echoed timestamp (0: none). */
  private onAck(ack: number, win: number, tsEcr: number): void {
    this.sndWnd = win << this.sndWscale;
    const acked = (ack - this.sndUna) | 0, ahead = (this.sndNxt - ack) | 0;
    if (acked <= 0 || ahead < 0) return;
    this.sndUna = ack;
    this.retransmits = 0;
    const u = this.unacked;
    let i = 0, firstAckt = -1, retransAcked = false;
    for (; i < u.length && (((u[i]!.seq + (u[i]!.data ? u[i]!.data!.length : 1)) - ack) | 0) <= 0; i++) {
      if (u[i]!.retrans) retransAcked = true;
      else if (firstAckt < 0) firstAckt = u[i]!.sentNs;
    }
    if (i > 0) {
      u.splice(0, i);
      this.ackRtt(firstAckt, retransAcked, tsEcr);
      if (!u.some((s) => s.retrans)) this.retransStamp = 0;
    }
    this.rearmRto();
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
