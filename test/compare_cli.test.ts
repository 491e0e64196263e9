// `dplab compare` as a user runs it: tables on a terminal, -o json, and one
// `dplab: ...` line with exit 1 on bad input.
import t from 'tap';
import { join } from 'node:path';
import { runCli } from './helpers/run_cli.ts';
import type { CompareReport } from '../src/compare/index.ts';

const DIR = join(import.meta.dirname, 'scenarios/compare');
const CLUSTER = join(DIR, 'cluster.yaml');
const TRAFFIC = join(DIR, 'traffic.yaml');

t.test('-o json: the report, per request and per datapath', async (t) => {
  const r = await runCli(['compare', '--cluster', CLUSTER, '--traffic', TRAFFIC, '-o', 'json']);
  t.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as CompareReport;
  t.same(rep.variants.map((v) => v.label), ['cilium', 'iptables']);
  t.same(rep.steps.map((s) => [s.command, s.repeat, s.service?.name]), [['curl -s webpod', 4, 'webpod'], ['curl -s webpod-sticky', 3, 'webpod-sticky'], ['nslookup webpod', 1, 'webpod']]);
  for (const res of rep.steps[0]!.results) {
    t.equal(res.requests.length, 4);
    for (const q of res.requests) t.match(q, { exitCode: 0, backend: /^webpod[123]$/, remoteAddr: /^10\.244\.0\.10:\d+$/, clientEth0: { device: 'netpod eth0' }, hostVeth: { device: /^cmp-control-plane (lxc[0-9a-f]{12}|veth[0-9a-f]{8})$/ }, nodeNetdev: { device: 'cmp-control-plane eth0' } });
  }
  const lookup = rep.steps[2]!.results;
  t.same(lookup.map((x) => x.answered), [1, 1], 'nslookup answers on both');
  t.ok(lookup[0]!.clientEth0.length > 0 && lookup[0]!.clientEth0.every((d) => d.startsWith('pod coredns-')), `Cilium: the query leaves the pod for a coredns pod (${lookup[0]!.clientEth0})`);
  t.same(lookup[1]!.clientEth0, ['ClusterIP kube-dns'], 'iptables: for kube-dns\'s ClusterIP');
  // The work per packet: netfilter's walk on the iptables side, BPF map lookups on Cilium's.
  const [cil, ipt] = rep.steps[0]!.results;
  t.match(cil!.work, { cilium: { packets: { first: Number, later: Number }, perPacket: { lookups: { first: Number, later: Number } } } });
  t.notOk(cil!.work.iptables, 'Cilium: no netfilter rules walked');
  t.match(ipt!.work.iptables!.tables.find((x) => x.table === 'nat' && x.hook === 'PREROUTING'), { walked: { later: 0 } }, 'later packets walk no nat rule');
  t.ok(ipt!.work.iptables!.perPacket.first > ipt!.work.iptables!.perPacket.later, 'a first packet walks more rules than a later one');
});

t.test('tables: the datapaths side by side, each step, each request, the state', async (t) => {
  const r = await runCli(['compare', '--cluster', CLUSTER, '--traffic', TRAFFIC, '--datapaths', 'cilium,cilium:socketLB=false']);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  t.match(lines[0], /^datapath\s+cilium\s+cilium:socketLB=false$/);
  t.match(lines[3], /^socket LB\s+on\s+off$/);
  t.match(r.stdout, /\nstep 1: netpod\$ curl -s webpod {2}\(x4\)\n {2}service webpod 10\.\d+\.\d+\.\d+, sessionAffinity None, backends webpod1 webpod2 webpod3\n/);
  t.match(r.stdout, /\nanswered +4\/4 +4\/4\n/);
  t.match(r.stdout, /\nnetpod eth0 sent to +pod [^\n]*  +ClusterIP kube-dns, ClusterIP webpod\n/, 'without socket LB the pod sends to the ClusterIPs');
  t.match(r.stdout, /\n1 +webpod\d saw 10\.244\.0\.10:\d+ +webpod\d saw 10\.244\.0\.10:\d+\n/);
  t.match(r.stdout, /\nper packet: first \/ later +cilium +cilium:socketLB=false\npackets through tc programs +\d+ \/ \d+ +\d+ \/ \d+\nbpf map lookups +[\d.]+ \/ [\d.]+ +[\d.]+ \/ [\d.]+\n/);
  t.match(r.stdout, /\nstate after the traffic \(all nodes\)\n +cilium +cilium:socketLB=false\nnf_conntrack entries +0 +0\n/);
});

t.test('bad input: one line on stderr, exit 1', async (t) => {
  const cases: Array<[string, string[], RegExp]> = [
    ['no --cluster', ['compare'], /^dplab: required option '--cluster <file>' not specified\n$/],
    ['missing file', ['compare', '--cluster', '/nonexistent.yaml'], /^dplab: the path "\/nonexistent.yaml" does not exist\n$/],
    ['unknown datapath', ['compare', '--cluster', CLUSTER, '--datapaths', 'cilium,flannel'], /^dplab: unknown datapath "flannel" \(known: cilium, iptables, ipvs\)\n$/],
    ['one datapath', ['compare', '--cluster', CLUSTER, '--datapaths', 'cilium'], /^dplab: --datapaths: want 2 to 4 datapaths, comma-separated\n$/],
    ['bad option', ['compare', '--cluster', CLUSTER, '--datapaths', 'cilium:mtu=1,iptables'], /^dplab: --datapaths: "cilium:mtu=1": the one option is socketLB=true\|false\n$/],
    ['bad output', ['compare', '--cluster', CLUSTER, '-o', 'yaml'], /^dplab: --output: unknown format "yaml" \(want json\)\n$/],
    ['bad seed', ['compare', '--cluster', CLUSTER, '--seed', 'x'], /^dplab: --seed: want an integer in 0\.\.4294967295, got "x"\n$/],
    ['traffic not YAML of one document', ['compare', '--cluster', CLUSTER, '--traffic', CLUSTER], /^dplab: traffic: invalid YAML: Source contains multiple documents; please use YAML.parseAllDocuments\(\) at line \d+, column 1\n$/],
    ['traffic not a list', ['compare', '--cluster', CLUSTER, '--traffic', join(DIR, '../../../package.json')], /^dplab: traffic: must be a non-empty list of steps \(\{exec: \{pod \| node, command, repeat\}\}\)\n$/],
    ['pod and node', ['compare', '--cluster', CLUSTER, '--traffic', join(DIR, 'bad_traffic.yaml')], /^dplab: traffic: step 1: exec needs one of pod and node\n$/],
  ];
  for (const [name, args, err] of cases) {
    const r = await runCli(args);
    t.equal(r.code, 1, name);
    t.match(r.stderr, err, name);
    t.equal(r.stdout, '', `${name}: nothing on stdout`);
  }
});
