// The L2 segment between nodes: a learning switch joining the nodes' netdevs
// (and any extra hosts). Every frame takes its link's one-way latency: the
// segment's base plus seeded per-packet jitter, so a cross-node ping reads
// 0.2-0.45 ms as on the seed's cloud VMs. A port may be a WAN uplink (the
// emulated internet): frames to or from remote addresses behind it take that
// address's path delay instead.
//
// Links are FIFO: a new delay is drawn only while nothing is in flight on the
// link, and a burst keeps its first frame's delay, so a later frame never
// overtakes an earlier one. Jitter is drawn for a frame that finds its link
// quiet (a ping, a handshake); sustained traffic and a link's first frame run
// at the base delay, which keeps them on the Sim's few per-delay lanes
// instead of one heap timer per frame.

import type { Rng } from '../sim/sim.ts';
import { readU32 } from '../wire/addr.ts';
import { ETH_HLEN } from '../wire/ethernet.ts';
import { IP_DADDR, IP_SADDR } from '../wire/ipv4.ts';
import type { SkBuff } from '../wire/skb.ts';
import { newSkb } from '../wire/skb.ts';
import type { Device, Link } from './device.ts';
import { macKey } from './device.ts';

/** Jitter drawn per packet on an idle link: exponential, capped. */
export interface Jitter { meanNs: number; maxNs: number }

export interface UnderlayOptions {
  /** One-way base latency per frame (default 100µs: an AWS same-AZ hop; the seed's cross-node pings read 0.214 and 0.416 ms). */
  latencyNs?: number;
  /** Per-packet jitter (default mean 40µs, at most 250µs); { meanNs: 0 } for fixed latencies. */
  jitter?: Jitter;
  /** A link idle this long draws jitter for its next frame (default 1 ms). */
  quietNs?: number;
  /** Where link latencies come from; default a fork of the first sender's Sim Rng, taken at the first frame. */
  rng?: Rng;
}

/** The paths behind a WAN port, per remote IPv4 address. */
export interface Wan {
  /** One-way delay between the port and `remote`, or 0 when `remote` is not behind the WAN (a local or refused address). */
  oneWayNs(remote: number): number;
  /** Jitter of a path with that one-way delay. */
  jitter(oneWayNs: number): Jitter;
}

const ETH_P_IP = 0x0800;
/** Cached answer for addresses that are not behind the WAN (the uplink's own, refused ones). */
const NOT_WAN: Link = { baseNs: 0, jitter: { meanNs: 0, maxNs: 0 }, delayNs: 0, busyUntil: 0 };

export class Underlay {
  readonly latencyNs: number;
  readonly jitter: Jitter;
  readonly quietNs: number;
  readonly ports: Device[] = [];
  /** Forwarding database: MAC -> port, learnt from source addresses. */
  private readonly fdb = new Map<number, Device>();
  /** Bumped whenever the FDB changes; per-port memos of the last lookups are valid while it matches. */
  private gen = 0;
  private rng?: Rng;
  private wanPort?: Device;
  private wan?: Wan;
  /** WAN paths by remote address, each direction its own FIFO link (inbound keys are offset by 2^32). */
  private readonly wanLinks = new Map<number, Link>();

  constructor(opts: UnderlayOptions = {}) {
    this.latencyNs = opts.latencyNs ?? 100_000;
    this.jitter = opts.jitter ?? { meanNs: 40_000, maxNs: 250_000 };
    this.quietNs = opts.quietNs ?? 1_000_000;
    this.rng = opts.rng;
  }

  attach(dev: Device): void {
    if (dev.kind !== 'netdev') throw new Error(`${dev.name}: only netdevs plug into the underlay`);
    dev.underlay = this;
    dev.link = undefined;
    this.ports.push(dev);
  }

  detach(dev: Device): void {
    const i = this.ports.indexOf(dev);
    if (i >= 0) this.ports.splice(i, 1);
    for (const [k, d] of this.fdb) if (d === dev) this.fdb.delete(k);
    this.gen++; dev.fdbMemo = undefined;
    dev.underlay = undefined;
    if (dev === this.wanPort) { this.wanPort = undefined; this.wan = undefined; this.wanLinks.clear(); }
  }

