// One network namespace's netfilter: the tables, nf_conntrack, xt_recent
// lists and ipsets, run at the five hooks in the kernel's priority order
// (raw -300, conntrack -200, mangle -150, nat DNAT -100, filter 0, nat SNAT
// 100, confirm last). The nat table sees only a connection's first packet;
// later packets and replies get conntrack's stored translation.

import { Conntrack, type CtEntry, type CtSettings } from './conntrack.ts';
import { walk } from './eval.ts';
import { Ipsets } from './ipset.ts';
import { Recent } from './recent.ts';
import type { WalkStats } from './walk_stats.ts';
import { Ruleset } from './ruleset.ts';
import { IPPROTO_ICMP } from '../wire/ipv4.ts';
import type { EvalCtx, Hook, NatRequest, Pkt } from './types.ts';

/** What the node tells netfilter about itself. */
export interface NetfilterEnv {
  /** Virtual time in ns (the Sim's clock). */
  now(): number;
  /** The seeded random source (statistic, --random-fully). */
  rng: { u32(): number };
  /** addrtype LOCAL: an address of this namespace. */
  isLocal(addr: number): boolean;
  /** MASQUERADE: the primary address of the out device. */
  deviceAddr(dev: string): number | undefined;
  /** physdev: the in device is a bridge port. */
  isBridgePort?(dev: string): boolean;
}

/** A packet's passage through the hooks: carry it from hook to hook. */
export interface NfPacket {
  pkt: Pkt;
  ct: CtEntry | null;
  reply: boolean;
  ctstate: number;
  /** Set by a nat hook: the addresses/ports in `pkt` changed and must be written to the bytes. */
  natChanged: boolean;
}

export interface HookResult { verdict: 'ACCEPT' | 'DROP' | 'REJECT'; rejectWith?: string; rulesWalked: number }

const ACCEPT_FREE: HookResult = Object.freeze({ verdict: 'ACCEPT', rulesWalked: 0 }) as HookResult;

export class Netfilter {
  readonly rules = new Ruleset();
  readonly conntrack: Conntrack;
  readonly recent = new Recent();
  readonly ipsets: Ipsets;
  private readonly ctx: EvalCtx;
  /** Conntrack runs only once a rule exists (or when forced): a node with no rules pays nothing. */
  trackAlways = false;
  /** IPVS's LOCAL_IN hook (ip_vs_remote_request4, after filter INPUT, before nat INPUT and confirm); null without IPVS. 'taken': DNATed, it leaves by POSTROUTING. */
  ipvsLocalIn: ((np: NfPacket) => 'continue' | 'taken' | 'unreachable' | 'drop') | null = null;
  /** Rules walked per table and hook for first and later packets (compare); null: not collected. */
  walkStats: WalkStats | null = null;

  constructor(private readonly env: NetfilterEnv, ct: Partial<CtSettings> = {}) {
    this.conntrack = new Conntrack(() => env.now(), ct);
    this.ipsets = new Ipsets(() => env.rng.u32());
    this.ctx = {
      nowNs: 0, rng: env.rng, ctstate: 0, isLocal: (a) => env.isLocal(a), sets: this.ipsets, recent: this.recent, physdevIn: false,
    };
    this.ipsets.references = (name) => this.setReferences(name);
  }

  /** True when this namespace holds no rule and conntrack is not forced: callers may skip every hook. */
  idle(): boolean { return !this.trackAlways && this.rules.empty(); }

  /** Starts a packet's passage (the first hook it meets). */
  begin(pkt: Pkt): NfPacket { return { pkt, ct: null, reply: false, ctstate: 0, natChanged: false }; }

