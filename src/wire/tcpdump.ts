// One frame as `tcpdump -nn` prints it (tcpdump 4.99 default verbosity),
// including relative TCP sequence numbers, DNS, HTTP first lines and VXLAN/OTV.

import { macToString, readU16, readU32, u32ToIp } from './addr.ts';
import { ARPOP_REPLY, ARPOP_REQUEST, arpIsEthIpv4, arpOp, arpSenderIp, arpSenderMac, arpTargetIp, arpTargetMac } from './arp.ts';
import { ETH_HLEN, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, ethType } from './ethernet.ts';
import { ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_TIME_EXCEEDED } from './icmp.ts';
import { IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_TCP, IPPROTO_UDP, ipDaddr, ipIhl, ipProto, ipSaddr, ipTotLen } from './ipv4.ts';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TCP_URG, tcpAck, tcpFlags, tcpHdrLen, tcpSeq } from './tcp.ts';
import { tcpdumpDns } from './tcpdump_dns.ts';
import { VXLAN_PORT_CILIUM, VXLAN_PORT_IANA } from './vxlan.ts';

export interface TcpdumpOptions {
  /** -e: print the link-level header. */
  link?: boolean;
  /** -S: absolute TCP sequence numbers. */
  absoluteSeq?: boolean;
  /** -q: quiet, "tcp LENGTH" after the ports (print-tcp.c ndo_qflag). */
  quiet?: boolean;
}

