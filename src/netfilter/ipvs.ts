// IPVS virtual services and real servers (net/netfilter/ipvs): the rr, wrr,
// lc, wlc, sed, nq, sh and dh schedulers, persistence templates on the
// virtual clock, per-destination ActiveConn/InActConn and stats, and
// `ipvsadm -A/-E/-D/-a/-e/-d/-C` and `-L -n [--stats] [--exact]`, `-S -n` in
// ipvsadm 1.31's layout (ipvsadm.c print_title, print_service_entry,
// print_largenum). Checked against the reference and seed 004 only: no
// kernel here has IPVS.

import { ipToU32, u32ToIp } from '../wire/addr.ts';

export type IpvsProto = 'TCP' | 'UDP' | 'SCTP';
export type Scheduler = 'rr' | 'wrr' | 'lc' | 'wlc' | 'sed' | 'nq' | 'sh' | 'dh';
export const SCHEDULERS: readonly Scheduler[] = ['rr', 'wrr', 'lc', 'wlc', 'sed', 'nq', 'sh', 'dh'];
const PROTO_NUM: Record<IpvsProto, number> = { TCP: 6, UDP: 17, SCTP: 132 };
/** Bounds: a user never grows the tables without limit. */
export const MAX_SERVICES = 65536, MAX_DESTS = 4096;

/** The counters ipvsadm --stats prints. */
export interface IpvsStats { conns: number; inPkts: number; outPkts: number; inBytes: number; outBytes: number }

/**
 * ip_vs_est.c's rate estimator: every 2 s each counter's delta, scaled
 * (<<9 for conns and packets, <<4 for bytes), moves an average a quarter of
 * the way (avg += (rate - avg) >> 2); read back as (avg + 0x1FF) >> 10 and
 * (avg + 0xF) >> 5 per second. Ticks are replayed on the virtual clock up to
 * the next count or listing, so they see the counters as they were then.
 */
export class RateEst {
  next = -1;
  readonly last = [0, 0, 0, 0, 0];
  readonly avg = [0, 0, 0, 0, 0];
  advance(x: IpvsStats, nowNs: number): void {
    const cur = [x.conns, x.inPkts, x.outPkts, x.inBytes, x.outBytes];
    if (this.next < 0) { this.next = nowNs + 2e9; cur.forEach((v, i) => { this.last[i] = v; }); return; }
    let ticks = 0;
    while (this.next <= nowNs) {
      for (let i = 0; i < 5; i++) {
        const rate = (cur[i]! - this.last[i]!) * (i < 3 ? 512 : 16);
        this.last[i] = cur[i]!;
        this.avg[i] = this.avg[i]! + Math.floor((rate - this.avg[i]!) / 4);
      }
      this.next += 2e9;
      // After enough idle ticks every average is 0: skip the rest.
      if (++ticks > 200) { this.avg.fill(0); this.next = nowNs - (nowNs % 2e9) + 2e9; break; }
    }
  }
  /** CPS, InPPS, OutPPS, InBPS, OutBPS. */
  rates(): number[] { return this.avg.map((a, i) => (i < 3 ? Math.floor((a + 0x1ff) / 1024) : Math.floor((a + 0xf) / 32))); }
  reset(): void { this.next = -1; this.last.fill(0); this.avg.fill(0); }
}

export interface RealServer extends IpvsStats {
  addr: number; port: number; weight: number; fwd: 'Masq' | 'Local' | 'Tunnel' | 'Route';
  active: number; inactive: number;
  est: RateEst;
}

export class VirtualService {
  dests: RealServer[] = [];
  conns = 0; inPkts = 0; outPkts = 0; inBytes = 0; outBytes = 0;
  readonly est = new RateEst();
  /** rr/wrr position, wrr current weight. */
  private pos = -1;
  private cw = 0;
  /** Persistence templates: client address -> destination and expiry (ns). */
  readonly templates = new Map<number, { dest: RealServer; expiresNs: number }>();
  constructor(readonly proto: IpvsProto, readonly addr: number, readonly port: number, public scheduler: Scheduler, public persistent: number) {}

  /** Picks a destination for a new connection from `client` to `dst` (the VIP), as the kernel's scheduler does. */
  schedule(client: number, dst: number, nowNs: number): RealServer | null {
    if (this.persistent) {
      const t = this.templates.get(client);
      if (t && t.expiresNs > nowNs && t.dest.weight > 0 && this.dests.includes(t.dest)) { t.expiresNs = nowNs + this.persistent * 1e9; return t.dest; }
    }
    const d = this.pick(client, dst);
    if (d && this.persistent) this.templates.set(client, { dest: d, expiresNs: nowNs + this.persistent * 1e9 });
    return d;
  }

