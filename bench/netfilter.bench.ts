// Netfilter engine figures as JSON: ns per KUBE-SERVICES rule walked by a
// connection's first packet (target service last vs first, N = 10..10k),
// new connections/s and the established-packet cost through the hooks with
// conntrack, iptables-restore and iptables-save time; and, as root, the real
// kernel's per-rule cost measured in the same invocation by
// ../shared/tools/kernel-iptables-scaling.sh (iptables-nft).
// Run: node --expose-gc --import tsx bench/netfilter.bench.ts [--rounds N] [--only perRule] [--no-kernel]

import { Rng } from '../src/sim/sim.ts';
import { ipToU32, u32ToIp } from '../src/wire/addr.ts';
import { walk } from '../src/netfilter/eval.ts';
import { Netfilter } from '../src/netfilter/netfilter.ts';
import { Recent } from '../src/netfilter/recent.ts';
import { restore } from '../src/netfilter/restore.ts';
import { Ruleset } from '../src/netfilter/ruleset.ts';
import { save } from '../src/netfilter/save.ts';
import { KUBE_PROXY_SETTINGS, TCP_ACK, TCP_SYN } from '../src/netfilter/conntrack.ts';
import type { EvalCtx, Pkt } from '../src/netfilter/types.ts';
import { benchArgs, runBench, type Case } from './lib/harness.ts';
import { millis, perSec, span, type Measured } from './lib/figures.ts';
import { kernelFigure } from './lib/kernel_iptables.ts';

const SIZES = [10, 100, 1000, 10000];
const args = benchArgs();

