// IPv4 fragmentation (ip_fragment, ip_do_fragment's slow path), reassembly
// (net/ipv4/ip_fragment.c: ip_defrag with its ipq queues) and the route's
// learnt path MTU (the FIB nexthop exception ip_rt_update_pmtu records).
//
// As Linux:
// - fragments carry copies of the 20-byte header, payloads a multiple of 8
//   bytes except the last, MF on all but the last, the original ID, a fresh
//   checksum; a fragment of a fragment keeps the original's MF on its last piece;
// - a queue is keyed by (saddr, daddr, id, protocol); overlapping data is
//   rejected the way RFC 5722 asks (the whole queue is dropped), the queue
//   expires after net.ipv4.ipfrag_time (30 s) with ICMP time exceeded
//   "fragment reassembly time exceeded" when its first fragment had arrived,
//   and all queues of a netns together hold at most ipfrag_high_thresh
//   (4 MiB) of fragment bytes: over it, new fragments are dropped;
// - a datagram over 65535 bytes once reassembled is dropped;
// - a learnt PMTU expires after net.ipv4.route.mtu_expires (600 s) and is
//   never below net.ipv4.route.min_pmtu (552).

import { readU16, readU32, writeU16 } from '../wire/addr.ts';
import { allocBytes } from '../wire/alloc.ts';
import { ETH_HLEN } from '../wire/ethernet.ts';
import { IP_DADDR, IP_FRAG, IP_ID, IP_PROTO, IP_SADDR, IP_TOT_LEN, ipFixChecksum } from '../wire/ipv4.ts';
import { newSkb, type SkBuff } from '../wire/skb.ts';
import type { TimerHandle } from '../sim/sim.ts';

export const IP_DF = 0x4000, IP_MF = 0x2000, IP_OFFMASK = 0x1fff;
/** net.ipv4.ipfrag_time, seconds. */
export const IPFRAG_TIME_S = 30;
/** net.ipv4.ipfrag_high_thresh, bytes. */
export const IPFRAG_HIGH_THRESH = 4 * 1024 * 1024;
/** net.ipv4.route.mtu_expires, seconds. */
export const PMTU_EXPIRES_S = 600;
/** net.ipv4.route.min_pmtu. */
export const MIN_PMTU = 552;
/** IP_MAX_MTU. */
export const IP_MAX_LEN = 0xffff;

/** True if the frame's IPv4 header (at ETH_HLEN) has MF set or a non-zero offset. */
export function isFragment(f: Uint8Array): boolean { return ((f[ETH_HLEN + IP_FRAG]! & 0x3f) | f[ETH_HLEN + IP_FRAG + 1]!) !== 0; }

/**
 * ip_fragment: split the IPv4 packet in skb (Ethernet header first) into
 * frames of at most mtu bytes of IP each, handed to emit in order. The caller
 * has checked DF. Returns the number of fragments (0 if mtu leaves no room).
 */
export function ipFragment(skb: SkBuff, mtu: number, emit: (frag: SkBuff) => void): number {
  const f = skb.data, o = ETH_HLEN;
  const ihl = (f[o]! & 15) * 4, tot = Math.min(readU16(f, o + IP_TOT_LEN), skb.len - o);
  const per = (mtu - ihl) & ~7;
  if (per <= 0) return 0;
  const fw = readU16(f, o + IP_FRAG);
  const baseOff = (fw & IP_OFFMASK) * 8, lastMf = fw & IP_MF;
  let n = 0;
  for (let pos = ihl; pos < tot; pos += per) {
    const len = Math.min(per, tot - pos);
    const fr = allocBytes(o + ihl + len);
    fr.set(f.subarray(0, o + ihl), 0);
    fr.set(f.subarray(o + pos, o + pos + len), o + ihl);
    // Options other than copied ones would go from later fragments; dplab sends none (ihl 20).
    const more = pos + len < tot ? IP_MF : lastMf;
    writeU16(fr, o + IP_TOT_LEN, ihl + len);
    writeU16(fr, o + IP_FRAG, (fw & ~(IP_OFFMASK | IP_MF | IP_DF)) | more | ((baseOff + pos - ihl) >>> 3));
    ipFixChecksum(fr, o);
    const s = newSkb(fr, fr.length, skb.ifindex, skb.ingressIfindex);
    s.mark = skb.mark; s.sockCookie = skb.sockCookie;
    emit(s);
    n++;
  }
  return n;
}

interface Piece { off: number; end: number; data: Uint8Array }
interface FragQueue {
  pieces: Piece[];
  /** Total length once the last fragment (MF clear) arrived, else -1. */
  total: number;
  /** The first fragment's frame (offset 0), kept for its headers and the ICMP quote. */
  first?: Uint8Array;
  bytes: number;
  timer: TimerHandle;
}

/** What a reassembler needs from its netns. */
export interface DefragHost {
  schedule(delayNs: number, fn: () => void): TimerHandle;
  /** ICMP time exceeded (code 1) about the first fragment's frame. */
  timeExceeded(first: Uint8Array): void;
}

/** The ipq queues of one netns. */
export class Reassembler {
  private readonly queues = new Map<string, FragQueue>();
  /** Fragment bytes held (the netns's frags.mem). */
  mem = 0;
  /** Counters as /proc/net/snmp names them. */
  readonly stats = { reqds: 0, oks: 0, fails: 0, timeout: 0 };

