// Small text helpers shared by the parser and the printers.

import { ipToU32, prefixMask, u32ToIp } from '../wire/addr.ts';
import { paramError } from './errors.ts';
import { servicePort } from './services.ts';

/**
 * xtables_save_string: bare when non-empty and only [_-0-9A-Za-z], else in
 * double quotes with `"`, `\` and `'` backslash-escaped.
 */
export function saveString(s: string): string {
  if (/^[_\-0-9A-Za-z]+$/.test(s)) return s;
  return '"' + s.replace(/["\\']/g, (c) => '\\' + c) + '"';
}

/** Hex as iptables prints marks: 0x%x. */
export const hex = (v: number) => '0x' + (v >>> 0).toString(16);

/** strtoul(s, 0): decimal, 0x hex or 0 octal; undefined when not a whole number. */
export function parseUint(s: string, max = 0xffffffff): number | undefined {
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) v = parseInt(s.slice(2), 16);
  else if (/^0[0-7]*$/.test(s)) v = parseInt(s, 8);
  else if (/^[1-9][0-9]*$/.test(s)) v = Number(s);
  else return undefined;
  return v <= max ? v : undefined;
}

/** An address or CIDR as -s/-d take it: "10.0.0.1", "10.0.0.0/8", "10.0.0.0/255.0.0.0". */
export function parseHostNet(s: string): { ip: number; mask: number; len: number } {
  const slash = s.indexOf('/');
  const host = slash < 0 ? s : s.slice(0, slash);
  let len = 32;
  if (slash >= 0) {
    const m = s.slice(slash + 1);
    if (/^\d{1,2}$/.test(m) && Number(m) <= 32) len = Number(m);
    else {
      let mv: number;
      try { mv = ipToU32(m); } catch { throw paramError(`invalid mask \`${m}' specified`); }
      len = maskLen(mv);
      if (len < 0) throw paramError(`invalid mask \`${m}' specified`);
    }
  }
  let ip: number;
  try { ip = ipToU32(host); } catch { throw paramError(`host/network \`${host}' not found`); }
  const mask = prefixMask(len);
  return { ip: (ip & mask) >>> 0, mask, len };
}

function maskLen(m: number): number {
  let len = 0;
  while (len < 32 && (m & (0x80000000 >>> len)) !== 0) len++;
  return prefixMask(len) === (m >>> 0) ? len : -1;
}

/** ip/len as iptables-save prints it (always with the prefix length). */
export const cidr = (ip: number, len: number) => `${u32ToIp(ip)}/${len}`;

/** xtables_parse_port: a number 0..65535 or a service name. */
export function parsePort(s: string, proto: string): number {
  const v = parseUint(s, 65535);
  if (v !== undefined && /^\d+$/.test(s)) return v;
  const named = servicePort(s, proto);
  if (named !== undefined) return named;
  throw paramError(`invalid port/service \`${s}' specified`);
}

/** "a", "a:b", "a:" or ":b" as a port range. */
export function parsePortRange(s: string, proto: string): [number, number] {
  const i = s.indexOf(':');
  if (i < 0) { const p = parsePort(s, proto); return [p, p]; }
  const lo = i === 0 ? 0 : parsePort(s.slice(0, i), proto);
  const hi = i === s.length - 1 ? 65535 : parsePort(s.slice(i + 1), proto);
  if (lo > hi) throw paramError(`invalid portrange (min > max)`);
  return [lo, hi];
}

/** Protocol names iptables knows without /etc/protocols. */
export const PROTO_BY_NAME: Record<string, number> = { all: 0, icmp: 1, igmp: 2, tcp: 6, udp: 17, gre: 47, esp: 50, ah: 51, icmpv6: 58, sctp: 132, udplite: 136 };
export const PROTO_NAME: Record<number, string> = Object.fromEntries(Object.entries(PROTO_BY_NAME).map(([n, v]) => [v, n]));

export function parseProto(s: string): number {
  const lower = s.toLowerCase();
  if (lower in PROTO_BY_NAME) return PROTO_BY_NAME[lower]!;
  const v = parseUint(s, 255);
  if (v !== undefined && /^\d+$/.test(s)) return v;
  throw paramError(`unknown protocol "${s}" specified`);
}
