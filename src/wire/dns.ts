// DNS messages (RFC 1035): encode with name compression, decode with bounds
// checks that throw a clear Error (never read past the buffer).

import { readU16, readU32, writeU16, writeU32, ipToU32, u32ToIp } from './addr.ts';
import { ipv6FromString, ipv6ToString } from './ipv6addr.ts';

export const DNS_TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
export const DNS_CLASS_IN = 1;
export const DNS_RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export const DNS_HLEN = 12;

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(DNS_TYPE).map(([k, v]) => [v, k]));
/** "A", "AAAA", ... or "TYPE<n>" (RFC 3597 style). */
export function dnsTypeName(t: number): string { return TYPE_NAMES[t] ?? `TYPE${t}`; }

export interface DnsQuestion { name: string; type: number; class: number }
export interface DnsSoa { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }
/** One resource record; which data field is set depends on type (rdata keeps unknown types). */
export interface DnsRecord {
  name: string; type: number; class: number; ttl: number;
  /** A and AAAA. */
  address?: string;
  /** CNAME, PTR, NS and SRV target. */
  target?: string;
  priority?: number; weight?: number; port?: number;
  soa?: DnsSoa;
  txt?: string[];
  rdata?: Uint8Array;
}
export interface DnsMessage {
  id: number;
  qr: boolean; opcode: number; aa: boolean; tc: boolean; rd: boolean; ra: boolean;
  ad?: boolean; cd?: boolean;
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authority: DnsRecord[];
  additional: DnsRecord[];
}

/** Names are kept fully qualified without the trailing dot: "kubernetes.default.svc.cluster.local". */
function normName(n: string): string { return n.endsWith('.') ? n.slice(0, -1) : n; }

class Writer {
  buf = new Uint8Array(512);
  len = 0;
  private names = new Map<string, number>();
  need(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    b.set(this.buf.subarray(0, this.len)); this.buf = b;
  }
  u8(v: number): void { this.need(1); this.buf[this.len++] = v; }
  u16(v: number): void { this.need(2); writeU16(this.buf, this.len, v); this.len += 2; }
  u32(v: number): void { this.need(4); writeU32(this.buf, this.len, v >>> 0); this.len += 4; }
  bytes(b: Uint8Array): void { this.need(b.length); this.buf.set(b, this.len); this.len += b.length; }
  name(n: string, compress = true): void {
    const labels = normName(n) === '' ? [] : normName(n).split('.');
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      const at = this.names.get(suffix);
      if (compress && at !== undefined) { this.u16(0xc000 | at); return; }
      if (this.len < 0x3fff) this.names.set(suffix, this.len);
      const lb = new TextEncoder().encode(labels[i]!);
      if (lb.length === 0 || lb.length > 63) throw new Error(`DNS: invalid label in name "${n}"`);
      this.u8(lb.length); this.bytes(lb);
    }
    this.u8(0);
  }
}

function encodeRecord(w: Writer, r: DnsRecord): void {
  w.name(r.name); w.u16(r.type); w.u16(r.class); w.u32(r.ttl);
  const lenAt = w.len; w.u16(0);
  const start = w.len;
  if (r.rdata) w.bytes(r.rdata);
  else if (r.type === DNS_TYPE.A) w.u32(ipToU32(req(r.address, r)));
  else if (r.type === DNS_TYPE.AAAA) w.bytes(ipv6FromString(req(r.address, r)));
  else if (r.type === DNS_TYPE.CNAME || r.type === DNS_TYPE.PTR || r.type === DNS_TYPE.NS) w.name(req(r.target, r));
  else if (r.type === DNS_TYPE.SRV) { w.u16(r.priority ?? 0); w.u16(r.weight ?? 0); w.u16(r.port ?? 0); w.name(req(r.target, r), false); }
  else if (r.type === DNS_TYPE.SOA) {
    const s = req(r.soa, r);
    w.name(s.mname); w.name(s.rname); w.u32(s.serial); w.u32(s.refresh); w.u32(s.retry); w.u32(s.expire); w.u32(s.minimum);
  } else if (r.type === DNS_TYPE.TXT) {
    for (const t of r.txt ?? []) { const b = new TextEncoder().encode(t); if (b.length > 255) throw new Error('DNS: TXT string over 255 bytes'); w.u8(b.length); w.bytes(b); }
  }
  writeU16(w.buf, lenAt, w.len - start);
}

function req<T>(v: T | undefined, r: DnsRecord): T {
  if (v === undefined) throw new Error(`DNS: ${dnsTypeName(r.type)} record for "${r.name}" lacks its data`);
  return v;
}

export function encodeDns(m: DnsMessage): Uint8Array {
  const w = new Writer();
  w.u16(m.id);
  w.u8((m.qr ? 0x80 : 0) | ((m.opcode & 15) << 3) | (m.aa ? 4 : 0) | (m.tc ? 2 : 0) | (m.rd ? 1 : 0));
  w.u8((m.ra ? 0x80 : 0) | (m.ad ? 0x20 : 0) | (m.cd ? 0x10 : 0) | (m.rcode & 15));
  w.u16(m.questions.length); w.u16(m.answers.length); w.u16(m.authority.length); w.u16(m.additional.length);
  for (const q of m.questions) { w.name(q.name); w.u16(q.type); w.u16(q.class); }
  for (const r of m.answers) encodeRecord(w, r);
  for (const r of m.authority) encodeRecord(w, r);
  for (const r of m.additional) encodeRecord(w, r);
  return w.buf.slice(0, w.len);
}

