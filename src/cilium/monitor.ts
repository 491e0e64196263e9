// `cilium-dbg monitor` text for cilium_events samples (pkg/monitor: TraceNotify.DumpInfo,
// DropNotify.DumpInfo, TraceSockNotify.DumpDebug, GetConnectionSummary).

import { u32ToIp } from '../wire/addr.ts';

/** What the formatter needs from the agent: interface names by ifindex. */
export interface MonitorResolver { ifname(ifindex: number): string }
export interface MonitorOptions { numeric?: boolean; debug?: boolean }

const OBS: Record<number, (dstId: number, source: number) => string> = {
  0: (d) => `-> endpoint ${d}`, 1: (d) => '-> proxy' + (d ? ` port ${d}` : ''), 2: () => '-> host from', 3: () => '-> stack',
  4: () => '-> overlay', 5: (_d, s) => `<- endpoint ${s}`, 6: () => '<- proxy', 7: () => '<- host', 8: () => '<- stack',
  9: () => '<- overlay', 10: () => '<- network', 11: () => '-> network', 12: () => '<- crypto', 13: () => '-> crypto',
};
const REASONS = ['new', 'established', 'reply', 'related', 'reopened', 'unknown', 'srv6-encap', 'srv6-decap', 'encrypt-overlay'];
const RESERVED: Record<number, string> = { 1: 'host', 2: 'world', 3: 'unmanaged', 4: 'health', 5: 'init', 6: 'remote-node', 7: 'kube-apiserver', 8: 'ingress', 9: 'world-ipv4', 10: 'world-ipv6' };
const FILES: Record<number, string> = { 1: 'bpf_host.c', 2: 'bpf_lxc.c', 3: 'bpf_overlay.c', 4: 'bpf_xdp.c', 5: 'bpf_sock.c', 7: 'bpf_wireguard.c',
  101: 'drop.h', 104: 'nodeport.h', 105: 'lb.h', 107: 'ipv4.h', 108: 'conntrack.h', 109: 'local_delivery.h', 110: 'trace.h', 111: 'encap.h' };
/** pkg/monitor/api drop reasons used by the datapath. */
export const DROP_REASONS: Record<number, string> = {
  130: 'Invalid source mac', 131: 'Invalid destination mac', 132: 'Invalid source ip', 133: 'Policy denied', 134: 'Invalid packet',
  135: 'CT: Truncated or invalid header', 136: 'Fragmentation needed', 137: 'CT: Unknown L4 protocol', 139: 'Unsupported L3 protocol',
  140: 'Missed tail call', 141: 'Error writing to packet', 142: 'Unknown L4 protocol', 150: 'Unknown L3 target address',
  151: 'Stale or unroutable IP', 153: 'Error while correcting L3 checksum', 154: 'Error while correcting L4 checksum',
  155: 'CT: Map insertion failed', 157: 'IP fragmentation not supported', 158: 'Service backend not found',
  160: 'No tunnel/encapsulation endpoint (datapath BUG!)', 164: 'Local host is unreachable', 166: 'Unsupported L2 protocol',
  167: 'No mapping for NAT masquerade', 168: 'Unsupported protocol for NAT masquerade', 169: 'FIB lookup failed', 196: 'TTL exceeded',
};
/** monitorAPI.DropReason(): the text for a metrics/drop reason code (0 counts forwarded packets: "Success"). */
export function dropReasonText(reason: number): string { return reason === 0 ? 'Success' : DROP_REASONS[reason] ?? String(reason); }
/** monitorAPI.BPFFileName(). */
export function fileName(id: number): string { return FILES[id] ?? `unknown(${id})`; }
const ICMP: Record<number, string> = { 0: 'EchoReply', 3: 'DestinationUnreachable', 8: 'EchoRequest', 11: 'TimeExceeded' };

function le16(b: Uint8Array, o: number): number { return b[o]! | (b[o + 1]! << 8); }
function le32(b: Uint8Array, o: number): number { return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0; }
function be32(b: Uint8Array, o: number): number { return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0; }
function be16(b: Uint8Array, o: number): number { return (b[o]! << 8) | b[o + 1]!; }
function ident(id: number, numeric: boolean): string { return !numeric && RESERVED[id] ? RESERVED[id]! : String(id); }

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
  switch (data[0]) {
    case 4: {
      const version = le16(data, 14), hdr = version >= 1 ? 48 : 32;
      const obs = OBS[data[1]!];
      const summary = obs ? obs(le16(data, 24), le16(data, 2)) : 'unknown trace';
      const reason = data[26]! & 0x7f;
      const orig = version >= 1 ? u32ToIp(be32(data, 32)) : '0.0.0.0';
      const hash = le32(data, 4) || flowHash(data.subarray(hdr));
      return `${summary} flow 0x${hash.toString(16)} , identity ${ident(le32(data, 16), numeric)}->${ident(le32(data, 20), numeric)} ` +
        `state ${REASONS[reason] ?? String(data[26])} ifindex ${resolver.ifname(le32(data, 28))} orig-ip ${orig}: ${connectionSummary(data.subarray(hdr))}`;
    }
    case 1: {
      const hdr = le16(data, 14) >= 2 ? 40 : 36;
      const reason = DROP_REASONS[data[1]!] ?? String(data[1]);
      const hash = le32(data, 4) || flowHash(data.subarray(hdr));
      return `xx drop (${reason}) flow 0x${hash.toString(16)} to endpoint ${le32(data, 24)}, ifindex ${le32(data, 32)}, ` +
        `file ${FILES[data[30]!] ?? `unknown(${data[30]})`}:${le16(data, 28)}, , identity ${ident(le32(data, 16), numeric)}->${ident(le32(data, 20), numeric)}: ${connectionSummary(data.subarray(hdr))}`;
    }
    case 7: {
      if (!opts.debug) return null;
      const pts = ['unknown', 'pre-xlate-fwd', 'post-xlate-fwd', 'pre-xlate-rev', 'post-xlate-rev'];
      const cookie = le32(data, 20) + le32(data, 24) * 0x100000000, cg = le32(data, 28) + le32(data, 32) * 0x100000000;
      const proto = data[36] === 1 ? 'tcp' : data[36] === 2 ? 'udp' : 'unknown';
      return `[${pts[data[1]!] ?? 'unknown'}] cgroup_id: ${cg} sock_cookie: ${cookie}, dst [${u32ToIp(be32(data, 2))}]:${le16(data, 18)} ${proto} `;
    }
    default: return null;
  }
}

/** The two lines `cilium-dbg monitor` prints before events. */
export function monitorHeader(ncpus: number): string[] {
  return [`Listening for events on ${ncpus} CPUs with 64x4096 of shared memory`, 'Press Ctrl-C to quit'];
}
