// Match extensions kube-proxy and the CNIs use, each with iptables 1.8.9's
// option parsing, save text (libxt_*.c *_save) and -L text (*_print), and
// the kernel's test (net/netfilter/xt_*.c).

import { ipToU32, u32ToIp } from '../wire/addr.ts';
import { paramError } from './errors.ts';
import { serviceName } from './services.ts';
import { hex, parsePort, parsePortRange, parseUint, PROTO_NAME, saveString } from './text.ts';
import { CT_STATE_NAMES, type EvalCtx, type Match, type Pkt } from './types.ts';

/** Builds one match from its options, then hands it to the rule. */
export interface MatchBuilder {
  option(opt: string, arg: string | undefined, inv: boolean): void;
  finish(): Match;
}
export interface MatchModule {
  /** Long options (without --) and whether each takes an argument. */
  opts: Record<string, boolean>;
  create(proto: number): MatchBuilder;
}

const noInvert = (mod: string, opt: string, inv: boolean) => {
  if (inv) throw paramError(`${mod}: option "--${opt}" cannot be inverted.`, true);
};
const need = (arg: string | undefined): string => arg!;

// ---- comment ----
class Comment implements Match {
  readonly name = 'comment';
  constructor(readonly text: string) {}
  save() { return ` -m comment --comment ${saveString(this.text)}`; }
  list() { return ` /* ${this.text} */`; }
}
const comment: MatchModule = {
  opts: { comment: true },
  create() {
    let text: string | undefined;
    return {
      option(opt, arg, inv) {
        noInvert('comment', opt, inv);
        if (need(arg).length > 255) throw paramError(`comment: option "--comment" must be 255 chars or less`, true);
        text = arg;
      },
      finish() {
        if (text === undefined) throw paramError('comment: option "--comment" must be specified', true);
        return new Comment(text);
      },
    };
  },
};

// ---- tcp / udp ----
function portText(p: number, proto: string, numeric: boolean): string {
  return numeric ? String(p) : serviceName(p, proto) ?? String(p);
}
/** libxt_tcp.c print_ports. */
function listPorts(name: string, lo: number, hi: number, inv: boolean, proto: string, numeric: boolean): string {
  if (lo === 0 && hi === 0xffff && !inv) return '';
  const i = inv ? '!' : '';
  return lo === hi ? ` ${name}:${i}${portText(lo, proto, numeric)}`
    : ` ${name}s:${i}${portText(lo, proto, numeric)}:${portText(hi, proto, numeric)}`;
}
function savePorts(opt: string, lo: number, hi: number, inv: boolean): string {
  if (lo === 0 && hi === 0xffff && !inv) return '';
  return `${inv ? ' !' : ''} --${opt} ${lo === hi ? lo : `${lo}:${hi}`}`;
}

class L4Ports implements Match {
  constructor(readonly name: 'tcp' | 'udp', readonly sLo: number, readonly sHi: number, readonly sInv: boolean,
    readonly dLo: number, readonly dHi: number, readonly dInv: boolean) {}
  save() { return ` -m ${this.name}${savePorts('sport', this.sLo, this.sHi, this.sInv)}${savePorts('dport', this.dLo, this.dHi, this.dInv)}`; }
  list(numeric: boolean) {
    return ` ${this.name}${listPorts('spt', this.sLo, this.sHi, this.sInv, this.name, numeric)}${listPorts('dpt', this.dLo, this.dHi, this.dInv, this.name, numeric)}`;
  }
  test(p: Pkt) {
    if (p.frag) return false;
    return ((p.sport >= this.sLo && p.sport <= this.sHi) !== this.sInv) && ((p.dport >= this.dLo && p.dport <= this.dHi) !== this.dInv);
  }
}
function l4(name: 'tcp' | 'udp'): MatchModule {
  return {
    opts: { sport: true, 'source-port': true, dport: true, 'destination-port': true },
    create() {
      let s: [number, number] = [0, 0xffff], d: [number, number] = [0, 0xffff], sInv = false, dInv = false;
      return {
        option(opt, arg, inv) {
          if (opt === 'sport' || opt === 'source-port') { s = parsePortRange(need(arg), name); sInv = inv; } else { d = parsePortRange(need(arg), name); dInv = inv; }
        },
        finish: () => new L4Ports(name, s[0], s[1], sInv, d[0], d[1], dInv),
      };
    },
  };
}