  /** Make `port` the segment's WAN uplink: frames between it and remote addresses take the WAN's path delay too. */
  setWan(port: Device, wan: Wan): void {
    if (port.underlay !== this) throw new Error(`${port.name}: not on this underlay`);
    this.wanPort = port; this.wan = wan; this.wanLinks.clear();
  }

  /** A frame leaves `from`: learn, then forward to the known port or flood. */
  transmit(from: Device, skb: SkBuff): void {
    const f = skb.data;
    const src = macKey(f, 6), dst = macKey(f, 0);
    // Established flows repeat the same addresses: skip the learning write and the lookup while the FDB is unchanged.
    const m = from.fdbMemo;
    if (m !== undefined && m.gen === this.gen && m.src === src && m.dst === dst && (f[0]! & 1) === 0) {
      if (m.to !== from) this.forward(from, m.to, skb);
      return;
    }
    if (this.fdb.get(src) !== from) { this.fdb.set(src, from); this.gen++; }
    if ((f[0]! & 1) === 0) {
      const to = this.fdb.get(dst);
      if (to) {
        from.fdbMemo = { gen: this.gen, src, dst, to };
        if (to !== from) this.forward(from, to, skb);
        return;
      }
    }
    for (const p of this.ports) {
      if (p === from) continue;
      this.forward(from, p, newSkb(f.slice(0, skb.len), skb.len, p.ifindex));
    }
  }

  private forward(from: Device, to: Device, skb: SkBuff): void {
    const node = to.netns.node;
    const wan = this.wanPort !== undefined && (to === this.wanPort || from === this.wanPort) ? this.wanLink(to === this.wanPort, skb) : undefined;
    const now = node.sim.now();
    // A port's first frame counts as sustained traffic (base delay), so the base delay gets its Sim lane first.
    node.hop(to, skb, this.delay(wan ?? (to.link ??= this.newLink(this.latencyNs, this.jitter, now)), now));
  }

  /** The link's delay for a frame entering it now: kept while frames are in flight (FIFO), jittered after a quiet spell. */
  private delay(l: Link, now: number): number {
    if (now < l.busyUntil) { /* in flight: same delay */ }
    else if (now - l.busyUntil >= this.quietNs) l.delayNs = l.baseNs + this.draw(l.jitter);
    else l.delayNs = l.baseNs;
    l.busyUntil = now + l.delayNs;
    return l.delayNs;
  }

  private draw(j: Jitter): number {
    if (j.meanNs <= 0) return 0;
    const u = this.random() / 4294967296;
    return Math.round(Math.min(j.maxNs, -j.meanNs * Math.log(1 - u)));
  }

  private random(): number {
    // Forked at the first draw, not at construction, so building a cluster draws the same random numbers as before links jittered.
    this.rng ??= this.ports[0]!.netns.node.sim.rng.fork();
    return this.rng.u32();
  }

  private newLink(baseNs: number, jitter: Jitter, busyUntil: number): Link { return { baseNs, jitter, delayNs: baseNs, busyUntil }; }

  /** The WAN path of an IPv4 frame between the uplink and a remote address, or undefined for local traffic. */
  private wanLink(outbound: boolean, skb: SkBuff): Link | undefined {
    const f = skb.data;
    if (skb.len < ETH_HLEN + 20 || ((f[12]! << 8) | f[13]!) !== ETH_P_IP) return undefined;
    const remote = readU32(f, ETH_HLEN + (outbound ? IP_DADDR : IP_SADDR));
    const key = outbound ? remote : remote + 4294967296;
    let l = this.wanLinks.get(key);
    if (l === undefined) {
      const one = this.wan!.oneWayNs(remote);
      l = one > 0 ? this.newLink(this.latencyNs + one, this.wan!.jitter(one), -Infinity) : NOT_WAN;
      this.wanLinks.set(key, l);
    }
    return l === NOT_WAN ? undefined : l;
  }
}
