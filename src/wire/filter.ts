// A pcap-filter(7) subset compiled to a predicate over Ethernet frames:
// host/net/port/portrange with src/dst, ether host, protocol names, greater/less,
// and/or/not with parentheses, and libpcap's "host a or b" abbreviation.

import { macFromString, parseCidr, ipToU32, prefixMask, readU16, readU32 } from './addr.ts';
import { ETH_HLEN, ETH_P_ARP, ETH_P_IP, ethType } from './ethernet.ts';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, ipIhl } from './ipv4.ts';

export type FramePredicate = (frame: Uint8Array) => boolean;

type Proto = 'ether' | 'ip' | 'arp' | 'tcp' | 'udp' | 'icmp';
type Dir = 'src' | 'dst' | 'src or dst' | 'src and dst';
type Kind = 'host' | 'net' | 'port' | 'portrange';
interface Qual { proto?: Proto; dir?: Dir; kind?: Kind }

const PROTOS = new Set<string>(['ether', 'ip', 'arp', 'tcp', 'udp', 'icmp']);
const KINDS = new Set<string>(['host', 'net', 'port', 'portrange']);

function syntaxError(detail: string): never { throw new Error(`syntax error in filter expression: ${detail}`); }

// Frame field readers; each returns -1 when the frame lacks the field.
const isIp = (f: Uint8Array): boolean => f.length >= ETH_HLEN + 20 && ethType(f) === ETH_P_IP;
const isArp = (f: Uint8Array): boolean => f.length >= ETH_HLEN + 28 && ethType(f) === ETH_P_ARP && readU16(f, ETH_HLEN + 2) === ETH_P_IP;
const ipProtoIs = (p: number) => (f: Uint8Array): boolean => isIp(f) && f[ETH_HLEN + 9] === p;
/** Offset of the L4 header for TCP/UDP on a first (or only) fragment, else -1. */
function l4Off(f: Uint8Array): number {
  if (!isIp(f)) return -1;
  const p = f[ETH_HLEN + 9];
  if ((p !== IPPROTO_TCP && p !== IPPROTO_UDP) || (readU16(f, ETH_HLEN + 6) & 0x1fff) !== 0) return -1;
  const o = ETH_HLEN + ipIhl(f, ETH_HLEN);
  return f.length >= o + 4 ? o : -1;
}

const or = (a: FramePredicate, b: FramePredicate): FramePredicate => (f) => a(f) || b(f);
const and = (a: FramePredicate, b: FramePredicate): FramePredicate => (f) => a(f) && b(f);
function byDir(dir: Dir | undefined, src: FramePredicate, dst: FramePredicate): FramePredicate {
  if (dir === 'src') return src;
  if (dir === 'dst') return dst;
  return dir === 'src and dst' ? and(src, dst) : or(src, dst);
}

/** Address match (host or net) for IPv4 and ARP bodies. */
function addrMatch(q: Qual, net: number, mask: number): FramePredicate {
  const m = (v: number): boolean => ((v & mask) >>> 0) === net;
  const ipPred = byDir(q.dir, (f) => isIp(f) && m(readU32(f, ETH_HLEN + 12)), (f) => isIp(f) && m(readU32(f, ETH_HLEN + 16)));
  const arpPred = byDir(q.dir, (f) => isArp(f) && m(readU32(f, ETH_HLEN + 14)), (f) => isArp(f) && m(readU32(f, ETH_HLEN + 24)));
  if (q.proto === 'ip') return ipPred;
  if (q.proto === 'arp') return arpPred;
  if (q.proto === 'tcp' || q.proto === 'udp' || q.proto === 'icmp') syntaxError(`'${q.proto}' modifier applied to ${q.kind}`);
  return or(ipPred, arpPred);
}

function portMatch(q: Qual, lo: number, hi: number): FramePredicate {
  const inRange = (v: number): boolean => v >= lo && v <= hi;
  const proto = q.proto === 'tcp' ? IPPROTO_TCP : q.proto === 'udp' ? IPPROTO_UDP : -1;
  if (q.proto && proto < 0) syntaxError(`illegal qualifier of 'port' ('${q.proto}')`);
  const ok = (f: Uint8Array): number => { const o = l4Off(f); return o >= 0 && (proto < 0 || f[ETH_HLEN + 9] === proto) ? o : -1; };
  return byDir(q.dir, (f) => { const o = ok(f); return o >= 0 && inRange(readU16(f, o)); }, (f) => { const o = ok(f); return o >= 0 && inRange(readU16(f, o + 2)); });
}

function parsePort(s: string): number {
  if (!/^\d+$/.test(s)) throw new Error(`unknown port '${s}' (names are not resolved)`);
  const n = Number(s);
  if (n > 65535) throw new Error(`illegal port number ${n} > 65535`);
  return n;
}

/** "10", "10.1", "10.1.2", "10.1.2.3" -> network and implied mask, as libpcap reads partial nets. */
function parseNet(s: string): [number, number] {
  if (s.includes('/')) {
    const c = parseCidr(s);
    // parseCidr masks host bits away; libpcap rejects them instead.
    return [ipToU32(s.split('/')[0]!), prefixMask(c.prefixLen)];
  }
  const parts = s.split('.');
  if (parts.length > 4 || parts.some((p) => !/^\d{1,3}$/.test(p))) throw new Error(`invalid net '${s}'`);
  const ip = ipToU32([...parts, '0', '0', '0'].slice(0, 4).join('.'));
  return [ip, prefixMask(parts.length * 8)];
}

