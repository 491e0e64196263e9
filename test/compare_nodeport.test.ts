// compare with NodePort traffic from outside the cluster (the emulated
// internet, 172.18.0.1) to cmp-worker (webpod1, webpod3; webpod2 is on
// cmp-worker2). Equivalence: externalTrafficPolicy Local answers from the
// node's own backends only and keeps the client's address, on both datapaths.
// Difference with Cluster: kube-proxy masquerades every request from outside,
// Cilium's NodePort SNATs only what it forwards to another node.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compare, parseTraffic, type CompareReport, type StepResult } from '../src/compare/index.ts';

const DIR = join(import.meta.dirname, 'scenarios/compare');
const YAML = readFileSync(join(DIR, 'cluster.yaml'), 'utf8') + readFileSync(join(DIR, 'nodeport_services.yaml'), 'utf8');
const TRAFFIC = parseTraffic(readFileSync(join(DIR, 'nodeport.yaml'), 'utf8'));
const INTERNET = '172.18.0.1', NODE = '172.18.0.3';

let rep: CompareReport;
t.before(async () => { rep = await compare(YAML, { traffic: TRAFFIC, seed: 2 }); });
const result = (step: number, label: string): StepResult => rep.steps[step]!.results.find((r) => r.variant === label)!;
const seen = (r: StepResult, backend: string) => new Set(r.requests.filter((q) => q.backend === backend).map((q) => q.remoteAddr!.split(':')[0]));

t.test('the steps run on the internet host and name their NodePort services', async (t) => {
  t.same(rep.steps.map((s) => [s.node, s.service?.name, s.service?.type, s.service?.externalTrafficPolicy]),
    [['internet', 'web-cluster', 'NodePort', 'Cluster'], ['internet', 'web-local', 'NodePort', 'Local']]);
  for (const s of rep.steps) for (const r of s.results) t.same(r.nodeNetdev, ['node cmp-worker'], `${r.variant}: the SYNs go to the node`);
});

t.test('equivalence: externalTrafficPolicy Local answers from the node\'s own backends and keeps the client address', async (t) => {
  for (const label of ['cilium', 'iptables']) {
    const r = result(1, label);
    t.equal(r.answered, 20, label);
    t.same(Object.keys(r.distribution), ['webpod1', 'webpod3'], `${label}: ${JSON.stringify(r.distribution)}`);
    t.same(r.clientAddrs, [INTERNET], `${label}: every backend saw the internet host itself`);
  }
});

t.test('externalTrafficPolicy Cluster: every backend answers on both; iptables masquerades all, Cilium only what leaves the node', async (t) => {
  for (const label of ['cilium', 'iptables']) {
    const r = result(0, label);
    t.equal(r.answered, 20, label);
    t.same(Object.keys(r.distribution), ['webpod1', 'webpod2', 'webpod3'], `${label}: ${JSON.stringify(r.distribution)}`);
    t.same([...seen(r, 'webpod2')], [NODE], `${label}: the remote backend sees the node's address (SNAT)`);
  }
  const ipt = result(0, 'iptables'), cil = result(0, 'cilium');
  t.notOk(ipt.clientAddrs.includes(INTERNET), `iptables: no backend sees the client (${ipt.clientAddrs})`);
  for (const b of ['webpod1', 'webpod3']) t.same([...seen(cil, b)], [INTERNET], `cilium: the local ${b} sees the client itself`);
});
