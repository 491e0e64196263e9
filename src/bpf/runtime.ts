// The Runtime programs call instead of BPF helpers: map ops, tail calls,
// redirects and perf output, with an optional recorder for packet walks.
// Every run gets its own frame (tail-call count, redirect target, scratch), so
// a program run started while another is in progress cannot corrupt it.

import type { SkBuff, TunnelKey } from '../wire/skb.ts';
import { BPF_F_INGRESS, BPF_F_NEIGH, BPF_F_NEXTHOP, TC_ACT_REDIRECT, TC_ACT_SHOT, type RedirectInfo } from './ctx.ts';
import type { BpfMap } from './map.ts';
import { PerfEventArrayMap } from './maps/perf_event_array.ts';
import { ProgArrayMap } from './maps/prog_array.ts';
import type { BpfProgram, KernelHelpers, Recorder, RunLocal, Runtime } from './program.ts';

export { defineProgram, progTag } from './define.ts';
export type { DefinedProgram, ProgramDef } from './define.ts';
export { runLocal } from './program.ts';

/** include/linux/bpf.h MAX_TAIL_CALL_CNT. */
export const MAX_TAIL_CALL_CNT = 33;

/**
 * The state of one program run, handed to the program as its Runtime: the
 * tail-call count and redirect target the kernel keeps per CPU while a program
 * runs, and the scratch (RunLocal slots) its libraries use as stack.
 * With `recorder` null (the default) each operation costs one extra null check.
 */
export class BpfRun implements Runtime {
  readonly kernel: KernelHelpers;
  recorder: Recorder | null = null;
  /** Tail calls currently nested; a call at MAX_TAIL_CALL_CNT fails (falls through), as in the kernel. */
  private tailDepth = 0;
  private hasRedirect = false;
  /** Reused result of takeRedirect(): valid until the next redirect(). */
  private readonly target: RedirectInfo = { ifindex: 0, flags: 0, nh: 0 };
  private readonly locals: unknown[] = [];

  constructor(kernel: KernelHelpers) {
    this.kernel = kernel;
  }

  /** Start a run on this frame (the runtime calls it): no tail calls yet, no redirect; scratch is rewritten by its users. */
  begin(recorder: Recorder | null): void {
    this.tailDepth = 0;
    this.hasRedirect = false;
    this.recorder = recorder;
  }

  /** This frame's instance of a scratch slot, made on first use and kept for the frame's later runs. */
  local<T>(slot: RunLocal<T>): T {
    const v = this.locals[slot.id];
    return (v !== undefined ? v : (this.locals[slot.id] = slot.make())) as T;
  }

  mapLookup(map: BpfMap, key: Uint8Array): Uint8Array | undefined {
    const v = map.lookup(key);
    if (this.recorder !== null) this.recorder({ kind: 'map', op: 'lookup', map: map.spec.name, key: key.slice(0, map.spec.keySize), hit: v !== undefined });
    return v;
  }

  mapUpdate(map: BpfMap, key: Uint8Array, value: Uint8Array, flags = 0): number {
    const ret = map.update(key, value, flags);
    if (this.recorder !== null) this.recorder({ kind: 'map', op: 'update', map: map.spec.name, key: key.slice(0, map.spec.keySize), ret });
    return ret;
  }

  mapDelete(map: BpfMap, key: Uint8Array): number {
    const ret = map.delete(key);
    if (this.recorder !== null) this.recorder({ kind: 'map', op: 'delete', map: map.spec.name, key: key.slice(0, map.spec.keySize), ret });
    return ret;
  }

  /**
   * bpf_tail_call. Returns the callee's verdict, or undefined when the slot is
   * empty, the index is out of range or the chain hit MAX_TAIL_CALL_CNT; the
   * caller then continues, as after a failed tail call in C.
   */
  tailCall<C>(ctx: C, map: BpfMap, index: number): number | undefined {
    if (!(map instanceof ProgArrayMap)) return undefined;
    const prog = this.tailDepth < MAX_TAIL_CALL_CNT ? map.getProg(index) as BpfProgram<C> | undefined : undefined;
    if (this.recorder !== null) this.recorder(prog ? { kind: 'tail_call', map: map.spec.name, index, prog: prog.name } : { kind: 'tail_call', map: map.spec.name, index });
    if (prog === undefined) return undefined;
    this.tailDepth++;
    try {
      return prog.run(ctx, this);
    } finally {
      this.tailDepth--;
    }
  }

  /** bpf_redirect: unknown flag bits make it return TC_ACT_SHOT, as the kernel helper does. */
  redirect(ifindex: number, flags: number): number {
    if (flags & ~BPF_F_INGRESS) return TC_ACT_SHOT;
    this.setRedirect(ifindex, flags, 0);
    if (this.recorder !== null) this.recorder({ kind: 'redirect', ifindex, flags });
    return TC_ACT_REDIRECT;
  }

  /** bpf_redirect_neigh: no flags are defined (any makes it TC_ACT_SHOT); egress only. */
  redirectNeigh(ifindex: number, nh: number, flags: number): number {
    if (flags !== 0) return TC_ACT_SHOT;
    this.setRedirect(ifindex, BPF_F_NEIGH | (nh !== 0 ? BPF_F_NEXTHOP : 0), nh);
    if (this.recorder !== null) this.recorder({ kind: 'redirect', ifindex, flags: this.target.flags, nh });
    return TC_ACT_REDIRECT;
  }

  private setRedirect(ifindex: number, flags: number, nh: number): void {
    const t = this.target;
    t.ifindex = ifindex; t.flags = flags; t.nh = nh;
    this.hasRedirect = true;
  }

  /** The last redirect target (a reused object: read it before the next program runs), or null. */
  takeRedirect(): RedirectInfo | null {
    if (!this.hasRedirect) return null;
    this.hasRedirect = false;
    return this.target;
  }

  /** Take over the redirect another frame's run left (or none), for the kernel to read next. */
  protected handOver(from: BpfRun): void {
    const r = from.takeRedirect();
    if (r === null) this.hasRedirect = false;
    else this.setRedirect(r.ifindex, r.flags, r.nh);
  }

  perfEventOutput(map: BpfMap, data: Uint8Array): void {
    if (map instanceof PerfEventArrayMap) map.output(data, 0);
  }

  setTunnelKey(ctx: SkBuff, key: TunnelKey): void {
    ctx.tunnel = key;
  }
}

/**
 * One Runtime per emulated kernel. run() gives each program run a frame of its
 * own from a small pool (one per nesting level, reused: no allocation per
 * packet); when the run ends, its redirect target is handed to this runtime's
 * takeRedirect(), which the kernel reads right away (skb_do_redirect). Used
 * directly as a Runtime (tests calling prog.run(ctx, rt)), it is its own frame.
 */
export class BpfRuntime extends BpfRun {
  private readonly frames: BpfRun[] = [];
  private depth = 0;

  /** Run a program as the hook does: a fresh frame, records prog + verdict when recording. */
  run<C>(prog: BpfProgram<C>, ctx: C, ifindex = 0): number {
    const rec = this.recorder;
    const f = this.frames[this.depth] ?? (this.frames[this.depth] = new BpfRun(this.kernel));
    this.depth++;
    f.begin(rec);
    if (rec !== null) rec({ kind: 'prog', prog: prog.name, ifindex, ctx });
    let ret: number;
    try {
      ret = prog.run(ctx, f);
    } finally {
      this.depth--;
    }
    if (rec !== null) rec({ kind: 'verdict', prog: prog.name, ret });
    this.handOver(f);
    return ret;
  }
}