  /** A new connection: scheduled, counted (Conns, ActiveConn) on the service and the destination. */
  connect(client: number, dst: number, nowNs: number): RealServer | null {
    const d = this.schedule(client, dst, nowNs);
    if (d) { d.conns++; d.active++; this.conns++; }
    return d;
  }
  /** The connection left ESTABLISHED (FIN/RST): ActiveConn -> InActConn. */
  closed(d: RealServer): void { if (d.active > 0) { d.active--; d.inactive++; } }
  /** The connection's entry expired. */
  expired(d: RealServer): void { if (d.inactive > 0) d.inactive--; }
  /** Replays the rate estimators' ticks up to now (before counters move, and before a listing). */
  advance(nowNs: number): void { this.est.advance(this, nowNs); for (const d of this.dests) d.est.advance(d, nowNs); }
  /** ipvsadm -Z: counters and rates back to 0. */
  zero(): void {
    for (const x of [this, ...this.dests]) { x.conns = 0; x.inPkts = 0; x.outPkts = 0; x.inBytes = 0; x.outBytes = 0; x.est.reset(); }
  }
  /** Packet and byte counters of one packet in or out. */
  count(d: RealServer, bytes: number, inbound: boolean): void {
    if (inbound) { d.inPkts++; d.inBytes += bytes; this.inPkts++; this.inBytes += bytes; } else { d.outPkts++; d.outBytes += bytes; this.outPkts++; this.outBytes += bytes; }
  }

  private pick(client: number, dst: number): RealServer | null {
    const live = this.dests.filter((d) => d.weight > 0);
    if (live.length === 0) return null;
    const overhead = (d: RealServer) => d.active * 256 + d.inactive;
    switch (this.scheduler) {
      case 'rr': {
        for (let k = 1; k <= this.dests.length; k++) {
          const d = this.dests[(this.pos + k) % this.dests.length]!;
          if (d.weight > 0) { this.pos = this.dests.indexOf(d); return d; }
        }
        return null;
      }
      case 'wrr': {
        const max = Math.max(...live.map((d) => d.weight)), g = live.map((d) => d.weight).reduce(gcd);
        for (let guard = 0; guard < 1 + this.dests.length * (max / g + 1); guard++) {
          this.pos = (this.pos + 1) % this.dests.length;
          if (this.pos === 0) { this.cw -= g; if (this.cw <= 0) this.cw = max; }
          const d = this.dests[this.pos]!;
          if (d.weight >= this.cw) return d;
        }
        return live[0]!;
      }
      case 'lc': return minBy(live, overhead);
      case 'wlc': return minBy(live, (d) => overhead(d) / d.weight);
      case 'sed': return minBy(live, (d) => (d.active + 1) / d.weight);
      case 'nq': return live.find((d) => d.active === 0) ?? minBy(live, (d) => (d.active + 1) / d.weight);
      // The kernel hashes into a 256-slot table weighted by dest; we hash straight over the live dests (same stickiness, other spread).
      case 'sh': return live[hash32(client) % live.length]!;
      case 'dh': return live[hash32(dst) % live.length]!;
    }
  }
}

function gcd(a: number, b: number): number { return b === 0 ? a : gcd(b, a % b); }
function minBy<T extends object>(xs: T[], f: (x: T) => number): T { let best = xs[0]!, bv = f(best); for (const x of xs) { const v = f(x); if (v < bv) { best = x; bv = v; } } return best; }
/** hash_32 (golden ratio), as the kernel's schedulers spread addresses. */
function hash32(v: number): number { return (Math.imul(v, 0x61c88647) >>> 0) >>> 24; }

const key = (p: IpvsProto, a: number, port: number) => `${p}:${a}:${port}`;

export class IpvsError extends Error {}

/** One namespace's IPVS table. */
export class Ipvs {
  readonly services = new Map<string, VirtualService>();
  /** Connection table size (CONFIG_IP_VS_TAB_BITS=12). */
  readonly tableSize = 4096;

  find(proto: IpvsProto, addr: number, port: number): VirtualService | undefined { return this.services.get(key(proto, addr, port)); }

  addService(proto: IpvsProto, addr: number, port: number, scheduler: Scheduler = 'rr', persistent = 0): VirtualService {
    if (this.find(proto, addr, port)) throw new IpvsError('Service already exists');
    if (this.services.size >= MAX_SERVICES) throw new IpvsError('Memory allocation problem');
    const s = new VirtualService(proto, addr, port, scheduler, persistent);
    this.services.set(key(proto, addr, port), s);
    return s;
  }
  delService(proto: IpvsProto, addr: number, port: number): void {
    if (!this.services.delete(key(proto, addr, port))) throw new IpvsError('No such service');
  }
  addDest(s: VirtualService, addr: number, port: number, weight = 1, fwd: RealServer['fwd'] = 'Masq'): RealServer {
    if (s.dests.some((d) => d.addr === addr && d.port === port)) throw new IpvsError('Destination already exists');
    if (s.dests.length >= MAX_DESTS) throw new IpvsError('Memory allocation problem');
    const d: RealServer = { addr, port, weight, fwd, active: 0, inactive: 0, conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, est: new RateEst() };
    s.dests.push(d);
    return d;
  }
  delDest(s: VirtualService, addr: number, port: number): void {
    const i = s.dests.findIndex((d) => d.addr === addr && d.port === port);
    if (i < 0) throw new IpvsError('No such destination');
    s.dests.splice(i, 1);
  }

