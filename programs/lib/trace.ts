// Mirrors bpf/lib/trace.h: send_trace_notify() writes struct trace_notify (v1,
// with orig_ip) into cilium_events, subject to monitor aggregation
// (emit_trace_notify), and bpf/lib/trace_sock.h for socket-LB events.

import type { Runtime } from '../../src/bpf/program.ts';
import type { SkBuff } from '../../src/wire/skb.ts';
import type { DatapathEnv } from './common.ts';
import { TRACE_AGGREGATE_RX, TRACE_AGGREGATE_ACTIVE_CT } from './common.ts';
import { setU16le, setU32le, setU64le, setU32be } from './bytes.ts';
import { allocBytes } from '../../src/wire/alloc.ts';

/** Message types (CILIUM_NOTIFY_*). */
export const CILIUM_NOTIFY_DROP = 1, CILIUM_NOTIFY_TRACE = 4, CILIUM_NOTIFY_POLICY_VERDICT = 5, CILIUM_NOTIFY_TRACE_SOCK = 7;
/** enum trace_point. */
export const TRACE_TO_LXC = 0, TRACE_TO_PROXY = 1, TRACE_TO_HOST = 2, TRACE_TO_STACK = 3, TRACE_TO_OVERLAY = 4,
  TRACE_FROM_LXC = 5, TRACE_FROM_PROXY = 6, TRACE_FROM_HOST = 7, TRACE_FROM_STACK = 8, TRACE_FROM_OVERLAY = 9,
  TRACE_FROM_NETWORK = 10, TRACE_TO_NETWORK = 11, TRACE_FROM_CRYPTO = 12, TRACE_TO_CRYPTO = 13;
/** enum trace_reason (CT states double as reasons). */
export const TRACE_REASON_POLICY = 0, TRACE_REASON_CT_ESTABLISHED = 1, TRACE_REASON_CT_REPLY = 2,
  TRACE_REASON_CT_RELATED = 3, TRACE_REASON_UNKNOWN = 5;
export const TRACE_PAYLOAD_LEN = 128;
export const TRACE_NOTIFY_V1_LEN = 48;
export const TRACE_EP_ID_UNKNOWN = 0;
/** XLATE points of trace_sock_notify. */
export const XLATE_PRE_DIRECTION_FWD = 1, XLATE_POST_DIRECTION_FWD = 2, XLATE_PRE_DIRECTION_REV = 3, XLATE_POST_DIRECTION_REV = 4;
export const TRACE_SOCK_NOTIFY_LEN = 38;

/** emit_trace_notify(): aggregation hides from-* points and packets CT did not flag for reporting. */
export function emitTraceNotify(obsPoint: number, monitor: number, aggregation: number): boolean {
  if (aggregation >= TRACE_AGGREGATE_RX && (obsPoint >= TRACE_FROM_LXC && obsPoint <= TRACE_FROM_NETWORK || obsPoint === TRACE_FROM_CRYPTO)) return false;
  if (aggregation >= TRACE_AGGREGATE_ACTIVE_CT && !monitor) return false;
  return true;
}

/**
 * send_trace_notify4(): `source` is the emitting endpoint (EVENT_SOURCE),
 * `origIp` the original source address before reverse NAT (0 if none).
 */
export function sendTraceNotify(ctx: SkBuff, rt: Runtime, env: DatapathEnv, source: number, obsPoint: number,
  src: number, dst: number, dstId: number, ifindex: number, reason: number, monitor: number, origIp = 0): void {
  if (!emitTraceNotify(obsPoint, monitor, env.node.aggregation)) return;
  const cap = Math.min(monitor || TRACE_PAYLOAD_LEN, ctx.len);
  const ev = allocBytes(TRACE_NOTIFY_V1_LEN + cap);
  ev[0] = CILIUM_NOTIFY_TRACE; ev[1] = obsPoint;
  setU16le(ev, 2, source);
  setU32le(ev, 4, 0); // hash: the emulated skb carries no flow hash
  setU32le(ev, 8, ctx.len);
  setU16le(ev, 12, cap);
  setU16le(ev, 14, 1); // NOTIFY_CAPTURE_VER / trace v1
  setU32le(ev, 16, src); setU32le(ev, 20, dst);
  setU16le(ev, 24, dstId); ev[26] = reason; ev[27] = 0;
  setU32le(ev, 28, ifindex);
  setU32be(ev, 32, origIp);
  ev.set(ctx.data.subarray(0, cap), TRACE_NOTIFY_V1_LEN);
  rt.perfEventOutput(env.maps.events, ev);
}

/** send_trace_sock_notify4() (bpf/lib/trace_sock.h). */
export function sendTraceSockNotify4(rt: Runtime, env: DatapathEnv, xlatePoint: number, dstIp: number, dstPort: number,
  sockCookie: number, cgroupId: number, proto: number): void {
  const ev = new Uint8Array(TRACE_SOCK_NOTIFY_LEN);
  ev[0] = CILIUM_NOTIFY_TRACE_SOCK; ev[1] = xlatePoint;
  setU32be(ev, 2, dstIp);
  setU16le(ev, 18, dstPort);
  setU64le(ev, 20, sockCookie); setU64le(ev, 28, cgroupId);
  ev[36] = proto === 6 ? 1 : proto === 17 ? 2 : 0; // L4_PROTOCOL_TCP / UDP
  ev[37] = 0;
  rt.perfEventOutput(env.maps.events, ev);
}
