// `cilium-dbg monitor` text for cilium_events samples (pkg/monitor: TraceNotify.DumpInfo,
// DropNotify.DumpInfo, TraceSockNotify.DumpDebug, GetConnectionSummary).

import { u32ToIp } from '../wire/addr.ts';
import { decodeDropNotify, decodeTraceNotify, decodeTraceSockNotify, NOTIFY_OFF_TYPE, L4_PROTOCOL_TCP, L4_PROTOCOL_UDP,
  type TraceNotify } from '../../maps/notify.ts';
import { dropReasonText, notifyType, sourceFileName, tracePointRow, traceReasonText, xlatePointText } from '../../maps/monitor_api.ts';

/** What the formatter needs from the agent: interface names by ifindex. */
export interface MonitorResolver { ifname(ifindex: number): string }
export interface MonitorOptions { numeric?: boolean; debug?: boolean }

const RESERVED: Record<number, string> = { 1: 'host', 2: 'world', 3: 'unmanaged', 4: 'health', 5: 'init', 6: 'remote-node', 7: 'kube-apiserver', 8: 'ingress', 9: 'world-ipv4', 10: 'world-ipv6' };
const ICMP: Record<number, string> = { 0: 'EchoReply', 3: 'DestinationUnreachable', 8: 'EchoRequest', 11: 'TimeExceeded' };
const NOTIFY_DROP = notifyType('CILIUM_NOTIFY_DROP'), NOTIFY_TRACE = notifyType('CILIUM_NOTIFY_TRACE'), NOTIFY_TRACE_SOCK = notifyType('CILIUM_NOTIFY_TRACE_SOCK');

function be32(b: Uint8Array, o: number): number { return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0; }
function be16(b: Uint8Array, o: number): number { return (b[o]! << 8) | b[o + 1]!; }
function ident(id: number, numeric: boolean): string { return !numeric && RESERVED[id] ? RESERVED[id]! : String(id); }

/** TraceNotify.traceSummary(): the observation point's arrow text and its argument. */
function traceSummary(n: TraceNotify): string {
  const row = tracePointRow(n.obsPoint);
  if (!row) return 'unknown trace';
  switch (row.arg) {
    case 'dst_id': return `${row.summary} ${n.dstId}`;
    case 'source': return `${row.summary} ${n.source}`;
    case 'proxy_port': return row.summary + (n.dstId ? ` port ${n.dstId}` : '');
    default: return row.summary;
  }
}

/** GetConnectionSummary(): `src:port -> dst:port tcp SYN`, `src -> dst EchoRequest`. */
export function connectionSummary(p: Uint8Array): string {
  if (p.length < 14) return '[unknown]';
  const et = be16(p, 12);
  const mac = (o: number) => Array.from(p.subarray(o, o + 6), (x) => x.toString(16).padStart(2, '0')).join(':');
  if (et !== 0x0800 || p.length < 34) return `${mac(6)} -> ${mac(0)} ${et === 0x0806 ? 'ARP' : 'Unknown'}`;
  const ihl = (p[14]! & 15) * 4, proto = p[23]!, l4 = 14 + ihl;
  const s = u32ToIp(be32(p, 26)), d = u32ToIp(be32(p, 30));
  if (proto === 1 && p.length >= l4 + 2) return `${s} -> ${d} ${ICMP[p[l4]!] ?? `${p[l4]}(${p[l4 + 1]})`}`;
  if ((proto === 6 || proto === 17) && p.length >= l4 + 4) {
    let out = `${s}:${be16(p, l4)} -> ${d}:${be16(p, l4 + 2)} ${proto === 6 ? 'tcp' : 'udp'}`;
    if (proto === 6 && p.length >= l4 + 14) {
      const f = p[l4 + 13]!, names: string[] = [];
      if (f & 2) names.push('SYN'); if (f & 16) names.push('ACK'); if (f & 4) names.push('RST'); if (f & 1) names.push('FIN');
      out += ' ' + names.join(', ');
    }
    return out;
  }
  return `${s} -> ${d}`;
}