// ---- mark ----
const markMask = (v: number, m: number) => hex(v) + (m === 0xffffffff ? '' : '/' + hex(m));
/** "value[/mask]" as XTTYPE_MARKMASK32 parses it. */
export function parseMarkMask(mod: string, opt: string, s: string): [number, number] {
  const [a, b, extra] = s.split('/');
  const v = parseUint(a ?? ''), m = b === undefined ? 0xffffffff : parseUint(b);
  if (v === undefined || m === undefined || extra !== undefined) throw paramError(`${mod}: bad value for option "--${opt}", or out of range (0-4294967295).`, true);
  return [v >>> 0, m >>> 0];
}
class MarkMatch implements Match {
  readonly name = 'mark';
  constructor(readonly value: number, readonly mask: number, readonly inv: boolean) {}
  save() { return ` -m mark${this.inv ? ' !' : ''} --mark ${markMask(this.value, this.mask)}`; }
  list() { return ` mark match${this.inv ? ' !' : ''} ${markMask(this.value, this.mask)}`; }
  test(p: Pkt) { return (((p.mark & this.mask) >>> 0) === this.value) !== this.inv; }
}
const mark: MatchModule = {
  opts: { mark: true },
  create() {
    let m: MarkMatch | undefined;
    return {
      option(opt, arg, inv) { const [v, k] = parseMarkMask('mark', opt, need(arg)); m = new MarkMatch((v & k) >>> 0, k, inv); },
      finish() { if (!m) throw paramError('mark: option "--mark" must be specified', true); return m; },
    };
  },
};

// ---- statistic ----
/** The u32 iptables stores: lround(0x80000000 * p). */
export const probabilityU32 = (p: number) => Math.floor(p * 0x80000000 + 0.5);
class Statistic implements Match {
  readonly name = 'statistic';
  /** nth mode's running count (per rule, as the kernel's master->count). */
  count: number;
  constructor(readonly mode: 'random' | 'nth', readonly prob: number, readonly every: number, readonly packet: number, readonly inv: boolean) {
    this.count = packet;
  }
  private text(pfx: string) {
    const inv = this.inv ? ' !' : '';
    if (this.mode === 'random') return ` ${pfx}mode random${inv} ${pfx}probability ${(this.prob / 0x80000000).toFixed(11)}`;
    return ` ${pfx}mode nth${inv} ${pfx}every ${this.every + 1}${this.packet || pfx ? ` ${pfx}packet ${this.packet}` : ''}`;
  }
  save() { return ` -m statistic${this.text('--')}`; }
  list() { return ` statistic${this.text('')}`; }
  test(_p: Pkt, c: EvalCtx) {
    if (this.mode === 'random') return ((c.rng.u32() & 0x7fffffff) < this.prob) !== this.inv;
    this.count = this.count === this.every ? 0 : this.count + 1;
    return (this.count === 0) !== this.inv;
  }
}
const statistic: MatchModule = {
  opts: { mode: true, probability: true, every: true, packet: true },
  create() {
    let mode: 'random' | 'nth' | undefined, prob: number | undefined, every: number | undefined, packet: number | undefined, inv = false;
    return {
      option(opt, arg, i) {
        const a = need(arg);
        if (opt === 'mode') {
          noInvert('statistic', opt, i);
          if (a !== 'random' && a !== 'nth') throw paramError(`Bad mode "${a}"`);
          mode = a;
        } else if (opt === 'probability') {
          const v = /^[0-9]*\.?[0-9]+(e-?\d+)?$/.test(a) ? Number(a) : NaN;
          if (!(v >= 0 && v <= 1)) throw paramError('statistic: bad value for option "--probability", or out of range (0-1).', true);
          prob = probabilityU32(v); inv = i;
        } else if (opt === 'every') {
          const v = parseUint(a);
          if (v === undefined || v === 0) throw paramError('statistic: bad value for option "--every", or out of range (1-4294967295).', true);
          every = v - 1; inv = i;
        } else {
          noInvert('statistic', opt, i);
          const v = parseUint(a);
          if (v === undefined) throw paramError('statistic: bad value for option "--packet", or out of range (0-4294967295).', true);
          packet = v;
        }
      },
      finish() {
        if (mode === undefined) throw paramError('statistic: option "--mode" must be specified', true);
        if (mode === 'random') {
          if (prob === undefined) throw paramError('--probability must be specified when using random mode');
          if (every !== undefined || packet !== undefined) throw paramError('--every and --packet only supported in nth mode');
          return new Statistic('random', prob, 0, 0, inv);
        }
        if (every === undefined) throw paramError('--every must be specified when using nth mode');
        if (prob !== undefined) throw paramError('--probability only supported in random mode');
        if ((packet ?? 0) > every) throw paramError('the --packet p must be 0 <= p <= n-1');
        return new Statistic('nth', 0, every, packet ?? 0, inv);
      },
    };
  },
};

