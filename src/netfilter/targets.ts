// Target extensions: DNAT, SNAT, MASQUERADE (libxt_NAT.c), MARK
// (libxt_MARK.c, saved as --set-xmark), REJECT (libipt_REJECT.c), with
// their save and -L texts; ACCEPT/DROP/RETURN and chain jumps are the
// rule's own fields.

import { ipToU32, u32ToIp } from '../wire/addr.ts';
import { paramError } from './errors.ts';
import { parseMarkMask } from './matches.ts';
import { hex, parseUint } from './text.ts';
import type { NatRequest, Pkt, Target, TargetResult, TableName } from './types.ts';

export interface TargetBuilder {
  option(opt: string, arg: string | undefined, inv: boolean): void;
  finish(): Target;
}
export interface TargetModule {
  opts: Record<string, boolean>;
  /** Tables the kernel accepts the target in (undefined: any). */
  tables?: readonly TableName[];
  create(proto: number): TargetBuilder;
}

const CONTINUE: TargetResult = { kind: 'continue' };

// ---- NAT ----
/** "a.b.c.d[-e.f.g.h][:port[-port]]" as --to-destination/--to-source take it. */
function parseRange(name: string, opt: string, s: string, proto: number): NatRequest {
  const r: NatRequest = { kind: name === 'DNAT' ? 'dnat' : 'snat', addr: 0, addrHi: 0, portLo: 0, portHi: 0, randomFully: false, random: false, persistent: false };
  const colon = s.indexOf(':');
  const addrs = colon < 0 ? s : s.slice(0, colon);
  if (colon >= 0) {
    if (proto !== 6 && proto !== 17 && proto !== 132 && proto !== 33) throw paramError('Need TCP, UDP, SCTP or DCCP with port specification');
    const [lo, hi, extra] = s.slice(colon + 1).split('-');
    const a = parseUint(lo ?? '', 65535), b = hi === undefined ? a : parseUint(hi, 65535);
    if (a === undefined || b === undefined || extra !== undefined || a === 0 || b < a) throw paramError(`Port "${s.slice(colon + 1)}" not valid\n`);
    r.portLo = a; r.portHi = b;
  }
  if (addrs !== '') {
    const [lo, hi] = addrs.split('-');
    try {
      r.addr = ipToU32(lo!); r.addrHi = hi === undefined ? r.addr : ipToU32(hi);
    } catch { throw paramError(`Bad IP address "${addrs}"\n`); }
  } else if (colon < 0) throw paramError(`${name}: option "--${opt}" must be specified`, true);
  return r;
}
function rangeText(r: NatRequest, skipColon: boolean): string {
  let s = '';
  if (r.addr !== 0 || r.addrHi !== 0) s += u32ToIp(r.addr) + (r.addrHi !== r.addr ? '-' + u32ToIp(r.addrHi) : '');
  if (r.portLo !== 0) s += ':' + r.portLo + (r.portHi !== r.portLo ? '-' + r.portHi : '');
  if (skipColon && s.startsWith(':')) s = s.slice(1);
  return s;
}
class Nat implements Target {
  private readonly result: TargetResult;
  constructor(readonly name: 'DNAT' | 'SNAT' | 'MASQUERADE', readonly r: NatRequest) { this.result = { kind: 'nat', nat: r }; }
  private text(listing: boolean): string {
    const masq = this.name === 'MASQUERADE';
    const range = rangeText(this.r, masq);
    const opt = listing ? (masq ? 'masq ports: ' : 'to:') : (masq ? '--to-ports ' : this.name === 'DNAT' ? '--to-destination ' : '--to-source ');
    const pfx = listing ? '' : '--';
    return (range ? ` ${opt}${range}` : '') + (this.r.random ? ` ${pfx}random` : '') + (this.r.randomFully ? ` ${pfx}random-fully` : '') +
      (this.r.persistent ? ` ${pfx}persistent` : '');
  }
  save() { return this.text(false); }
  list() { return this.text(true); }
  run(): TargetResult { return this.result; }
}
function nat(name: 'DNAT' | 'SNAT' | 'MASQUERADE'): TargetModule {
  const rangeOpt = name === 'DNAT' ? 'to-destination' : name === 'SNAT' ? 'to-source' : 'to-ports';
  return {
    tables: ['nat'],
    opts: { [rangeOpt]: true, random: false, 'random-fully': false, persistent: false },
    create(proto) {
      let r: NatRequest | undefined;
      const flags = { random: false, randomFully: false, persistent: false };
      return {
        option(opt, arg) {
          if (opt === rangeOpt) {
            if (r) throw paramError(`${name}: option "--${opt}" can only be used once.`, true);
            r = name === 'MASQUERADE' ? parseRange('MASQUERADE', opt, ':' + arg!, proto) : parseRange(name, opt, arg!, proto);
          } else if (opt === 'random') flags.random = true;
          else if (opt === 'random-fully') flags.randomFully = true;
          else flags.persistent = true;
        },
        finish() {
          if (!r) {
            if (name !== 'MASQUERADE') throw paramError(`${name}: option "--${rangeOpt}" must be specified`, true);
            r = { kind: 'masquerade', addr: 0, addrHi: 0, portLo: 0, portHi: 0, randomFully: false, random: false, persistent: false };
          }
          if (name === 'MASQUERADE') r.kind = 'masquerade';
          Object.assign(r, flags);
          return new Nat(name, r);
        },
      };
    },
  };
}

