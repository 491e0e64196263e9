// Where packets go through the generated rules, traced the way kube-proxy's
// own tests trace them (proxier_test.go iptablesTracer, reference section 8):
// nat PREROUTING, the first output's address as the new destination, then the
// filter service chains; rules matching --rcheck, --mark or --ctstate never
// match (the tracer has no history) and every statistic branch is followed,
// so a service lists all its endpoints. Flows on the upstream
// TestOverallIPTablesRules services.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { restoreLine, stateFromObjects, syncIptables, type IptablesSync, type Rule } from '../src/kubeproxy/index.ts';
import { cidrContains } from '../src/kubeproxy/ip.ts';

interface Packet { src: string; proto: string; dst: string; dport: number }
interface Trace { outputs: string[]; masq: boolean; matched: string[] }

class Tracer {
  private readonly rules: Map<string, Rule[]>;
  constructor(s: IptablesSync, private readonly localIPs: Set<string>) {
    this.rules = new Map();
    const add = (table: string, r: Rule) => {
      const k = `${table}/${r.chain}`;
      this.rules.set(k, [...(this.rules.get(k) ?? []), r]);
    };
    for (const j of s.jumps) add(j.table, j.rule);
    for (const r of s.nat.rules) add('nat', r);
    for (const r of s.filter.rules) add('filter', r);
  }

  private matches(r: Rule, p: Packet): boolean {
    for (const part of r.parts) {
      switch (part.k) {
        case 'src': if (cidrContains(part.addr, p.src) === !!part.neg) return false; break;
        case 'dst': if (cidrContains(part.addr, p.dst) === !!part.neg) return false; break;
        case 'proto': if (part.p !== p.proto) return false; break;
        case 'dport': if (part.port !== p.dport) return false; break;
        case 'm': {
          const a = /-m addrtype( !)? --(src|dst)-type LOCAL/.exec(part.restore);
          if (a) {
            const local = this.localIPs.has(a[2] === 'src' ? p.src : p.dst);
            if (local === !!a[1]) return false;
          } else if (/--rcheck|-m mark|--ctstate/.test(part.restore)) return false;
        }
      }
    }
    return true;
  }

  /** Returns true when the chain terminated (ACCEPT/DROP/REJECT/DNAT, or a terminating non-random jump). */
  private run(table: string, chain: string, p: Packet, tr: Trace): boolean {
    for (const r of this.rules.get(`${table}/${chain}`) ?? []) {
      if (!r.target || !this.matches(r, p)) continue;
      tr.matched.push(restoreLine(r));
      const j = r.target.name;
      if (j === 'KUBE-MARK-MASQ') { tr.masq = true; continue; }
      if (j === 'ACCEPT' || j === 'DROP' || j === 'REJECT') { tr.outputs.push(j); return true; }
      if (j === 'DNAT') { tr.outputs.push(r.target.restore!.replace('--to-destination ', '')); return true; }
      const probabilistic = r.parts.some((x) => x.k === 'm' && x.restore.includes('--probability'));
      if (this.run(table, j, p, tr) && !probabilistic) return true;
    }
    return false;
  }

  trace(p: Packet): { output: string; masq: boolean; matched: string[] } {
    const tr: Trace = { outputs: [], masq: false, matched: [] };
    this.run('nat', 'PREROUTING', p, tr);
    const after = tr.outputs.length ? { ...p, dst: tr.outputs[0]!.split(':')[0]! } : p;
    for (const c of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL']) this.run('filter', c, after, tr);
    return { output: tr.outputs.join(', '), masq: tr.masq, matched: tr.matched };
  }
}

const sc = YAML.parse(readFileSync(join(import.meta.dirname, 'scenarios', 'kubeproxy', 'upstream_overall.yaml'), 'utf8'));
const tracer = new Tracer(syncIptables(stateFromObjects(sc.objects), sc.config), new Set(['127.0.0.1', '192.168.0.2']));

const POD = '10.0.0.2', NODE = '192.168.0.2', OUTSIDE = '203.0.113.2', BLOCKED = '203.0.113.130';
const flows: Array<{ name: string; src: string; dst: string; dport: number; output: string; masq: boolean }> = [
  { name: 'pod to cluster IP', src: POD, dst: '172.30.0.41', dport: 80, output: '10.180.0.1:80', masq: false },
  { name: 'off-cluster source to cluster IP', src: OUTSIDE, dst: '172.30.0.41', dport: 80, output: '10.180.0.1:80', masq: true },
  { name: 'cluster IP, wrong port', src: POD, dst: '172.30.0.41', dport: 81, output: '', masq: false },
  { name: 'direct to a pod', src: POD, dst: '10.180.0.1', dport: 80, output: '', masq: false },
  { name: 'service without endpoints', src: POD, dst: '172.30.0.46', dport: 80, output: 'REJECT', masq: false },
  { name: 'eTP Local LB IP without a local endpoint, from outside', src: OUTSIDE, dst: '1.2.3.4', dport: 80, output: 'DROP', masq: false },
  { name: 'eTP Local LB IP, from a pod: short-circuited to the cluster chain', src: POD, dst: '1.2.3.4', dport: 80, output: '10.180.0.2:80', masq: false },
  { name: 'eTP Local externalIP, from outside', src: OUTSIDE, dst: '192.168.99.22', dport: 80, output: 'DROP', masq: false },
  { name: 'eTP Local NodePort, from outside', src: OUTSIDE, dst: NODE, dport: 3001, output: 'DROP', masq: false },
  { name: 'eTP Local NodePort, from the node itself', src: NODE, dst: NODE, dport: 3001, output: '10.180.0.2:80', masq: true },
  { name: 'health check node port', src: OUTSIDE, dst: NODE, dport: 30000, output: 'ACCEPT', masq: false },
  { name: 'NodePort, eTP Cluster', src: OUTSIDE, dst: NODE, dport: 3003, output: '10.180.0.3:80', masq: true },
  { name: 'externalIP, every endpoint reachable', src: OUTSIDE, dst: '192.168.99.33', dport: 80, output: '10.180.0.4:80, 10.180.0.5:80', masq: true },
  { name: 'LB IP from an allowed source range', src: OUTSIDE, dst: '5.6.7.8', dport: 80, output: '10.180.0.3:80', masq: true },
  { name: 'LB IP from outside the source ranges', src: BLOCKED, dst: '5.6.7.8', dport: 80, output: 'DROP', masq: false },
  { name: 'NodePort of the LB with source ranges (not filtered)', src: BLOCKED, dst: NODE, dport: 3002, output: '10.180.0.3:80', masq: true },
  { name: 'nothing on an unused node port', src: OUTSIDE, dst: NODE, dport: 3999, output: '', masq: false },
];

t.test('packet flows through the upstream ruleset', async (t) => {
  for (const f of flows) {
    const got = tracer.trace({ src: f.src, proto: 'tcp', dst: f.dst, dport: f.dport });
    t.same({ output: got.output, masq: got.masq }, { output: f.output, masq: f.masq }, `${f.name}\n  ${got.matched.join('\n  ')}`);
  }
});
