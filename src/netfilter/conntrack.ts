// nf_conntrack for TCP, UDP and ICMP: tuples in both directions, the TCP
// state machine's common paths, Linux's default timeouts (a setting each),
// [UNREPLIED]/[ASSURED], NAT bindings stored in the reply tuple, events,
// all on the injected clock. Entries become visible at confirm; an
// unconfirmed entry whose packet is dropped leaves nothing behind.

import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../wire/ipv4.ts';
import { CT_DNAT, CT_ESTABLISHED, CT_INVALID, CT_NEW, CT_SNAT, type Pkt } from './types.ts';

export const TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_ACK = 0x10;

/** net.netfilter.nf_conntrack_* sysctls (seconds), Linux 6.x defaults. kube-proxy sets tcpEstablished 86400 and tcpCloseWait 3600. */
export interface CtSettings {
  tcpSynSent: number; tcpSynRecv: number; tcpEstablished: number; tcpFinWait: number; tcpCloseWait: number;
  tcpLastAck: number; tcpTimeWait: number; tcpClose: number;
  udp: number; udpStream: number; icmp: number; generic: number;
  /** nf_conntrack_max. */
  max: number;
}
export const LINUX_DEFAULTS: CtSettings = {
  tcpSynSent: 120, tcpSynRecv: 60, tcpEstablished: 432000, tcpFinWait: 120, tcpCloseWait: 60, tcpLastAck: 30, tcpTimeWait: 120, tcpClose: 10,
  udp: 30, udpStream: 120, icmp: 30, generic: 600, max: 262144,
};
/** What kube-proxy's conntrack setup writes over the defaults. */
export const KUBE_PROXY_SETTINGS: Partial<CtSettings> = { tcpEstablished: 86400, tcpCloseWait: 3600, max: 131072 };

export type TcpState = 'SYN_SENT' | 'SYN_RECV' | 'ESTABLISHED' | 'FIN_WAIT' | 'CLOSE_WAIT' | 'LAST_ACK' | 'TIME_WAIT' | 'CLOSE';

/** One direction's tuple. For ICMP, sport holds the id and dport type<<8|code. */
export interface Tuple { src: number; dst: number; sport: number; dport: number }

export class CtEntry {
  state: TcpState | null = null;
  seenReply = false;
  assured = false;
  confirmed = false;
  /** Nat manips done (1 dst, 2 src): the nat table is consulted once each, a null binding included. */
  natDoneMask = 0;
  expiresNs = 0;
  /** Seconds last set: what an event line prints. */
  timeout = 0;
  /** Direction (0 orig, 1 reply) that sent the first FIN. */
  finDir = -1;
  mark = 0;
  /** The reply tuple the table holds the entry under (set at confirm): a later change of `reply` does not lose it. */
  inserted: Tuple | null = null;
  /** An IPVS connection's entry (vs/conntrack=1): the reply tuple names the real server, IPVS rewrites the original direction. */
  ipvs = false;
  readonly createdNs: number;
  constructor(readonly id: number, readonly proto: number, readonly orig: Tuple, public reply: Tuple, nowNs: number) { this.createdNs = nowNs; }
  /** ctstate DNAT/SNAT: the reply tuple is not the inverse of the original. */
  natBits(): number {
    let b = 0;
    if (this.reply.src !== this.orig.dst || this.reply.sport !== this.orig.dport) b |= CT_DNAT;
    if (this.reply.dst !== this.orig.src || this.reply.dport !== this.orig.sport) b |= CT_SNAT;
    return b;
  }
}

/** Per-packet outcome of conntrack's hook. */
export interface CtInfo { entry: CtEntry | null; reply: boolean; ctstate: number; full?: boolean }

export type CtEventType = 'NEW' | 'UPDATE' | 'DESTROY';
export type CtListener = (type: CtEventType, e: CtEntry, nowNs: number) => void;
/** Runs fn after delayNs on the clock `now` reads (the node's simulation); the engine has no clock of its own. */
export type CtScheduler = (delayNs: number, fn: () => void) => { cancel(): void };

/** A tuple's place in the table: its entry and direction; `next` chains tuples whose hashes collide. */
interface Slot { e: CtEntry; reply: boolean; t: Tuple; next: Slot | null }

/**
 * The table's hash of a tuple (as nf_conntrack hashes it into its buckets):
 * a small integer, so the lookup builds no string; equal tuples are then
 * compared field by field along the bucket's chain.
 */
