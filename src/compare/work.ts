// The work each datapath does per packet while a step runs, on every node:
// iptables rules walked per table and hook (netfilter's own walk count), and
// Cilium's BPF map lookups/updates per map, programs run and tail calls (the
// runtime's recorder). Each packet is a connection's first or a later one:
// for netfilter, conntrack decides (a new entry: the nat table is walked);
// for Cilium, a TCP SYN or a packet whose run created a CT entry is a first
// packet. A packet crossing two nodes counts once per node.

import type { Recorder, RuntimeEvent } from '../bpf/program.ts';
import type { LinuxNode } from '../kernel/node.ts';
import type { Netfilter } from '../netfilter/netfilter.ts';
import { WalkStats, type Split } from '../netfilter/walk_stats.ts';
import type { Lab } from './lab.ts';

/** A count for a connection's first packets and for the later ones. */
export interface PerClass { first: number; later: number }

export interface IptablesWork {
  /** Packets entering netfilter on a node (PREROUTING or OUTPUT). */
  packets: PerClass;
  /**
   * Per table and hook, in the packet's order (hooks as a forwarded packet meets them, tables by
   * priority): rules walked in all and per packet, and per chain (the built-in chain, then the
   * chains it jumped to, in first-walked order; KUBE-SERVICES is where a service count shows).
   */
  tables: Array<{ table: string; hook: string; walked: PerClass; perPacket: PerClass; chains: Array<{ chain: string; walked: PerClass; perPacket: PerClass }> }>;
  /** Every table's rules walked per packet. */
  perPacket: PerClass;
}

export interface CiliumWork {
  /** Packets that ran a tc program on a node. */
  packets: PerClass;
  /** Per map: operations in all and lookups per packet. */
  maps: Array<{ map: string; lookups: PerClass; updates: PerClass; deletes: PerClass; lookupsPerPacket: PerClass }>;
  /** Per program: runs (at a hook, or `tailCalled` from another program). Socket programs (connect, sendmsg...) run per call, not per packet. */
  programs: Array<{ prog: string; runs: PerClass; tailCalled: boolean }>;
  perPacket: { lookups: PerClass; updates: PerClass; programs: PerClass; tailCalls: PerClass };
}

/** What one step cost each datapath present (kube-proxy under Cilium has both). */
export interface DatapathWork { iptables?: IptablesWork; cilium?: CiliumWork }

const pc = (s: Split): PerClass => ({ first: s[0], later: s[1] });
const per = (n: Split, d: Split): PerClass => ({ first: d[0] ? round(n[0] / d[0]) : 0, later: d[1] ? round(n[1] / d[1]) : 0 });
const round = (x: number): number => Math.round(x * 100) / 100;

/** TCP SYN without ACK in an Ethernet/IPv4 frame. */
function isSyn(ctx: unknown): boolean {
  const skb = ctx as { data?: unknown; len?: number };
  if (!(skb.data instanceof Uint8Array) || (skb.len ?? 0) < 34) return false;
  const d = skb.data;
  if (d[12] !== 0x08 || d[13] !== 0x00 || d[23] !== 6) return false;
  const off = 14 + (d[14]! & 15) * 4 + 13;
  return off < skb.len! && (d[off]! & 0x12) === 0x02;
}

interface Run { prog: string; skb: object | null; ops: Array<[string, number]>; tails: string[]; ctCreate: boolean }

/** Cilium's side: a recorder per node turning runtime events into per-class counts. */
class CiliumCollector {
  readonly packets: Split = [0, 0];
  readonly maps = new Map<string, [Split, Split, Split]>();
  readonly programs = new Map<string, { runs: Split; tailCalled: boolean }>();
  readonly tailCalls: Split = [0, 0];
  readonly runs: Split = [0, 0];

  recorder(): Recorder {
    const stack: Run[] = [];
    // A packet's class is decided by its first run on this node and kept for its later runs there.
    const seen = new WeakMap<object, 0 | 1>();
    const counted = new WeakSet<object>();
    return (e: RuntimeEvent) => {
      if (e.kind === 'prog') {
        const skb = e.ctx !== null && typeof e.ctx === 'object' && 'data' in e.ctx ? e.ctx : null;
        if (skb !== null && !seen.has(skb) && isSyn(skb)) seen.set(skb, 0);
        stack.push({ prog: e.prog, skb, ops: [], tails: [], ctCreate: false });
        return;
      }
      const top = stack[stack.length - 1];
      if (!top) return;
      if (e.kind === 'map') {
        top.ops.push([e.map, e.op === 'lookup' ? 0 : e.op === 'update' ? 1 : 2]);
        if (e.op === 'update' && e.ret === 0 && e.map.startsWith('cilium_ct')) top.ctCreate = true;
      } else if (e.kind === 'tail_call') {
        if (e.prog !== undefined) top.tails.push(e.prog);
      } else if (e.kind === 'verdict') this.commit(stack.pop()!, seen, counted);
    };
  }

