// The library API (src/index.ts, `import ... from 'dplab'`): a Lab from YAML
// with a chosen datapath and seed; apply, exec, captures (pcap bytes, decoded
// packets, tcpdump lines), nf_conntrack and Cilium CT entries, counters, close.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterError, Lab, withDatapath } from '../src/index.ts';
import { readPcap } from '../src/wire/pcap.ts';

const YAML = readFileSync(join(import.meta.dirname, 'scenarios/compare/cluster.yaml'), 'utf8');
const BACKEND_IPS = ['10.244.1.10', '10.244.2.10', '10.244.1.11'];

t.test('iptables: captures, conntrack entries and rule counters of one curl to the ClusterIP', async (t) => {
  const lab = Lab.fromYaml(YAML, { datapath: 'iptables', seed: 5 });
  t.teardown(() => lab.close());
  t.same(lab.datapath, { cni: 'kindnet', serviceProxy: 'iptables', routing: 'direct', socketLB: false });
  const cip = lab.service('webpod').clusterIP;
  const eth0 = lab.capture({ pod: 'netpod' });
  const dev = lab.capture({ node: 'cmp-control-plane', ifname: 'eth0' });
  const r = await lab.exec('netpod', `curl -s ${cip}`);
  eth0.stop(); dev.stop();
  t.equal(r.exitCode, 0);
  const backend = /^IP: (10\.244\.\d+\.\d+)$/m.exec(r.stdout)![1]!;
  t.ok(BACKEND_IPS.includes(backend), `answered by ${backend}`);

  const syn = eth0.packets().find((p) => p.dir === 'out' && p.tcpFlags === 0x02)!;
  t.match(syn, { proto: 'tcp', src: '10.244.0.10', dst: cip, dport: 80 }, 'the pod sends its SYN to the ClusterIP');
  t.match(dev.packets().find((p) => p.dir === 'out' && p.tcpFlags === 0x02), { src: '10.244.0.10', dst: backend, dport: 80 }, 'the node sends it on DNATed');
  const pcap = readPcap(eth0.pcap());
  t.equal(pcap.linktype, 1);
  t.same(pcap.records.map((x) => [...x.data]), eth0.frames.map((f) => [...f.frame]), 'pcap holds every frame, byte for byte');
  const lines = eth0.lines();
  t.equal(lines.length, eth0.frames.length);
  t.match(lines[0], /^\d\d:\d\d:\d\d\.\d{6} ARP, Request who-has 10\.244\.0\.1 tell 10\.244\.0\.10, length 28$/, 'tcpdump -nn lines: the pod ARPs for its gateway');
  t.ok(lines.some((l) => l.includes(` IP 10.244.0.10.${syn.sport} > ${cip}.80: Flags [S], `)), 'then sends its SYN to the ClusterIP');

  const ct = (await lab.conntrack('cmp-control-plane')).filter((e) => e.orig.dst === cip);
  t.equal(ct.length, 1, 'one entry for the connection');
  t.match(ct[0], { node: 'cmp-control-plane', proto: 'tcp', orig: { src: '10.244.0.10', dst: cip, dport: 80 }, reply: { src: backend, dst: '10.244.0.10', sport: 80 }, assured: true });
  t.same(await lab.ciliumCt(), [], 'no Cilium maps on kindnet');
  const svc = (await lab.counters('cmp-control-plane')).find((c) => c.name.startsWith(`nat -A KUBE-SERVICES -d ${cip}/32`));
  t.equal(svc?.packets, 1, 'the service rule counted the first packet only');
});

t.test('cilium: CT entries from the client to the backend, no nf_conntrack, datapath metrics', async (t) => {
  const lab = Lab.fromYaml(YAML, { seed: 5 });
  t.teardown(() => lab.close());
  t.same(lab.datapath, { cni: 'cilium', serviceProxy: 'cilium', routing: 'native', socketLB: true });
  const r = await lab.exec('netpod', ['curl', '-s', 'webpod']);
  const backend = /^IP: (10\.244\.\d+\.\d+)$/m.exec(r.stdout)![1]!;
  const ct = await lab.ciliumCt('cmp-control-plane');
  t.ok(ct.some((e) => e.proto === 'TCP' && e.dir === 'OUT' && e.src === '10.244.0.10' && e.dst === backend && e.dport === 80), 'TCP OUT client -> backend (socket LB translated at connect)');
  t.same(await lab.conntrack(), [], 'no nf_conntrack on Cilium nodes');
  const m = await lab.counters('cmp-control-plane');
  t.ok(m.some((c) => c.source === 'cilium' && c.name === 'Success EGRESS' && c.packets > 0), 'bpf metrics list rows');
});

