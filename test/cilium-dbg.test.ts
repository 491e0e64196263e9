// cilium-dbg on a node of the seed lab: outputs against the seed transcript (003) lines.
import t from 'tap';
import { ciliumOf } from '../src/cilium/plugin.ts';
import { Cluster } from '../src/cluster/cluster.ts';

const c = Cluster.lab('cilium', { seed: 1 });
const sh = async (cmd: string, node = 'k8s-s') => c.sim.settle(c.nodeExec(node, ['sh', '-c', cmd]));
/** The seed's blog copy collapsed runs of spaces; compare that way. */
const norm = (s: string) => s.split('\n').map((l) => l.replace(/\s+/g, ' ').trim()).filter((l) => l !== '');

t.test('status --verbose | grep Allocated -A5 (seed, all three nodes)', async (t) => {
  const seed: Record<string, string> = {
    'k8s-s': 'Allocated addresses:\n  172.16.0.12 (router)\n  172.16.0.230 (default/netpod)\n  172.16.0.236 (health)\nIPv4 BIG TCP:            Disabled\nIPv6 BIG TCP:            Disabled\n',
    // coredns was there before the agent's restart: its endpoints were restored from state.
    'k8s-w1': 'Allocated addresses:\n  172.16.1.111 (default/webpod1)\n  172.16.1.159 (health)\n  172.16.1.198 (router)\n' +
      '  172.16.1.210 (kube-system/coredns-55cb58b774-2xvk2 [restored])\n  172.16.1.221 (kube-system/coredns-55cb58b774-7v788 [restored])\n',
    'k8s-w2': 'Allocated addresses:\n  172.16.2.116 (router)\n  172.16.2.180 (default/webpod2)\n  172.16.2.73 (health)\nIPv4 BIG TCP:            Disabled\nIPv6 BIG TCP:            Disabled\n',
  };
  for (const [node, want] of Object.entries(seed)) {
    const r = await sh('cilium-dbg status --verbose | grep Allocated -A5', node);
    t.equal(r.stdout, want, node);
  }
});

t.test('status: the lines users grep', async (t) => {
  const r = await sh('cilium-dbg status');
  t.equal(r.exitCode, 0);
  const lines = r.stdout.split('\n');
  for (const want of [
    'KVStore:                 Ok   Disabled',
    'Kubernetes:              Ok   1.30 (v1.30.4) [linux/amd64]',
    'Host firewall:           Disabled',
    'SRv6:                    Disabled',
    'CNI Chaining:            none',
    'CNI Config file:         successfully wrote CNI configuration file to /host/etc/cni/net.d/05-cilium.conflist',
    'Cilium:                  Ok   1.16.3 (v1.16.3-f2217191)',
    'NodeMonitor:             Listening for events on 2 CPUs with 64x4096 of shared memory',
    'Cilium health daemon:    Ok   ',
    'IPAM:                    IPv4: 3/254 allocated from 172.16.0.0/24, ',
    'BandwidthManager:        Disabled',
    'Routing:                 Network: Native   Host: BPF',
    'Attach Mode:             TCX',
    'Device Mode:             veth',
    'Masquerading:            BPF   [ens5]   172.16.0.0/16 [IPv4: Enabled, IPv6: Disabled]',
    'Proxy Status:            OK, ip 172.16.0.12, 0 redirects active on ports 10000-20000, Envoy: external',
    'Global Identity Range:   min 256, max 65535',
    'Encryption:              Disabled        ',
    'Cluster health:          3/3 reachable   (2024-10-21T11:10:00Z)',
  ]) t.ok(lines.includes(want), want);
  t.match(r.stdout, /^KubeProxyReplacement: {4}True {3}\[ens5 {3}192\.168\.10\.10 fe80::[0-9a-f:]+ \(Direct Routing\)\]$/m);
  t.notMatch(r.stdout, /Allocated addresses/);
  const w1 = await sh('cilium status | grep IPAM', 'k8s-w1');
  t.equal(w1.stdout, 'IPAM:                    IPv4: 7/254 allocated from 172.16.1.0/24, \n', 'cilium alias; the seed\'s -A5 cut 2 of the 7 (hubble pods sort last as strings)');
});

