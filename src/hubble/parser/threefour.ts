// Mirrors pkg/hubble/parser/threefour: trace, drop and policy-verdict events
// (decoded through maps/notify.ts) -> the L3/L4 fields of flow.Flow.

import { decodeDropNotify, decodePolicyVerdictNotify, decodeTraceNotify, DROP_NOTIFY, DROP_NOTIFY_V1_LEN, POLICY_VERDICT_NOTIFY,
  TRACE_NOTIFY, TRACE_NOTIFY_V0_LEN } from '../../../maps/notify.ts';
import { notifyType, sourceFileName, TRACE_REASON_ENCRYPTED, traceReason, tracePoint } from '../../../maps/monitor_api.ts';
import { u32ToIp } from '../../wire/addr.ts';
import type { FlowObject } from '../proto.ts';
import type { NodeGetters } from './getters.ts';
import { decodePacket, type DecodedPacket } from './packet.ts';

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

/** A trace_notify -> flow; null when the packet does not decode. */
export function decodeTrace(data: Uint8Array, f: FlowObject, g: NodeGetters): boolean {
  if (data.length < TRACE_NOTIFY_V0_LEN) return false;
  const tn = decodeTraceNotify(data);
  if (tn.version >= 1 && data.length < TRACE_NOTIFY.size) return false;
  const p = decodePacket(tn.payload, (tn.flags & FLAG_L3_DEVICE) !== 0, (tn.flags & FLAG_VXLAN) !== 0);
  if (!p) return false;
  let srcIp = p.srcIp;
  if (p.IP && tn.origIp !== 0) {
    // SNAT: orig_ip is the address before translation, the header the one after.
    srcIp = tn.origIp;
    const orig = u32ToIp(tn.origIp);
    if (orig !== p.IP.source) p.IP = { ...p.IP, source: orig, source_xlated: p.IP.source };
  }
  if (p.IP && (tn.reason & TRACE_REASON_ENCRYPTED)) p.IP = { ...p.IP, encrypted: true };
  f.verdict = VERDICT_FORWARDED;
  f.trace_observation_point = tn.obsPoint === TRACE_TO_LXC ? TO_ENDPOINT : tn.obsPoint;
  f.event_type = TRACE_EVENT_TYPES[tn.obsPoint]!;
  l34(f, g, p, srcIp, tn.srcLabel, tn.dstLabel);
  const r = tn.reason & ~TRACE_REASON_ENCRYPTED, known = r !== REASON_UNKNOWN, reply = r === REASON_REPLY;
  if (known && r !== REASON_SRV6_ENCAP && r !== REASON_SRV6_DECAP) { f.is_reply = reply ? BOOL_TRUE : BOOL_FALSE; f.reply = reply; }
  if (tn.source !== 0 && known) {
    const isSourceEp = tn.source === (f.source?.ID ?? 0);
    f.traffic_direction = isSourceEp !== reply || tn.origIp !== 0 ? EGRESS : INGRESS;
  }
  f.trace_reason = traceReasonProto(tn.reason);
  if (tn.ifindex !== 0) {
    const name = g.ifname(tn.ifindex);
    f.interface = name ? { index: tn.ifindex, name } : { index: tn.ifindex };
  }
  if (tn.obsPoint === TRACE_TO_PROXY) f.proxy_port = tn.dstId;
  return true;
}

/** A drop_notify -> flow. */
export function decodeDrop(data: Uint8Array, f: FlowObject, g: NodeGetters): boolean {
  if (data.length < DROP_NOTIFY_V1_LEN) return false;
  const dn = decodeDropNotify(data);
  if (dn.version >= 2 && data.length < DROP_NOTIFY.size) return false;
  const p = decodePacket(dn.payload, (dn.flags & FLAG_L3_DEVICE) !== 0, (dn.flags & FLAG_VXLAN) !== 0);
  if (!p) return false;
  f.verdict = VERDICT_DROPPED;
  f.drop_reason = dn.reason; f.drop_reason_desc = dn.reason;
  f.event_type = { type: MSG_DROP, sub_type: dn.reason };
  f.file = { name: sourceFileName(dn.file), line: dn.line };
  l34(f, g, p, p.srcIp, dn.srcLabel, dn.dstLabel);
  if (dn.source !== 0) f.traffic_direction = dn.source === (f.source?.ID ?? 0) ? EGRESS : INGRESS;
  return true;
}

/** A policy_verdict_notify -> flow: the remote side's identity comes from the event, the local one from the endpoint. */
export function decodePolicyVerdict(data: Uint8Array, f: FlowObject, g: NodeGetters): boolean {
  if (data.length < POLICY_VERDICT_NOTIFY.size) return false;
  const pv = decodePolicyVerdictNotify(data);
  const p = decodePacket(pv.payload, (pv.flags & PV_L3) !== 0, false);
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
