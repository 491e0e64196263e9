// dplab compare (library): the same cluster through Cilium (socket LB on and
// off) and kube-proxy iptables. What Kubernetes promises holds on each (every
// request answered by a backend of the service, spread across backends,
// ClientIP affinity sticks, the backend sees the pod's own address); what the
// datapaths are known for differs, read from the captured bytes and the
// nodes' own tools: Cilium's socket LB never puts the ClusterIP on the
// client's eth0, iptables does and DNATs on the node; nf_conntrack entries
// exist only on the iptables side, Cilium CT entries only on Cilium's.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compare, parseTraffic, type CompareReport, type StepResult } from '../src/compare/index.ts';

const YAML = readFileSync(join(import.meta.dirname, 'scenarios/compare/cluster.yaml'), 'utf8');
const TRAFFIC = parseTraffic(`
- exec: {pod: netpod, command: curl -s webpod, repeat: 30}
- exec: {pod: netpod, command: curl -s webpod-sticky, repeat: 10}
`);
const BACKENDS = ['webpod1', 'webpod2', 'webpod3'];

let rep: CompareReport;
t.before(async () => {
  rep = await compare(YAML, {
    traffic: TRAFFIC, seed: 7,
    variants: [{ label: 'cilium', datapath: 'cilium' }, { label: 'cilium-nosock', datapath: 'cilium', socketLB: false }, { label: 'iptables', datapath: 'iptables' }],
  });
});
const result = (step: number, label: string): StepResult => rep.steps[step]!.results.find((r) => r.variant === label)!;
const LABELS = ['cilium', 'cilium-nosock', 'iptables'];

t.test('each run is the datapath asked for', async (t) => {
  t.same(rep.variants.map((v) => [v.label, v.cni, v.serviceProxy, v.socketLB]), [
    ['cilium', 'cilium', 'cilium', true], ['cilium-nosock', 'cilium', 'cilium', false], ['iptables', 'kindnet', 'iptables', false],
  ]);
  t.same(rep.steps.map((s) => s.service?.name), ['webpod', 'webpod-sticky'], 'each step names the service its command targets');
  t.same(rep.steps[1]!.service?.sessionAffinity, 'ClientIP');
});

t.test('equivalence: every request is answered by a backend of the service, which sees the client pod\'s own address', async (t) => {
  for (const label of LABELS) {
    for (const step of [0, 1]) {
      const r = result(step, label);
      t.equal(r.answered, r.requests.length, `${label} step ${step + 1}: all answered`);
      t.same(r.requests.filter((q) => !BACKENDS.includes(q.backend ?? '')), [], `${label}: every answer from ${BACKENDS.join(', ')}`);
      t.same(r.clientAddrs, ['10.244.0.10'], `${label}: no SNAT from a pod`);
    }
  }
});

t.test('equivalence: 30 requests spread across all three backends', async (t) => {
  for (const label of LABELS) {
    const d = result(0, label).distribution;
    t.same(Object.keys(d), BACKENDS, `${label}: ${JSON.stringify(d)}`);
    t.equal(Object.values(d).reduce((a, b) => a + b, 0), 30);
  }
});

t.test('equivalence: sessionAffinity ClientIP sends every request to one backend', async (t) => {
  for (const label of LABELS) {
    const d = result(1, label).distribution;
    t.equal(Object.keys(d).length, 1, `${label}: ${JSON.stringify(d)}`);
  }
});

t.test('difference: Cilium socket LB never puts a ClusterIP on the client\'s eth0; the connection leaves for the backend', async (t) => {
  const r = result(0, 'cilium');
  for (const q of r.requests) {
    t.notOk(q.clientEth0.destinations.some((d) => d.startsWith('ClusterIP ')), `eth0 sent to ${q.clientEth0.destinations.join(', ')}`);
    t.ok(q.clientEth0.destinations.includes(`pod ${q.backend}`), 'the SYN on eth0 goes to the backend that answered');
    t.same(q.hostVeth.destinations, q.clientEth0.destinations, 'the host side of the veth gets the same');
    t.match(q.hostVeth.device, /^cmp-control-plane lxc[0-9a-f]{12}$/);
  }
});

t.test('difference: iptables puts the ClusterIP on the client\'s eth0 and DNATs on the node: its netdev carries the backend', async (t) => {
  for (const label of ['iptables', 'cilium-nosock']) {
    for (const q of result(0, label).requests) {
      t.ok(q.clientEth0.destinations.includes('ClusterIP webpod'), `${label} eth0 sent to ${q.clientEth0.destinations.join(', ')}`);
      t.notOk(q.clientEth0.destinations.includes(`pod ${q.backend}`), `${label}: the backend's address is not on eth0`);
      t.ok(q.hostVeth.destinations.includes('ClusterIP webpod'), `${label}: the node receives the ClusterIP on the pod's veth`);
      // webpod1/3 live on cmp-worker, webpod2 on cmp-worker2: the SYN leaves the client's node for them.
      t.ok(q.nodeNetdev.destinations.includes(`pod ${q.backend}`), `${label}: the node's eth0 carries the backend ${q.backend}`);
      t.notOk(q.nodeNetdev.destinations.some((d) => d.startsWith('ClusterIP ')), `${label}: no ClusterIP past the node`);
    }
  }
});

t.test('difference: nf_conntrack entries only with iptables, Cilium CT entries only with Cilium', async (t) => {
  const total = (label: string, k: 'conntrack' | 'conntrackToClusterIP' | 'ciliumCt') => rep.variants.find((v) => v.label === label)!.state.reduce((a, n) => a + n[k], 0);
  t.ok(total('iptables', 'conntrackToClusterIP') >= 40, `iptables: ${total('iptables', 'conntrackToClusterIP')} entries for the 40 connections to a ClusterIP (DNS too)`);
  t.equal(total('iptables', 'ciliumCt'), 0);
  for (const label of ['cilium', 'cilium-nosock']) {
    t.equal(total(label, 'conntrack'), 0, `${label}: no nf_conntrack`);
    t.ok(total(label, 'ciliumCt') >= 40, `${label}: ${total(label, 'ciliumCt')} CT entries`);
  }
  const client = rep.variants.find((v) => v.label === 'iptables')!.state.find((n) => n.node === 'cmp-control-plane')!;
  t.ok(client.conntrackToClusterIP >= 40, 'the ClusterIP entries are on the client\'s node, where the DNAT happened');
  t.match(client.lines.find((l) => l.includes('dport=80 ')), /^tcp +6 \d+ \w+ src=10\.244\.0\.10 dst=10\.\d+\.\d+\.\d+ sport=\d+ dport=80 src=10\.244\.\d+\.1[01] dst=10\.244\.0\.10 sport=80 dport=\d+ \[ASSURED\] mark=0 use=1$/, 'conntrack -L\'s own lines');
  const cil = rep.variants.find((v) => v.label === 'cilium')!.state.find((n) => n.node === 'cmp-control-plane')!;
  t.match(cil.lines.find((l) => l.includes(':80 ')), /^TCP OUT 10\.244\.0\.10:\d+ -> 10\.244\.\d+\.1[01]:80 expires=/, 'bpf ct list\'s own lines');
});

t.test('same seed, same report', async (t) => {
  const small = parseTraffic('- exec: {pod: netpod, command: curl -s webpod, repeat: 5}\n');
  const a = await compare(YAML, { traffic: small, seed: 3 });
  const b = await compare(YAML, { traffic: small, seed: 3 });
  t.same(a, b);
  t.same(a.variants.map((v) => v.label), ['cilium', 'iptables'], 'cilium vs iptables by default');
});