function tupleHash(proto: number, src: number, dst: number, sport: number, dport: number): number {
  let h = Math.imul(src ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ dst, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ ((sport << 16) | dport), 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 16) ^ proto, 0x165667b1);
  return (h ^ (h >>> 15)) & 0x3fffffff;
}

/** The tuple a packet carries (ICMP echo: id as sport, type/code as dport). */
export function pktTuple(p: Pkt): Tuple {
  if (p.proto === IPPROTO_ICMP) return { src: p.src, dst: p.dst, sport: p.icmpId, dport: (p.icmpType << 8) | p.icmpCode };
  return { src: p.src, dst: p.dst, sport: p.sport, dport: p.dport };
}
function invert(proto: number, t: Tuple): Tuple {
  if (proto === IPPROTO_ICMP) {
    const type = t.dport >> 8;
    const rtype = type === 8 ? 0 : type === 13 ? 14 : type === 15 ? 16 : type === 17 ? 18 : type;
    return { src: t.dst, dst: t.src, sport: t.sport, dport: (rtype << 8) | (t.dport & 255) };
  }
  return { src: t.dst, dst: t.src, sport: t.dport, dport: t.sport };
}

export class Conntrack {
  readonly settings: CtSettings;
  private readonly byTuple = new Map<number, Slot>();
  private readonly entries = new Map<number, CtEntry>();
  private nextId = 1;
  private readonly listeners = new Set<CtListener>();
  private scheduler: CtScheduler | null = null;
  private gcTimer: { cancel(): void } | null = null;
  /**
   * When the expiry timer fires: -Infinity while nobody listens (then entries
   * expire lazily, when the table is read, and refresh() costs one compare),
   * +Infinity while listening with no timer, else the earliest expiry.
   */
  private gcAt = -Infinity;
  /** Packets dropped because the table was full (nf_conntrack: table full). */
  dropsFull = 0;

  constructor(private readonly now: () => number, settings: Partial<CtSettings> = {}) {
    this.settings = { ...LINUX_DEFAULTS, ...settings };
  }

  get size(): number { this.expire(); return this.entries.size; }
  /** An event listener (ctnetlink's event group); while one is attached, expired entries are destroyed on time (see gc). */
  onEvent(l: CtListener): () => void {
    this.listeners.add(l);
    if (this.scheduler !== null && this.gcAt === -Infinity) { this.gcAt = Infinity; this.gc(); }
    return () => {
      this.listeners.delete(l);
      if (this.listeners.size === 0) { this.gcTimer?.cancel(); this.gcTimer = null; this.gcAt = -Infinity; }
    };
  }

  /** Gives the table a timer on its clock, so that expiry can emit DESTROY without a read of the table. */
  setScheduler(s: CtScheduler): void {
    if (this.scheduler !== null) return;
    this.scheduler = s;
    if (this.listeners.size > 0) { this.gcAt = Infinity; this.gc(); }
  }

  /**
   * gc_worker, for a listened-to table: destroys the expired entries (DESTROY
   * events) and sleeps until the earliest expiry left, one timer for the
   * table. An entry refreshed to expire earlier than that wakes it sooner
   * (refresh); one refreshed later lets the timer fire early and sleep again.
   */
  private gc(): void {
    this.gcTimer = null;
    const now = this.now();
    let next = Infinity;
    for (const e of this.entries.values()) {
      if (e.expiresNs <= now) this.destroy(e);
      else if (e.expiresNs < next) next = e.expiresNs;
    }
    if (this.gcAt === -Infinity) return; // a listener detached during the DESTROY events
    this.armGc(next);
  }

  private armGc(at: number): void {
    this.gcTimer?.cancel();
    this.gcTimer = null;
    this.gcAt = at;
    if (at !== Infinity) this.gcTimer = this.scheduler!(at - this.now(), () => this.gc());
  }
  private emit(type: CtEventType, e: CtEntry): void { for (const l of this.listeners) l(type, e, this.now()); }

  /** Confirmed entries in table order (insertion order here), expired ones removed first. */
  all(): CtEntry[] { this.expire(); return [...this.entries.values()]; }

  private expire(): void {
    const now = this.now();
    for (const e of this.entries.values()) if (e.expiresNs <= now) this.destroy(e);
  }