// ---- recent ----
class Recent implements Match {
  readonly name = 'recent';
  constructor(readonly op: 'SET' | 'CHECK' | 'UPDATE' | 'REMOVE', readonly seconds: number, readonly reap: boolean, readonly hitcount: number,
    readonly rttl: boolean, readonly listName: string, readonly mask: number, readonly side: 'source' | 'dest', readonly inv: boolean) {}
  save() {
    const op = { SET: '--set', CHECK: '--rcheck', UPDATE: '--update', REMOVE: '--remove' }[this.op];
    return ` -m recent${this.inv ? ' !' : ''} ${op}${this.seconds ? ` --seconds ${this.seconds}` : ''}${this.reap ? ' --reap' : ''}` +
      `${this.hitcount ? ` --hitcount ${this.hitcount}` : ''}${this.rttl ? ' --rttl' : ''} --name ${this.listName} --mask ${u32ToIp(this.mask)}` +
      ` ${this.side === 'source' ? '--rsource' : '--rdest'}`;
  }
  list() {
    return `${this.inv ? ' !' : ''} recent: ${this.op}${this.seconds ? ` seconds: ${this.seconds}` : ''}${this.reap ? ' reap' : ''}` +
      `${this.hitcount ? ` hit_count: ${this.hitcount}` : ''}${this.rttl ? ' TTL-Match' : ''} name: ${this.listName} side: ${this.side} mask: ${u32ToIp(this.mask)}`;
  }
  test(p: Pkt, c: EvalCtx) {
    const addr = ((this.side === 'source' ? p.src : p.dst) & this.mask) >>> 0;
    let hit: boolean;
    if (this.op === 'SET') { c.recent.set(this.listName, addr, c.nowNs); hit = true; }
    else if (this.op === 'REMOVE') hit = c.recent.remove(this.listName, addr);
    else hit = c.recent.check(this.listName, addr, c.nowNs, this.seconds, this.hitcount, this.reap, this.op === 'UPDATE');
    return hit !== this.inv;
  }
}
const recent: MatchModule = {
  opts: { set: false, rcheck: false, update: false, remove: false, seconds: true, reap: false, hitcount: true, rttl: false, name: true, mask: true, rsource: false, rdest: false },
  create() {
    let op: Recent['op'] | undefined, seconds = 0, reap = false, hitcount = 0, rttl = false, name = 'DEFAULT', mask = 0xffffffff, side: 'source' | 'dest' = 'source', inv = false;
    const setOp = (o: Recent['op'], i: boolean) => {
      if (op !== undefined) throw paramError('recent: only one of `--set\', `--rcheck\' `--update\' or `--remove\' may be set');
      op = o; inv = i;
    };
    return {
      option(opt, arg, i) {
        switch (opt) {
          case 'set': setOp('SET', i); break;
          case 'rcheck': setOp('CHECK', i); break;
          case 'update': setOp('UPDATE', i); break;
          case 'remove': setOp('REMOVE', i); break;
          case 'seconds': {
            const v = parseUint(need(arg));
            if (v === undefined || v === 0) throw paramError('recent: bad value for option "--seconds", or out of range (1-4294967295).', true);
            seconds = v; break;
          }
          case 'reap': reap = true; break;
          case 'hitcount': {
            const v = parseUint(need(arg), 255);
            if (v === undefined) throw paramError('recent: bad value for option "--hitcount", or out of range (0-255).', true);
            hitcount = v; break;
          }
          case 'rttl': rttl = true; break;
          case 'name':
            if (need(arg).length === 0 || arg!.length > 199 || !/^[\x21-\x7e]+$/.test(arg!)) throw paramError(`Illegal name`);
            name = arg!; break;
          case 'mask':
            try { mask = ipToU32(need(arg)); } catch { throw paramError(`recent: bad value for option "--mask", or out of range.`, true); }
            break;
          case 'rsource': side = 'source'; break;
          default: side = 'dest';
        }
      },
      finish() {
        if (op === undefined) throw paramError('recent: you must specify one of `--set\', `--rcheck\' `--update\' or `--remove\'');
        if (reap && !seconds) throw paramError('recent: --reap is only valid with --seconds');
        if ((op === 'SET' || op === 'REMOVE') && (seconds || hitcount)) throw paramError('recent: --seconds and --hitcount are only valid with --rcheck or --update');
        return new Recent(op, seconds, reap, hitcount, rttl, name, mask, side, inv);
      },
    };
  },
};

