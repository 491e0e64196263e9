// The generator's restore input loads into src/netfilter's iptables-restore
// (as kube-proxy's `iptables-restore --noflush --counters`) and the engine
// prints every chain back (`iptables -t T -S CHAIN`) exactly as the generator's
// saved form predicts: the two sides of the kernel round trip agree.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { Ruleset } from '../src/netfilter/ruleset.ts';
import { restore } from '../src/netfilter/restore.ts';
import { listRules } from '../src/netfilter/save.ts';
import { restoreText, saveLine, stateFromObjects, syncIptables, syncIpvs, type ProxyConfig, type ProxyState, type RuleSync } from '../src/kubeproxy/index.ts';

const scenario = (name: string) => YAML.parse(readFileSync(join(import.meta.dirname, 'scenarios', 'kubeproxy', name), 'utf8'));

function roundTrip(t: Test, name: string, s: RuleSync, order: Array<'filter' | 'nat'>): void {
  const rs = new Ruleset();
  const r = restore(rs, restoreText(s, order), { noflush: true, counters: true });
  t.equal(r.code, 0, `${name}: iptables-restore accepts it`);
  t.equal(r.stderr, '', `${name}: no error`);
  for (const table of order) {
    for (const chain of s[table].chains) {
      const want = ['-N ' + chain, ...s[table].rules.filter((x) => x.chain === chain).map(saveLine)].join('\n') + '\n';
      t.equal(listRules(rs, table, chain), want, `${name}: iptables -t ${table} -S ${chain}`);
    }
  }
}

t.test('iptables mode: seed 000 and the upstream ruleset', async (t) => {
  for (const f of ['seed000.yaml', 'upstream_overall.yaml']) {
    const sc = scenario(f);
    roundTrip(t, f, syncIptables(stateFromObjects(sc.objects), sc.config), ['filter', 'nat']);
  }
});

t.test('iptables mode: options that change the rule text', async (t) => {
  const sc = scenario('upstream_overall.yaml');
  const st = stateFromObjects(sc.objects);
  const variants: Array<[string, Partial<ProxyConfig>]> = [
    ['masqueradeAll', { masqueradeAll: true }],
    ['no detector, bit 15', { clusterCIDR: undefined, masqueradeBit: 15 }],
    ['nodePortAddresses, no localhost', { nodePortAddresses: ['192.168.0.0/16'], localhostNodePorts: false, nodeAddresses: ['192.168.0.2', '127.0.0.1'] }],
  ];
  for (const [name, c] of variants) roundTrip(t, name, syncIptables(st, { ...sc.config, ...c }), ['filter', 'nat']);
});

t.test('iptables mode: large-cluster mode (no comments) at 600 services x 2 endpoints', async (t) => {
  const st: ProxyState = { services: [], endpointSlices: [] };
  for (let i = 0; i < 600; i++) {
    st.services.push({
      namespace: 'n', name: `s${i}`, type: 'ClusterIP', clusterIP: `10.96.${i >> 8}.${i & 255}`, ports: [{ name: '', protocol: i % 2 ? 'UDP' : 'TCP', port: 53, nodePort: 0 }],
      externalIPs: [], loadBalancerIPs: [], loadBalancerSourceRanges: [], sessionAffinity: i % 3 ? 'None' : 'ClientIP', stickyMaxAgeSeconds: 10800,
      externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster', healthCheckNodePort: 0,
    });
    st.endpointSlices.push({
      namespace: 'n', serviceName: `s${i}`, addressType: 'IPv4', ports: [{ name: '', protocol: i % 2 ? 'UDP' : 'TCP', port: 5353 }],
      endpoints: [0, 1].map((k) => ({ ip: `10.10.${(2 * i + k) >> 8}.${(2 * i + k) & 255}`, ready: true, serving: true, terminating: false })),
    });
  }
  const s = syncIptables(st, { nodeName: 'n0', nodeIP: '172.18.0.2', clusterCIDR: '10.10.0.0/16' });
  t.ok(s.largeClusterMode);
  roundTrip(t, '600 services', s, ['filter', 'nat']);
});

t.test('IPVS mode: nat then filter, ipset matches', async (t) => {
  const sc = scenario('seed004_ipvs.yaml');
  const st = stateFromObjects(sc.objects);
  st.services.push({
    namespace: 'ns', name: 'lb', type: 'LoadBalancer', clusterIP: '10.225.5.5', ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30080 }],
    externalIPs: ['192.168.99.9'], loadBalancerIPs: ['1.2.3.4'], loadBalancerSourceRanges: [], sessionAffinity: 'None', stickyMaxAgeSeconds: 10800,
    externalTrafficPolicy: 'Local', internalTrafficPolicy: 'Cluster', healthCheckNodePort: 32000,
  });
  // Not covered here: LB source ranges that exclude the node (KUBE-IPVS-OUT-FILTER's `-m ipvs`, which the engine does not load yet).
  roundTrip(t, 'seed 004 + LB', syncIpvs(st, sc.config), ['nat', 'filter']);
});

t.test('re-sync after changes: stale service chains are flushed and deleted, the rest replaced', async (t) => {
  const sc = scenario('seed000.yaml');
  const objects = structuredClone(sc.objects) as Array<Record<string, any>>;
  const rs = new Ruleset();
  const first = syncIptables(stateFromObjects(objects), sc.config);
  t.equal(restore(rs, restoreText(first), { noflush: true, counters: true }).code, 0);
  // kube-ops-view deleted; webpod3 (10.10.2.3) gone from the slice.
  const after = objects.filter((o) => !(o.metadata.name as string).startsWith('kube-ops-view'));
  const slice = after.find((o) => o.metadata.name === 'svc-clusterip-h2dwm')!;
  slice.endpoints = slice.endpoints.filter((e: any) => e.addresses[0] !== '10.10.2.3');
  const second = syncIptables(stateFromObjects(after), sc.config, { natChains: rs.tables.nat.chains.keys() });
  t.same(second.nat.deleted?.chains, ['KUBE-SEP-SZHENXPAXVOCHRDA', 'KUBE-SEP-QDXQW4QDPWSOEKRE', 'KUBE-SVC-7EJNTS7AENER2WX5'].sort());
  const text = restoreText(second);
  t.match(text, ':KUBE-SVC-7EJNTS7AENER2WX5 - [0:0]\n');
  t.match(text, '-X KUBE-SEP-QDXQW4QDPWSOEKRE\n-X KUBE-SEP-SZHENXPAXVOCHRDA\n-X KUBE-SVC-7EJNTS7AENER2WX5\n-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports;');
  t.equal(restore(rs, text, { noflush: true, counters: true }).code, 0);
  const fresh = new Ruleset();
  restore(fresh, restoreText(syncIptables(stateFromObjects(after), sc.config)), { noflush: true, counters: true });
  t.equal(listRules(rs, 'nat'), listRules(fresh, 'nat'), 'the re-synced node equals a fresh load of the new state');
  t.equal(listRules(rs, 'filter'), listRules(fresh, 'filter'));
});
