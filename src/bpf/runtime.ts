// The Runtime programs call instead of BPF helpers: map ops, tail calls,
// redirects and perf output, with an optional recorder for packet walks.

import type { SkBuff, TunnelKey } from '../wire/skb.ts';
import { BPF_F_INGRESS, TC_ACT_REDIRECT, TC_ACT_SHOT } from './ctx.ts';
import type { BpfMap } from './map.ts';
import { PerfEventArrayMap } from './maps/perf_event_array.ts';
import { ProgArrayMap } from './maps/prog_array.ts';
import type { BpfProgram, KernelHelpers, Recorder, Runtime } from './program.ts';

export { defineProgram, progTag } from './define.ts';
export type { DefinedProgram, ProgramDef } from './define.ts';

/** include/linux/bpf.h MAX_TAIL_CALL_CNT. */
export const MAX_TAIL_CALL_CNT = 33;

/**
 * One Runtime per emulated kernel (programs run to completion, one at a time).
 * With `recorder` null (the default) each operation costs one extra null check.
 */
export class BpfRuntime implements Runtime {
  readonly kernel: KernelHelpers;
  recorder: Recorder | null = null;
  /** Tail calls currently nested; a call at MAX_TAIL_CALL_CNT fails (falls through), as in the kernel. */
  private tailDepth = 0;
  private hasRedirect = false;
  /** Reused result of takeRedirect(): valid until the next redirect(). */
  private readonly redirectTarget = { ifindex: 0, flags: 0 };

  constructor(kernel: KernelHelpers) {
    this.kernel = kernel;
  }

  /** Run a program as the hook does: resets tail-call and redirect state, records prog + verdict when recording. */
  run<C>(prog: BpfProgram<C>, ctx: C, ifindex = 0): number {
    this.tailDepth = 0;
    this.hasRedirect = false;
    const rec = this.recorder;
    if (rec !== null) rec({ kind: 'prog', prog: prog.name, ifindex });
    const ret = prog.run(ctx, this);
    if (rec !== null) rec({ kind: 'verdict', prog: prog.name, ret });
    return ret;
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
    this.redirectTarget.ifindex = ifindex;
    this.redirectTarget.flags = flags;
    this.hasRedirect = true;
    if (this.recorder !== null) this.recorder({ kind: 'redirect', ifindex, flags });
    return TC_ACT_REDIRECT;
  }

  /** The last redirect target (a reused object: read it before the next program runs), or null. */
  takeRedirect(): { ifindex: number; flags: number } | null {
    if (!this.hasRedirect) return null;
    this.hasRedirect = false;
    return this.redirectTarget;
  }

  perfEventOutput(map: BpfMap, data: Uint8Array): void {
    if (map instanceof PerfEventArrayMap) map.output(data, 0);
  }

  setTunnelKey(ctx: SkBuff, key: TunnelKey): void {
    ctx.tunnel = key;
  }
}