/** "HH:MM:SS.uuuuuu" in UTC from wall-clock milliseconds. */
export function tcpdumpTime(wallMs: number): string {
  let us = Math.round(wallMs * 1000);
  const frac = us % 1_000_000; us = (us - frac) / 1_000_000;
  const d = new Date(us * 1000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${String(frac).padStart(6, '0')}`;
}

const TCP_FLAG_CHARS: ReadonlyArray<[number, string]> = [[0x01, 'F'], [0x02, 'S'], [0x04, 'R'], [0x08, 'P'], [0x10, '.'], [0x20, 'U'], [0x40, 'E'], [0x80, 'W']];
/** "S.", "P.", "F.", "R", or "none", in tcpdump's order. */
export function tcpdumpFlags(flags: number): string {
  let s = '';
  for (const [bit, c] of TCP_FLAG_CHARS) if (flags & bit) s += c;
  return s === '' ? 'none' : s;
}

const ETHERTYPE_NAMES: Record<number, string> = { [ETH_P_IP]: 'IPv4', [ETH_P_ARP]: 'ARP', [ETH_P_IPV6]: 'IPv6', 0x8100: '802.1Q' };
const HTTP_PORTS = new Set([80, 8080, 3128]);
const HTTP_METHODS = /^(GET|HEAD|POST|PUT|DELETE|CONNECT|OPTIONS|TRACE|PATCH|PROPFIND|PROPPATCH|MKCOL|COPY|MOVE|LOCK|UNLOCK) /;

/** tcpdump's per-connection state for relative sequence numbers (print-tcp.c tcp_seq_hash). */
interface SeqBase { seq: number; ack: number }

export class TcpdumpFormatter {
  private readonly seqs = new Map<string, SeqBase>();
  constructor(readonly opts: TcpdumpOptions = {}) {}

  /** Forget all TCP connections (as a new tcpdump process would). */
  reset(): void { this.seqs.clear(); }

  /** One line per frame; an encapsulated frame adds its inner frame on the next line. */
  format(frame: Uint8Array, wallMs: number): string {
    return `${tcpdumpTime(wallMs)} ${this.ether(frame)}`;
  }

  private ether(f: Uint8Array): string {
    if (f.length < ETH_HLEN) return '[|ether]';
    const type = ethType(f);
    let prefix = '';
    if (this.opts.link) {
      const name = ETHERTYPE_NAMES[type] ?? 'Unknown';
      prefix = `${macToString(f.subarray(6, 12))} > ${macToString(f.subarray(0, 6))}, ethertype ${name} (0x${type.toString(16).padStart(4, '0')}), length ${f.length}: `;
    }
    if (type === ETH_P_IP) return prefix + (this.opts.link ? '' : 'IP ') + this.ipv4(f, ETH_HLEN);
    if (type === ETH_P_ARP) return prefix + (this.opts.link ? '' : 'ARP, ') + arp(f, ETH_HLEN);
    if (this.opts.link) return prefix.slice(0, -2);
    return `ethertype ${ETHERTYPE_NAMES[type] ?? 'Unknown'} (0x${type.toString(16).padStart(4, '0')}), length ${f.length}`;
  }

  private ipv4(f: Uint8Array, o: number): string {
    if (f.length < o + 20 || (f[o]! >>> 4) !== 4) return '[|ip]';
    const ihl = ipIhl(f, o), tot = Math.min(ipTotLen(f, o), f.length - o);
    const src = u32ToIp(ipSaddr(f, o)), dst = u32ToIp(ipDaddr(f, o));
    const l4 = o + ihl, l4len = tot - ihl;
    const frag = readU16(f, o + 6) & 0x1fff;
    const proto = ipProto(f, o);
    if (frag !== 0) return `${src} > ${dst}: ip-proto-${proto}`;
    if (proto === IPPROTO_TCP && l4len >= 20) return this.tcp(f, l4, l4len, src, dst);
    if (proto === IPPROTO_UDP && l4len >= 8) return this.udp(f, l4, l4len, src, dst);
    if (proto === IPPROTO_ICMP && l4len >= 8) return `${src} > ${dst}: ICMP ${icmp(f, l4)}, length ${l4len}`;
    // print-ip-demux.c (4.99): IP-in-IP prints the inner packet after the outer addresses (4.9's " (ipip-proto-4)" suffix is gone).
    if (proto === IPPROTO_IPIP && l4len >= 20) return `${src} > ${dst}: ${this.opts.link ? '' : 'IP '}${this.ipv4(f.subarray(0, l4 + l4len), l4)}`;
    return `${src} > ${dst}:  ip-proto-${proto} ${l4len}`;
  }

  private tcp(f: Uint8Array, o: number, l4len: number, src: string, dst: string): string {
    const sport = readU16(f, o), dport = readU16(f, o + 2);
    const flags = tcpFlags(f, o), hl = tcpHdrLen(f, o);
    const len = l4len - hl;
    if (this.opts.quiet) return `${src}.${sport} > ${dst}.${dport}: tcp ${len}`;
    let seq = tcpSeq(f, o), ack = tcpAck(f, o);
    if (!this.opts.absoluteSeq && (flags & TCP_ACK)) [seq, ack] = this.relative(src, dst, sport, dport, flags, seq, ack);
    let s = `${src}.${sport} > ${dst}.${dport}: Flags [${tcpdumpFlags(flags)}]`;
    if (len > 0 || (flags & (TCP_SYN | TCP_FIN | TCP_RST))) {
      s += `, seq ${seq}`;
      if (len > 0) s += `:${(seq + len) >>> 0}`;
    }
    if (flags & TCP_ACK) s += `, ack ${ack}`;
    s += `, win ${readU16(f, o + 14)}`;
    if (flags & TCP_URG) s += `, urg ${readU16(f, o + 18)}`;
    if (hl > 20) s += `, options [${tcpOptions(f, o + 20, Math.min(hl, l4len) - 20)}]`;
    s += `, length ${len}`;
    if (len > 0 && (HTTP_PORTS.has(sport) || HTTP_PORTS.has(dport))) s += httpFirstLine(f, o + hl, len);
    return s;
  }

  /** print-tcp.c: the first ACK-bearing segment (or any SYN-ACK) sets the bases; later ones print offsets. */
  private relative(src: string, dst: string, sport: number, dport: number, flags: number, seq: number, ack: number): [number, number] {
    const rev = sport > dport || (sport === dport && src > dst);
    const key = rev ? `${dst}.${dport}>${src}.${sport}` : `${src}.${sport}>${dst}.${dport}`;
    const th = this.seqs.get(key);
    if (!th || (flags & TCP_SYN)) {
      this.seqs.set(key, rev ? { ack: seq, seq: (ack - 1) >>> 0 } : { seq, ack: (ack - 1) >>> 0 });
      return [seq, ack];
    }
    return rev ? [(seq - th.ack) >>> 0, (ack - th.seq) >>> 0] : [(seq - th.seq) >>> 0, (ack - th.ack) >>> 0];
  }

  private udp(f: Uint8Array, o: number, l4len: number, src: string, dst: string): string {
    const sport = readU16(f, o), dport = readU16(f, o + 2);
    const ulen = Math.min(readU16(f, o + 4), l4len);
    const head = `${src}.${sport} > ${dst}.${dport}:`;
    const p = o + 8, plen = ulen - 8;
    if (sport === 53 || dport === 53) return head + ' ' + tcpdumpDns(f.subarray(p, p + plen)).trimStart();
    const otv = sport === VXLAN_PORT_CILIUM || dport === VXLAN_PORT_CILIUM;
    if ((otv || sport === VXLAN_PORT_IANA || dport === VXLAN_PORT_IANA) && plen >= 8) {
      const fl = f[p]!, flagStr = `flags [${fl & 0x08 ? 'I' : '.'}] (0x${fl.toString(16).padStart(2, '0')})`;
      const vni = readU32(f, p + 4) >>> 8;
      const hdr = otv ? `OTV, ${flagStr}, overlay ${readU32(f, p) & 0xffffff}, instance ${vni}` : `VXLAN, ${flagStr}, vni ${vni}`;
      return `${head} ${hdr}\n${this.ether(f.subarray(p + 8, p + plen))}`;
    }
    return `${head} UDP, length ${plen}`;
  }
}

function arp(f: Uint8Array, o: number): string {
  const len = f.length - o;
  if (!arpIsEthIpv4(f, o)) return `[|arp], length ${len}`;
  const op = arpOp(f, o);
  const spa = u32ToIp(arpSenderIp(f, o)), tpa = u32ToIp(arpTargetIp(f, o));
  if (op === ARPOP_REQUEST) {
    const tha = arpTargetMac(f, o);
    const known = tha.some((b) => b !== 0) ? ` (${macToString(tha)})` : '';
    return `Request who-has ${tpa}${known} tell ${spa}, length ${len}`;
  }
  if (op === ARPOP_REPLY) return `Reply ${spa} is-at ${macToString(arpSenderMac(f, o))}, length ${len}`;
  return `Unknown opcode ${op}, length ${len}`;
}

const UNREACH_CODES: Record<number, (d: string, q: Uint8Array, qo: number) => string> = {
  0: (d) => `net ${d} unreachable`,
  1: (d) => `host ${d} unreachable`,
  2: (d, q, qo) => `${d} protocol ${q[qo + 9]} unreachable`,
  3: (d, q, qo) => {
    const p = q[qo + 9];
    const name = p === IPPROTO_TCP ? 'tcp' : p === IPPROTO_UDP ? 'udp' : `proto-${p}`;
    return `${d} ${name} port ${readU16(q, qo + ipIhl(q, qo) + 2)} unreachable`;
  },
  4: (d, q, qo) => `${d} unreachable - need to frag (mtu ${readU16(q, qo - 2)})`,
  13: (d) => `host ${d} unreachable - admin prohibited filter`,
};

function icmp(f: Uint8Array, o: number): string {
  const type = f[o]!, code = f[o + 1]!;
  if (type === ICMP_ECHO || type === ICMP_ECHOREPLY) return `echo ${type === ICMP_ECHO ? 'request' : 'reply'}, id ${readU16(f, o + 4)}, seq ${readU16(f, o + 6)}`;
  if (type === ICMP_DEST_UNREACH && f.length >= o + 8 + 20) {
    const qo = o + 8, d = u32ToIp(readU32(f, qo + 16));
    const fmt = UNREACH_CODES[code];
    if (fmt && (code !== 3 || f.length >= qo + ipIhl(f, qo) + 4)) return fmt(d, f, qo);
    return `${d} unreachable - code ${code}`;
  }
  if (type === ICMP_TIME_EXCEEDED) return code === 0 ? 'time exceeded in-transit' : 'ip reassembly time exceeded';
  return `type-#${type}`;
}

function tcpOptions(f: Uint8Array, o: number, len: number): string {
  const out: string[] = [];
  const end = o + len;
  while (o < end) {
    const kind = f[o]!;
    if (kind === 0) { out.push('eol'); break; }
    if (kind === 1) { out.push('nop'); o++; continue; }
    const l = f[o + 1] ?? 0;
    if (l < 2 || o + l > end) { out.push('bad opt'); break; }
    if (kind === 2 && l === 4) out.push(`mss ${readU16(f, o + 2)}`);
    else if (kind === 3 && l === 3) out.push(`wscale ${f[o + 2]}`);
    else if (kind === 4) out.push('sackOK');
    else if (kind === 8 && l === 10) out.push(`TS val ${readU32(f, o + 2)} ecr ${readU32(f, o + 6)}`);
    else if (kind === 5) {
      const blocks: string[] = [];
      for (let i = o + 2; i + 8 <= o + l; i += 8) blocks.push(`{${readU32(f, i)}:${readU32(f, i + 4)}}`);
      out.push(`sack ${blocks.length} ${blocks.join('')}`);
    } else out.push(`unknown-${kind}`);
    o += l;
  }
  return out.join(',');
}

/** ": HTTP: <request or status line>" if the segment starts one, as print-http.c does. */
function httpFirstLine(f: Uint8Array, o: number, len: number): string {
  const end = Math.min(o + len, f.length);
  let i = o;
  while (i < end && f[i] !== 0x0d && f[i] !== 0x0a) i++;
  const line = new TextDecoder('latin1').decode(f.subarray(o, i));
  if (!HTTP_METHODS.test(line) && !line.startsWith('HTTP/')) return '';
  return `: HTTP: ${line}`;
}
