// dplab compare: the datapath's work per packet, as the services grow. With
// kube-proxy iptables a connection's first packet walks nat KUBE-SERVICES,
// one rule per service port, so its cost grows with every service; later
// packets follow conntrack's stored translation and walk no nat rule at all.
// Cilium finds a service by one hash lookup: its map lookups per packet stay
// the same whatever the number of services. IPVS mode, where it is built,
// matches services by ipset and walks the same rules at every size.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATAPATHS } from '../src/cluster/datapaths.ts';
import { compare, formatReport, Lab, parseTraffic, type CompareReport, type StepResult, type Variant } from '../src/compare/index.ts';

// webpod's ClusterIP pinned so curl needs no DNS (no kube-dns packets in the counts).
const YAML = readFileSync(join(import.meta.dirname, 'scenarios/compare/cluster.yaml'), 'utf8')
  .replace('metadata: {name: webpod}\nspec:\n', 'metadata: {name: webpod}\nspec:\n  clusterIP: 10.96.0.80\n');
const TRAFFIC = parseTraffic('- exec: {pod: netpod, command: curl -s 10.96.0.80, repeat: 3}');
const SIZES = [0, 20, 40];
const HAS_IPVS = !('field' in DATAPATHS.expand('ipvs'));
const VARIANTS: Variant[] = [{ label: 'cilium', datapath: 'cilium' }, { label: 'iptables', datapath: 'iptables' }, ...(HAS_IPVS ? [{ label: 'ipvs', datapath: 'ipvs' }] : [])];

/** The cluster with n more services, each with the webpods as endpoints (so each has its KUBE-SERVICES rule). */
function withServices(n: number): string {
  let out = YAML;
  for (let i = 0; i < n; i++) out += `---\napiVersion: v1\nkind: Service\nmetadata: {name: extra${i}}\nspec:\n  selector: {app: webpod}\n  ports: [{port: ${1000 + i}, targetPort: 80}]\n`;
  return out;
}

const reps = new Map<number, CompareReport>();
t.before(async () => {
  for (const n of SIZES) {
    reps.set(n, await compare(withServices(n), { traffic: TRAFFIC, seed: 7, variants: VARIANTS }));
  }
});
const result = (n: number, label: string): StepResult => reps.get(n)!.steps[0]!.results.find((r) => r.variant === label)!;

t.test('every request is answered at every size', async (t) => {
  for (const n of SIZES) for (const { label } of VARIANTS) t.equal(result(n, label).answered, 3, `${label}, ${n} more services`);
});

t.test('iptables: a first packet walks O(services) nat rules; each service adds the same', async (t) => {
  const natPre = (n: number) => result(n, 'iptables').work.iptables!.tables.find((x) => x.table === 'nat' && x.hook === 'PREROUTING')!;
  const [w0, w20, w40] = SIZES.map((n) => natPre(n).walked.first);
  // Per request at least the backend node's SYN (to a pod address, no ClusterIP) walks every KUBE-SERVICES rule.
  t.ok(w20! - w0! >= 3 * 20, `20 more services: ${w0} -> ${w20} rules walked by the first packets`);
  t.equal(w40! - w20!, w20! - w0!, 'linear in the number of services');
  // The growth is KUBE-SERVICES' own: each request has first packets that walk every one of its rules.
  const kubeServices = async (n: number) => {
    const lab = Lab.fromYaml(withServices(n), { datapath: 'iptables', seed: 7 });
    try { return (await lab.nodeExec(lab.nodes()[0]!, ['iptables', '-t', 'nat', '-S', 'KUBE-SERVICES'])).stdout.split('\n').filter((l) => l.startsWith('-A ')).length; } finally { lab.close(); }
  };
  const [k0, k20] = [await kubeServices(0), await kubeServices(20)];
  t.equal(k20 - k0, 20, 'KUBE-SERVICES: one more rule per service port');
  const per = (w20! - w0!) / (k20 - k0);
  t.ok(Number.isInteger(per) && per >= 3, `every added KUBE-SERVICES rule is walked by ${per} first packets (at least one per request)`);
  t.ok(natPre(40).perPacket.first > natPre(20).perPacket.first && natPre(20).perPacket.first > natPre(0).perPacket.first, 'per first packet too');
  // Per chain: all of the growth is in KUBE-SERVICES; every chain's share adds up to the table's.
  const ks = (n: number) => natPre(n).chains.find((x) => x.chain === 'KUBE-SERVICES')!.walked.first;
  t.equal(ks(20) - ks(0), w20! - w0!, `KUBE-SERVICES: ${ks(0)} -> ${ks(20)} -> ${ks(40)}`);
  t.equal(ks(40) - ks(20), w40! - w20!);
  for (const n of SIZES) {
    for (const x of result(n, 'iptables').work.iptables!.tables) {
      t.same([x.chains.reduce((a, c) => a + c.walked.first, 0), x.chains.reduce((a, c) => a + c.walked.later, 0)], [x.walked.first, x.walked.later], `${n}: ${x.table} ${x.hook}: the chains add up`);
    }
  }
  for (const n of SIZES) {
    const w = result(n, 'iptables').work.iptables!;
    t.same(w.packets, result(0, 'iptables').work.iptables!.packets, `${n}: the same packets (${JSON.stringify(w.packets)})`);
    t.ok(w.packets.first >= 6, 'each SYN is a first packet on the client\'s node and the backend\'s');
  }
});