  /** The confirmed tuple (proto, src, dst, sport, dport), or null. */
  private lookup(proto: number, src: number, dst: number, sport: number, dport: number): Slot | null {
    for (let s = this.byTuple.get(tupleHash(proto, src, dst, sport, dport)) ?? null; s !== null; s = s.next) {
      const t = s.t;
      if (t.src === src && t.dst === dst && t.sport === sport && t.dport === dport && s.e.proto === proto) return s;
    }
    return null;
  }

  private insert(e: CtEntry, t: Tuple, reply: boolean): void {
    const h = tupleHash(e.proto, t.src, t.dst, t.sport, t.dport);
    this.byTuple.set(h, { e, reply, t, next: this.byTuple.get(h) ?? null });
  }

  private remove(e: CtEntry, t: Tuple): void {
    const h = tupleHash(e.proto, t.src, t.dst, t.sport, t.dport);
    let prev: Slot | null = null;
    for (let s = this.byTuple.get(h) ?? null; s !== null; prev = s, s = s.next) {
      if (s.e !== e || s.t !== t) continue;
      if (prev !== null) prev.next = s.next;
      else if (s.next !== null) this.byTuple.set(h, s.next);
      else this.byTuple.delete(h);
      return;
    }
  }

  private find(proto: number, src: number, dst: number, sport: number, dport: number): Slot | null {
    const hit = this.lookup(proto, src, dst, sport, dport);
    if (hit !== null && hit.e.expiresNs <= this.now()) { this.destroy(hit.e); return null; }
    return hit;
  }

  /** Removes an entry (expiry, -D, -F), with its DESTROY event. */
  destroy(e: CtEntry): void {
    if (!this.entries.delete(e.id)) return;
    this.remove(e, e.orig);
    this.remove(e, e.inserted ?? e.reply);
    this.emit('DESTROY', e);
  }

  /**
   * conntrack's hook for a packet (PREROUTING / OUTPUT): finds its entry or
   * makes an unconfirmed one, advances the state, and says the ctstate.
   * Returns entry null when the table is full (the packet is dropped).
   */
  track(p: Pkt): CtInfo {
    if (p.proto !== IPPROTO_TCP && p.proto !== IPPROTO_UDP && p.proto !== IPPROTO_ICMP) return { entry: null, reply: false, ctstate: CT_INVALID };
    const icmp = p.proto === IPPROTO_ICMP;
    const hit = icmp ? this.find(p.proto, p.src, p.dst, p.icmpId, (p.icmpType << 8) | p.icmpCode) : this.find(p.proto, p.src, p.dst, p.sport, p.dport);
    if (hit === null) return this.create(p, pktTuple(p));
    const { e, reply } = hit;
    const st = e.state, sr = e.seenReply, as = e.assured;
    if (reply && !e.seenReply) e.seenReply = true;
    if (p.proto === IPPROTO_TCP) this.tcp(e, p.tcpFlags, reply ? 1 : 0);
    else if (p.proto === IPPROTO_UDP) this.udp(e);
    else this.refresh(e, this.settings.icmp);
    if (e.confirmed && (e.state !== st || e.seenReply !== sr || e.assured !== as)) this.emit('UPDATE', e);
    const ctstate = (e.seenReply ? CT_ESTABLISHED : CT_NEW) | e.natBits();
    return { entry: e, reply, ctstate };
  }

  private create(p: Pkt, t: Tuple): CtInfo {
    if (p.proto === IPPROTO_TCP && (p.tcpFlags & TCP_RST)) return { entry: null, reply: false, ctstate: CT_INVALID };
    if (p.proto === IPPROTO_ICMP && p.icmpType !== 8 && p.icmpType !== 13 && p.icmpType !== 15 && p.icmpType !== 17) {
      return { entry: null, reply: false, ctstate: CT_INVALID };
    }
    if (this.entries.size >= this.settings.max) { this.expire(); if (this.entries.size >= this.settings.max) { this.dropsFull++; return { entry: null, reply: false, ctstate: CT_INVALID, full: true }; } }
    const e = new CtEntry(this.nextId++, p.proto, t, invert(p.proto, t), this.now());
    if (p.proto === IPPROTO_TCP) {
      // nf_ct_tcp_loose=1: a mid-stream packet is picked up as ESTABLISHED.
      if (p.tcpFlags & TCP_SYN) { e.state = 'SYN_SENT'; this.refresh(e, this.settings.tcpSynSent); } else { e.state = 'ESTABLISHED'; this.refresh(e, this.settings.tcpEstablished); }
    } else this.refresh(e, p.proto === IPPROTO_UDP ? this.settings.udp : this.settings.icmp);
    return { entry: e, reply: false, ctstate: CT_NEW };
  }