/** kube-proxy-shaped nat table (as the kernel script generates it): n ClusterIP services, 3 endpoints each. */
function natRules(n: number): string {
  const out = ['*nat', ':KUBE-SERVICES - [0:0]', ':KUBE-NODEPORTS - [0:0]', ':KUBE-POSTROUTING - [0:0]', ':KUBE-MARK-MASQ - [0:0]'];
  const rules: string[] = [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    '-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000',
  ];
  const large = n * 3 > 1000;
  for (let i = 0; i < n; i++) {
    const vip = u32ToIp(ipToU32('10.96.0.10') + i), name = `bench/svc-${i}:http`, h = i.toString(36).toUpperCase().padStart(16, 'A');
    out.push(`:KUBE-SVC-${h} - [0:0]`);
    rules.push(`-A KUBE-SERVICES -m comment --comment "${name} cluster IP" -m tcp -p tcp -d ${vip} --dport 80 -j KUBE-SVC-${h}`);
    rules.push(`-A KUBE-SVC-${h} -m comment --comment "${name} cluster IP" -m tcp -p tcp -d ${vip} --dport 80 ! -s 10.10.0.0/16 -j KUBE-MARK-MASQ`);
    for (let k = 0; k < 3; k++) {
      const ep = `10.${11 + k}.${(i >> 8) & 255}.${i & 255}`, sep = `KUBE-SEP-${h.slice(0, 15)}${k}`;
      out.push(`:${sep} - [0:0]`);
      const c = large ? '' : `-m comment --comment "${name} -> ${ep}:80" `;
      rules.push(`-A KUBE-SVC-${h} ${c}${k < 2 ? `-m statistic --mode random --probability ${(1 / (3 - k)).toFixed(10)} ` : ''}-j ${sep}`);
      rules.push(`-A ${sep} ${large ? '' : `-m comment --comment ${name} `}-s ${ep} -j KUBE-MARK-MASQ`);
      rules.push(`-A ${sep} ${large ? '' : `-m comment --comment ${name} `}-m tcp -p tcp -j DNAT --to-destination ${ep}:80`);
    }
  }
  rules.push('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  return [...out, ...rules, 'COMMIT', ''].join('\n');
}

const nodeIp = ipToU32('172.18.0.2');
function pkt(dst: number, sport: number, flags = TCP_SYN): Pkt {
  return { src: ipToU32('10.10.0.6'), dst, proto: 6, sport, dport: 80, len: 60, tcpFlags: flags, icmpType: 0, icmpCode: 0, icmpId: 0, frag: false, inIf: 'veth1', outIf: 'eth0', mark: 0 };
}

const loaded = new Map<number, Ruleset>();
function ruleset(n: number): Ruleset {
  let rs = loaded.get(n);
  if (!rs) {
    rs = new Ruleset();
    const r = restore(rs, natRules(n));
    if (r.code !== 0) throw new Error(r.stderr);
    loaded.set(n, rs);
  }
  return rs;
}

/** ns per nat-table walk of a first packet to the service at index i, over `reps` packets. */
function walkNs(rs: Ruleset, dst: number, reps: number): { ns: number; walked: number } {
  const ctx: EvalCtx = { nowNs: 0, rng: new Rng(1), ctstate: 2, isLocal: (a) => a === nodeIp, sets: null, recent: new Recent(), physdevIn: false };
  const t = rs.tables.nat;
  const p = pkt(dst, 40000);
  let walked = 0;
  for (let i = 0; i < Math.min(reps, 2000); i++) { p.dst = dst; p.mark = 0; walk(t, 'PREROUTING', p, ctx); }
  const stop = span();
  for (let i = 0; i < reps; i++) { p.dst = dst; p.dport = 80; p.mark = 0; walked = walk(t, 'PREROUTING', p, ctx).rulesWalked; }
  return { ns: stop().cpuMs * 1e6 / reps, walked };
}

const ns = (v: number): Measured => ({ kind: 'measured', value: Math.round(v * 100) / 100, better: 'lower', nsPerOp: v, clock: 'cpu' });

const cases: Case[] = [];
for (const n of SIZES) {
  cases.push({
    name: `perRule.n${n}`,
    run() {
      const rs = ruleset(n);
      const reps = Math.max(2000, Math.floor(4e6 / n));
      const first = walkNs(rs, ipToU32('10.96.0.10'), reps);
      const last = walkNs(rs, ipToU32('10.96.0.10') + n - 1, reps);
      return {
        nsPerRule: ns((last.ns - first.ns) / Math.max(1, last.walked - first.walked)),
        firstPacketLastServiceNs: ns(last.ns), firstPacketFirstServiceNs: ns(first.ns),
        rulesWalkedLast: last.walked, rulesWalkedFirst: first.walked,
      };
    },
  });
}

/** New connections (SYN through PREROUTING and POSTROUTING, conntrack created and confirmed) and established packets, at n services. */
function connCase(n: number): Case {
  return {
    name: `conn.n${n}`,
    run() {
      let now = 0;
      const nf = new Netfilter({ now: () => now, rng: new Rng(3), isLocal: (a) => a === nodeIp, deviceAddr: () => nodeIp }, { ...KUBE_PROXY_SETTINGS, max: 1 << 22 });
      const r = restore(nf.rules, natRules(n));
      if (r.code !== 0) throw new Error(r.stderr);
      const vip = ipToU32('10.96.0.10') + Math.floor(n / 2);
      const conns = 20000;
      const stop = span();
      for (let i = 0; i < conns; i++) {
        const p = pkt(vip, 1024 + (i % 60000));
        p.src = ipToU32('10.10.0.6') + Math.floor(i / 60000);
        const np = nf.begin(p);
        nf.hook('PREROUTING', np); nf.hook('POSTROUTING', np);
        now += 1000;
      }
      const newConn = stop();
      const est = 200000;
      const p0 = pkt(vip, 1024, TCP_ACK);
      const stop2 = span();
      for (let i = 0; i < est; i++) {
        p0.dst = vip; p0.dport = 80; p0.src = ipToU32('10.10.0.6'); p0.sport = 1024;
        const np = nf.begin(p0);
        nf.hook('PREROUTING', np); nf.hook('POSTROUTING', np);
      }
      const estT = stop2();
      return { newConnectionsPerSec: perSec(conns, newConn.cpuMs, 'cpu'), establishedPacketNs: ns(estT.cpuMs * 1e6 / est), conntrackEntries: nf.conntrack.size };
    },
  };
}
cases.push(connCase(10), connCase(1000), connCase(10000));

cases.push({
  name: 'restoreSave.n10000',
  run() {
    const text = natRules(10000);
    const rs = new Ruleset();
    const a = span();
    restore(rs, text);
    const restoreT = a();
    const b = span();
    const out = save(rs);
    const saveT = b();
    return { restoreMs: millis(restoreT.cpuMs, 'cpu'), saveMs: millis(saveT.cpuMs, 'cpu'), rules: out.split('\n').filter((l) => l.startsWith('-A')).length };
  },
});

const kernel = kernelFigure(args.rest);
await runBench({
  header: {
    bench: 'netfilter',
    method: 'perRule: nat PREROUTING walk of a first packet (no conntrack) over a kube-proxy-shaped KUBE-SERVICES chain of N services (3 endpoints each), target service last vs first; nsPerRule = (last - first) / (extra rules walked), CPU time. conn: SYNs through PREROUTING+POSTROUTING with conntrack (create, DNAT, confirm) to a service in the middle, then established packets of one connection.',
    realKernel: kernel,
  },
  cases,
  rounds: 5,
}, args);
