// Mirrors bpf/lib/trace.h: send_trace_notify() writes struct trace_notify (v1,
// with orig_ip) into cilium_events, subject to monitor aggregation
// (emit_trace_notify), and bpf/lib/trace_sock.h for socket-LB events. The
// struct layouts and enum numbers come from maps/notify.ts and maps/monitor_api.ts.

import type { Runtime } from '../../src/bpf/program.ts';
import type { SkBuff } from '../../src/wire/skb.ts';
import type { DatapathEnv } from './common.ts';
import { TRACE_AGGREGATE_RX, TRACE_AGGREGATE_ACTIVE_CT } from './common.ts';
import { setU16le, setU32le, setU64le, setU32be } from './bytes.ts';
import { allocBytes } from '../../src/wire/alloc.ts';
import { L4_PROTOCOL_TCP, L4_PROTOCOL_UDP, L4_PROTOCOL_UNKNOWN, TRACE_NOTIFY, TRACE_NOTIFY_VERSION, TRACE_SOCK_NOTIFY } from '../../maps/notify.ts';
import { notifyType, tracePoint, traceReason, xlatePoint } from '../../maps/monitor_api.ts';

/** Message types (CILIUM_NOTIFY_*). */
export const CILIUM_NOTIFY_DROP = notifyType('CILIUM_NOTIFY_DROP'), CILIUM_NOTIFY_TRACE = notifyType('CILIUM_NOTIFY_TRACE'),
  CILIUM_NOTIFY_POLICY_VERDICT = notifyType('CILIUM_NOTIFY_POLICY_VERDICT'), CILIUM_NOTIFY_TRACE_SOCK = notifyType('CILIUM_NOTIFY_TRACE_SOCK');
/** enum trace_point. */
export const TRACE_TO_LXC = tracePoint('TRACE_TO_LXC'), TRACE_TO_PROXY = tracePoint('TRACE_TO_PROXY'), TRACE_TO_HOST = tracePoint('TRACE_TO_HOST'),
  TRACE_TO_STACK = tracePoint('TRACE_TO_STACK'), TRACE_TO_OVERLAY = tracePoint('TRACE_TO_OVERLAY'), TRACE_FROM_LXC = tracePoint('TRACE_FROM_LXC'),
  TRACE_FROM_PROXY = tracePoint('TRACE_FROM_PROXY'), TRACE_FROM_HOST = tracePoint('TRACE_FROM_HOST'), TRACE_FROM_STACK = tracePoint('TRACE_FROM_STACK'),
  TRACE_FROM_OVERLAY = tracePoint('TRACE_FROM_OVERLAY'), TRACE_FROM_NETWORK = tracePoint('TRACE_FROM_NETWORK'),
  TRACE_TO_NETWORK = tracePoint('TRACE_TO_NETWORK'), TRACE_FROM_CRYPTO = tracePoint('TRACE_FROM_CRYPTO'), TRACE_TO_CRYPTO = tracePoint('TRACE_TO_CRYPTO');
/** enum trace_reason (CT states double as reasons). */
export const TRACE_REASON_POLICY = traceReason('TRACE_REASON_POLICY'), TRACE_REASON_CT_ESTABLISHED = traceReason('TRACE_REASON_CT_ESTABLISHED'),
  TRACE_REASON_CT_REPLY = traceReason('TRACE_REASON_CT_REPLY'), TRACE_REASON_CT_RELATED = traceReason('TRACE_REASON_CT_RELATED'),
  TRACE_REASON_UNKNOWN = traceReason('TRACE_REASON_UNKNOWN');
export const TRACE_PAYLOAD_LEN = 128;
export const TRACE_NOTIFY_V1_LEN = TRACE_NOTIFY.size;
export const TRACE_EP_ID_UNKNOWN = 0;
/** XLATE points of trace_sock_notify. */
export const XLATE_PRE_DIRECTION_FWD = xlatePoint('XLATE_PRE_DIRECTION_FWD'), XLATE_POST_DIRECTION_FWD = xlatePoint('XLATE_POST_DIRECTION_FWD'),
  XLATE_PRE_DIRECTION_REV = xlatePoint('XLATE_PRE_DIRECTION_REV'), XLATE_POST_DIRECTION_REV = xlatePoint('XLATE_POST_DIRECTION_REV');
export const TRACE_SOCK_NOTIFY_LEN = TRACE_SOCK_NOTIFY.size;

const T = TRACE_NOTIFY.off;
const T_TYPE = T.type, T_SUB = T.subtype, T_SOURCE = T.source, T_HASH = T.hash, T_LEN_ORIG = T.len_orig, T_LEN_CAP = T.len_cap,
  T_VERSION = T.version, T_SRC = T.src_label, T_DST = T.dst_label, T_DST_ID = T.dst_id, T_REASON = T.reason, T_FLAGS = T.flags,
  T_IFINDEX = T.ifindex, T_ORIG_IP = T.orig_ip4;
const S = TRACE_SOCK_NOTIFY.off;

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
  ev[T_TYPE] = CILIUM_NOTIFY_TRACE; ev[T_SUB] = obsPoint;
  setU16le(ev, T_SOURCE, source);
  setU32le(ev, T_HASH, 0); // the emulated skb carries no flow hash
  setU32le(ev, T_LEN_ORIG, ctx.len);
  setU16le(ev, T_LEN_CAP, cap);
  setU16le(ev, T_VERSION, TRACE_NOTIFY_VERSION);
  setU32le(ev, T_SRC, src); setU32le(ev, T_DST, dst);
  setU16le(ev, T_DST_ID, dstId); ev[T_REASON] = reason; ev[T_FLAGS] = 0;
  setU32le(ev, T_IFINDEX, ifindex);
  setU32be(ev, T_ORIG_IP, origIp);
  ev.set(ctx.data.subarray(0, cap), TRACE_NOTIFY_V1_LEN);
  rt.perfEventOutput(env.maps.events, ev);
}

/** send_trace_sock_notify4() (bpf/lib/trace_sock.h). */
export function sendTraceSockNotify4(rt: Runtime, env: DatapathEnv, xlatePoint: number, dstIp: number, dstPort: number,
  sockCookie: number, cgroupId: number, proto: number): void {
  const ev = new Uint8Array(TRACE_SOCK_NOTIFY_LEN);
  ev[S.type] = CILIUM_NOTIFY_TRACE_SOCK; ev[S.xlate_point] = xlatePoint;
  setU32be(ev, S.dst_ip4, dstIp);
  setU16le(ev, S.dst_port, dstPort);
  setU64le(ev, S.sock_cookie, sockCookie); setU64le(ev, S.cgroup_id, cgroupId);
  ev[S.l4_proto] = proto === 6 ? L4_PROTOCOL_TCP : proto === 17 ? L4_PROTOCOL_UDP : L4_PROTOCOL_UNKNOWN;
  ev[S.flags] = 0;
  rt.perfEventOutput(env.maps.events, ev);
}
