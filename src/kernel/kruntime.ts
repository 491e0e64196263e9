// A minimal Runtime used until (or instead of) the engine's BpfRuntime: map
// helpers straight to the maps, redirect/tunnel bookkeeping, prog-array tail
// calls through the node's program table.

import type { SkBuff, TunnelKey } from '../bpf/ctx.ts';
import { TC_ACT_REDIRECT, TC_ACT_SHOT } from '../bpf/ctx.ts';
import type { BpfMap } from '../bpf/map.ts';
import type { BpfProgram, KernelHelpers, Recorder, Runtime } from '../bpf/program.ts';

/** MAX_TAIL_CALL_CNT */
const MAX_TAIL_CALLS = 33;

export class KernelRuntime implements Runtime {
  recorder: Recorder | null = null;
  private redir: { ifindex: number; flags: number } | null = null;
  private tailDepth = 0;
  private readonly key = new Uint8Array(4);

  constructor(readonly kernel: KernelHelpers, private readonly progById: (id: number) => BpfProgram<unknown> | undefined) {}

  mapLookup(map: BpfMap, key: Uint8Array): Uint8Array | undefined { return map.lookup(key); }
  mapUpdate(map: BpfMap, key: Uint8Array, value: Uint8Array, flags?: number): number { return map.update(key, value, flags); }
  mapDelete(map: BpfMap, key: Uint8Array): number { return map.delete(key); }

  tailCall<C>(ctx: C, map: BpfMap, index: number): number | undefined {
    const k = this.key;
    k[0] = index & 255; k[1] = (index >>> 8) & 255; k[2] = (index >>> 16) & 255; k[3] = index >>> 24;
    const v = map.lookup(k);
    if (!v || this.tailDepth >= MAX_TAIL_CALLS) return undefined;
    const prog = this.progById((v[0]! | (v[1]! << 8) | (v[2]! << 16) | (v[3]! << 24)) >>> 0) as BpfProgram<C> | undefined;
    if (!prog) return undefined;
    this.tailDepth++;
    try { return prog.run(ctx, this); } finally { this.tailDepth--; }
  }

  redirect(ifindex: number, flags: number): number {
    if (flags & ~1) return TC_ACT_SHOT;
    this.redir = { ifindex, flags };
    return TC_ACT_REDIRECT;
  }

  takeRedirect(): { ifindex: number; flags: number } | null {
    const r = this.redir; this.redir = null; return r;
  }

  perfEventOutput(_map: BpfMap, _data: Uint8Array): void { /* no consumer without the engine */ }

  setTunnelKey(ctx: SkBuff, key: TunnelKey): void { ctx.tunnel = { remoteIpv4: key.remoteIpv4 >>> 0, tunnelId: key.tunnelId >>> 0 }; }
}
