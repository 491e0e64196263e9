// ipset (v7.17, protocol 7) sets kube-proxy's IPVS mode and Calico use: hash:ip, hash:net,
// hash:ip,port, hash:ip,port,ip, hash:ip,port,net, hash:net,port and
// bitmap:port, with `ipset create/add/del/test/flush/destroy/list/save` and
// the set match's lookup. Members list in insertion order (the kernel's is
// hash order); "Size in memory" follows the kernel's per-type base and
// per-entry sizes measured on 6.18, assuming no bucket collisions.

import { ipToU32, parseCidr, u32ToIp } from '../wire/addr.ts';
import { IPPROTO_TCP, IPPROTO_UDP } from '../wire/ipv4.ts';
import { servicePort } from './services.ts';
import type { Pkt, SetLookup } from './types.ts';

export type SetType = 'hash:ip' | 'hash:net' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'hash:net,port' | 'bitmap:port';
const REVISION: Record<SetType, number> = { 'hash:ip': 6, 'hash:net': 7, 'hash:ip,port': 7, 'hash:ip,port,ip': 6, 'hash:ip,port,net': 8, 'hash:net,port': 8, 'bitmap:port': 3 };
/** Kernel memory: empty set, and per entry (measured, ipset 7.17 on Linux 6.18). */
const MEM: Record<Exclude<SetType, 'bitmap:port'>, [number, number]> = {
  'hash:ip': [216, 40], 'hash:net': [456, 48], 'hash:ip,port': [216, 48], 'hash:ip,port,ip': [208, 56], 'hash:ip,port,net': [464, 56], 'hash:net,port': [456, 48],
};
const PROTOS: Record<string, number> = { tcp: IPPROTO_TCP, udp: IPPROTO_UDP, sctp: 132 };
const PNAME: Record<number, string> = { 6: 'tcp', 17: 'udp', 132: 'sctp' };
export const MAX_SETS = 65535;

/** One member, parsed: (ip, proto, port, ip2/len2) as the type uses them. */
interface Member { ip: number; len: number; proto: number; port: number; ip2: number; len2: number }

export class IpsetError extends Error {}

// The packet's address / port a set match's direction flag names, and a prefix test: module functions,
// so a lookup allocates no closure.
const addrOf = (p: Pkt, d: 'src' | 'dst' | undefined) => (d === 'src' ? p.src : p.dst);
const portOf = (p: Pkt, d: 'src' | 'dst' | undefined) => (d === 'src' ? p.sport : p.dport);
const inNet = (a: number, ip: number, len: number) => len === 0 || (a >>> (32 - len)) === (ip >>> (32 - len));

export class IpSet {
  readonly members = new Map<string, Member>();
  constructor(readonly name: string, readonly type: SetType, readonly hashsize: number, readonly maxelem: number, readonly initval: number,
    readonly rangeLo = 0, readonly rangeHi = 65535) {}

  parse(s: string): Member {
    const bad = () => new IpsetError(`Syntax error: '${s}' is invalid as ${this.type} element`);
    if (this.type === 'bitmap:port') {
      const port = /^\d+$/.test(s) ? Number(s) : servicePort(s, 'tcp');
      if (port === undefined || port > 65535) throw bad();
      if (port < this.rangeLo || port > this.rangeHi) throw new IpsetError(`Element is out of the range of the set`);
      return { ip: 0, len: 0, proto: 0, port, ip2: 0, len2: 0 };
    }
    const parts = s.split(',');
    const want = this.type.split(':')[1]!.split(',').length;
    if (parts.length !== want) throw bad();
    const m: Member = { ip: 0, len: 32, proto: 0, port: 0, ip2: 0, len2: 32 };
    try {
      const first = parts[0]!;
      if (this.type === 'hash:net,port' || this.type === 'hash:net') { const c = parseCidr(first.includes('/') ? first : first + '/32'); m.ip = c.ip; m.len = c.prefixLen; } else m.ip = ipToU32(first);
      if (parts.length >= 2) {
        const pp = parts[1]!;
        const [pn, pv] = pp.includes(':') ? pp.split(':') : ['tcp', pp];
        const proto = PROTOS[pn!];
        const port = /^\d+$/.test(pv!) ? Number(pv) : servicePort(pv!, pn!);
        if (proto === undefined || port === undefined || port > 65535) throw bad();
        m.proto = proto; m.port = port;
      }
      if (parts.length === 3) {
        const third = parts[2]!;
        if (this.type === 'hash:ip,port,net') { const c = parseCidr(third.includes('/') ? third : third + '/32'); m.ip2 = c.ip; m.len2 = c.prefixLen; } else m.ip2 = ipToU32(third);
      }
    } catch (e) { if (e instanceof IpsetError) throw e; throw bad(); }
    return m;
  }

