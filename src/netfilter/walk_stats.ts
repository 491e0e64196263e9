// Rules walked per table and hook, split by a connection's first packet
// (conntrack NEW: the nat table is consulted) and every later packet (replies
// included: conntrack's stored translation, no nat walk). Off by default:
// Netfilter pays one null check per hook when no one collects.

import type { Hook } from './types.ts';

/** Per packet class: [first, later]. */
export type Split = [number, number];

export class WalkStats {
  /** `<table> <hook>` -> rules walked, in first-sight order. */
  readonly rules = new Map<string, Split>();
  /** Packets entering this netns's netfilter (at PREROUTING or OUTPUT). */
  readonly packets: Split = [0, 0];
  /** The current hook call's walks, recorded once its packet's class is known (raw runs before conntrack). */
  private readonly pending: Array<[string, number]> = [];

  /** A table's walk during the current hook call. */
  table(table: string, hook: Hook, walked: number): void { this.pending.push([`${table} ${hook}`, walked]); }

  /** The hook call ended; `first` when its packet opened the connection. */
  end(hook: Hook, first: boolean): void {
    const k = first ? 0 : 1;
    if (hook === 'PREROUTING' || hook === 'OUTPUT') this.packets[k]++;
    for (const [key, n] of this.pending) {
      const s = this.rules.get(key) ?? this.rules.set(key, [0, 0]).get(key)!;
      s[k] += n;
    }
    this.pending.length = 0;
  }
}