// ---- addrtype ----
const RTN = ['UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'ANYCAST', 'MULTICAST', 'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE'];
const typesText = (m: number) => RTN.filter((_, i) => m & (1 << i)).join(',');
function addrTypeOf(a: number, c: EvalCtx): number {
  if (c.isLocal(a)) return 1 << 2;
  if (a === 0xffffffff) return 1 << 3;
  if (a >>> 28 === 0xe) return 1 << 5;
  return 1 << 1;
}
class AddrType implements Match {
  readonly name = 'addrtype';
  constructor(readonly src: number, readonly srcInv: boolean, readonly dst: number, readonly dstInv: boolean) {}
  save() {
    let s = ' -m addrtype';
    if (this.src) s += `${this.srcInv ? ' !' : ''} --src-type ${typesText(this.src)}`;
    if (this.dst) s += `${this.dstInv ? ' !' : ''} --dst-type ${typesText(this.dst)}`;
    return s;
  }
  list() {
    let s = ' ADDRTYPE match';
    if (this.src) s += ` src-type ${this.srcInv ? '!' : ''}${typesText(this.src)}`;
    if (this.dst) s += ` dst-type ${this.dstInv ? '!' : ''}${typesText(this.dst)}`;
    return s;
  }
  test(p: Pkt, c: EvalCtx) {
    if (this.src && ((addrTypeOf(p.src, c) & this.src) !== 0) === this.srcInv) return false;
    if (this.dst && ((addrTypeOf(p.dst, c) & this.dst) !== 0) === this.dstInv) return false;
    return true;
  }
}
const addrtype: MatchModule = {
  opts: { 'src-type': true, 'dst-type': true, 'limit-iface-in': false, 'limit-iface-out': false },
  create() {
    let src = 0, dst = 0, srcInv = false, dstInv = false;
    const types = (s: string) => {
      let m = 0;
      for (const t of s.split(',')) {
        const i = RTN.indexOf(t.toUpperCase());
        if (i < 0) throw paramError(`addrtype: bad type "${t}"`);
        m |= 1 << i;
      }
      return m;
    };
    return {
      option(opt, arg, inv) {
        if (opt === 'src-type') { src = types(need(arg)); srcInv = inv; } else if (opt === 'dst-type') { dst = types(need(arg)); dstInv = inv; }
      },
      finish() {
        if (!src && !dst) throw paramError('addrtype: you must specify --src-type or --dst-type');
        return new AddrType(src, srcInv, dst, dstInv);
      },
    };
  },
};

// ---- set ----
class SetMatch implements Match {
  readonly name = 'set';
  constructor(readonly setName: string, readonly dirs: ('src' | 'dst')[], readonly inv: boolean) {}
  save() { return ` -m set${this.inv ? ' !' : ''} --match-set ${this.setName} ${this.dirs.join(',')}`; }
  list() { return `${this.inv ? ' !' : ''} match-set ${this.setName} ${this.dirs.join(',')}`; }
  test(p: Pkt, c: EvalCtx) { return (c.sets?.test(this.setName, p, this.dirs) ?? false) !== this.inv; }
}
const set: MatchModule = {
  opts: { 'match-set': true },
  create() {
    let m: SetMatch | undefined;
    return {
      option(_opt, arg, inv) {
        // --match-set takes two words; the parser hands "NAME FLAGS".
        const [name, flags] = need(arg).split(' ');
        if (!flags) throw paramError('--match-set requires two args.');
        const dirs = flags.split(',');
        if (dirs.length > 6 || dirs.some((d) => d !== 'src' && d !== 'dst')) throw paramError(`You must spefify (the comma separated list of) 'src' or 'dst'.`);
        m = new SetMatch(name!, dirs as ('src' | 'dst')[], inv);
      },
      finish() { if (!m) throw paramError('You must specify `--match-set\' with proper arguments'); return m; },
    };
  },
};

// ---- conntrack ----
const stateText = (m: number) => CT_STATE_NAMES.filter(([b]) => m & b).map(([, n]) => n).join(',');
class Conntrack implements Match {
  readonly name = 'conntrack';
  constructor(readonly states: number, readonly inv: boolean) {}
  save() { return ` -m conntrack${this.inv ? ' !' : ''} --ctstate ${stateText(this.states)}`; }
  list() { return `${this.inv ? ' !' : ''} ctstate ${stateText(this.states)}`; }
  test(_p: Pkt, c: EvalCtx) { return ((c.ctstate & this.states) !== 0) !== this.inv; }
}
const conntrack: MatchModule = {
  opts: { ctstate: true },
  create() {
    let m: Conntrack | undefined;
    return {
      option(_opt, arg, inv) {
        let bits = 0;
        for (const s of need(arg).split(',')) {
          const e = CT_STATE_NAMES.find(([, n]) => n === s.toUpperCase());
          if (!e) throw paramError(`Bad ctstate "${s}"`);
          bits |= e[0];
        }
        m = new Conntrack(bits, inv);
      },
      finish() { if (!m) throw paramError('conntrack: At least one option is required', true); return m; },
    };
  },
};

// ---- multiport ----
class Multiport implements Match {
  readonly name = 'multiport';
  constructor(readonly dir: 'sports' | 'dports' | 'ports', readonly ranges: Array<[number, number]>, readonly inv: boolean, readonly proto: string) {}
  private ports(numeric: boolean) {
    return this.ranges.map(([a, b]) => a === b ? portText(a, this.proto, numeric) : `${portText(a, this.proto, numeric)}:${portText(b, this.proto, numeric)}`).join(',');
  }
  save() { return ` -m multiport${this.inv ? ' !' : ''} --${this.dir} ${this.ports(true)}`; }
  list(numeric: boolean) { return ` multiport ${this.dir} ${this.inv ? ' !' : ''}${this.ports(numeric)}`; }
  test(p: Pkt) {
    if (p.frag) return false;
    let hit = false;
    for (const [a, b] of this.ranges) {
      if (this.dir !== 'dports' && p.sport >= a && p.sport <= b) { hit = true; break; }
      if (this.dir !== 'sports' && p.dport >= a && p.dport <= b) { hit = true; break; }
    }
    return hit !== this.inv;
  }
}
const multiport: MatchModule = {
  opts: { sports: true, 'source-ports': true, dports: true, 'destination-ports': true, ports: true },
  create(proto) {
    let m: Multiport | undefined;
    const pname = PROTO_NAME[proto] ?? '';
    return {
      option(opt, arg, inv) {
        if (proto !== 6 && proto !== 17 && proto !== 132 && proto !== 33 && proto !== 136) {
          throw paramError('multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP');
        }
        const ranges = need(arg).split(',').map((r) => parsePortRange(r, pname));
        if (ranges.reduce((n, [a, b]) => n + (a === b ? 1 : 2), 0) > 15) throw paramError('too many ports specified');
        const dir = opt.startsWith('s') ? 'sports' : opt.startsWith('d') ? 'dports' : 'ports';
        m = new Multiport(dir, ranges, inv, pname);
      },
      finish() { if (!m) throw paramError('multiport expects an option'); return m; },
    };
  },
};

// ---- physdev ----
class Physdev implements Match {
  readonly name = 'physdev';
  constructor(readonly isIn: boolean | null) {}
  save() { return ` -m physdev${this.isIn === null ? '' : `${this.isIn ? '' : ' !'} --physdev-is-in`}`; }
  list() { return ` PHYSDEV match${this.isIn === null ? '' : `${this.isIn ? '' : ' !'} --physdev-is-in`}`; }
  test(_p: Pkt, c: EvalCtx) { return this.isIn === null || c.physdevIn === this.isIn; }
}
const physdev: MatchModule = {
  opts: { 'physdev-is-in': false },
  create() {
    let isIn: boolean | null = null;
    return {
      option(_o, _a, inv) { isIn = !inv; },
      finish() { if (isIn === null) throw paramError('PHYSDEV: no physdev option specified'); return new Physdev(isIn); },
    };
  },
};

// ---- nfacct ----
/** libxt_nfacct prints " --nfacct-name " then xtables_save_string's own leading space: two spaces. */
class Nfacct implements Match {
  readonly name = 'nfacct';
  constructor(readonly acct: string) {}
  save() { return ` -m nfacct --nfacct-name  ${saveString(this.acct)}`; }
  list() { return ` nfacct-name  ${saveString(this.acct)}`; }
  test() { return true; }
}
const nfacct: MatchModule = {
  opts: { 'nfacct-name': true },
  create() {
    let n: string | undefined;
    return {
      option(opt, arg, inv) { noInvert('nfacct', opt, inv); if (need(arg).length > 31) throw paramError('nfacct: option "--nfacct-name" must be 31 chars or less', true); n = arg; },
      finish() { if (n === undefined) throw paramError('nfacct: option "--nfacct-name" must be specified', true); return new Nfacct(n); },
    };
  },
};

/** The match extensions this engine loads with -m. */
export const MATCH_MODULES: Record<string, MatchModule> = {
  comment, tcp: l4('tcp'), udp: l4('udp'), mark, statistic, recent, addrtype, set, conntrack, multiport, physdev, nfacct,
};
