// Mirrors pkg/hubble/parser/sock: a trace_sock_notify (socket LB translation)
// -> a SOCK flow. The event names the socket's peer address and its cgroup;
// the cgroup gives the pod (dplab's cgroup id is the endpoint id). Events
// whose cgroup is no known pod are skipped, as Hubble does by default.

import { decodeTraceSockNotify, L4_PROTOCOL_TCP, L4_PROTOCOL_UDP, TRACE_SOCK_NOTIFY } from '../../../maps/notify.ts';
import { xlatePoint } from '../../../maps/monitor_api.ts';
import { u32ToIp } from '../../wire/addr.ts';
import type { FlowObject, Layer4Object } from '../proto.ts';
import type { NodeGetters } from './getters.ts';

const PRE_FWD = xlatePoint('XLATE_PRE_DIRECTION_FWD'), POST_FWD = xlatePoint('XLATE_POST_DIRECTION_FWD'),
  PRE_REV = xlatePoint('XLATE_PRE_DIRECTION_REV'), POST_REV = xlatePoint('XLATE_POST_DIRECTION_REV');
const VERDICT_TRACED = 6, VERDICT_TRANSLATED = 7, SOCK = 3, IP_V4 = 1;
const FLAG_IPV6 = 0x01;

function l4(proto: number, sport: number, dport: number): Layer4Object | undefined {
  if (proto === L4_PROTOCOL_TCP) return { TCP: { source_port: sport, destination_port: dport } };
  if (proto === L4_PROTOCOL_UDP) return { UDP: { source_port: sport, destination_port: dport } };
  return undefined;
}

/** A trace_sock_notify -> flow; false when skipped (unknown cgroup, IPv6, short). */
export function decodeTraceSock(data: Uint8Array, f: FlowObject, g: NodeGetters): boolean {
  if (data.length < TRACE_SOCK_NOTIFY.size) return false;
  const n = decodeTraceSockNotify(data);
  if (n.flags & FLAG_IPV6) return false;
  const ep = n.cgroupId > 0 && n.cgroupId < 0x10000 ? g.endpointById(n.cgroupId) : undefined;
  if (!ep || !ep.ipv4) return false;
  // The socket's own port is not in the event: it stays 0.
  let srcIp = ep.ipv4, dstIp = n.dstIp, srcPort = 0, dstPort = n.dstPort;
  let src = g.resolveEndpoint(srcIp, 0), dst = g.resolveEndpoint(dstIp, 0);
  // On the reverse path the peer is the packet's source.
  if (n.xlatePoint === PRE_REV || n.xlatePoint === POST_REV) {
    [srcIp, dstIp] = [dstIp, srcIp]; [srcPort, dstPort] = [dstPort, srcPort]; [src, dst] = [dst, src];
  }
  f.verdict = n.xlatePoint === PRE_FWD || n.xlatePoint === PRE_REV ? VERDICT_TRACED
    : n.xlatePoint === POST_FWD || n.xlatePoint === POST_REV ? VERDICT_TRANSLATED : 0;
  f.IP = { source: u32ToIp(srcIp), destination: u32ToIp(dstIp), ipVersion: IP_V4 };
  const layer4 = l4(n.l4Proto, srcPort, dstPort);
  if (layer4) f.l4 = layer4;
  f.source = src; f.destination = dst;
  const ss = g.serviceAt(srcIp, srcPort), ds = g.serviceAt(dstIp, dstPort);
  if (ss) f.source_service = ss;
  if (ds) f.destination_service = ds;
  f.Type = SOCK;
  f.event_type = { type: n.type, sub_type: n.xlatePoint };
  f.sock_xlate_point = n.xlatePoint;
  if (n.sockCookie) f.socket_cookie = n.sockCookie;
  if (n.cgroupId) f.cgroup_id = n.cgroupId;
  f.Summary = n.l4Proto === L4_PROTOCOL_TCP ? 'TCP' : n.l4Proto === L4_PROTOCOL_UDP ? 'UDP' : 'Unknown';
  return true;
}