t.test('endpoint list: two-line header, rows by id, labels one per line (seed rows up to ids)', async (t) => {
  const r = await sh('cilium-dbg endpoint list');
  const eps = ciliumOf(c.cni)!;
  const netpod = eps.endpoints('k8s-s').find((e) => e.podName === 'netpod')!;
  const health = eps.endpoints('k8s-s').find((e) => e.identity === 4)!;
  const host = eps.endpoints('k8s-s').find((e) => e.identity === 1)!;
  const blocks: Record<number, string[]> = {
    [netpod.id]: [`${netpod.id} Disabled Disabled ${netpod.identity} k8s:app=netpod 172.16.0.230 ready`,
      'k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=default', 'k8s:io.cilium.k8s.policy.cluster=default',
      'k8s:io.cilium.k8s.policy.serviceaccount=default', 'k8s:io.kubernetes.pod.namespace=default'],
    [health.id]: [`${health.id} Disabled Disabled 4 reserved:health 172.16.0.236 ready`],
    [host.id]: [`${host.id} Disabled Disabled 1 k8s:node-role.kubernetes.io/control-plane ready`,
      'k8s:node.kubernetes.io/exclude-from-external-load-balancers', 'reserved:host'],
  };
  const want = ['ENDPOINT POLICY (ingress) POLICY (egress) IDENTITY LABELS (source:key[=value]) IPv6 IPv4 STATUS', 'ENFORCEMENT ENFORCEMENT',
    ...Object.keys(blocks).map(Number).sort((a, b) => a - b).flatMap((id) => blocks[id]!)];
  t.same(norm(r.stdout), want);
  t.match(r.stdout.split('\n')[1], /^ {11}ENFORCEMENT {8}ENFORCEMENT/);
});

t.test('bpf endpoint list and map get cilium_lxc: seed rows (ifindex 8 and 10), map order free', async (t) => {
  const r = await sh('cilium-dbg bpf endpoint list');
  const lines = norm(r.stdout);
  t.equal(lines[0], 'IP ADDRESS LOCAL ENDPOINT INFO');
  const rows = lines.slice(1).map((l) => l.replace(/id=\d+ sec_id=\d+/, 'id=N sec_id=S').replace(/mac=\S+ nodemac=\S+/, 'MACS')).sort();
  t.same(rows, ['172.16.0.12:0 (localhost)', '172.16.0.230:0 id=N sec_id=S flags=0x0000 ifindex=10 MACS',
    '172.16.0.236:0 id=N sec_id=S flags=0x0000 ifindex=8 MACS', '192.168.10.10:0 (localhost)']);
  const m = await sh('cilium-dbg map get cilium_lxc');
  t.equal(norm(m.stdout)[0], 'Key Value State Error');
  t.equal(norm(m.stdout).length, 3, 'host entries are not in the agent cache');
  t.match(m.stdout, /^172\.16\.0\.236:0 {3}id=\d+ +sec_id=4 +flags=0x0000 ifindex=8 +mac=[0-9A-F:]{17} nodemac=[0-9A-F:]{17} {3}sync {4}$/m);
});

t.test('map get cilium_ipcache | grep (seed line)', async (t) => {
  const r = await sh('cilium-dbg map get cilium_ipcache | grep 172.16.1.111');
  t.match(norm(r.stdout), [/^172\.16\.1\.111\/32 identity=\d+ encryptkey=0 tunnelendpoint=192\.168\.10\.101, flags=<none> sync$/]);
  const all = norm((await sh('cilium-dbg map get cilium_ipcache')).stdout).slice(1).map((l) => l.replace(/identity=\d{5}/, 'identity=N'));
  t.ok(all.includes('192.168.10.101/32 identity=6 encryptkey=0 tunnelendpoint=0.0.0.0, flags=<none> sync'));
  t.ok(all.includes('172.16.2.73/32 identity=4 encryptkey=0 tunnelendpoint=192.168.10.102, flags=<none> sync'));
  t.equal(all.length, 17, 'seed has 17 entries');
});

t.test('ip list: the seed output, labels and sources', async (t) => {
  const r = await sh('cilium-dbg ip list');
  const out = norm(r.stdout);
  t.equal(out[0], 'IP IDENTITY SOURCE');
  t.same(out.slice(1, 4), ['0.0.0.0/0 reserved:world', '172.16.0.12/32 reserved:host', 'reserved:kube-apiserver']);
  t.ok(out.includes('172.16.1.210/32 k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=kube-system custom-resource'));
  t.same(out.slice(-4), ['192.168.10.10/32 reserved:host', 'reserved:kube-apiserver', '192.168.10.101/32 reserved:remote-node', '192.168.10.102/32 reserved:remote-node']);
  t.notMatch(r.stdout, /pod-template-hash/, 'the label filter drops pod-template-hash');
  const n = await sh('cilium-dbg ip list -n');
  t.ok(norm(n.stdout).includes('0.0.0.0/0 2'));
});