const rol = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;
/** The kernel's jhash_3words (lib/jhash.h __jhash_final over a, b, c with initval). */
function jhash3(a: number, b: number, c: number, initval: number): number {
  const iv = (0xdeadbeef + (3 << 2) + initval) >>> 0;
  a = (a + iv) >>> 0; b = (b + iv) >>> 0; c = (c + iv) >>> 0;
  c ^= b; c = (c - rol(b, 14)) >>> 0; a ^= c; a = (a - rol(c, 11)) >>> 0; b ^= a; b = (b - rol(a, 25)) >>> 0;
  c ^= b; c = (c - rol(b, 16)) >>> 0; a ^= c; a = (a - rol(c, 4)) >>> 0; b ^= a; b = (b - rol(a, 14)) >>> 0;
  c ^= b; c = (c - rol(b, 24)) >>> 0;
  return c >>> 0;
}
/** hashrnd is random per boot; one fixed value keeps runs deterministic. */
const HASHRND = 0x5eed0003;

/**
 * skb_get_hash of an Ethernet/IPv4 frame: flow_hash_from_keys over the
 * 4-tuple made direction-independent (__flow_hash_consistentify), never 0.
 * The datapath's samples carry hash 0 (the emulated skb has none), so the
 * monitor shows this one instead.
 */
export function flowHash(p: Uint8Array): number {
  if (p.length < 34 || be16(p, 12) !== 0x0800) return 0;
  const ihl = (p[14]! & 15) * 4, proto = p[23]!, l4 = 14 + ihl;
  let s = be32(p, 26), d = be32(p, 30);
  let sp = 0, dp = 0;
  if ((proto === 6 || proto === 17) && p.length >= l4 + 4) { sp = be16(p, l4); dp = be16(p, l4 + 2); }
  if (d < s || (d === s && dp < sp)) { [s, d] = [d, s]; [sp, dp] = [dp, sp]; }
  const h = jhash3(d, s, ((dp << 16) | sp) >>> 0, (HASHRND ^ proto) >>> 0);
  return h || 1;
}

/** One monitor line for a sample, or null when `cilium-dbg monitor` prints nothing for it at this verbosity. */
export function formatMonitorEvent(data: Uint8Array, resolver: MonitorResolver, opts: MonitorOptions = {}): string | null {
  const numeric = opts.numeric ?? false;
  switch (data[NOTIFY_OFF_TYPE]) {
    case NOTIFY_TRACE: {
      const n = decodeTraceNotify(data);
      const orig = u32ToIp(n.origIp);
      const hash = n.hash || flowHash(n.payload);
      return `${traceSummary(n)} flow 0x${hash.toString(16)} , identity ${ident(n.srcLabel, numeric)}->${ident(n.dstLabel, numeric)} ` +
        `state ${traceReasonText(n.reason)} ifindex ${resolver.ifname(n.ifindex)} orig-ip ${orig}: ${connectionSummary(n.payload)}`;
    }
    case NOTIFY_DROP: {
      const n = decodeDropNotify(data);
      const hash = n.hash || flowHash(n.payload);
      return `xx drop (${dropReasonText(n.reason)}) flow 0x${hash.toString(16)} to endpoint ${n.dstId}, ifindex ${n.ifindex}, ` +
        `file ${sourceFileName(n.file)}:${n.line}, , identity ${ident(n.srcLabel, numeric)}->${ident(n.dstLabel, numeric)}: ${connectionSummary(n.payload)}`;
    }
    case NOTIFY_TRACE_SOCK: {
      if (!opts.debug) return null;
      const n = decodeTraceSockNotify(data);
      const proto = n.l4Proto === L4_PROTOCOL_TCP ? 'tcp' : n.l4Proto === L4_PROTOCOL_UDP ? 'udp' : 'unknown';
      return `[${xlatePointText(n.xlatePoint)}] cgroup_id: ${n.cgroupId} sock_cookie: ${n.sockCookie}, dst [${u32ToIp(n.dstIp)}]:${n.dstPort} ${proto} `;
    }
    default: return null;
  }
}

/** The two lines `cilium-dbg monitor` prints before events. */
export function monitorHeader(ncpus: number): string[] {
  return [`Listening for events on ${ncpus} CPUs with 64x4096 of shared memory`, 'Press Ctrl-C to quit'];
}
