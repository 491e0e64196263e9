// Mirrors bpf/lib/drop.h: send_drop_notify() writes struct drop_notify (v2) to
// cilium_events, counts the drop in cilium_metrics and returns TC_ACT_SHOT.

import type { Runtime } from '../../src/bpf/program.ts';
import type { SkBuff } from '../../src/wire/skb.ts';
import { TC_ACT_SHOT } from '../../src/bpf/ctx.ts';
import type { DatapathEnv } from './common.ts';
import { CILIUM_NOTIFY_DROP, TRACE_PAYLOAD_LEN } from './trace.ts';
import { setU16le, setU32le } from './bytes.ts';
import { updateMetrics } from './metrics.ts';
import { allocBytes } from '../../src/wire/alloc.ts';

export const DROP_NOTIFY_V2_LEN = 40;

/** Drop the packet: event + metric; `reason` is positive (DROP_*). */
export function sendDropNotify(ctx: SkBuff, rt: Runtime, env: DatapathEnv, source: number, src: number, dst: number,
  dstId: number, reason: number, dir: number, file: number, line: number): number {
  updateMetrics(rt, env, ctx.len, dir, reason, line, file);
  const cap = Math.min(TRACE_PAYLOAD_LEN, ctx.len);
  const ev = allocBytes(DROP_NOTIFY_V2_LEN + cap);
  ev[0] = CILIUM_NOTIFY_DROP; ev[1] = reason;
  setU16le(ev, 2, source);
  setU32le(ev, 8, ctx.len); setU16le(ev, 12, cap); setU16le(ev, 14, 2);
  setU32le(ev, 16, src); setU32le(ev, 20, dst); setU32le(ev, 24, dstId);
  setU16le(ev, 28, line); ev[30] = file; ev[31] = 0;
  setU32le(ev, 32, ctx.ifindex);
  ev[36] = 0;
  ev.set(ctx.data.subarray(0, cap), DROP_NOTIFY_V2_LEN);
  rt.perfEventOutput(env.maps.events, ev);
  return TC_ACT_SHOT;
}
