// Mirrors pkg/hubble/parser/threefour: trace, drop and policy-verdict events
// (decoded through maps/notify.ts) -> the L3/L4 fields of flow.Flow.

import { decodePolicyVerdictNotify, DROP_NOTIFY, DROP_NOTIFY_V1_LEN, POLICY_VERDICT_NOTIFY, TRACE_NOTIFY, TRACE_NOTIFY_V0_LEN } from '../../../maps/notify.ts';
import { notifyType, sourceFileName, TRACE_REASON_ENCRYPTED, traceReason, tracePoint } from '../../../maps/monitor_api.ts';
import type { FlowObject } from '../proto.ts';
import type { NodeGetters } from './getters.ts';
import { decodePacket, ipString, type DecodedPacket } from './packet.ts';

// Field offsets of the structs' one description (maps/notify.ts), read once: no object per event.
const T = TRACE_NOTIFY.off, D = DROP_NOTIFY.off;
const le16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const le32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const be32 = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

export const MSG_DROP = notifyType('CILIUM_NOTIFY_DROP'), MSG_TRACE = notifyType('CILIUM_NOTIFY_TRACE'),
  MSG_POLICY_VERDICT = notifyType('CILIUM_NOTIFY_POLICY_VERDICT');
const TRACE_TO_LXC = tracePoint('TRACE_TO_LXC'), TRACE_TO_PROXY = tracePoint('TRACE_TO_PROXY');
const REASON_UNKNOWN = traceReason('TRACE_REASON_UNKNOWN'), REASON_REPLY = traceReason('TRACE_REASON_CT_REPLY');
const REASON_SRV6_ENCAP = traceReason('TRACE_REASON_SRV6_ENCAP'), REASON_SRV6_DECAP = 7;

// flow.proto numbers (proto/flow/flow.proto).
const VERDICT_FORWARDED = 1, VERDICT_DROPPED = 2, VERDICT_AUDIT = 4, VERDICT_REDIRECTED = 5;
const L3_L4 = 1, TO_ENDPOINT = 101, INGRESS = 1, EGRESS = 2;

/** Event flags (pkg/monitor datapath_trace.go / datapath_drop.go): IPv6, L3 device, VXLAN, Geneve. */
const FLAG_L3_DEVICE = 0x02, FLAG_VXLAN = 0x04;
/** policy_verdict_notify flags: dir:2 (1 ingress, 2 egress), ipv6:1, match_type:3, audited:1, l3:1. */
const PV_INGRESS = 0x01, PV_MATCH_SHIFT = 3, PV_MATCH_MASK = 0x38, PV_AUDITED = 0x40, PV_L3 = 0x80;

const BOOL_TRUE = Object.freeze({ value: true }), BOOL_FALSE = Object.freeze({ value: false });
/** TraceCiliumEventTypes: one shared object per observation point. */
const TRACE_EVENT_TYPES = Array.from({ length: 256 }, (_, i) => Object.freeze({ type: MSG_TRACE, sub_type: i }));

/** Trace reason byte -> flow.TraceReason (5 unknown -> 0, lower +1, higher as is). */
export function traceReasonProto(reason: number): number {
  const r = reason & ~TRACE_REASON_ENCRYPTED;
  return r === REASON_UNKNOWN ? 0 : r < REASON_UNKNOWN ? r + 1 : r;
}

/** The fields common to the three kinds, from the packet and the two resolved endpoints. */
function l34(f: FlowObject, g: NodeGetters, p: DecodedPacket, srcIp: number, srcId: number, dstId: number): void {
  if (p.ethernet) f.ethernet = p.ethernet;
  if (p.IP) f.IP = p.IP;
  if (p.l4) f.l4 = p.l4;
  if (p.tunnel) f.tunnel = p.tunnel;
  f.Summary = p.summary;
  f.Type = L3_L4;
  // Without an IP layer the endpoints are what the identities say (address lookups fail, as on an invalid netip.Addr).
  f.source = g.resolveEndpoint(p.hasIp ? srcIp : -1, srcId);
  f.destination = g.resolveEndpoint(p.hasIp ? p.dstIp : -1, dstId);
  if (!p.hasIp) return;
  const ss = g.serviceAt(srcIp, p.srcPort), ds = g.serviceAt(p.dstIp, p.dstPort);
  if (ss) f.source_service = ss;
  if (ds) f.destination_service = ds;
}