  text(m: Member): string {
    const net = (ip: number, len: number) => len === 32 ? u32ToIp(ip) : `${u32ToIp(ip)}/${len}`;
    switch (this.type) {
      case 'bitmap:port': return String(m.port);
      case 'hash:ip': return u32ToIp(m.ip);
      case 'hash:net': return net(m.ip, m.len);
      case 'hash:ip,port': return `${u32ToIp(m.ip)},${PNAME[m.proto]}:${m.port}`;
      case 'hash:net,port': return `${net(m.ip, m.len)},${PNAME[m.proto]}:${m.port}`;
      case 'hash:ip,port,ip': return `${u32ToIp(m.ip)},${PNAME[m.proto]}:${m.port},${u32ToIp(m.ip2)}`;
      case 'hash:ip,port,net': return `${u32ToIp(m.ip)},${PNAME[m.proto]}:${m.port},${net(m.ip2, m.len2)}`;
    }
  }

  add(s: string, exist = false): void {
    const m = this.parse(s), k = this.text(m);
    if (this.members.has(k)) { if (exist) return; throw new IpsetError(`Element cannot be added to the set: it's already added`); }
    if (this.members.size >= this.maxelem) throw new IpsetError(`Hash is full, cannot add more elements`);
    this.members.set(k, m);
  }
  del(s: string, exist = false): void {
    const k = this.text(this.parse(s));
    if (!this.members.delete(k) && !exist) throw new IpsetError(`Element cannot be deleted from the set: it's not added`);
  }

  /** The set match's lookup with the rule's src/dst flags. */
  test(p: Pkt, dirs: readonly ('src' | 'dst')[]): boolean {
    if (this.type === 'hash:net') return this.inAnyNet(dirs[0] === 'src' ? p.src : p.dst);
    if (this.type === 'bitmap:port') return (p.proto === 6 || p.proto === 17) && this.members.has(String(portOf(p, dirs[0])));
    const a1 = addrOf(p, dirs[0]);
    // Exact-match types: one lookup of the member's own key, as the kernel hashes the tuple (no walk over the members).
    if (this.type === 'hash:ip') return this.members.has(u32ToIp(a1));
    if (this.type === 'hash:ip,port' || this.type === 'hash:ip,port,ip') {
      const pn = PNAME[p.proto];
      if (pn === undefined || dirs.length < (this.type === 'hash:ip,port' ? 2 : 3)) return false;
      const k = `${u32ToIp(a1)},${pn}:${portOf(p, dirs[1])}`;
      return this.members.has(this.type === 'hash:ip,port' ? k : `${k},${u32ToIp(addrOf(p, dirs[2]))}`);
    }
    for (const m of this.members.values()) {
      // The net types: a member per prefix, tested one by one.
      if (this.type === 'hash:net,port' ? !inNet(a1, m.ip, m.len) : m.ip !== a1) continue;
      if (dirs.length < 2 || m.proto !== p.proto || m.port !== portOf(p, dirs[1])) continue;
      if (this.type === 'hash:net,port') return true;
      if (dirs.length < 3) continue;
      if (inNet(addrOf(p, dirs[2]), m.ip2, m.len2)) return true;
    }
    return false;
  }

  /** hash:net: an address inside any member network (the kernel tries each prefix length it holds). */
  inAnyNet(a: number): boolean {
    for (const m of this.members.values()) if (m.len === 0 || (a >>> (32 - m.len)) === (m.ip >>> (32 - m.len))) return true;
    return false;
  }

  memSize(): number {
    if (this.type === 'bitmap:port') return 72 + Math.ceil((this.rangeHi - this.rangeLo + 1) / 64) * 8;
    const [base, per] = MEM[this.type];
    return base + per * this.members.size;
  }

  header(): string {
    if (this.type === 'bitmap:port') return `range ${this.rangeLo}-${this.rangeHi}`;
    return `family inet hashsize ${this.hashsize} maxelem ${this.maxelem} bucketsize 12 initval 0x${this.initval.toString(16).padStart(8, '0')}`;
  }

  list(refs: number, terse = false): string {
    let s = `Name: ${this.name}\nType: ${this.type}\nRevision: ${REVISION[this.type]}\nHeader: ${this.header()}\nSize in memory: ${this.memSize()}\n` +
      `References: ${refs}\nNumber of entries: ${this.members.size}\n`;
    if (!terse) s += `Members:\n${[...this.members.keys()].map((k) => k + '\n').join('')}`;
    return s;
  }
}

/** A namespace's sets and the `ipset` tool over them. */
export class Ipsets implements SetLookup {
  readonly sets = new Map<string, IpSet>();
  /** Rules using a set (wired by Netfilter). */
  references: (name: string) => number = () => 0;
  /** initval source: the injected random stream when given. */
  constructor(private readonly rand: () => number = () => 0x5eed1234) {}

  test(name: string, p: Pkt, dirs: readonly ('src' | 'dst')[]): boolean { return this.sets.get(name)?.test(p, dirs) ?? false; }
  exists(name: string): boolean { return this.sets.has(name); }
  ref(): void { /* counted from the rules on demand */ }

