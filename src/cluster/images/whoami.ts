// traefik/whoami: Hostname, every interface IP (Go's net.Interfaces order),
// RemoteAddr, then the request as Go's Request.Write serializes it.

import type { Netns } from '../../kernel/api.ts';
import type { Sim } from '../../sim/sim.ts';
import { ipv6ToString } from '../../wire/ipv6addr.ts';
import type { HttpMessage } from '../../wire/http.ts';
import { dotted, httpDate, serveHttp, type HttpReply } from './http_server.ts';
import { goIo } from './app_io.ts';

/** fe80::/64 address from a MAC by modified EUI-64 (flip the U/L bit, insert ff:fe). */
export function linkLocalFromMac(mac: Uint8Array): string {
  const b = new Uint8Array(16);
  b[0] = 0xfe; b[1] = 0x80;
  b[8] = mac[0]! ^ 0x02; b[9] = mac[1]!; b[10] = mac[2]!; b[11] = 0xff; b[12] = 0xfe; b[13] = mac[3]!; b[14] = mac[4]!; b[15] = mac[5]!;
  return ipv6ToString(b);
}

/** Interface addresses in ifindex order, v4 then v6 per interface, as Go lists them. */
export function interfaceIps(netns: Netns): string[] {
  const out: string[] = [];
  for (const d of [...netns.devices.values()].sort((a, b) => a.ifindex - b.ifindex)) {
    for (const a of d.addrs) out.push(dotted(a.ip));
    if (d.kind === 'loopback') out.push('::1');
    else out.push(linkLocalFromMac(d.mac));
  }
  return out;
}

/** Go's textproto.CanonicalMIMEHeaderKey. */
export function canonicalHeaderKey(k: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(k)) return k;
  return k.toLowerCase().replace(/(^|-)([a-z])/g, (_m, sep: string, c: string) => sep + c.toUpperCase());
}

const EXCLUDED = new Set(['Host', 'User-Agent', 'Content-Length', 'Transfer-Encoding', 'Trailer']);

/** Request.Write: request line, Host, User-Agent, Content-Length, other headers sorted by key, blank line, body. */
export function goRequestWrite(req: HttpMessage): string {
  const get = (n: string): string | undefined => req.headers.find(([k]) => canonicalHeaderKey(k) === n)?.[1];
  let s = `${req.method} ${req.path} HTTP/1.1\r\nHost: ${get('Host') ?? ''}\r\n`;
  const ua = get('User-Agent') ?? 'Go-http-client/1.1';
  if (ua !== '') s += `User-Agent: ${ua}\r\n`;
  if (req.body.length > 0) s += `Content-Length: ${req.body.length}\r\n`;
  const rest = req.headers.map(([k, v]) => [canonicalHeaderKey(k), v] as const).filter(([k]) => !EXCLUDED.has(k));
  const keys = [...new Set(rest.map(([k]) => k))].sort();
  for (const k of keys) for (const [kk, v] of rest) if (kk === k) s += `${k}: ${v}\r\n`;
  return s + '\r\n' + new TextDecoder().decode(req.body);
}

export function whoamiBody(hostname: string, ips: string[], remoteAddr: string, req: HttpMessage, name?: string): string {
  let s = name ? `Name: ${name}\n` : '';
  s += `Hostname: ${hostname}\n`;
  for (const ip of ips) s += `IP: ${ip}\n`;
  s += `RemoteAddr: ${remoteAddr}\n`;
  return s + goRequestWrite(req);
}

export function goTextReply(sim: Sim, body: string, status = 200, reason = 'OK'): HttpReply {
  const len = new TextEncoder().encode(body).length;
  return { status, reason, headers: [['Date', httpDate(sim)], ['Content-Length', String(len)], ['Content-Type', 'text/plain; charset=utf-8']], body };
}

/** confined: whoami's container runs under AppArmor (a Go server: read(2)/write(2) on every connection). */
export function startWhoami(netns: Netns, sim: Sim, hostname: string, port = 80, name?: string, confined = false): { close(): void } {
  return serveHttp(netns, port, (req, c) => {
    const path = (req.path ?? '/').split('?')[0];
    if (path === '/health') return { status: 200, reason: 'OK', headers: [['Date', httpDate(sim)], ['Content-Length', '0']], body: '' };
    return goTextReply(sim, whoamiBody(hostname, interfaceIps(netns), `${dotted(c.remote.ip)}:${c.remote.port}`, req, name));
  }, goIo(confined));
}
