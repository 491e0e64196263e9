// ngrep 1.47's output (ngrep.c process/dump_packet/dump_byline): the
// `interface:` and `filter:` lines, a `#` for every frame the filter passes,
// and for each frame whose payload matches the expression a block
// "\nT [TIME ]SRC:SPORT -> DST:DPORT [FLAGS] #FRAME" followed by the payload
// (-W byline: newlines kept, other non-printables as '.') and an empty line.
// Frames without payload never match (no -e). Seed 000 runs
// `ngrep -tW byline -d eth0 '' 'tcp port 80'` on a kind node.

import { readU16, u32ToIp } from './addr.ts';
import { ETH_HLEN, ETH_P_IP, ethType } from './ethernet.ts';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, ipDaddr, ipIhl, ipProto, ipSaddr, ipTotLen } from './ipv4.ts';
import { TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG, tcpFlags, tcpHdrLen } from './tcp.ts';

export interface NgrepOptions {
  /** -t: the absolute time before the addresses. */
  time?: boolean;
  /** -W byline (else -W normal is not emulated: byline is used). */
  byline?: boolean;
  /** The match expression (a regular expression over the payload); '' matches every payload. */
  pattern?: string;
}

/** The flag letters in ngrep's order: A S R F U P E C. */
const FLAG_LETTERS: ReadonlyArray<[number, string]> = [[TCP_ACK, 'A'], [TCP_SYN, 'S'], [TCP_RST, 'R'], [TCP_FIN, 'F'], [TCP_URG, 'U'], [TCP_PSH, 'P'], [TCP_ECE, 'E'], [TCP_CWR, 'C']];
const IDENT: Record<number, string> = { [IPPROTO_TCP]: 'T', [IPPROTO_UDP]: 'U', [IPPROTO_ICMP]: 'I' };

/** `interface: DEV (NET/MASK)` and `filter: ( EXPR ) and ...` as ngrep prints them before the first frame. */
export function ngrepHeader(dev: string, addr: number | undefined, prefixLen: number, filter: string): string {
  let out = `interface: ${dev}`;
  if (addr !== undefined && prefixLen > 0) {
    const mask = prefixLen === 32 ? 0xffffffff : (0xffffffff << (32 - prefixLen)) >>> 0;
    out += ` (${u32ToIp((addr & mask) >>> 0)}/${u32ToIp(mask)})`;
  }
  // lo and any get the filter without the VLAN alternative (BPF_MAIN_FILTER).
  const tail = dev.startsWith('lo') || dev === 'any' ? '(ip || ip6)' : '((ip || ip6) || (vlan && (ip || ip6)))';
  const expr = filter.trim() === '' ? tail : `( ${filter.trim()} ) and ${tail}`;
  return `${out}\nfilter: ${expr}\n`;
}

const two = (n: number): string => String(n).padStart(2, '0');

/** print_time_absolute: "YYYY/MM/DD HH:MM:SS.uuuuuu " in the node's local time (UTC here). */
function stamp(wallMs: number): string {
  const us = Math.floor(wallMs * 1000), d = new Date(Math.floor(us / 1000));
  return `${d.getUTCFullYear()}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.${String(us % 1_000_000).padStart(6, '0')} `;
}

export class NgrepPrinter {
  private seen = 0;
  private readonly re: RegExp | undefined;
  constructor(readonly opts: NgrepOptions = {}) {
    this.re = opts.pattern ? new RegExp(opts.pattern, 's') : undefined;
  }

  /** What ngrep prints for one frame the BPF filter passed: its `#`, and its block when the payload matches. */
  frame(f: Uint8Array, wallMs: number): string {
    this.seen++;
    if (f.length < ETH_HLEN + 20 || ethType(f) !== ETH_P_IP) return '#';
    const o = ETH_HLEN, ihl = ipIhl(f, o), proto = ipProto(f, o), l4 = o + ihl;
    const end = Math.min(f.length, o + ipTotLen(f, o));
    const hdr = proto === IPPROTO_TCP ? tcpHdrLen(f, l4) : proto === IPPROTO_UDP ? 8 : proto === IPPROTO_ICMP ? 4 : 0;
    const data = f.subarray(Math.min(end, l4 + hdr), end);
    if (data.length === 0) return '#';
    const text = Array.from(data, (b) => String.fromCharCode(b)).join('');
    if (this.re && !this.re.test(text)) return '#';
    const src = u32ToIp(ipSaddr(f, o)), dst = u32ToIp(ipDaddr(f, o));
    let line = `\n${IDENT[proto] ?? '?'} ${this.opts.time ? stamp(wallMs) : ''}`;
    line += proto === IPPROTO_TCP || proto === IPPROTO_UDP ? `${src}:${readU16(f, l4)} -> ${dst}:${readU16(f, l4 + 2)}` : `${src} -> ${dst}`;
    if (proto === IPPROTO_TCP) {
      const fl = tcpFlags(f, l4);
      if (fl) line += ` [${FLAG_LETTERS.filter(([bit]) => fl & bit).map(([, c]) => c).join('')}]`;
    }
    if (proto === IPPROTO_ICMP) line += ` ${f[l4]}:${f[l4 + 1]}`;
    return `#${line} #${this.seen}\n${byline(data)}\n`;
  }
}

/** dump_byline: newline and printable ASCII as is, anything else as '.'. */
function byline(data: Uint8Array): string {
  let s = '';
  for (const b of data) s += b === 10 || (b >= 0x20 && b < 0x7f) ? String.fromCharCode(b) : '.';
  return s;
}
