// Real kernel: in a fresh network namespace, kubelet's and kube-proxy's start
// are played on the real binaries (kubelet's KUBE-FIREWALL and canaries, then
// each kube-proxy jump ensured with `iptables -C || iptables -I`, the canary
// chains, the ipsets, then `iptables-restore --noflush --counters` of the
// generator's input), and the real `iptables-save` must print exactly the
// generator's saved form. Needs root and iptables 1.8.9 (nf_tables); without
// them it fails under CI and says why otherwise.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import {
  ipsetRestoreText, restoreLine, restoreText, saveText, stateFromObjects, syncIptables, syncIpvs, type ProxyConfig, type ProxyState, type RuleSync,
  type ServiceSpec,
} from '../src/kubeproxy/index.ts';

const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const why = process.getuid?.() !== 0 ? 'not root: network namespaces need CAP_SYS_ADMIN'
  : ['unshare', 'iptables', 'iptables-restore', 'iptables-save', 'ipset'].find((b) => !has(b)) ?? null;

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The node's start as a shell script; prints iptables-save at the end. */
function startScript(s: RuleSync, order: Array<'filter' | 'nat'>, opts: { ipset?: string; nfacct?: boolean } = {}): string {
  const sh = ['set -e'];
  if (opts.nfacct) sh.push('nfacct add ct_state_invalid_dropped_pkts >/dev/null', 'nfacct add localhost_nps_accepted_pkts >/dev/null');
  if (opts.ipset) sh.push(`printf %s ${q(opts.ipset)} | ipset restore`);
  if (s.kubelet !== false) {
    sh.push('iptables -t mangle -N KUBE-IPTABLES-HINT', 'iptables -N KUBE-FIREWALL',
      'iptables -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" --dst 127.0.0.0/8 ! --src 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
      'iptables -I OUTPUT -j KUBE-FIREWALL', 'iptables -I INPUT -j KUBE-FIREWALL');
    for (const table of ['mangle', 'nat', 'filter']) sh.push(`iptables -t ${table} -N KUBE-KUBELET-CANARY`);
  }
  for (const j of s.jumps) {
    const args = restoreLine(j.rule).replace(/^-A \S+ /, '');
    sh.push(`iptables -t ${j.table} -N ${j.rule.target!.name} 2>/dev/null || true`);
    sh.push(`iptables -t ${j.table} -C ${j.rule.chain} ${args} 2>/dev/null || iptables -t ${j.table} -I ${j.rule.chain} ${args}`);
  }
  for (const table of ['mangle', 'nat', 'filter']) sh.push(`iptables -t ${table} -N KUBE-PROXY-CANARY`);
  sh.push(`printf %s ${q(restoreText(s, order))} | iptables-restore --noflush --counters`, 'iptables-save');
  return sh.join('\n');
}