  /** Inserts an unconfirmed entry once its first packet leaves the last hook (NEW event). */
  confirm(e: CtEntry): void {
    if (e.confirmed) return;
    const o = e.orig, r = e.reply;
    // A clash (the same tuple confirmed meanwhile) drops the newcomer, as nf_conntrack_confirm does.
    if (this.lookup(e.proto, o.src, o.dst, o.sport, o.dport) !== null || this.lookup(e.proto, r.src, r.dst, r.sport, r.dport) !== null) return;
    e.confirmed = true;
    this.entries.set(e.id, e);
    this.insert(e, o, false);
    this.insert(e, r, true);
    e.inserted = r;
    if (e.expiresNs < this.gcAt) this.armGc(e.expiresNs);
    this.emit('NEW', e);
  }

  /** True when no confirmed entry uses `t` as its reply tuple (NAT's uniqueness check). */
  replyFree(proto: number, t: Tuple): boolean {
    const i = invert(proto, t);
    return this.lookup(proto, i.src, i.dst, i.sport, i.dport) === null;
  }

  private refresh(e: CtEntry, seconds: number): void {
    e.timeout = seconds;
    e.expiresNs = this.now() + seconds * 1e9;
    if (e.expiresNs < this.gcAt && e.confirmed) this.armGc(e.expiresNs);
  }

  private udp(e: CtEntry): void {
    const s = this.settings;
    if (!e.seenReply) { this.refresh(e, s.udp); return; }
    // "Still active after two seconds? Extend timeout" (nf_conntrack_proto_udp.c).
    if (this.now() > e.createdNs + 2e9) { this.refresh(e, s.udpStream); e.assured = true; } else this.refresh(e, s.udp);
  }

  /** The common paths of nf_conntrack_proto_tcp.c's state table. */
  private tcp(e: CtEntry, flags: number, dir: number): void {
    const s = this.settings;
    const syn = (flags & TCP_SYN) !== 0, ack = (flags & TCP_ACK) !== 0, fin = (flags & TCP_FIN) !== 0;
    if (flags & TCP_RST) { e.state = 'CLOSE'; this.refresh(e, s.tcpClose); return; }
    switch (e.state) {
      case 'SYN_SENT':
        if (dir === 1 && syn && ack) { e.state = 'SYN_RECV'; this.refresh(e, s.tcpSynRecv); } else this.refresh(e, s.tcpSynSent);
        return;
      case 'SYN_RECV':
        if (dir === 0 && ack && !syn) { e.state = 'ESTABLISHED'; e.assured = true; this.refresh(e, s.tcpEstablished); } else this.refresh(e, s.tcpSynRecv);
        return;
      case 'ESTABLISHED':
        if (fin) { e.state = 'FIN_WAIT'; e.finDir = dir; this.refresh(e, s.tcpFinWait); } else this.refresh(e, s.tcpEstablished);
        return;
      case 'FIN_WAIT':
        if (dir !== e.finDir && fin) { e.state = 'LAST_ACK'; this.refresh(e, s.tcpLastAck); } else if (dir !== e.finDir && ack) { e.state = 'CLOSE_WAIT'; this.refresh(e, s.tcpCloseWait); } else this.refresh(e, s.tcpFinWait);
        return;
      case 'CLOSE_WAIT':
        if (dir !== e.finDir && fin) { e.state = 'LAST_ACK'; this.refresh(e, s.tcpLastAck); } else this.refresh(e, s.tcpCloseWait);
        return;
      case 'LAST_ACK':
        if (dir === e.finDir && ack) { e.state = 'TIME_WAIT'; this.refresh(e, s.tcpTimeWait); } else this.refresh(e, s.tcpLastAck);
        return;
      case 'TIME_WAIT': this.refresh(e, s.tcpTimeWait); return;
      default: this.refresh(e, s.tcpClose);
    }
  }

  /** -D with a filter: the deleted entries. */
  deleteWhere(pred: (e: CtEntry) => boolean): CtEntry[] {
    const out = this.all().filter(pred);
    for (const e of out) this.destroy(e);
    return out;
  }
  flush(): number { return this.deleteWhere(() => true).length; }
}