t.test('service list and bpf lb list: ClusterIP webpod with both backends', async (t) => {
  const r = await sh('cilium-dbg service list');
  t.match(r.stdout, /^ID {3}Frontend {2,}Service Type {3}Backend/);
  t.match(r.stdout, /^\d+ +10\.\d+\.\d+\.\d+:80\/TCP +ClusterIP +1 => 172\.16\.1\.111:80\/TCP \(active\) +\n +2 => 172\.16\.2\.180:80\/TCP \(active\)/m);
  const lb = norm((await sh('cilium-dbg bpf lb list')).stdout);
  t.equal(lb[0], 'SERVICE ADDRESS BACKEND ADDRESS (REVNAT_ID) (SLOT)');
  t.ok(lb.some((l) => /^10\.96\.0\.10:53\/UDP \(0\) 0\.0\.0\.0:0 \(\d+\) \(0\) \[ClusterIP, non-routable\]$/.test(l)));
});

t.test('bpftool net show: seed ifindexes, prog and link ids', async (t) => {
  const r = await sh('bpftool net show');
  const rows = norm(r.stdout).filter((l) => l.includes('tcx/')).map((l) => l.replace(/lxc[0-9a-f]{12}\(/, 'LXC('));
  t.same(rows, [
    'ens5(2) tcx/ingress cil_from_netdev prog_id 1284 link_id 16',
    'ens5(2) tcx/egress cil_to_netdev prog_id 1290 link_id 17',
    'cilium_net(3) tcx/ingress cil_to_host prog_id 1278 link_id 15',
    'cilium_host(4) tcx/ingress cil_to_host prog_id 1260 link_id 13',
    'cilium_host(4) tcx/egress cil_from_host prog_id 1266 link_id 14',
    'lxc_health(8) tcx/ingress cil_from_container prog_id 1302 link_id 21',
    'lxc_health(8) tcx/egress cil_to_container prog_id 1303 link_id 22',
    // netpod's bpf_lxc load drew cil_to_container before cil_from_container (Go map order), the health endpoint's the other way.
    'LXC(10) tcx/ingress cil_from_container prog_id 1312 link_id 23',
    'LXC(10) tcx/egress cil_to_container prog_id 1311 link_id 24',
  ]);
  const ip = await c.sim.settle(c.kubectl(['exec', 'netpod', '--', 'ip', '-4', 'addr']));
  t.match(ip.stdout, /^9: eth0@if10: /m);
});

t.test('errors and other commands', async (t) => {
  const cases: Array<[string, number, RegExp]> = [
    ['cilium-dbg stauts', 1, /^Error: unknown command "stauts" for "cilium-dbg"\n\nDid you mean this\?\n\tstatus\n\nRun 'cilium-dbg --help' for usage\.\n$/],
    ['cilium-dbg frobnicate', 1, /^Error: unknown command "frobnicate" for "cilium-dbg"\nRun 'cilium-dbg --help' for usage\.\n$/],
    ['cilium-dbg map get nope', 1, /^Error: \[GET \/map\/\{name\}\]\[404\] getMapNameNotFound/],
    ['cilium-dbg status --bogus', 1, /^Error: unknown flag: --bogus\n/],
    ['cilium-dbg version', 0, /^Client: 1\.16\.3 f2217191 .*\nDaemon: 1\.16\.3 f2217191 /],
    ['cilium-dbg bpf ct list', 1, /^Error: /],
  ];
  for (const [cmd, code, re] of cases) {
    const r = await sh(cmd);
    t.equal(r.exitCode, code, cmd);
    t.match(r.stdout + r.stderr, re, cmd);
  }
  const map = await sh('cilium-dbg map list');
  t.match(map.stdout, /^Name {23}Num entries {3}Num errors {3}Cache enabled\ncilium_lxc {17}2 {13}0 {12}true\n/);
});

t.test('monitor: header first, flow hash per connection, same both ways', async (t) => {
  const lines: string[] = [];
  const stop = c.monitor('k8s-s', (l) => lines.push(l.text));
  await c.sim.settle(c.kubectl(['exec', 'netpod', '--', 'ping', '-c', '1', '172.16.1.111']));
  stop();
  t.same(lines.slice(0, 2), ['Listening for events on 2 CPUs with 64x4096 of shared memory', 'Press Ctrl-C to quit']);
  const hashes = lines.slice(2).map((l) => /flow (0x[0-9a-f]+) /.exec(l)?.[1]);
  t.ok(hashes.length >= 2);
  t.not(hashes[0], '0x0');
  t.equal(new Set(hashes).size, 1, 'request and reply share the symmetric hash');
});
