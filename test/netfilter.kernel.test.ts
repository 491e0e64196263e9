// Real-kernel conformance: rule sets the emulator holds (its own fixtures and
// kube-proxy's generated rules for 1..200 services of every kind) are saved
// by the emulator, loaded with the real iptables-restore into a fresh network
// namespace, and the real iptables-save, iptables -S and iptables -L -n -v must
// print exactly what the emulator prints (counters zero on both sides).
// Needs root and iptables (nf_tables); without them it fails under CI and
// says why otherwise.

import t, { type Test } from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ruleset } from '../src/netfilter/ruleset.ts';
import { restore } from '../src/netfilter/restore.ts';
import { iptables, iptablesSave } from '../src/netfilter/exec.ts';
import { splitArgs } from '../src/netfilter/args.ts';
import { iptablesRestore, restoreLine, syncIptables, type ProxyConfig, type ProxyState, type ServiceSpec } from '../src/kubeproxy/index.ts';
import { execFileSync, spawnSync } from 'node:child_process';

// ---- real-kernel helpers: nothing here touches the host's own namespace ----
/** Why real-kernel tests cannot run here, or null when they can. */
export function kernelUnavailable(bins: string[]): string | null {
  if (process.getuid?.() !== 0) return 'not root: network namespaces need CAP_SYS_ADMIN';
  for (const b of ['ip', ...bins]) {
    if (spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0) return `missing binary: ${b}`;
  }
  return null;
}