/** Cursor over a message; every read checks bounds. */
class Reader {
  constructor(readonly b: Uint8Array, public o = 0) {}
  check(n: number, what: string): void {
    if (this.o + n > this.b.length) throw new Error(`DNS: message truncated reading ${what} at offset ${this.o}`);
  }
  u8(what: string): number { this.check(1, what); return this.b[this.o++]!; }
  u16(what: string): number { this.check(2, what); const v = readU16(this.b, this.o); this.o += 2; return v; }
  u32(what: string): number { this.check(4, what); const v = readU32(this.b, this.o); this.o += 4; return v; }
  bytes(n: number, what: string): Uint8Array { this.check(n, what); const v = this.b.slice(this.o, this.o + n); this.o += n; return v; }
  /** A possibly compressed name; advances past it (a pointer ends the name in place). */
  name(): string {
    const labels: string[] = [];
    let o = this.o, jumped = false, hops = 0, total = 0;
    for (;;) {
      if (o >= this.b.length) throw new Error(`DNS: message truncated reading name at offset ${o}`);
      const len = this.b[o]!;
      if ((len & 0xc0) === 0xc0) {
        if (o + 1 >= this.b.length) throw new Error(`DNS: message truncated reading name pointer at offset ${o}`);
        const ptr = ((len & 0x3f) << 8) | this.b[o + 1]!;
        if (!jumped) this.o = o + 2;
        jumped = true;
        if (++hops > 64 || ptr >= this.b.length) throw new Error(`DNS: bad compression pointer at offset ${o}`);
        o = ptr; continue;
      }
      if (len & 0xc0) throw new Error(`DNS: unsupported label type 0x${len.toString(16)} at offset ${o}`);
      if (len === 0) { if (!jumped) this.o = o + 1; break; }
      if (o + 1 + len > this.b.length) throw new Error(`DNS: message truncated reading label at offset ${o}`);
      total += len + 1;
      if (total > 255) throw new Error('DNS: name longer than 255 bytes');
      labels.push(new TextDecoder().decode(this.b.subarray(o + 1, o + 1 + len)));
      o += 1 + len;
    }
    return labels.join('.');
  }
}

function decodeRecord(r: Reader): DnsRecord {
  const name = r.name();
  const type = r.u16('record type'), cls = r.u16('record class'), ttl = r.u32('record TTL');
  const rdlen = r.u16('record length');
  r.check(rdlen, 'record data');
  const end = r.o + rdlen;
  const rec: DnsRecord = { name, type, class: cls, ttl };
  if (type === DNS_TYPE.A && rdlen === 4) rec.address = u32ToIp(r.u32('A'));
  else if (type === DNS_TYPE.AAAA && rdlen === 16) rec.address = ipv6ToString(r.bytes(16, 'AAAA'));
  else if (type === DNS_TYPE.CNAME || type === DNS_TYPE.PTR || type === DNS_TYPE.NS) rec.target = r.name();
  else if (type === DNS_TYPE.SRV) { rec.priority = r.u16('SRV'); rec.weight = r.u16('SRV'); rec.port = r.u16('SRV'); rec.target = r.name(); }
  else if (type === DNS_TYPE.SOA) {
    rec.soa = { mname: r.name(), rname: r.name(), serial: r.u32('SOA'), refresh: r.u32('SOA'), retry: r.u32('SOA'), expire: r.u32('SOA'), minimum: r.u32('SOA') };
  } else if (type === DNS_TYPE.TXT) {
    rec.txt = [];
    while (r.o < end) { const n = r.u8('TXT'); rec.txt.push(new TextDecoder().decode(r.bytes(n, 'TXT'))); }
  } else rec.rdata = r.bytes(rdlen, 'record data');
  if (r.o !== end) throw new Error(`DNS: ${dnsTypeName(type)} record data length ${rdlen} does not match its content`);
  return rec;
}

export function decodeDns(b: Uint8Array): DnsMessage {
  if (b.length < DNS_HLEN) throw new Error(`DNS: message truncated: ${b.length} bytes, header needs ${DNS_HLEN}`);
  const r = new Reader(b);
  const id = r.u16('id'), f1 = r.u8('flags'), f2 = r.u8('flags');
  const qd = r.u16('qdcount'), an = r.u16('ancount'), ns = r.u16('nscount'), ar = r.u16('arcount');
  const m: DnsMessage = {
    id, qr: (f1 & 0x80) !== 0, opcode: (f1 >>> 3) & 15, aa: (f1 & 4) !== 0, tc: (f1 & 2) !== 0, rd: (f1 & 1) !== 0,
    ra: (f2 & 0x80) !== 0, ad: (f2 & 0x20) !== 0, cd: (f2 & 0x10) !== 0, rcode: f2 & 15,
    questions: [], answers: [], authority: [], additional: [],
  };
  for (let i = 0; i < qd; i++) m.questions.push({ name: r.name(), type: r.u16('question type'), class: r.u16('question class') });
  for (let i = 0; i < an; i++) m.answers.push(decodeRecord(r));
  for (let i = 0; i < ns; i++) m.authority.push(decodeRecord(r));
  for (let i = 0; i < ar; i++) m.additional.push(decodeRecord(r));
  return m;
}

/** A recursion-desired query for one name, as a stub resolver sends it. */
export function dnsQuery(id: number, name: string, type: number = DNS_TYPE.A): DnsMessage {
  return { id, qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, rcode: 0, questions: [{ name: normName(name), type, class: DNS_CLASS_IN }], answers: [], authority: [], additional: [] };
}