  create(name: string, type: string, opts: string[], exist = false): void {
    if (!(type in REVISION)) throw new IpsetError(`Syntax error: typename '${type}' is unknown`);
    if (name.length > 31) throw new IpsetError(`Syntax error: setname '${name}' is longer than 31 characters`);
    if (this.sets.has(name)) { if (exist) return; throw new IpsetError(`Set cannot be created: set with the same name already exists`); }
    if (this.sets.size >= MAX_SETS) throw new IpsetError('Kernel error received: Cannot allocate memory');
    let hashsize = 1024, maxelem = 65536, lo = 0, hi = 65535;
    for (let i = 0; i < opts.length; i++) {
      const o = opts[i]!, v = opts[i + 1];
      if (o === 'family') { if (v !== 'inet') throw new IpsetError(`Syntax error: unsupported family '${v}'`); i++; }
      else if (o === 'hashsize' && v && /^\d+$/.test(v)) { hashsize = Math.max(64, 2 ** Math.ceil(Math.log2(Number(v)))); i++; }
      else if (o === 'maxelem' && v && /^\d+$/.test(v)) { maxelem = Number(v); i++; }
      else if (o === 'range' && v && /^\d+-\d+$/.test(v)) { [lo, hi] = v.split('-').map(Number) as [number, number]; i++; }
      else if (o === 'timeout' || o === 'bucketsize') i++;
      else throw new IpsetError(`Syntax error: Unknown argument: '${o}'`);
    }
    if (type === 'bitmap:port' && !opts.includes('range')) throw new IpsetError(`Syntax error: Missing mandatory option 'range'`);
    this.sets.set(name, new IpSet(name, type as SetType, hashsize, maxelem, this.rand() >>> 0, lo, hi));
  }

  get(name: string): IpSet {
    const s = this.sets.get(name);
    if (!s) throw new IpsetError(`The set with the given name does not exist`);
    return s;
  }

  /** `ipset list [NAME] [-n|-t]`. */
  list(name?: string, namesOnly = false, terse = false): string {
    const sets = name === undefined ? [...this.sets.values()] : [this.get(name)];
    if (namesOnly) return sets.map((s) => s.name + '\n').join('');
    return sets.map((s) => s.list(this.references(s.name), terse)).join('\n');
  }

  /** `ipset save`. */
  save(): string {
    let out = '';
    for (const s of this.sets.values()) {
      out += `create ${s.name} ${s.type} ${s.header()}\n`;
      for (const k of s.members.keys()) out += `add ${s.name} ${k}\n`;
    }
    return out;
  }

  destroy(name?: string): void {
    if (name === undefined) {
      for (const n of this.sets.keys()) if (this.references(n) > 0) throw new IpsetError(`Set cannot be destroyed: it is in use by a kernel component`);
      this.sets.clear(); return;
    }
    this.get(name);
    if (this.references(name) > 0) throw new IpsetError(`Set cannot be destroyed: it is in use by a kernel component`);
    this.sets.delete(name);
  }
}

/** Runs `ipset ARGS...`; errors as `ipset v7.17: MSG` with exit 1. */
export function ipsetTool(sets: Ipsets, argv: readonly string[]): { stdout: string; stderr: string; code: number } {
  const exist = argv.includes('-exist') || argv.includes('-!');
  const args = argv.filter((a) => a !== '-exist' && a !== '-!' && a !== '-n' && a !== '-name' && a !== '-t' && a !== '-terse' && a !== '-sorted' && a !== '-s');
  const names = argv.includes('-n') || argv.includes('-name'), terse = argv.includes('-t') || argv.includes('-terse');
  try {
    const [cmd, name, ...rest] = args;
    switch (cmd) {
      case 'create': case 'n': if (!name || !rest[0]) throw new IpsetError('Syntax error: missing setname or type'); sets.create(name, rest[0], rest.slice(1), exist); break;
      case 'add': case 'a': if (!name || !rest[0]) throw new IpsetError('Syntax error: missing element'); sets.get(name).add(rest[0], exist); break;
      case 'del': case 'd': if (!name || !rest[0]) throw new IpsetError('Syntax error: missing element'); sets.get(name).del(rest[0], exist); break;
      case 'test': case 't': {
        if (!name || !rest[0]) throw new IpsetError('Syntax error: missing element');
        const s = sets.get(name), m = s.parse(rest[0]);
        // hash:net tests an address against every member network, a network exactly.
        if (!(s.type === 'hash:net' && m.len === 32 ? s.inAnyNet(m.ip) : s.members.has(s.text(m)))) return { stdout: '', stderr: `${rest[0]} is NOT in set ${name}.\n`, code: 1 };
        return { stdout: '', stderr: `Warning: ${rest[0]} is in set ${name}.\n`, code: 0 };
      }
      case 'flush': case 'f': if (name) sets.get(name).members.clear(); else for (const s of sets.sets.values()) s.members.clear(); break;
      case 'destroy': case 'x': sets.destroy(name); break;
      case 'list': case 'l': case undefined: return { stdout: sets.list(name, names, terse), stderr: '', code: 0 };
      case 'save': case 's': return { stdout: sets.save(), stderr: '', code: 0 };
      default: throw new IpsetError(`Syntax error: unknown command '${cmd}'`);
    }
    return { stdout: '', stderr: '', code: 0 };
  } catch (e) {
    if (e instanceof IpsetError) return { stdout: '', stderr: `ipset v7.17: ${e.message}\n`, code: 1 };
    throw e;
  }
}