let seq = 0;
/** A fresh namespace for fn; deleted afterwards whatever happens. */
export function withNetns<T>(fn: (exec: (argv: string[], input?: string) => { stdout: string; stderr: string; code: number }) => T): T {
  const name = `dplab-nf-${process.pid}-${seq++}`;
  execFileSync('ip', ['netns', 'add', name]);
  try {
    return fn((argv, input) => {
      const r = spawnSync('ip', ['netns', 'exec', name, ...argv], { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
      return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', code: r.status ?? -1 };
    });
  } finally {
    spawnSync('ip', ['netns', 'del', name]);
  }
}

const why = kernelUnavailable(['iptables', 'iptables-restore', 'iptables-save', 'ipset', 'nfacct']);
if (why) {
  if (process.env.CI) t.fail(`real-kernel netfilter conformance cannot run: ${why} (CI needs root and the iptables, ipset, nfacct packages)`);
  else t.comment(`SKIPPED real-kernel netfilter conformance: ${why}`);
  t.pass('nothing to compare');
} else {
  const version = withNetns((x) => x(['iptables', '--version']).stdout.trim());
  t.equal(version, 'iptables v1.8.9 (nf_tables)', 'the binaries the emulator reproduces');

  const dir = join(import.meta.dirname, 'scenarios/netfilter');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.rules'))) {
    t.test(`fixture ${f}`, async (t) => {
      const rs = new Ruleset();
      t.equal(restore(rs, readFileSync(join(dir, f), 'utf8')).code, 0);
      compare(t, rs);
    });
  }

  for (const n of [1, 2, 7, 25, 60, 200]) {
    t.test(`kube-proxy generator, ${n} services of every kind`, async (t) => {
      compare(t, kubeProxyRuleset(n));
    });
  }
}

/** The emulator's save loaded into the kernel; every listing compared. */
function compare(t: Test, rs: Ruleset): void {
  const saved = iptablesSave(rs, []).stdout;
  withNetns((x) => {
    // The set match needs its sets to exist in the kernel.
    for (const set of new Set([...saved.matchAll(/--match-set (\S+)/g)].map((m) => m[1]!))) x(['ipset', 'create', set, 'hash:ip,port']);
    for (const acct of new Set([...saved.matchAll(/--nfacct-name {2}(\S+)/g)].map((m) => m[1]!))) x(['nfacct', 'add', acct]);
    const load = x(['iptables-restore'], saved);
    t.equal(load.code, 0, `real iptables-restore accepts the emulator's iptables-save: ${load.stderr}`);
    const strip = (s: string) => s.split('\n').filter((l) => !l.startsWith('# ')).join('\n');
    t.equal(strip(x(['iptables-save']).stdout), strip(saved), 'iptables-save');
    for (const table of ['filter', 'nat', 'mangle', 'raw']) {
      if (!rs.tables[table as 'nat'].exists) continue;
      t.equal(x(['iptables', '-t', table, '-S']).stdout, iptables(rs, ['-t', table, '-S']).stdout, `iptables -t ${table} -S`);
      t.equal(x(['iptables', '-t', table, '-L', '-n', '-v']).stdout, iptables(rs, ['-t', table, '-L', '-n', '-v']).stdout, `iptables -t ${table} -L -n -v`);
      t.equal(x(['iptables', '-t', table, '-L', '-n', '-v', '-x', '--line-numbers']).stdout,
        iptables(rs, ['-t', table, '-L', '-n', '-v', '-x', '--line-numbers']).stdout, `iptables -t ${table} -L -n -v -x --line-numbers`);
    }
  });
}

/** kube-proxy's full sync for n services cycling through every kind, loaded as kube-proxy loads it. */
function kubeProxyRuleset(n: number): Ruleset {
  const state = synthState(n);
  const cfg: ProxyConfig = { nodeName: 'node-a', nodeIP: '172.18.0.2', clusterCIDR: '10.10.0.0/16' };
  const rs = new Ruleset();
  const sync = syncIptables(state, cfg);
  for (const j of sync.jumps) {
    const args = splitArgs(restoreLine(j.rule));
    const to = args[args.indexOf('-j') + 1];
    if (to) iptables(rs, ['-t', j.table, '-N', to]); // EnsureChain; "already exists" is fine
    args[0] = '-I';
    const r = iptables(rs, ['-t', j.table, ...args]);
    if (r.code !== 0) throw new Error(r.stderr);
  }
  const r = restore(rs, iptablesRestore(state, cfg), { noflush: true, counters: true });
  if (r.code !== 0) throw new Error(r.stderr);
  return rs;
}

/** n services: ClusterIP, NodePort, LoadBalancer with source ranges and affinity, eTP/iTP Local, external IPs, UDP, no endpoints. */
function synthState(n: number): ProxyState {
  const state: ProxyState = { services: [], endpointSlices: [] };
  for (let i = 0; i < n; i++) {
    const kind = i % 7;
    const name = `svc-${i}`;
    const svc: ServiceSpec = {
      namespace: `ns${i % 3}`, name, type: kind === 1 || kind === 4 ? 'NodePort' : kind === 2 || kind === 3 ? 'LoadBalancer' : 'ClusterIP',
      clusterIP: `10.96.${(i >> 8) & 255}.${(i & 255) || 1}`,
      ports: [{ name: kind === 5 ? '' : 'http', protocol: kind === 6 ? 'UDP' : 'TCP', port: 80 + (i % 5), nodePort: kind === 1 || kind === 2 || kind === 3 || kind === 4 ? 30000 + i : 0 }],
      externalIPs: kind === 4 ? [`192.168.99.${(i % 250) + 1}`] : [],
      loadBalancerIPs: kind === 2 || kind === 3 ? [`1.2.${(i >> 8) & 255}.${(i & 255) || 1}`] : [],
      loadBalancerSourceRanges: kind === 2 ? ['203.0.113.0/25'] : [],
      sessionAffinity: kind === 2 || kind === 5 ? 'ClientIP' : 'None', stickyMaxAgeSeconds: 10800,
      externalTrafficPolicy: kind === 3 ? 'Local' : 'Cluster', internalTrafficPolicy: kind === 5 && i % 2 ? 'Local' : 'Cluster',
      healthCheckNodePort: kind === 3 ? 32000 + i : 0,
    };
    state.services.push(svc);
    const eps = i % 11 === 10 ? 0 : 1 + (i % 4);
    state.endpointSlices.push({
      namespace: svc.namespace, serviceName: name, addressType: 'IPv4',
      ports: [{ name: svc.ports[0]!.name, protocol: svc.ports[0]!.protocol, port: 8080 }],
      endpoints: Array.from({ length: eps }, (_, k) => ({
        ip: `10.10.${k}.${(i % 250) + 2}`, ready: true, serving: true, terminating: false, nodeName: k === 0 ? 'node-a' : 'node-b',
      })),
    });
  }
  return state;
}
