// DNS as tcpdump's print-domain.c shows it at default verbosity:
// "12345+ A? name. (54)" for queries, "12345* 1/0/0 A 10.96.0.1 (70)" for responses.

import { decodeDns, dnsTypeName, DNS_TYPE, type DnsRecord } from './dns.ts';

const OPCODES = ['', ' inv_q', ' stat', ' op3', ' notify', ' update', ' op6', ' op7', ' op8', ' updateA', ' updateD', ' updateDA', ' updateM', ' updateMA', ' zoneInit', ' zoneRef'];
const RCODES = ['', ' FormErr', ' ServFail', ' NXDomain', ' NotImp', ' Refused', ' YXDomain', ' YXRRSet', ' NXRRSet', ' NotAuth', ' NotZone'];

function fqdn(n: string): string { return n === '' ? '.' : `${n}.`; }

function rdata(r: DnsRecord): string {
  const t = ` ${dnsTypeName(r.type)}`;
  switch (r.type) {
    case DNS_TYPE.A: case DNS_TYPE.AAAA: return r.address ? `${t} ${r.address}` : t;
    case DNS_TYPE.CNAME: case DNS_TYPE.PTR: case DNS_TYPE.NS: return `${t} ${fqdn(r.target ?? '')}`;
    case DNS_TYPE.SRV: return `${t} ${fqdn(r.target ?? '')}:${r.port} ${r.priority} ${r.weight}`;
    case DNS_TYPE.TXT: return `${t}${(r.txt ?? []).map((s) => ` "${s}"`).join('')}`;
    default: return t;
  }
}

/** The text after "a.53 > b.40000: " for a DNS payload of `len` bytes. */
export function tcpdumpDns(payload: Uint8Array): string {
  let m;
  try { m = decodeDns(payload); } catch { return ' [|domain]'; }
  let s = `${m.id}${OPCODES[m.opcode]}`;
  if (m.qr) {
    s += `${RCODES[m.rcode] ?? ` Resp${m.rcode}`}${m.aa ? '*' : ''}${m.ra ? '' : '-'}${m.tc ? '|' : ''}${m.ad ? '$' : ''}`;
    if (m.questions.length !== 1) s += ` [${m.questions.length}q]`;
    s += ` ${m.answers.length}/${m.authority.length}/${m.additional.length}`;
    s += m.answers.map(rdata).join(',');
  } else {
    s += `${m.rd ? '+' : ''}${m.cd ? '%' : ''}`;
    if (m.answers.length) s += ` [${m.answers.length}a]`;
    if (m.questions.length !== 1) s += ` [${m.questions.length}q]`;
    if (m.authority.length) s += ` [${m.authority.length}n]`;
    if (m.additional.length) s += ` [${m.additional.length}au]`;
    const q = m.questions[0];
    if (q) s += ` ${dnsTypeName(q.type)}? ${fqdn(q.name)}`;
  }
  return `${s} (${payload.length})`;
}