  private commit(r: Run, seen: WeakMap<object, 0 | 1>, counted: WeakSet<object>): void {
    let k: 0 | 1;
    if (r.skb === null) k = r.prog.includes('connect') ? 0 : 1;
    else {
      const known = seen.get(r.skb);
      k = known ?? (r.ctCreate ? 0 : 1);
      if (known === undefined) seen.set(r.skb, k);
      if (!counted.has(r.skb)) { counted.add(r.skb); this.packets[k]++; }
      this.runs[k]++;
    }
    this.prog(r.prog, false).runs[k]++;
    for (const t of r.tails) this.prog(t, true).runs[k]++;
    if (r.skb !== null) this.tailCalls[k] += r.tails.length;
    for (const [map, op] of r.ops) {
      const m = this.maps.get(map) ?? this.maps.set(map, [[0, 0], [0, 0], [0, 0]]).get(map)!;
      m[op]![k]++;
    }
  }

  private prog(name: string, tailCalled: boolean): { runs: Split; tailCalled: boolean } {
    return this.programs.get(name) ?? this.programs.set(name, { runs: [0, 0], tailCalled }).get(name)!;
  }

  result(): CiliumWork {
    const lookups: Split = [0, 0], updates: Split = [0, 0];
    for (const [l, u] of this.maps.values()) { lookups[0] += l[0]; lookups[1] += l[1]; updates[0] += u[0]; updates[1] += u[1]; }
    return {
      packets: pc(this.packets),
      maps: [...this.maps].sort(([a], [b]) => a.localeCompare(b)).map(([map, [l, u, d]]) => ({ map, lookups: pc(l), updates: pc(u), deletes: pc(d), lookupsPerPacket: per(l, this.packets) })),
      programs: [...this.programs].map(([prog, p]) => ({ prog, runs: pc(p.runs), tailCalled: p.tailCalled })),
      perPacket: { lookups: per(lookups, this.packets), updates: per(updates, this.packets), programs: per(this.runs, this.packets), tailCalls: per(this.tailCalls, this.packets) },
    };
  }
}

const HOOKS = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'], TABLES = ['raw', 'mangle', 'nat', 'filter'];
/** `<table> <hook>` in hook order, then table priority. */
function rank(key: string): number { const [t, h] = key.split(' '); return HOOKS.indexOf(h!) * 10 + TABLES.indexOf(t!); }

function iptablesResult(stats: WalkStats[]): IptablesWork {
  const packets: Split = [0, 0], total: Split = [0, 0];
  const rules = new Map<string, Split>(), chains = new Map<string, Split>();
  for (const s of stats) {
    for (const [key, [f, l]] of s.chains) { const r = chains.get(key) ?? chains.set(key, [0, 0]).get(key)!; r[0] += f; r[1] += l; }
    packets[0] += s.packets[0]; packets[1] += s.packets[1];
    for (const [key, [f, l]] of s.rules) {
      const r = rules.get(key) ?? rules.set(key, [0, 0]).get(key)!;
      r[0] += f; r[1] += l; total[0] += f; total[1] += l;
    }
  }
  return {
    packets: pc(packets),
    tables: [...rules].sort(([a], [b]) => rank(a) - rank(b)).map(([key, walked]) => {
      const [table, hook] = key.split(' ') as [string, string];
      const own = [...chains].filter(([k]) => k.startsWith(`${key} `)).map(([k, w]) => ({ chain: k.slice(key.length + 1), walked: pc(w), perPacket: per(w, packets) }));
      return { table, hook, walked: pc(walked), perPacket: per(walked, packets), chains: own };
    }),
    perPacket: per(total, packets),
  };
}

/** Start counting on every node of the lab; the returned function stops and reports. */
export function startWork(lab: Lab): () => DatapathWork {
  const kernels = lab.nodes().map((n) => lab.cluster.kernel(n) as LinuxNode);
  const nfs = kernels.map((k) => (k.hostNs as { netfilter: Netfilter | null }).netfilter).filter((nf): nf is Netfilter => nf !== null && !nf.idle());
  // Whatever collected before (a user's recorder) gets its place back when this stops.
  const prevStats = nfs.map((nf) => nf.walkStats), prevRec = kernels.map((k) => k.runtime.recorder);
  const stats = nfs.map((nf) => (nf.walkStats = new WalkStats()));
  const cilium = lab.datapath.cni === 'cilium' ? new CiliumCollector() : null;
  if (cilium) for (const k of kernels) k.runtime.recorder = cilium.recorder();
  return () => {
    nfs.forEach((nf, i) => { nf.walkStats = prevStats[i]!; });
    if (cilium) kernels.forEach((k, i) => { k.runtime.recorder = prevRec[i]!; });
    return { ...(stats.length ? { iptables: iptablesResult(stats) } : {}), ...(cilium ? { cilium: cilium.result() } : {}) };
  };
}
