// xt_recent's per-namespace lists (net/netfilter/xt_recent.c): entries keyed
// by the masked address, a ring of up to 32 timestamps each, at most
// ip_list_tot (100) entries per list with LRU eviction, --reap examining
// only the LRU-oldest entry.

import { u32ToIp } from '../wire/addr.ts';
import type { RecentLists } from './types.ts';

/** Module parameters of xt_recent (verified defaults). */
export const IP_LIST_TOT = 100;
export const IP_PKT_LIST_TOT = 32;
export const MAX_LISTS = 4096;

interface Entry { addr: number; stamps: number[]; ttl: number }

/** One namespace's recent lists; Map order is the LRU order (oldest first). */
export class Recent implements RecentLists {
  private readonly lists = new Map<string, Map<number, Entry>>();

  private list(name: string): Map<number, Entry> {
    let l = this.lists.get(name);
    if (!l) {
      if (this.lists.size >= MAX_LISTS) this.lists.delete(this.lists.keys().next().value!);
      l = new Map();
      this.lists.set(name, l);
    }
    return l;
  }

  set(name: string, addr: number, nowNs: number): void {
    const l = this.list(name);
    const e = l.get(addr);
    if (!e) {
      if (l.size >= IP_LIST_TOT) l.delete(l.keys().next().value!);
      l.set(addr, { addr, stamps: [nowNs], ttl: 0 });
      return;
    }
    e.stamps.push(nowNs);
    if (e.stamps.length > IP_PKT_LIST_TOT) e.stamps.shift();
    l.delete(addr); l.set(addr, e);
  }

  check(name: string, addr: number, nowNs: number, seconds: number, hitcount: number, reap: boolean, update: boolean): boolean {
    const l = this.lists.get(name);
    const e = l?.get(addr);
    let hit = false;
    if (l && e) {
      if (seconds === 0 && hitcount === 0) hit = true;
      else {
        const since = nowNs - seconds * 1e9;
        let n = 0;
        for (const s of e.stamps) if (seconds === 0 || s >= since) n++;
        hit = hitcount ? n >= hitcount : n > 0;
      }
      if (update) this.set(name, addr, nowNs);
    }
    if (reap && l && l.size > 0) {
      const oldest = l.values().next().value!;
      const last = oldest.stamps[oldest.stamps.length - 1]!;
      if (oldest !== e && last < nowNs - seconds * 1e9) l.delete(oldest.addr);
    }
    return hit;
  }

  remove(name: string, addr: number): boolean {
    return this.lists.get(name)?.delete(addr) ?? false;
  }

  /** /proc/net/xt_recent/NAME: `src=IP ttl: T last_seen: J oldest_pkt: N J1, J2`. Jiffies at HZ=250 from boot 0. */
  proc(name: string): string | undefined {
    const l = this.lists.get(name);
    if (!l) return undefined;
    const j = (ns: number) => 4294892296 + Math.floor(ns / 4e6); // INITIAL_JIFFIES = -300 s at HZ=250
    let s = '';
    for (const e of l.values()) {
      const st = e.stamps.map(j);
      s += `src=${u32ToIp(e.addr)} ttl: ${e.ttl} last_seen: ${st[st.length - 1]} oldest_pkt: ${st.length} ${st.join(', ')}\n`;
    }
    return s;
  }
}