  /** Services sorted as ipvsadm lists them (protocol number, address, port); dests by address, port. */
  sorted(): VirtualService[] {
    return [...this.services.values()].sort((a, b) => PROTO_NUM[a.proto] - PROTO_NUM[b.proto] || a.addr - b.addr || a.port - b.port);
  }

  /** `ipvsadm -L -n [--stats|--rate] [--exact] [-t|-u VIP:PORT]`; rates need the virtual time. */
  list(o: { stats?: boolean; rate?: boolean; exact?: boolean; nowNs?: number; only?: VirtualService } = {}): string {
    let out = `IP Virtual Server version 1.2.1 (size=${this.tableSize})\n`;
    const cols = o.rate ? ['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'] : ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'];
    const nums = o.rate ? (x: IpvsStats & { est: RateEst }) => row(x.est.rates(), o.exact) : (x: IpvsStats & { est: RateEst }) => stats(x, o.exact);
    if (o.stats || o.rate) out += `${'Prot LocalAddress:Port'.padEnd(33)} ${cols.map((c) => c.padStart(8)).join(' ')}\n  -> RemoteAddress:Port\n`;
    else out += 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
    for (const s of o.only ? [o.only] : this.sorted()) {
      if (o.rate && o.nowNs !== undefined) s.advance(o.nowNs);
      const name = `${s.proto}  ${u32ToIp(s.addr)}:${s.port}`.slice(0, 33);
      if (o.stats || o.rate) out += name.padEnd(33) + nums(s) + '\n';
      else out += `${name} ${s.scheduler}${s.persistent ? ` persistent ${s.persistent}` : ''}\n`;
      const dests = [...s.dests].sort((a, b) => a.addr - b.addr || a.port - b.port);
      for (const d of dests) {
        const dn = `${u32ToIp(d.addr)}:${d.port}`.slice(0, 28);
        if (o.stats || o.rate) out += `  -> ${dn.padEnd(28)}${nums(d)}\n`;
        else out += `  -> ${dn.padEnd(28)} ${d.fwd.padEnd(7)} ${String(d.weight).padEnd(6)} ${String(d.active).padEnd(10)} ${String(d.inactive).padEnd(10)}\n`;
      }
    }
    return out;
  }

  /** `ipvsadm -S -n`. */
  save(): string {
    let out = '';
    const flag = (p: IpvsProto) => (p === 'TCP' ? '-t' : p === 'UDP' ? '-u' : '--sctp-service');
    for (const s of this.sorted()) {
      const vs = `${flag(s.proto)} ${u32ToIp(s.addr)}:${s.port}`;
      out += `-A ${vs} -s ${s.scheduler}${s.persistent ? ` -p ${s.persistent}` : ''}\n`;
      for (const d of [...s.dests].sort((a, b) => a.addr - b.addr || a.port - b.port)) {
        const f = { Masq: '-m', Local: '-i', Tunnel: '-i', Route: '-g' }[d.fwd];
        out += `-a ${vs} -r ${u32ToIp(d.addr)}:${d.port} ${f} -w ${d.weight}\n`;
      }
    }
    return out;
  }
}

/** print_largenum: %9llu below 10^8, then K/M/G/T in 8 columns; --exact prints every digit. */
function largenum(n: number, exact?: boolean): string {
  if (exact || n < 1e8) return String(n).padStart(9);
  if (n < 1e9) return String(Math.floor(n / 1e3)).padStart(8) + 'K';
  if (n < 1e11) return String(Math.floor(n / 1e6)).padStart(8) + 'M';
  if (n < 1e14) return String(Math.floor(n / 1e9)).padStart(8) + 'G';
  return String(Math.floor(n / 1e12)).padStart(8) + 'T';
}
function stats(x: IpvsStats, exact?: boolean): string { return row([x.conns, x.inPkts, x.outPkts, x.inBytes, x.outBytes], exact); }
function row(ns: number[], exact?: boolean): string { return ns.map((n) => largenum(n, exact)).join(''); }

