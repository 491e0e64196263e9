// Rules walked per table and hook, and per chain, split by a connection's
// first packet (conntrack NEW: the nat table is consulted) and every later
// packet (replies included: conntrack's stored translation, no nat walk).
// Off by default: Netfilter pays one null check per table walk when no one
// collects, and the walk tells chains apart only at chain switches.

import type { Hook } from './types.ts';

/** Per packet class: [first, later]. */
export type Split = [number, number];

export class WalkStats {
  /** `<table> <hook>` -> rules walked, in first-sight order. */
  readonly rules = new Map<string, Split>();
  /** `<table> <hook> <chain>` -> rules walked in that chain. */
  readonly chains = new Map<string, Split>();
  /** Packets entering this netns's netfilter (at PREROUTING or OUTPUT). */
  readonly packets: Split = [0, 0];
  /** The current hook call's walks, recorded once its packet's class is known (raw runs before conntrack). */
  private readonly pending: Array<[Map<string, Split>, string, number]> = [];
  /** The current walk's chains, until its table is known. */
  private readonly chainPending: Array<[string, number]> = [];
  /** What the walk tells at each chain switch (EvalCtx.walkSink). */
  readonly sink = (chain: string, rules: number): void => { this.chainPending.push([chain, rules]); };

  /** A table's walk during the current hook call. */
  table(table: string, hook: Hook, walked: number): void {
    const key = `${table} ${hook}`;
    this.pending.push([this.rules, key, walked]);
    for (const [chain, n] of this.chainPending) if (n > 0) this.pending.push([this.chains, `${key} ${chain}`, n]);
    this.chainPending.length = 0;
  }

  /** The hook call ended; `first` when its packet opened the connection. */
  end(hook: Hook, first: boolean): void {
    const k = first ? 0 : 1;
    if (hook === 'PREROUTING' || hook === 'OUTPUT') this.packets[k]++;
    for (const [m, key, n] of this.pending) {
      const s = m.get(key) ?? m.set(key, [0, 0]).get(key)!;
      s[k] += n;
    }
    this.pending.length = 0;
  }
}
