// The L2 segment between nodes: a learning switch joining the nodes' netdevs
// (and any extra hosts), with a fixed one-way latency per frame.

import type { SkBuff } from '../wire/skb.ts';
import { newSkb } from '../wire/skb.ts';
import type { Device } from './device.ts';
import { macKey } from './device.ts';

export interface UnderlayOptions { /** One-way latency per frame (default 100µs, so a cross-node ping RTT is ~0.2ms as in the seed). */ latencyNs?: number }

export class Underlay {
  readonly latencyNs: number;
  readonly ports: Device[] = [];
  /** Forwarding database: MAC -> port, learnt from source addresses. */
  private readonly fdb = new Map<number, Device>();
  /** Bumped whenever the FDB changes; per-port memos of the last lookups are valid while it matches. */
  private gen = 0;


  constructor(opts: UnderlayOptions = {}) { this.latencyNs = opts.latencyNs ?? 100_000; }

  attach(dev: Device): void {
    if (dev.kind !== 'netdev') throw new Error(`${dev.name}: only netdevs plug into the underlay`);
    dev.underlay = this;
    this.ports.push(dev);
  }

  detach(dev: Device): void {
    const i = this.ports.indexOf(dev);
    if (i >= 0) this.ports.splice(i, 1);
    for (const [k, d] of this.fdb) if (d === dev) this.fdb.delete(k);
    this.gen++; dev.fdbMemo = undefined;
    dev.underlay = undefined;
  }

  /** A frame leaves `from`: learn, then forward to the known port or flood. */
  transmit(from: Device, skb: SkBuff): void {
    const f = skb.data;
    const src = macKey(f, 6), dst = macKey(f, 0);
    // Established flows repeat the same addresses: skip the learning write and the lookup while the FDB is unchanged.
    const m = from.fdbMemo;
    if (m !== undefined && m.gen === this.gen && m.src === src && m.dst === dst && (f[0]! & 1) === 0) {
      if (m.to !== from) m.to.netns.node.hop(m.to, skb, this.latencyNs);
      return;
    }
    if (this.fdb.get(src) !== from) { this.fdb.set(src, from); this.gen++; }
    if ((f[0]! & 1) === 0) {
      const to = this.fdb.get(dst);
      if (to) {
        from.fdbMemo = { gen: this.gen, src, dst, to };
        if (to !== from) to.netns.node.hop(to, skb, this.latencyNs);
        return;
      }
    }
    for (const p of this.ports) {
      if (p === from) continue;
      p.netns.node.hop(p, newSkb(f.slice(0, skb.len), skb.len, p.ifindex), this.latencyNs);
    }
  }
}
