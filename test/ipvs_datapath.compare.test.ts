// `dplab compare` with IPVS on one side: the same traffic through kube-proxy's
// iptables and IPVS modes. Equivalence: every request answered, the client's
// own address seen, the ClusterIP never past the client's node, affinity
// honoured, NodePort from outside masqueraded in both. Difference: IPVS
// translates at LOCAL_IN, so a service's first packet walks filter INPUT
// (KUBE-IPVS-FILTER) and a fixed nat PREROUTING (ipset matches), where
// iptables walks FORWARD and one KUBE-SVC chain per service.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compare, parseTraffic, type CompareReport, type StepResult } from '../src/compare/index.ts';

const DIR = join(import.meta.dirname, 'scenarios/compare');
const YAML = readFileSync(join(DIR, 'cluster.yaml'), 'utf8') + readFileSync(join(DIR, 'nodeport_services.yaml'), 'utf8');
const TRAFFIC = parseTraffic(readFileSync(join(DIR, 'traffic.yaml'), 'utf8') + '- exec: {node: internet, command: curl -s 172.18.0.3:30080, repeat: 6}\n'
  + '- exec: {node: internet, command: curl -s 172.18.0.3:30081, repeat: 6}\n');
const VARIANTS = [{ label: 'iptables', datapath: 'iptables' }, { label: 'ipvs', datapath: 'ipvs' }];

let rep: CompareReport;
t.before(async () => { rep = await compare(YAML, { traffic: TRAFFIC, variants: VARIANTS, seed: 3 }); });
const result = (step: number, label: string): StepResult => rep.steps[step]!.results.find((r) => r.variant === label)!;

t.test('both sides are kindnet with kube-proxy, in its two modes', async (t) => {
  t.same(rep.variants.map((v) => [v.label, v.cni, v.serviceProxy]), [['iptables', 'kindnet', 'iptables'], ['ipvs', 'kindnet', 'ipvs']]);
});

t.test('equivalence: answered, client address kept, ClusterIP only on the client side', async (t) => {
  for (const label of ['iptables', 'ipvs']) {
    const r = result(0, label);
    t.equal(r.answered, 4, label);
    t.same(r.clientAddrs, [rep.steps[0]!.results[0]!.clientAddrs[0]], `${label}: the backends see net-pod itself`);
    t.ok(r.clientEth0.every((x) => x.startsWith('ClusterIP')), `${label}: the pod sends to ClusterIPs (${r.clientEth0})`);
    t.ok(r.nodeNetdev.every((x) => x.startsWith('pod ')), `${label}: the node's netdev carries pod addresses only (${r.nodeNetdev})`);
  }
  for (const label of ['iptables', 'ipvs']) t.equal(Object.keys(result(1, label).distribution).length, 1, `${label}: sessionAffinity ClientIP, one backend`);
});

t.test('NodePort from outside (externalTrafficPolicy Cluster): both masquerade to the node', async (t) => {
  for (const label of ['iptables', 'ipvs']) {
    const r = result(3, label);
    t.equal(r.answered, 6, label);
    t.notOk(r.clientAddrs.includes('172.18.0.1'), `${label}: no backend sees the internet host (${r.clientAddrs})`);
  }
});

t.test('NodePort with externalTrafficPolicy Local: the node\'s own backends, the client address kept, on both', async (t) => {
  for (const label of ['iptables', 'ipvs']) {
    const r = result(4, label);
    t.equal(r.answered, 6, label);
    t.same(Object.keys(r.distribution), ['webpod1', 'webpod3'], `${label}: ${JSON.stringify(r.distribution)}`);
    t.same(r.clientAddrs, ['172.18.0.1'], `${label}: KUBE-NODE-PORT-LOCAL / the Local chain skip the masquerade`);
  }
  t.same(result(4, 'ipvs').distribution, { webpod1: 3, webpod3: 3 }, 'IPVS rr: exactly even (iptables draws at random)');
});

t.test('difference: where the rules are walked for a service\'s first packet', async (t) => {
  const walk = (label: string, table: string, hook: string) =>
    result(0, label).work.iptables?.tables.find((x) => x.table === table && x.hook === hook)?.perPacket.first ?? 0;
  t.ok(walk('ipvs', 'filter', 'INPUT') > 0, 'IPVS: the VIP is local, filter INPUT (KUBE-IPVS-FILTER) runs before ip_vs_remote_request4');
  t.equal(walk('iptables', 'filter', 'INPUT'), 0, 'iptables: DNAT in PREROUTING, the packet is forwarded');
  const st = rep.variants.find((v) => v.label === 'ipvs')!.state;
  t.ok(st.some((n) => n.conntrackToClusterIP > 0), 'conntrack entries to a ClusterIP on the IPVS side too (vs/conntrack=1)');
});