t.test('work: the rules and map lookups a curl cost each datapath', async (t) => {
  for (const datapath of ['iptables', 'cilium']) {
    const lab = Lab.fromYaml(YAML, { datapath, seed: 5 });
    t.teardown(() => lab.close());
    const cip = lab.service('webpod').clusterIP;
    const { result, work } = await lab.work(() => lab.exec('netpod', `curl -s ${cip}`));
    t.equal(result.exitCode, 0, `${datapath}: answered`);
    if (datapath === 'iptables') {
      t.notOk(work.cilium);
      t.equal(work.iptables!.packets.first, 2, 'the SYN is new on the client\'s node and on the backend\'s');
      const nat = work.iptables!.tables.find((x) => x.table === 'nat' && x.hook === 'PREROUTING')!;
      t.ok(nat.walked.first > 0 && nat.walked.later === 0, `nat PREROUTING: ${JSON.stringify(nat.walked)}`);
    } else {
      t.notOk(work.iptables);
      t.ok(work.cilium!.packets.first >= 2 && work.cilium!.perPacket.lookups.later > 0, JSON.stringify(work.cilium!.perPacket));
      t.ok(work.cilium!.programs.some((p) => p.prog === 'cil_sock4_connect' && p.runs.first === 1), 'socket LB translated the ClusterIP at connect()');
    }
    t.equal((lab.cluster.kernel(lab.nodes()[0]!) as unknown as { runtime: { recorder: unknown } }).runtime.recorder, null, 'recording stops with fn');
  }
});

t.test('apply, a new service reached by name; the same seed gives the same run', async (t) => {
  const run = async (seed: number) => {
    const lab = Lab.fromYaml(YAML, { datapath: 'iptables', seed });
    try {
      t.same(lab.apply('apiVersion: v1\nkind: Service\nmetadata: {name: web2}\nspec:\n  selector: {app: webpod}\n  ports: [{port: 8080, targetPort: 80}]\n'), ['service/web2 created']);
      const outs: string[] = [];
      for (let i = 0; i < 4; i++) outs.push((await lab.exec('netpod', 'curl -s web2:8080')).stdout.split('\n').filter((l) => /^(Hostname|RemoteAddr)/.test(l)).join(' '));
      return outs;
    } finally { lab.close(); }
  };
  const a = await run(11);
  t.equal(a.length, 4);
  for (const l of a) t.match(l, /^Hostname: webpod\d RemoteAddr: 10\.244\.0\.10:\d+$/);
  t.same(await run(11), a, 'backends and source ports repeat with the seed');
});

t.test('bad input: ClusterError naming what is wrong', async (t) => {
  t.throws(() => Lab.fromYaml(YAML, { datapath: 'flannel' }), { constructor: ClusterError, message: 'unknown datapath "flannel" (known: cilium, iptables, ipvs)' });
  t.throws(() => Lab.fromYaml('kind: [', {}), { status: 400, message: /^error parsing cluster YAML: document 1: / });
  t.throws(() => Lab.lab('nope'), { message: /^unknown lab "nope"/ });
  const lab = Lab.fromYaml(YAML, { datapath: 'iptables' });
  t.teardown(() => lab.close());
  t.throws(() => lab.capture({ pod: 'nopod' }), { status: 404, message: /pods "nopod" not found/ });
  t.throws(() => lab.capture({ pod: 'netpod', ifname: 'eth9' }), { message: 'eth9: No such device exists in pod default/netpod' });
  t.throws(() => lab.capture({ node: 'nonode', ifname: 'eth0' }), { status: 404, message: 'node "nonode" not found' });
  t.throws(() => lab.service('nosvc'), { status: 404, message: 'service "default/nosvc" not found' });
});

t.test('withDatapath re-targets a kind config and keeps the manifests', async (t) => {
  const kind = 'apiVersion: kind.x-k8s.io/v1alpha4\nkind: Cluster\nname: k\nnodes: [{role: control-plane}, {role: worker}]\nnetworking: {kubeProxyMode: iptables}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n';
  const out = withDatapath(kind, { datapath: 'cilium' });
  t.match(out, /kind: Cluster\n/);
  t.match(out, /datapath: cilium\n/);
  t.notMatch(out, /serviceProxy:/, 'the kind config\'s kube-proxy choice replaced');
  t.match(out, /---\napiVersion: v1\nkind: Namespace\nmetadata: \{ ?name: x ?\}\n/);
  const lab = Lab.fromYaml(kind, { datapath: 'cilium' });
  t.teardown(() => lab.close());
  t.same([lab.datapath.cni, lab.datapath.serviceProxy, lab.nodes()], ['cilium', 'cilium', ['k-control-plane', 'k-worker']]);
});