  constructor(private readonly host: DefragHost, readonly timeoutNs = IPFRAG_TIME_S * 1e9, readonly highThresh = IPFRAG_HIGH_THRESH) {}

  get queueCount(): number { return this.queues.size; }

  /** ip_defrag: queue a fragment; returns the whole datagram once complete, else null (skb consumed). */
  add(skb: SkBuff): SkBuff | null {
    const f = skb.data, o = ETH_HLEN;
    this.stats.reqds++;
    const ihl = (f[o]! & 15) * 4, tot = readU16(f, o + IP_TOT_LEN);
    const fw = readU16(f, o + IP_FRAG);
    const off = (fw & IP_OFFMASK) * 8, len = tot - ihl, end = off + len;
    const key = `${readU32(f, o + IP_SADDR)}/${readU32(f, o + IP_DADDR)}/${readU16(f, o + IP_ID)}/${f[o + IP_PROTO]}`;
    let q = this.queues.get(key);
    if (!q) {
      if (this.mem + len > this.highThresh) { this.stats.fails++; return null; }
      const created: FragQueue = { pieces: [], total: -1, bytes: 0, timer: this.host.schedule(this.timeoutNs, () => this.expire(key, created)) };
      q = created;
      this.queues.set(key, q);
    }
    // A fragment of zero length, one not a multiple of 8 with MF set, or one past 65535: drop the queue (ip_frag_queue's -EINVAL paths).
    const mf = (fw & IP_MF) !== 0;
    if (len <= 0 || (mf && (len & 7) !== 0) || ihl + end > IP_MAX_LEN || this.mem + len > this.highThresh) { this.kill(key, q); return null; }
    if (!mf) {
      if (end < Math.max(q.total, 0) || (q.total >= 0 && end !== q.total)) { this.kill(key, q); return null; }
      if (q.pieces.some((p) => p.end > end)) { this.kill(key, q); return null; }
      q.total = end;
    } else if (q.total >= 0 && end > q.total) { this.kill(key, q); return null; }
    for (const p of q.pieces) {
      if (p.off === off && p.end === end) return null; // exact duplicate: ignored
      if (off < p.end && p.off < end) { this.kill(key, q); return null; } // overlap (RFC 5722)
    }
    q.pieces.push({ off, end, data: f.slice(o + ihl, o + tot) });
    q.bytes += len; this.mem += len;
    if (off === 0) q.first = f.slice(0, o + tot);
    if (q.total < 0 || !q.first) return null;
    let have = 0;
    for (const p of q.pieces) have += p.end - p.off;
    if (have !== q.total) return null;
    // Complete: the first fragment's headers, fragment fields cleared, the pieces in order.
    const first = q.first, fihl = (first[o]! & 15) * 4;
    const out = allocBytes(o + fihl + q.total);
    out.set(first.subarray(0, o + fihl), 0);
    for (const p of q.pieces) out.set(p.data, o + fihl + p.off);
    writeU16(out, o + IP_TOT_LEN, fihl + q.total);
    writeU16(out, o + IP_FRAG, readU16(first, o + IP_FRAG) & IP_DF);
    ipFixChecksum(out, o);
    this.drop(key, q);
    this.stats.oks++;
    const whole = newSkb(out, out.length, skb.ifindex, skb.ingressIfindex);
    whole.mark = skb.mark;
    return whole;
  }

  private expire(key: string, q: FragQueue): void {
    if (this.queues.get(key) !== q) return;
    this.stats.timeout++; this.stats.fails++;
    this.drop(key, q);
    if (q.first) this.host.timeExceeded(q.first);
  }

  private kill(key: string, q: FragQueue): void { this.stats.fails++; this.drop(key, q); }

  private drop(key: string, q: FragQueue): void {
    q.timer.cancel();
    this.mem -= q.bytes;
    this.queues.delete(key);
  }
}

/** Learnt path MTUs of a netns by destination (the FIB's nexthop exceptions). */
export class PmtuCache {
  private readonly byDst = new Map<number, { mtu: number; expiresNs: number }>();
  /** Bumped on every change so callers' cached routes can tell. */
  version = 0;

  /** ip_rt_update_pmtu: record mtu (clamped to min_pmtu) towards dst if lower than routeMtu. */
  update(dst: number, mtu: number, routeMtu: number, nowNs: number): void {
    const m = Math.max(mtu, MIN_PMTU);
    if (m >= routeMtu) return;
    const e = this.byDst.get(dst);
    if (e && e.expiresNs > nowNs && e.mtu <= m) return;
    this.byDst.set(dst, { mtu: m, expiresNs: nowNs + PMTU_EXPIRES_S * 1e9 });
    this.version++;
  }

  /** The learnt PMTU towards dst, or 0 (none, or expired). */
  get(dst: number, nowNs: number): number {
    if (this.byDst.size === 0) return 0;
    const e = this.byDst.get(dst);
    if (!e) return 0;
    if (e.expiresNs <= nowNs) { this.byDst.delete(dst); this.version++; return 0; }
    return e.mtu;
  }

  /** Remaining lifetime in whole seconds, truncated as `ip route get` prints it (`expires 599sec` just after learning), or 0. */
  expiresInS(dst: number, nowNs: number): number {
    const e = this.byDst.get(dst);
    return e && e.expiresNs > nowNs ? Math.floor((e.expiresNs - nowNs) / 1e9) : 0;
  }
}