function primitive(q: Qual, id: string, next: () => string | undefined, take: () => string): FramePredicate {
  const kind = q.kind ?? 'host';
  if (q.proto === 'ether') {
    if (kind !== 'host') syntaxError(`'ether' with '${kind}'`);
    const mac = macFromString(id);
    const at = (o: number) => (f: Uint8Array): boolean => f.length >= 12 && mac.every((b, i) => f[o + i] === b);
    return byDir(q.dir, at(6), at(0));
  }
  if (kind === 'host') {
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(id)) throw new Error(`unknown host '${id}' (names are not resolved)`);
    return addrMatch(q, ipToU32(id), 0xffffffff);
  }
  if (kind === 'net') {
    let [net, mask] = parseNet(id);
    if (next() === 'mask') { take(); mask = ipToU32(take()); net = (net & mask) >>> 0; }
    if (((net & ~mask) >>> 0) !== 0) throw new Error(`non-network bits set in "${id}"`);
    return addrMatch(q, net, mask);
  }
  if (kind === 'port') { const p = parsePort(id); return portMatch(q, p, p); }
  const m = /^(\d+)-(\d+)$/.exec(id);
  if (!m) syntaxError(`bad port range '${id}'`);
  const lo = parsePort(m[1]!), hi = parsePort(m[2]!);
  return portMatch(q, Math.min(lo, hi), Math.max(lo, hi));
}

function protoOnly(p: Proto): FramePredicate {
  switch (p) {
    case 'ether': return () => true;
    case 'ip': return isIp;
    case 'arp': return (f) => f.length >= ETH_HLEN && ethType(f) === ETH_P_ARP;
    case 'tcp': return ipProtoIs(IPPROTO_TCP);
    case 'udp': return ipProtoIs(IPPROTO_UDP);
    case 'icmp': return ipProtoIs(IPPROTO_ICMP);
  }
}

function tokenize(expr: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:(\(|\)|&&|\|\||!)|([A-Za-z0-9.:/_-]+))/y;
  let i = 0;
  for (;;) {
    while (i < expr.length && /\s/.test(expr[i]!)) i++;
    if (i >= expr.length) return out;
    re.lastIndex = i;
    const m = re.exec(expr);
    if (!m) syntaxError(`unexpected '${expr[i]}'`);
    out.push(m[1] ?? m[2]!);
    i = re.lastIndex;
  }
}

/** Compile a filter; "" matches everything. Throws "syntax error in filter expression: ..." on bad input. */
export function compileFilter(expr: string): FramePredicate {
  const toks = tokenize(expr);
  let pos = 0;
  let last: Qual | null = null;
  const next = (): string | undefined => toks[pos];
  const take = (): string => { const t = toks[pos++]; if (t === undefined) syntaxError('unexpected end of expression'); return t; };
  const isOr = (t: string | undefined): boolean => t === 'or' || t === '||';
  const isAnd = (t: string | undefined): boolean => t === 'and' || t === '&&';

  function parseOr(): FramePredicate {
    let p = parseAnd();
    while (isOr(next())) { take(); p = or(p, parseAnd()); }
    return p;
  }
  function parseAnd(): FramePredicate {
    let p = parseUnary();
    while (isAnd(next())) { take(); p = and(p, parseUnary()); }
    return p;
  }
  function parseUnary(): FramePredicate {
    const t = next();
    if (t === 'not' || t === '!') { take(); const p = parseUnary(); return (f) => !p(f); }
    if (t === '(') {
      take(); const p = parseOr();
      if (take() !== ')') syntaxError("missing ')'");
      return p;
    }
    return parsePrimitive();
  }
  function parsePrimitive(): FramePredicate {
    const t = take();
    if (t === 'greater' || t === 'less') {
      const n = Number(take());
      if (!Number.isInteger(n)) syntaxError(`'${t}' needs a number`);
      return t === 'greater' ? (f) => f.length >= n : (f) => f.length <= n;
    }
    const q: Qual = {};
    let tok: string | undefined = t;
    if (PROTOS.has(tok)) { q.proto = tok as Proto; tok = next(); if (tok === 'src' || tok === 'dst' || (tok !== undefined && KINDS.has(tok))) take(); else return protoOnly(q.proto); }
    if (tok === 'src' || tok === 'dst') {
      q.dir = tok;
      tok = take();
      if ((tok === 'or' || tok === 'and') && (next() === 'src' || next() === 'dst')) { q.dir = `src ${tok}` as Dir; take(); tok = take(); }
    }
    if (tok !== undefined && KINDS.has(tok)) { q.kind = tok as Kind; tok = take(); }
    if (tok === undefined || tok === ')' || tok === '(' || isAnd(tok) || isOr(tok) || tok === 'not' || tok === '!') syntaxError(`expected a value after '${t}'`);
    if (PROTOS.has(tok) || KINDS.has(tok) || tok === 'src' || tok === 'dst') syntaxError(`unexpected '${tok}'`);
    // A bare value ("host a or b") reuses the previous primitive's qualifiers.
    if (!q.proto && !q.dir && !q.kind && !last) syntaxError(`'${tok}' needs a qualifier such as host, net or port`);
    const qual = q.proto || q.dir || q.kind ? q : last!;
    last = qual;
    return primitive(qual, tok, next, take);
  }

  if (toks.length === 0) return () => true;
  const p = parseOr();
  if (pos < toks.length) syntaxError(`unexpected '${toks[pos]}'`);
  return p;
}