  /**
   * Runs one hook for a packet. PREROUTING and OUTPUT track it in conntrack
   * first; INPUT and POSTROUTING confirm a new entry when the packet is
   * accepted. Throws nothing: malformed or untrackable packets get ctstate
   * INVALID.
   */
  hook(hook: Hook, np: NfPacket): HookResult {
    if (this.idle()) return ACCEPT_FREE;
    const p = np.pkt, c = this.ctx;
    c.nowNs = this.env.now();
    c.physdevIn = this.env.isBridgePort?.(p.inIf) ?? false;
    this.walked = 0;
    let r: HookResult | null;
    if (hook === 'PREROUTING' || hook === 'OUTPUT') {
      if ((r = this.run('raw', hook, np))) return this.done(hook, np, r);
      const info = this.conntrack.track(p);
      if (info.full) return this.done(hook, np, { verdict: 'DROP', rulesWalked: this.walked });
      np.ct = info.entry; np.reply = info.reply; np.ctstate = info.ctstate;
      if ((r = this.run('mangle', hook, np))) return this.done(hook, np, r);
      if (np.ct) this.natHook(np, hook, 'dst');
      if (hook === 'OUTPUT' && (r = this.run('filter', hook, np))) return this.done(hook, np, r);
      return this.done(hook, np, null);
    }
    if ((r = this.run('mangle', hook, np))) return this.done(hook, np, r);
    if ((hook === 'INPUT' || hook === 'FORWARD') && (r = this.run('filter', hook, np))) return this.done(hook, np, r);
    if (hook === 'INPUT' && this.ipvsLocalIn !== null) {
      const v = this.ipvsLocalIn(np);
      if (v === 'taken') return { verdict: 'ACCEPT', rulesWalked: this.walked };
      if (v !== 'continue') return this.done(hook, np, { verdict: v === 'drop' ? 'DROP' : 'REJECT', rejectWith: 'icmp-port-unreachable', rulesWalked: this.walked });
    }
    if ((hook === 'INPUT' || hook === 'POSTROUTING') && np.ct) this.natHook(np, hook, 'src');
    return this.done(hook, np, null);
  }

  /** Rules walked by the current hook call. */
  private walked = 0;

  /** One table's chain at this hook; a non-ACCEPT verdict ends the hook. */
  private run(table: 'raw' | 'mangle' | 'nat' | 'filter', hook: Hook, np: NfPacket): HookResult | null {
    const t = this.rules.tables[table];
    const base = t.chains.get(hook);
    if (base === undefined || (base.rules.length === 0 && base.policy === 'ACCEPT')) return null;
    this.ctx.ctstate = np.ctstate;
    this.ctx.walkSink = this.walkStats === null ? null : this.walkStats.sink;
    const r = walk(t, hook, np.pkt, this.ctx);
    this.walked += r.rulesWalked;
    if (this.walkStats !== null) this.walkStats.table(table, hook, r.rulesWalked);
    if (r.verdict !== 'ACCEPT') return { verdict: r.verdict, rejectWith: r.rejectWith, rulesWalked: this.walked };
    if (r.nat) this.bindNat(np, r.nat);
    return null;
  }

  /** Ends a hook: a dropped new connection leaves no entry; INPUT and POSTROUTING confirm an accepted one. */
  private done(hook: Hook, np: NfPacket, r: HookResult | null): HookResult {
    if (this.walkStats !== null) this.walkStats.end(hook, np.ct !== null && !np.ct.confirmed && !np.reply);
    if (r) { if (np.ct && !np.ct.confirmed) np.ct = null; return r; }
    if ((hook === 'INPUT' || hook === 'POSTROUTING') && np.ct && !np.ct.confirmed) this.conntrack.confirm(np.ct);
    return { verdict: 'ACCEPT', rulesWalked: this.walked };
  }

  /** Rules of any table that use set `name` (ipset list's References:). */
  private setReferences(name: string): number {
    let n = 0;
    for (const t of Object.values(this.rules.tables)) {
      for (const c of t.chains.values()) for (const r of c.rules) for (const m of r.matches) if (m.name === 'set' && (m as unknown as { setName: string }).setName === name) n++;
    }
    return n;
  }

  private ctstateOf(np: NfPacket): number {
    if (!np.ct) return np.ctstate;
    return (np.ctstate & ~(32 | 64)) | np.ct.natBits();
  }