/** `ipvsadm ARGS...` over a table; ipvsadm's error text on stderr, exit 1 (2 for usage). */
export function ipvsadm(ipvs: Ipvs, argv: readonly string[], nowNs = 0): { stdout: string; stderr: string; code: number } {
  let cmd: string | undefined, proto: IpvsProto | undefined, vaddr: [number, number] | undefined, raddr: [number, number] | undefined;
  // ipvsadm's DEF_SCHED: -A / -E without -s take wlc (kube-proxy always names its scheduler).
  let sched: Scheduler = 'wlc', persistent = 0, weight = 1, fwd: RealServer['fwd'] = 'Masq', stats = false, exact = false, rate = false;
  const hostPort = (s: string | undefined): [number, number] => {
    const m = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(s ?? '');
    if (!m || Number(m[2]) > 65535) throw new IpvsError(`Illegal virtual server address[:port] specified`);
    return [ipToU32(m[1]!), Number(m[2])];
  };
  try {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      switch (a) {
        case '-A': case '--add-service': case '-E': case '--edit-service': case '-D': case '--delete-service':
        case '-a': case '--add-server': case '-e': case '--edit-server': case '-d': case '--delete-server':
        case '-C': case '--clear': case '-L': case '-l': case '--list': case '-S': case '--save': case '-Ln': case '-ln': case '-Z': case '--zero':
          cmd = a.startsWith('--') ? a : a.slice(0, 2); if (a === '-Ln' || a === '-ln') cmd = '-L'; break;
        case '-t': case '--tcp-service': proto = 'TCP'; vaddr = hostPort(argv[++i]); break;
        case '-u': case '--udp-service': proto = 'UDP'; vaddr = hostPort(argv[++i]); break;
        case '--sctp-service': proto = 'SCTP'; vaddr = hostPort(argv[++i]); break;
        case '-r': case '--real-server': raddr = hostPort(argv[++i]); break;
        case '-s': case '--scheduler': {
          const v = argv[++i] as Scheduler;
          if (!SCHEDULERS.includes(v)) throw new IpvsError('Scheduler not found');
          sched = v; break;
        }
        case '-p': case '--persistent': { const v = argv[i + 1]; if (v && /^\d+$/.test(v)) { persistent = Number(v); i++; } else persistent = 300; break; }
        case '-w': case '--weight': { const v = Number(argv[++i]); if (!Number.isInteger(v) || v < 0 || v > 65535) throw new IpvsError('illegal weight specified'); weight = v; break; }
        case '-m': case '--masquerading': fwd = 'Masq'; break;
        case '-g': case '--gatewaying': fwd = 'Route'; break;
        case '-i': case '--ipip': fwd = 'Tunnel'; break;
        case '-n': case '--numeric': break;
        case '--stats': stats = true; break;
        case '--rate': rate = true; break;
        case '--exact': exact = true; break;
        default: return { stdout: '', stderr: `Try \`ipvsadm -h' or 'ipvsadm --help' for more information.\n`, code: 2 };
      }
    }
    const svc = () => {
      if (!proto || !vaddr) throw new IpvsError('No service specified');
      const s = ipvs.find(proto, vaddr[0], vaddr[1]);
      if (!s) throw new IpvsError('No such service');
      return s;
    };
    switch (cmd) {
      case undefined: case '-L': case '--list': return { stdout: ipvs.list({ stats, rate, exact, nowNs, ...(vaddr ? { only: svc() } : {}) }), stderr: '', code: 0 };
      case '-Z': case '--zero': for (const s of vaddr ? [svc()] : ipvs.services.values()) s.zero(); break;
      case '-S': case '--save': return { stdout: ipvs.save(), stderr: '', code: 0 };
      case '-C': case '--clear': ipvs.services.clear(); break;
      case '-A': case '--add-service':
        if (!proto || !vaddr) throw new IpvsError('No service specified');
        ipvs.addService(proto, vaddr[0], vaddr[1], sched, persistent); break;
      case '-E': case '--edit-service': { const s = svc(); s.scheduler = sched; s.persistent = persistent; break; }
      case '-D': case '--delete-service': if (!proto || !vaddr) throw new IpvsError('No service specified'); ipvs.delService(proto, vaddr[0], vaddr[1]); break;
      case '-a': case '--add-server': if (!raddr) throw new IpvsError('No destination specified'); ipvs.addDest(svc(), raddr[0], raddr[1], weight, fwd); break;
      case '-e': case '--edit-server': {
        if (!raddr) throw new IpvsError('No destination specified');
        const d = svc().dests.find((x) => x.addr === raddr![0] && x.port === raddr![1]);
        if (!d) throw new IpvsError('No such destination');
        d.weight = weight; d.fwd = fwd; break;
      }
      case '-d': case '--delete-server': if (!raddr) throw new IpvsError('No destination specified'); ipvs.delDest(svc(), raddr[0], raddr[1]); break;
    }
    return { stdout: '', stderr: '', code: 0 };
  } catch (e) {
    if (e instanceof IpvsError) return { stdout: '', stderr: `${e.message}\n`, code: 1 };
    throw e;
  }
}