t.test('iptables: later packets walk no nat rule (conntrack hit); filter is walked by every packet, whatever the services', async (t) => {
  for (const n of SIZES) {
    const w = result(n, 'iptables').work.iptables!;
    const nat = w.tables.filter((x) => x.table === 'nat');
    t.ok(nat.length >= 2, 'nat PREROUTING and POSTROUTING were walked by first packets');
    for (const x of nat) t.same(x.walked.later, 0, `${n}: nat ${x.hook} walked by no later packet`);
    const fwd = w.tables.find((x) => x.table === 'filter' && x.hook === 'FORWARD')!;
    t.ok(fwd.walked.later > 0, 'filter FORWARD sees later packets');
    t.same(fwd.perPacket, result(0, 'iptables').work.iptables!.tables.find((x) => x.table === 'filter' && x.hook === 'FORWARD')!.perPacket, 'and costs the same at every size');
  }
  t.notOk(result(0, 'iptables').work.cilium, 'kindnet runs no BPF program');
});

t.test('Cilium: map lookups per packet stay the same as services grow', async (t) => {
  const base = result(0, 'cilium').work.cilium!;
  t.ok(base.perPacket.lookups.first > 0 && base.perPacket.lookups.later > 0);
  t.ok(base.maps.some((m) => m.map === 'cilium_lb4_services_v2' && m.lookups.first > 0), 'the service is found in cilium_lb4_services_v2');
  t.ok(base.programs.some((p) => p.prog === 'cil_from_container' && !p.tailCalled), 'cil_from_container runs at the pod\'s veth');
  t.ok(base.programs.some((p) => p.tailCalled), 'and tail calls into its sections');
  for (const n of [20, 40]) {
    const w = result(n, 'cilium').work.cilium!;
    t.same(w.perPacket, base.perPacket, `${n} more services: ${JSON.stringify(w.perPacket.lookups)} lookups per packet`);
    t.same(w.maps.map((m) => [m.map, m.lookupsPerPacket]), base.maps.map((m) => [m.map, m.lookupsPerPacket]), 'per map too');
  }
  t.notOk(result(0, 'cilium').work.iptables, 'Cilium as kube-proxy replacement: no netfilter rules walked');
});

t.test('IPVS mode: the iptables rules a packet walks do not grow with the services', { skip: HAS_IPVS ? false : 'the ipvs service proxy is not built' }, async (t) => {
  const base = result(0, 'ipvs').work.iptables!;
  t.ok(base.tables.some((x) => x.table === 'nat' && x.hook === 'PREROUTING' && x.walked.first > 0), 'nat PREROUTING walked by first packets');
  for (const n of [20, 40]) t.same(result(n, 'ipvs').work.iptables!.tables, base.tables, `${n} more services: the same walk`);
});

t.test('the terminal report shows the work per packet side by side', async (t) => {
  const text = formatReport(reps.get(20)!);
  const w = result(20, 'iptables').work.iptables!;
  const pre = w.tables.find((x) => x.table === 'nat' && x.hook === 'PREROUTING')!.perPacket;
  t.match(text, new RegExp(`^per packet: first / later\\s+${VARIANTS.map((v) => v.label).join('\\s+')}$`, 'm'));
  t.match(text, new RegExp(`^  nat PREROUTING\\s+-\\s+${pre.first} / 0\\b`, 'm'));
  t.match(text, /^ {4}KUBE-SERVICES\s+-\s+[\d.]+ \/ 0\b/m, 'its chains under it, KUBE-SERVICES among them');
  t.match(text, /^ {4}KUBE-SEP-\*\s+-\s+[\d.]+ \/ 0\b/m, 'the per-service chains summed per kind');
  t.match(text, new RegExp(`^iptables rules walked\\s+-\\s+${w.perPacket.first} / ${w.perPacket.later}\\b`, 'm'));
  const c = result(20, 'cilium').work.cilium!;
  t.match(text, new RegExp(`^bpf map lookups\\s+${c.perPacket.lookups.first} / ${c.perPacket.lookups.later}\\s+-`, 'm'));
  t.match(text, /^  cilium_lb4_services_v2\s+[\d.]+ \/ [\d.]+\s+-/m);
  t.match(text, /^tail calls\s+[\d.]+ \/ [\d.]+\s+-/m);
  // JSON carries the same figures.
  const js = JSON.parse(JSON.stringify(reps.get(20)!)) as CompareReport;
  t.same(js.steps[0]!.results[1]!.work, result(20, 'iptables').work);
});
