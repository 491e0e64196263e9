// The pieces of a flow line: host names with ports, identities, the type word
// and the verdict word, chosen as hubble's printer (pkg/printer/printer.go of
// the 0.11.6 CLI) chooses them.

import { SocketTranslationPoint, type FlowObject } from '../proto.ts';
import { enumNumber } from './values.ts';
import { dropReasonText, goEnumString, identityText, policyMatchType, traceObservationPoint } from './names.ts';

/** Flow fields the printers read, with enums as numbers or names (decoded objects may carry either). */
export type PrintableFlow = Partial<Omit<FlowObject, 'verdict' | 'traffic_direction' | 'sock_xlate_point'>> & {
  verdict?: number | string; traffic_direction?: number | string; sock_xlate_point?: number | string;
  debug_capture_point?: number | string;
};

/** Go's path.Clean of a slash-joined path (path.Join drops empty elements, then cleans). */
function pathJoin(...parts: string[]): string {
  const joined = parts.filter((p) => p !== '').join('/');
  if (joined === '') return '';
  const rooted = joined.startsWith('/');
  const out: string[] = [];
  for (const seg of joined.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const s = (rooted ? '/' : '') + out.join('/');
  return s === '' ? '.' : s;
}

/** Source and destination ports as strings (TCP and UDP only; "" otherwise). */
export function ports(f: PrintableFlow): [string, string] {
  const l4 = f.l4;
  const p = l4?.TCP ?? l4?.UDP;
  if (!p) return ['', ''];
  return [String(p.source_port ?? 0), String(p.destination_port ?? 0)];
}

/** net.JoinHostPort: brackets a host holding a colon. */
function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Printer.Hostname: pod, else service, else DNS names, else the IP (IP only without translation); then ":port" unless the port is empty or 0. */
function hostname(ip: string, port: string, ns: string, pod: string, svc: string, names: string[], translate: boolean): string {
  let host = ip;
  if (translate) {
    if (pod !== '') host = pathJoin(ns, pod);
    else if (svc !== '') host = pathJoin(ns, svc);
    else if (names.length > 0) host = names.join(',');
  }
  return port !== '' && port !== '0' ? joinHostPort(host, port) : host;
}

/** GetHostNames: the two host strings; the Ethernet MACs when the flow has no IP. */
export function hostNames(f: PrintableFlow, translate: boolean): [string, string] {
  if (!f.IP) return f.ethernet ? [f.ethernet.source ?? '', f.ethernet.destination ?? ''] : ['', ''];
  // As in hubble, a service's namespace replaces the endpoint's even when the pod name wins.
  const srcNs = f.source_service ? (f.source_service.namespace ?? '') : (f.source?.namespace ?? '');
  const dstNs = f.destination_service ? (f.destination_service.namespace ?? '') : (f.destination?.namespace ?? '');
  const [sp, dp] = ports(f);
  return [
    hostname(f.IP.source ?? '', sp, srcNs, f.source?.pod_name ?? '', f.source_service?.name ?? '', f.source_names ?? [], translate),
    hostname(f.IP.destination ?? '', dp, dstNs, f.destination?.pod_name ?? '', f.destination_service?.name ?? '', f.destination_names ?? [], translate),
  ];
}

/** The two identity texts: "(name)" for reserved identities, "(ID:n)" else; a missing endpoint is identity 0. */
export function identities(f: PrintableFlow): [string, string] {
  return [identityText(f.source?.identity ?? 0), identityText(f.destination?.identity ?? 0)];
}

const MSG_DROP = 1, MSG_CAPTURE = 3, MSG_TRACE = 4, MSG_POLICY_VERDICT = 5, MSG_TRACE_SOCK = 7;
const SOCK_POINTS: Readonly<Record<number, string>> = { 1: 'pre-xlate-fwd', 2: 'post-xlate-fwd', 3: 'pre-xlate-rev', 4: 'post-xlate-rev' };

/** GetFlowType: the TYPE word (L7 record kind, trace point, drop reason, policy verdict, socket translation point). */
export function flowType(f: PrintableFlow): string {
  const l7 = f.l7;
  if (l7) {
    let proto = 'l7';
    let kind = goEnumString('flow.L7FlowType', l7.type ?? 0).toLowerCase();
    if (l7.http) proto = 'http';
    else if (l7.dns) { proto = 'dns'; kind += ` ${l7.dns.observation_source ?? ''}`; }
    else if ((l7 as { kafka?: unknown }).kafka) proto = 'kafka';
    return `${proto}-${kind}`;
  }
  const et = f.event_type;
  const sub = et?.sub_type ?? 0;
  switch (et?.type ?? 0) {
    case MSG_TRACE: return traceObservationPoint(sub);
    case MSG_DROP: return dropReasonText(sub);
    case MSG_POLICY_VERDICT:
      return `policy-verdict:${policyMatchType(f.policy_match_type ?? 0)} ${goEnumString('flow.TrafficDirection', f.traffic_direction ?? 0)}`;
    case MSG_CAPTURE: return goEnumString('flow.DebugCapturePoint', f.debug_capture_point ?? 0);
    case MSG_TRACE_SOCK: {
      const p = f.sock_xlate_point ?? 0;
      return SOCK_POINTS[enumNumber(p, SocketTranslationPoint)] ?? goEnumString('flow.SocketTranslationPoint', p);
    }
    default: return 'UNKNOWN';
  }
}

/** The VERDICT word; policy-verdict events say ALLOWED / DENIED / AUDITED instead. */
export function verdictWord(f: PrintableFlow): string {
  const name = goEnumString('flow.Verdict', f.verdict ?? 0);
  if ((f.event_type?.type ?? 0) !== MSG_POLICY_VERDICT) return name;
  switch (name) {
    case 'FORWARDED': case 'REDIRECTED': return 'ALLOWED';
    case 'DROPPED': case 'ERROR': return 'DENIED';
    case 'AUDIT': return 'AUDITED';
    default: return name;
  }
}

/** The arrow and whether source and destination swap: `<>` unknown direction, `->` request, `<-` reply (swapped). */
export function arrow(f: PrintableFlow): { arrow: '<>' | '->' | '<-'; swap: boolean } {
  if (!f.is_reply) return { arrow: '<>', swap: false };
  return f.is_reply.value ? { arrow: '<-', swap: true } : { arrow: '->', swap: false };
}