  /**
   * A nat hook: the nat table for a connection's first packet (once per
   * manip type), else the stored translation for this direction.
   */
  private natHook(np: NfPacket, hook: Hook, manip: 'dst' | 'src'): void {
    const e = np.ct!;
    if (!e.confirmed && !np.reply) {
      const flag = manip === 'dst' ? 1 : 2;
      if ((e.natDoneMask & flag) === 0) {
        e.natDoneMask |= flag;
        this.run('nat', hook, np);
        np.ctstate = this.ctstateOf(np);
        return;
      }
    }
    this.applyStored(np, manip);
  }

  /** Applies an entry's binding to a later packet (either direction): towards the reply tuple, or back to the original. */
  private applyStored(np: NfPacket, manip: 'dst' | 'src'): void {
    const e = np.ct!, p = np.pkt, icmp = p.proto === IPPROTO_ICMP;
    // IPVS translates its connections' original direction itself (no IPS_DST_NAT status).
    if (e.ipvs && manip === 'dst' && !np.reply) return;
    const o = e.orig, r = e.reply;
    if (manip === 'dst') {
      const addr = np.reply ? o.src : r.src, port = np.reply ? o.sport : r.sport;
      if (p.dst !== addr || (!icmp && p.dport !== port)) { p.dst = addr; if (!icmp) p.dport = port; np.natChanged = true; }
    } else {
      const addr = np.reply ? o.dst : r.dst, port = np.reply ? o.dport : r.dport;
      if (p.src !== addr || (!icmp && p.sport !== port)) { p.src = addr; if (!icmp) p.sport = port; np.natChanged = true; }
    }
  }

  /** Records a NAT target's choice in the entry's reply tuple and rewrites the packet. */
  private bindNat(np: NfPacket, n: NatRequest): void {
    const e = np.ct, p = np.pkt;
    if (!e) return;
    const icmp = p.proto === IPPROTO_ICMP;
    if (n.kind === 'dnat') {
      const addr = n.addr === 0 ? p.dst : n.addr + (n.addrHi > n.addr ? this.env.rng.u32() % (n.addrHi - n.addr + 1) : 0);
      const port = icmp || n.portLo === 0 ? p.dport : n.portLo + (n.portHi > n.portLo ? this.env.rng.u32() % (n.portHi - n.portLo + 1) : 0);
      e.reply = { ...e.reply, src: addr >>> 0, sport: icmp ? e.reply.sport : port };
      p.dst = addr >>> 0; if (!icmp) p.dport = port;
      np.natChanged = true;
      return;
    }
    const addr = n.kind === 'masquerade' ? this.env.deviceAddr(p.outIf) : n.addr;
    if (addr === undefined) return;
    const port = icmp ? p.sport : this.pickSrcPort(e, addr, n, p.sport);
    e.reply = { ...e.reply, dst: addr >>> 0, dport: icmp ? e.reply.dport : port };
    p.src = addr >>> 0; if (!icmp) p.sport = port;
    np.natChanged = true;
  }

  /** nf_nat_l4proto_unique_tuple: keep the port if free, else search; --random-fully draws from the rng. */
  private pickSrcPort(e: CtEntry, addr: number, n: NatRequest, orig: number): number {
    const lo = n.portLo || (orig < 1024 ? 1 : 1024), hi = n.portHi || (orig < 1024 ? 1023 : 65535);
    const span = hi - lo + 1;
    const free = (port: number) => this.conntrack.replyFree(e.proto, { src: addr, dst: e.reply.src, sport: port, dport: e.reply.sport });
    if (!n.randomFully && !n.random && orig >= lo && orig <= hi && free(orig)) return orig;
    let start = n.randomFully || n.random ? this.env.rng.u32() % span : (orig - lo + span) % span;
    for (let k = 0; k < Math.min(span, 128); k++) {
      const port = lo + ((start + k) % span);
      if (free(port)) return port;
    }
    start = this.env.rng.u32() % span;
    return lo + start;
  }
}