function onRealNode(t: Test, name: string, s: RuleSync, order: Array<'filter' | 'nat'>, opts: { ipset?: string; nfacct?: boolean } = {}): void {
  const r = spawnSync('unshare', ['-n', 'sh', '-c', startScript(s, order, opts)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  t.equal(r.status, 0, `${name}: the start runs`, { stderr: r.stderr });
  t.equal((r.stdout ?? '').split('\n').filter((l) => !l.startsWith('#')).join('\n'), saveText(s), `${name}: real iptables-save = the generator's saved form`);
}

const scenario = (f: string) => YAML.parse(readFileSync(join(import.meta.dirname, 'scenarios', 'kubeproxy', f), 'utf8'));

function mixed(): ProxyState {
  const svc = (o: Partial<ServiceSpec>): ServiceSpec => ({
    namespace: 'ns', name: 's', type: 'ClusterIP', clusterIP: '172.30.1.1', ports: [{ name: 'p', protocol: 'TCP', port: 80, nodePort: 0 }], externalIPs: [],
    loadBalancerIPs: [], loadBalancerSourceRanges: [], sessionAffinity: 'None', stickyMaxAgeSeconds: 10800, externalTrafficPolicy: 'Cluster',
    internalTrafficPolicy: 'Cluster', healthCheckNodePort: 0, ...o,
  });
  const slice = (name: string, protocol: 'TCP' | 'UDP' | 'SCTP', eps: Array<[string, string, boolean?]>) => ({
    namespace: 'ns', serviceName: name, addressType: 'IPv4' as const, ports: [{ name: 'p', protocol, port: 8080 }],
    endpoints: eps.map(([ip, nodeName, terminating]) => ({ ip, nodeName, ready: !terminating, serving: true, terminating: !!terminating })),
  });
  return {
    services: [
      svc({ name: 'a', sessionAffinity: 'ClientIP', stickyMaxAgeSeconds: 600 }),
      svc({ name: 'b', clusterIP: '172.30.1.2', internalTrafficPolicy: 'Local' }),
      svc({
        name: 'c', clusterIP: '172.30.1.3', type: 'LoadBalancer', externalTrafficPolicy: 'Local', loadBalancerIPs: ['1.2.3.9'],
        loadBalancerSourceRanges: ['192.168.0.0/24'], healthCheckNodePort: 32001, ports: [{ name: 'p', protocol: 'TCP', port: 80, nodePort: 30009 }],
      }),
      svc({ name: 'd', clusterIP: '172.30.1.4', ports: [{ name: 'p', protocol: 'UDP', port: 53, nodePort: 0 }] }),
      svc({ name: 'e', clusterIP: '172.30.1.5', type: 'NodePort', ports: [{ name: 'p', protocol: 'SCTP', port: 5000, nodePort: 30010 }] }),
      svc({ name: 'f', clusterIP: '172.30.1.6', internalTrafficPolicy: 'Local' }),
    ],
    endpointSlices: [
      slice('a', 'TCP', [['10.1.0.1', 'n1'], ['10.1.0.2', 'n2'], ['10.1.0.3', 'n2']]),
      slice('b', 'TCP', [['10.1.0.4', 'n1'], ['10.1.0.5', 'n2']]),
      slice('c', 'TCP', [['10.1.0.6', 'n1'], ['10.1.0.7', 'n2']]),
      slice('d', 'UDP', [['10.1.0.8', 'n2'], ['10.1.0.9', 'n2', true]]),
      slice('e', 'SCTP', [['10.1.0.10', 'n2']]),
      slice('f', 'TCP', [['10.1.0.11', 'n2']]),
    ],
  };
}

if (why) {
  if (process.env.CI) t.fail(`kube-proxy real-kernel check cannot run: ${why} (CI needs root and the iptables, ipset packages)`);
  else t.comment(`SKIPPED kube-proxy real-kernel check: ${why}`);
  t.pass('nothing to compare');
} else {
  t.test('iptables mode on a real node', async (t) => {
    const s0 = scenario('seed000.yaml');
    onRealNode(t, 'seed 000 (kubelet first)', syncIptables(stateFromObjects(s0.objects), s0.config), ['filter', 'nat']);
    const up = scenario('upstream_overall.yaml');
    const st = stateFromObjects(up.objects);
    const variants: Array<[string, Partial<ProxyConfig>]> = [
      ['upstream, kube-proxy alone', {}],
      ['upstream, kubelet first', { kubelet: true }],
      ['masqueradeAll, bit 15, no detector, no localhost node ports, be_liberal', {
        masqueradeAll: true, masqueradeBit: 15, clusterCIDR: undefined, localhostNodePorts: false, conntrackTCPBeLiberal: true,
      }],
      ['nodePortAddresses', { nodePortAddresses: ['192.168.0.0/16', '127.0.0.0/8'], nodeAddresses: ['192.168.0.2', '127.0.0.1'] }],
      ['detectLocalMode InterfaceNamePrefix', { detectLocal: { mode: 'InterfaceNamePrefix', prefix: 'veth' } }],
    ];
    for (const [name, c] of variants) onRealNode(t, name, syncIptables(st, { ...up.config, ...c }), ['filter', 'nat']);
    const cfg: ProxyConfig = { nodeName: 'n1', nodeIP: '192.168.0.2', clusterCIDR: '10.0.0.0/8' };
    onRealNode(t, 'affinity, traffic policies Local, UDP, SCTP, terminating', syncIptables(mixed(), cfg), ['filter', 'nat']);
    if (has('nfacct')) onRealNode(t, 'nfacct counters', syncIptables(mixed(), { ...cfg, nfacct: true }), ['filter', 'nat'], { nfacct: true });
    else t.comment('nfacct scenario not run: no nfacct binary (Debian package nfacct)');
  });

  t.test('IPVS mode on a real node: ipsets, then nat before filter', async (t) => {
    const s4 = scenario('seed004_ipvs.yaml');
    const st = stateFromObjects(s4.objects);
    const mix = mixed();
    // LB source ranges that leave the node out need `-m ipvs`, which needs IPVS in the kernel: not here.
    st.services.push(...mix.services.filter((x) => x.name !== 'c'));
    st.endpointSlices.push(...mix.endpointSlices);
    const s = syncIpvs(st, s4.config);
    onRealNode(t, 'seed 004 + more', s, ['nat', 'filter'], { ipset: ipsetRestoreText(s) });
  });
}
