// The emulated outside world behind the nodes' gateway: one resolver (fixed
// table, else a stable hash-derived public IP) and a web server answering
// on :80 for every public address (wttr.in gets a weather report). It
// configures its host as the WAN: bogons and the cluster's own ranges are
// dropped, public addresses answer after their path delay (internet_paths.ts).

import type { Netns } from '../../kernel/api.ts';
import type { Device } from '../../kernel/device.ts';
import type { Sim } from '../../sim/sim.ts';
import { DNS_CLASS_IN, DNS_RCODE, DNS_TYPE, type DnsMessage, type DnsRecord } from '../../wire/dns.ts';
import { httpHeader } from '../../wire/http.ts';
import { replyTo, serveDns } from './dns_server.ts';
import { httpDate, serveHttp } from './http_server.ts';
import { clusterCidrs, internetWan, isPublicAddress } from './internet_paths.ts';

export const DEFAULT_EXTERNAL_HOSTS: Record<string, string> = {
  'wttr.in': '5.9.243.187', 'google.com': '172.217.174.110', 'www.google.com': '142.250.206.228',
  'example.com': '93.184.215.14', 'www.example.com': '93.184.215.14', 'kubernetes.io': '147.75.40.148',
  'github.com': '20.200.245.247', 'dns.google': '8.8.8.8', 'one.one.one.one': '1.1.1.1',
};
const EXTERNAL_V6: Record<string, string> = { 'google.com': '2404:6800:4004:810::200e' };

/** Suffixes that never exist on the public internet. */
const PRIVATE_TLDS = new Set(['local', 'localhost', 'internal', 'invalid', 'test', 'lan', 'home', 'corp', 'localdomain', 'svc', 'cluster']);
const PUBLIC_FIRST_OCTETS = [23, 34, 35, 52, 54, 104, 142, 151, 185, 199];

/** FNV-1a, so a name maps to the same address in every run. */
function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
  return h >>> 0;
}

/** The public A record of name, or undefined for names that do not exist. */
export function internetAddress(name: string, table: Record<string, string> = DEFAULT_EXTERNAL_HOSTS): string | undefined {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (table[n]) return table[n];
  const labels = n.split('.');
  if (labels.length < 2 || PRIVATE_TLDS.has(labels[labels.length - 1]!) || !/^[a-z]{2,}$/.test(labels[labels.length - 1]!)) return undefined;
  const h = fnv(n);
  return `${PUBLIC_FIRST_OCTETS[h % PUBLIC_FIRST_OCTETS.length]}.${(h >>> 8) & 255}.${(h >>> 16) & 255}.${1 + ((h >>> 24) % 254)}`;
}

const ROOT_SOA: DnsRecord = { name: '', type: DNS_TYPE.SOA, class: DNS_CLASS_IN, ttl: 86400,
  soa: { mname: 'a.root-servers.net', rname: 'nstld.verisign-grs.com', serial: 2024102100, refresh: 1800, retry: 900, expire: 604800, minimum: 86400 } };

export function internetDnsAnswer(q: DnsMessage, table: Record<string, string>): DnsMessage {
  const { name, type } = q.questions[0]!;
  const ip = internetAddress(name, table);
  if (!ip) return replyTo(q, { ra: true, rcode: DNS_RCODE.NXDOMAIN, authority: [ROOT_SOA] });
  const rec = (t: number, address: string): DnsRecord => ({ name, type: t, class: DNS_CLASS_IN, ttl: 300, address });
  const v6 = EXTERNAL_V6[name.toLowerCase()];
  const answers = type === DNS_TYPE.A ? [rec(DNS_TYPE.A, ip)] : type === DNS_TYPE.AAAA && v6 ? [rec(DNS_TYPE.AAAA, v6)] : [];
  return replyTo(q, { ra: true, answers });
}

export function weatherReport(location: string): string {
  const place = decodeURIComponent(location || 'Seoul').replace(/\+/g, ' ');
  return `Weather report: ${place}\n\n`
    + '     \\  /       Partly cloudy\n'
    + '   _ /"".-.     19 °C\n'
    + '     \\_(   ).   ← 5 km/h\n'
    + '     /(___(__)  10 km\n'
    + '                0.0 mm\n';
}

/** `env.DPLAB_CLUSTER_CIDRS` names the cluster's pod and service ranges, which nothing on the internet owns. */
export function startInternet(netns: Netns, sim: Sim, table: Record<string, string> = DEFAULT_EXTERNAL_HOSTS, env: Record<string, string> = {}): { close(): void } {
  const cidrs = clusterCidrs(env);
  netns.refuseDestination = (ip) => !isPublicAddress(ip, cidrs);
  const uplink = netns.device('eth0') as Device | undefined;
  uplink?.underlay?.setWan(uplink, internetWan(cidrs));
  const dns = serveDns(netns, 53, (q) => internetDnsAnswer(q, table));
  const web = serveHttp(netns, 80, (req, c) => {
    const host = (httpHeader(req.headers, 'host') ?? '').split(':')[0]!.toLowerCase();
    const path = (req.path ?? '/').split('?')[0]!;
    const body = host === 'wttr.in' ? weatherReport(path.slice(1))
      : `Hello from ${host || `${c.local.ip >>> 24}.${(c.local.ip >>> 16) & 255}.${(c.local.ip >>> 8) & 255}.${c.local.ip & 255}`} (the emulated internet)\n`;
    const len = new TextEncoder().encode(body).length;
    return { status: 200, reason: 'OK', headers: [['Server', 'nginx'], ['Date', httpDate(sim)], ['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', String(len)], ['Connection', 'keep-alive']], body };
  });
  return { close: () => { dns.close(); web.close(); } };
}