/** A trace_notify -> flow; false when the packet does not decode. */
export function decodeTrace(data: Uint8Array, f: FlowObject, g: NodeGetters): boolean {
  if (data.length < TRACE_NOTIFY_V0_LEN) return false;
  const version = le16(data, T.version);
  if (version >= 1 && data.length < TRACE_NOTIFY.size) return false;
  const obsPoint = data[T.subtype]!, source = le16(data, T.source), flags = data[T.flags]!, reason = data[T.reason]!;
  const origIp = version >= 1 ? be32(data, T.orig_ip4) : 0, ifindex = le32(data, T.ifindex);
  const p = decodePacket(data, version >= 1 ? TRACE_NOTIFY.size : TRACE_NOTIFY_V0_LEN, (flags & FLAG_L3_DEVICE) !== 0, (flags & FLAG_VXLAN) !== 0);
  if (!p) return false;
  let srcIp = p.srcIp;
  if (p.IP && origIp !== 0) {
    // SNAT: orig_ip is the address before translation, the header the one after.
    srcIp = origIp;
    const orig = ipString(origIp);
    if (orig !== p.IP.source) p.IP = { ...p.IP, source: orig, source_xlated: p.IP.source };
  }
  if (p.IP && (reason & TRACE_REASON_ENCRYPTED)) p.IP = { ...p.IP, encrypted: true };
  f.verdict = VERDICT_FORWARDED;
  f.trace_observation_point = obsPoint === TRACE_TO_LXC ? TO_ENDPOINT : obsPoint;
  f.event_type = TRACE_EVENT_TYPES[obsPoint]!;
  l34(f, g, p, srcIp, le32(data, T.src_label), le32(data, T.dst_label));
  const r = reason & ~TRACE_REASON_ENCRYPTED, known = r !== REASON_UNKNOWN, reply = r === REASON_REPLY;
  if (known && r !== REASON_SRV6_ENCAP && r !== REASON_SRV6_DECAP) { f.is_reply = reply ? BOOL_TRUE : BOOL_FALSE; f.reply = reply; }
  if (source !== 0 && known) {
    const isSourceEp = source === (f.source?.ID ?? 0);
    f.traffic_direction = isSourceEp !== reply || origIp !== 0 ? EGRESS : INGRESS;
  }
  f.trace_reason = traceReasonProto(reason);
  if (ifindex !== 0) f.interface = g.iface(ifindex);
  if (obsPoint === TRACE_TO_PROXY) f.proxy_port = le16(data, T.dst_id);
  return true;
}

/** A drop_notify -> flow. */
export function decodeDrop(data: Uint8Array, f: FlowObject, g: NodeGetters): boolean {
  if (data.length < DROP_NOTIFY_V1_LEN) return false;
  const version = le16(data, D.version), v2 = version >= 2;
  if (v2 && data.length < DROP_NOTIFY.size) return false;
  const flags = v2 ? data[D.flags]! : 0, reason = data[D.subtype]!, source = le16(data, D.source);
  const p = decodePacket(data, v2 ? DROP_NOTIFY.size : DROP_NOTIFY_V1_LEN, (flags & FLAG_L3_DEVICE) !== 0, (flags & FLAG_VXLAN) !== 0);
  if (!p) return false;
  f.verdict = VERDICT_DROPPED;
  f.drop_reason = reason; f.drop_reason_desc = reason;
  f.event_type = { type: MSG_DROP, sub_type: reason };
  f.file = { name: sourceFileName(data[D.file]!), line: le16(data, D.line) };
  l34(f, g, p, p.srcIp, le32(data, D.src_label), le32(data, D.dst_label));
  if (source !== 0) f.traffic_direction = source === (f.source?.ID ?? 0) ? EGRESS : INGRESS;
  return true;
}

/** A policy_verdict_notify -> flow: the remote side's identity comes from the event, the local one from the endpoint. */
export function decodePolicyVerdict(data: Uint8Array, f: FlowObject, g: NodeGetters): boolean {
  if (data.length < POLICY_VERDICT_NOTIFY.size) return false;
  const pv = decodePolicyVerdictNotify(data);
  const p = decodePacket(data, POLICY_VERDICT_NOTIFY.size, (pv.flags & PV_L3) !== 0, false);
  if (!p) return false;
  const ingress = (pv.flags & PV_INGRESS) !== 0;
  f.verdict = pv.verdict < 0 ? VERDICT_DROPPED : pv.verdict > 0 ? VERDICT_REDIRECTED : (pv.flags & PV_AUDITED) ? VERDICT_AUDIT : VERDICT_FORWARDED;
  if (pv.verdict < 0) { f.drop_reason = -pv.verdict; f.drop_reason_desc = -pv.verdict; }
  if (pv.authType) f.auth_type = pv.authType;
  f.event_type = { type: MSG_POLICY_VERDICT, sub_type: pv.subtype };
  l34(f, g, p, p.srcIp, ingress ? pv.remoteLabel : 0, ingress ? 0 : pv.remoteLabel);
  if (pv.verdict >= 0) { f.is_reply = BOOL_FALSE; f.reply = false; }
  f.traffic_direction = ingress ? INGRESS : EGRESS;
  f.policy_match_type = (pv.flags & PV_MATCH_MASK) >> PV_MATCH_SHIFT;
  return true;
}