// ---- MARK ----
class Mark implements Target {
  readonly name = 'MARK';
  constructor(readonly mark: number, readonly mask: number) {}
  save() { return ` --set-xmark ${hex(this.mark)}/${hex(this.mask)}`; }
  list() {
    const { mark, mask } = this;
    if (mark === 0) return ` MARK and ${hex(~mask)}`;
    if (mark === mask) return ` MARK or ${hex(mark)}`;
    if (mask === 0) return ` MARK xor ${hex(mark)}`;
    if (mask === 0xffffffff) return ` MARK set ${hex(mark)}`;
    return ` MARK xset ${hex(mark)}/${hex(mask)}`;
  }
  run(p: Pkt): TargetResult { p.mark = ((p.mark & ~this.mask) ^ this.mark) >>> 0; return CONTINUE; }
}
const MARK: TargetModule = {
  opts: { 'set-xmark': true, 'set-mark': true, 'and-mark': true, 'or-mark': true, 'xor-mark': true },
  create() {
    let t: Mark | undefined;
    return {
      option(opt, arg) {
        if (t) throw paramError('MARK target: Can specify only one action');
        if (opt === 'set-xmark' || opt === 'set-mark') {
          const [v, m] = parseMarkMask('MARK', opt, arg!);
          t = opt === 'set-xmark' ? new Mark(v, m) : new Mark(v, (m | v) >>> 0);
        } else {
          const v = parseUint(arg!);
          if (v === undefined) throw paramError(`MARK: bad value for option "--${opt}", or out of range (0-4294967295).`, true);
          t = opt === 'and-mark' ? new Mark(0, ~v >>> 0) : opt === 'or-mark' ? new Mark(v, v) : new Mark(v, 0);
        }
      },
      finish() { if (!t) throw paramError('MARK target: Parameter --set/and/or/xor-mark is required'); return t; },
    };
  },
};

// ---- REJECT ----
const REJECT_TYPES: Array<[string, string]> = [
  ['icmp-net-unreachable', 'net-unreach'], ['icmp-host-unreachable', 'host-unreach'], ['icmp-proto-unreachable', 'proto-unreach'],
  ['icmp-port-unreachable', 'port-unreach'], ['icmp-net-prohibited', 'net-prohib'], ['icmp-host-prohibited', 'host-prohib'],
  ['tcp-reset', 'tcp-rst'], ['icmp-admin-prohibited', 'admin-prohib'],
];
class Reject implements Target {
  readonly name = 'REJECT';
  private readonly result: TargetResult;
  constructor(readonly with_: string) { this.result = { kind: 'verdict', verdict: 'REJECT', rejectWith: with_ }; }
  save() { return ` --reject-with ${this.with_}`; }
  list() { return ` reject-with ${this.with_}`; }
  run(): TargetResult { return this.result; }
}
const REJECT: TargetModule = {
  opts: { 'reject-with': true },
  create(proto) {
    let w = 'icmp-port-unreachable';
    return {
      option(_opt, arg) {
        const e = REJECT_TYPES.find(([n, a]) => n.startsWith(arg!) && arg!.length > 0 || a === arg);
        if (!e) throw paramError(`unknown reject type "${arg}"`);
        w = e[0];
      },
      finish() {
        if (w === 'tcp-reset' && proto !== 6) throw paramError('RULE_APPEND failed (Invalid argument)');
        return new Reject(w);
      },
    };
  },
};

export const TARGET_MODULES: Record<string, TargetModule> = {
  DNAT: nat('DNAT'), SNAT: nat('SNAT'), MASQUERADE: nat('MASQUERADE'), MARK, REJECT,
};
