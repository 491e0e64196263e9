// Mirrors bpf/lib/drop.h: send_drop_notify() writes struct drop_notify (v2) to
// cilium_events, counts the drop in cilium_metrics and returns TC_ACT_SHOT.
// The layout comes from maps/notify.ts.

import type { Runtime } from '../../src/bpf/program.ts';
import type { SkBuff } from '../../src/wire/skb.ts';
import { TC_ACT_SHOT } from '../../src/bpf/ctx.ts';
import type { DatapathEnv } from './common.ts';
import { CILIUM_NOTIFY_DROP, TRACE_PAYLOAD_LEN } from './trace.ts';
import { setU16le, setU32le } from './bytes.ts';
import { updateMetrics } from './metrics.ts';
import { allocBytes } from '../../src/wire/alloc.ts';
import { DROP_NOTIFY, DROP_NOTIFY_VERSION } from '../../maps/notify.ts';

export const DROP_NOTIFY_V2_LEN = DROP_NOTIFY.size;
const D = DROP_NOTIFY.off;
const D_TYPE = D.type, D_SUB = D.subtype, D_SOURCE = D.source, D_LEN_ORIG = D.len_orig, D_LEN_CAP = D.len_cap, D_VERSION = D.version,
  D_SRC = D.src_label, D_DST = D.dst_label, D_DST_ID = D.dst_id, D_LINE = D.line, D_FILE = D.file, D_EXT_ERR = D.ext_error,
  D_IFINDEX = D.ifindex, D_FLAGS = D.flags;

/** Drop the packet: event + metric; `reason` is positive (DROP_*). */
export function sendDropNotify(ctx: SkBuff, rt: Runtime, env: DatapathEnv, source: number, src: number, dst: number,
  dstId: number, reason: number, dir: number, file: number, line: number): number {
  updateMetrics(rt, env, ctx.len, dir, reason, line, file);
  const cap = Math.min(TRACE_PAYLOAD_LEN, ctx.len);
  const ev = allocBytes(DROP_NOTIFY_V2_LEN + cap);
  ev[D_TYPE] = CILIUM_NOTIFY_DROP; ev[D_SUB] = reason;
  setU16le(ev, D_SOURCE, source);
  setU32le(ev, D_LEN_ORIG, ctx.len); setU16le(ev, D_LEN_CAP, cap); setU16le(ev, D_VERSION, DROP_NOTIFY_VERSION);
  setU32le(ev, D_SRC, src); setU32le(ev, D_DST, dst); setU32le(ev, D_DST_ID, dstId);
  setU16le(ev, D_LINE, line); ev[D_FILE] = file; ev[D_EXT_ERR] = 0;
  setU32le(ev, D_IFINDEX, ctx.ifindex);
  ev[D_FLAGS] = 0;
  ev.set(ctx.data.subarray(0, cap), DROP_NOTIFY_V2_LEN);
  rt.perfEventOutput(env.maps.events, ev);
  return TC_ACT_SHOT;
}
