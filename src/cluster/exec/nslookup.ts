// BIND 9 nslookup (what netshoot and dnsutils ship): Server/Address header,
// search list per resolv.conf, A+AAAA by default, -type=, reverse for IPs,
// "** server can't find" and exit 1 on failure.

import { isIpv4 } from '../../wire/addr.ts';
import { DNS_RCODE, DNS_TYPE, type DnsMessage, type DnsRecord } from '../../wire/dns.ts';
import { resolvConf, type Cmd } from './context.ts';
import { queryTypes, searchCandidates } from './resolver.ts';

const RCODE_NAMES: Record<number, string> = { 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED' };

export function reverseName(ip: string): string { return ip.split('.').reverse().join('.') + '.in-addr.arpa'; }

/** One answer record as nslookup prints it. */
export function formatRecord(r: DnsRecord): string {
  switch (r.type) {
    case DNS_TYPE.A: case DNS_TYPE.AAAA: return `Name:\t${r.name}\nAddress: ${r.address}\n`;
    case DNS_TYPE.CNAME: return `${r.name}\tcanonical name = ${r.target}.\n`;
    case DNS_TYPE.PTR: return `${r.name}\tname = ${r.target}.\n`;
    case DNS_TYPE.SRV: return `${r.name}\tservice = ${r.priority} ${r.weight} ${r.port} ${r.target}.\n`;
    case DNS_TYPE.NS: return `${r.name}\tnameserver = ${r.target}.\n`;
    case DNS_TYPE.TXT: return `${r.name}\ttext = ${(r.txt ?? []).map((t) => `"${t}"`).join(' ')}\n`;
    case DNS_TYPE.SOA: {
      const s = r.soa!;
      return `${r.name}\n\torigin = ${s.mname}\n\tmail addr = ${s.rname}\n\tserial = ${s.serial}\n\trefresh = ${s.refresh}\n\tretry = ${s.retry}\n\texpire = ${s.expire}\n\tminimum = ${s.minimum}\n`;
    }
    default: return `${r.name}\trdata_${r.type} = ?\n`;
  }
}

export const nslookup: Cmd = async (args, _stdin, sh) => {
  let type: number | undefined;
  const pos: string[] = [];
  for (const a of args) {
    const m = /^-(?:type|query|q|querytype)=(\w+)$/i.exec(a);
    if (m) {
      const t = (DNS_TYPE as Record<string, number>)[m[1]!.toUpperCase()];
      if (t === undefined) return { stdout: `unknown query type: ${m[1]}\n`, stderr: '', exitCode: 1 };
      type = t;
    } else if (a.startsWith('-')) continue;
    else pos.push(a);
  }
  const name = pos[0];
  if (!name) return { stdout: '', stderr: 'nslookup: interactive mode is not available here\n', exitCode: 1 };
  const rc = resolvConf(sh);
  const server = pos[1] ?? rc.nameservers[0]!;
  let out = `Server:\t\t${server}\nAddress:\t${server}#53\n\n`;
  const reverse = isIpv4(name);
  const qname = reverse ? reverseName(name) : name;
  const types = reverse ? [DNS_TYPE.PTR] : type !== undefined ? [type] : [DNS_TYPE.A, DNS_TYPE.AAAA];
  const candidates = reverse ? [qname] : searchCandidates(qname, rc);
  let replies: DnsMessage[] | null = null;
  for (const cand of candidates) {
    const ex = await queryTypes(sh.netns, sh.sim, rc, cand, types, server);
    if (ex.replies.some((r) => r === null)) return { stdout: out.slice(0, 0) + ';; connection timed out; no servers could be reached\n\n', stderr: '', exitCode: 1 };
    replies = ex.replies as DnsMessage[];
    if (replies[0]!.rcode !== DNS_RCODE.NXDOMAIN) break;
  }
  const first = replies![0]!;
  if (first.rcode !== DNS_RCODE.NOERROR) {
    out += `** server can't find ${qname}: ${RCODE_NAMES[first.rcode] ?? `RCODE${first.rcode}`}\n\n`;
    return { stdout: out, stderr: '', exitCode: 1 };
  }
  const seen = new Set<string>();
  let body = '';
  for (const r of replies!) for (const a of r.answers) {
    const line = formatRecord(a);
    if (a.type === DNS_TYPE.CNAME && seen.has(line)) continue;
    seen.add(line); body += line;
  }
  const any = replies!.some((r) => r.answers.length > 0);
  if (!any) {
    out += `*** Can't find ${qname}: No answer\n\n`;
    return { stdout: out, stderr: '', exitCode: 1 };
  }
  if (!replies!.every((r) => r.aa || r.answers.length === 0)) out += 'Non-authoritative answer:\n';
  return { stdout: out + body + '\n', stderr: '', exitCode: 0 };
};
