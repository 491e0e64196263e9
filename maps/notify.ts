// The structs programs write into cilium_events (bpf/lib/notify.h, trace.h,
// drop.h, trace_sock.h, policy_log.h as of 1.16) and their decoders, which
// `cilium-dbg monitor`, Hubble and tests read samples through
// (pkg/monitor/datapath_*.go decode the same bytes).

import { defineStruct, type FieldSpec } from './struct.ts';

/** NOTIFY_CAPTURE_HDR (1.16: version is a u16). */
const CAPTURE_HDR = {
  type: 'u8', subtype: 'u8', source: 'u16', hash: 'u32', len_orig: 'u32', len_cap: 'u16', version: 'u16',
} as const satisfies Record<string, FieldSpec>;

/** struct trace_notify, version 1 (with orig_ip; the v4 arm of its address union). */
export const TRACE_NOTIFY = defineStruct('trace_notify', {
  ...CAPTURE_HDR, src_label: 'u32', dst_label: 'u32', dst_id: 'u16', reason: 'u8', flags: 'u8', ifindex: 'u32',
  orig_ip4: 'be32', orig_pad1: 'u32', orig_pad2: 'u32', orig_pad3: 'u32',
});
/** struct trace_notify without orig_ip (version 0). */
export const TRACE_NOTIFY_V0_LEN = TRACE_NOTIFY.off.orig_ip4;
export const TRACE_NOTIFY_VERSION = 1;

/** struct drop_notify, version 2 (flags: ipv6 bit). */
export const DROP_NOTIFY = defineStruct('drop_notify', {
  ...CAPTURE_HDR, src_label: 'u32', dst_label: 'u32', dst_id: 'u32', line: 'u16', file: 'u8', ext_error: 's8', ifindex: 'u32',
  flags: 'u8', pad2: ['u8', 3],
});
/** drop_notify version 1 ends before flags. */
export const DROP_NOTIFY_V1_LEN = DROP_NOTIFY.off.flags;
export const DROP_NOTIFY_VERSION = 2;

/** struct trace_sock_notify (__packed): dst_ip is the v4 arm of a v6addr union; l4_proto is L4_PROTOCOL_*. */
export const TRACE_SOCK_NOTIFY = defineStruct('trace_sock_notify', {
  type: 'u8', xlate_point: 'u8', dst_ip4: 'be32', dst_pad: ['u32', 3], dst_port: 'u16', sock_cookie: 'u64', cgroup_id: 'u64',
  l4_proto: 'u8', flags: 'u8',
}, { packed: true });
export const L4_PROTOCOL_UNKNOWN = 0, L4_PROTOCOL_TCP = 1, L4_PROTOCOL_UDP = 2;

/** struct policy_verdict_notify (flags: dir:2, ipv6:1, match_type:3, audited:1, l3:1). */
export const POLICY_VERDICT_NOTIFY = defineStruct('policy_verdict_notify', {
  ...CAPTURE_HDR, remote_label: 'u32', verdict: 's32', dst_port: 'u16', proto: 'u8', flags: 'u8', auth_type: 'u8', pad1: ['u8', 3],
});

/** The bytes every sample starts with. */
export const NOTIFY_OFF_TYPE = TRACE_NOTIFY.off.type, NOTIFY_OFF_SUBTYPE = TRACE_NOTIFY.off.subtype;

const le16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const le32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const le64 = (b: Uint8Array, o: number) => le32(b, o) + le32(b, o + 4) * 0x100000000;
const be32 = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** The capture header as pkg/monitor decodes it. */
export interface CaptureHdr { type: number; subtype: number; source: number; hash: number; lenOrig: number; lenCap: number; version: number }
function captureHdr(b: Uint8Array): CaptureHdr {
  const o = TRACE_NOTIFY.off;
  return { type: b[o.type]!, subtype: b[o.subtype]!, source: le16(b, o.source), hash: le32(b, o.hash), lenOrig: le32(b, o.len_orig),
    lenCap: le16(b, o.len_cap), version: le16(b, o.version) };
}

/** A decoded trace_notify; `payload` is the captured frame. origIp is 0 in version 0. */
export interface TraceNotify extends CaptureHdr {
  obsPoint: number; srcLabel: number; dstLabel: number; dstId: number; reason: number; flags: number; ifindex: number;
  origIp: number; payload: Uint8Array;
}
/** DecodeTraceNotify(): version 0 samples have a 32-byte header. */
export function decodeTraceNotify(b: Uint8Array): TraceNotify {
  const o = TRACE_NOTIFY.off, h = captureHdr(b);
  const hdr = h.version >= 1 ? TRACE_NOTIFY.size : TRACE_NOTIFY_V0_LEN;
  return { ...h, obsPoint: h.subtype, srcLabel: le32(b, o.src_label), dstLabel: le32(b, o.dst_label), dstId: le16(b, o.dst_id),
    reason: b[o.reason]!, flags: b[o.flags]!, ifindex: le32(b, o.ifindex), origIp: h.version >= 1 ? be32(b, o.orig_ip4) : 0,
    payload: b.subarray(hdr) };
}

/** A decoded drop_notify. */
export interface DropNotify extends CaptureHdr {
  reason: number; srcLabel: number; dstLabel: number; dstId: number; line: number; file: number; extError: number; ifindex: number;
  flags: number; payload: Uint8Array;
}
export function decodeDropNotify(b: Uint8Array): DropNotify {
  const o = DROP_NOTIFY.off, h = captureHdr(b);
  const v2 = h.version >= 2, hdr = v2 ? DROP_NOTIFY.size : DROP_NOTIFY_V1_LEN;
  return { ...h, reason: h.subtype, srcLabel: le32(b, o.src_label), dstLabel: le32(b, o.dst_label), dstId: le32(b, o.dst_id),
    line: le16(b, o.line), file: b[o.file]!, extError: (b[o.ext_error]! << 24) >> 24, ifindex: le32(b, o.ifindex),
    flags: v2 ? b[o.flags]! : 0, payload: b.subarray(hdr) };
}

/** A decoded trace_sock_notify (cookies exact below 2^53). */
export interface TraceSockNotify { type: number; xlatePoint: number; dstIp: number; dstPort: number; sockCookie: number; cgroupId: number; l4Proto: number; flags: number }
export function decodeTraceSockNotify(b: Uint8Array): TraceSockNotify {
  const o = TRACE_SOCK_NOTIFY.off;
  return { type: b[o.type]!, xlatePoint: b[o.xlate_point]!, dstIp: be32(b, o.dst_ip4), dstPort: le16(b, o.dst_port),
    sockCookie: le64(b, o.sock_cookie), cgroupId: le64(b, o.cgroup_id), l4Proto: b[o.l4_proto]!, flags: b[o.flags]! };
}

/** A decoded policy_verdict_notify. */
export interface PolicyVerdictNotify extends CaptureHdr {
  remoteLabel: number; verdict: number; dstPort: number; proto: number; flags: number; authType: number; payload: Uint8Array;
}
export function decodePolicyVerdictNotify(b: Uint8Array): PolicyVerdictNotify {
  const o = POLICY_VERDICT_NOTIFY.off;
  return { ...captureHdr(b), remoteLabel: le32(b, o.remote_label), verdict: le32(b, o.verdict) | 0, dstPort: le16(b, o.dst_port),
    proto: b[o.proto]!, flags: b[o.flags]!, authType: b[o.auth_type]!, payload: b.subarray(POLICY_VERDICT_NOTIFY.size) };
}
