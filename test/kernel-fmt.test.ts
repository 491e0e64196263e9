// What users print on a node or pod: ip, route -n, bpftool, checked against the seed's output.
import t from 'tap';
import { Sim } from '../src/sim/sim.ts';
import { createNode } from '../src/kernel/node.ts';
import { Underlay } from '../src/kernel/underlay.ts';
import { runKernelTool } from '../src/kernel/tools.ts';
import { ipToU32, macFromString } from '../src/wire/addr.ts';
import { createMap } from '../src/bpf/maps/index.ts';

/** The seed's k8s-s: ens5(2), cilium_net(3)/cilium_host(4), lxc_health(8), netpod eth0(9)/lxc(10). */
function seedNode() {
  const sim = new Sim(1);
  const node = createNode('k8s-s', sim, { underlay: new Underlay(), netdevName: 'ens5', nodeIp: '192.168.10.10', prefixLen: 24, mtu: 9001 });
  const host = node.hostNs;
  const [ciliumNet] = node.createVeth('cilium_net', host, 'cilium_host', { mtu: 9001, hostIfindex: 3, peerIfindex: 4 });
  void ciliumNet;
  const ch = host.device('cilium_host')!;
  host.addAddress(ch, ipToU32('172.16.0.12'), 32);
  const health = node.createNetns('cilium-health');
  node.createVeth('lxc_health', health, 'eth0', { mtu: 9001, peerIfindex: 7, hostIfindex: 8 });
  const pod = node.createNetns('cni-35c57e23-01ba-0bc8-9858-769f1479059c');
  const [lxc, eth0] = node.createVeth('lxc7408fc78b9ff', pod, 'eth0', {
    mtu: 9001, peerIfindex: 9, hostIfindex: 10, hostMac: macFromString('5e:b5:9a:19:fb:b3'), peerMac: macFromString('92:ef:86:7b:d1:d4'),
  });
  pod.addAddress(eth0, ipToU32('172.16.0.230'), 32);
  pod.addRoute({ dst: ipToU32('172.16.0.12'), prefixLen: 32, gateway: 0, ifindex: eth0.ifindex, scope: 'link' });
  pod.addRoute({ dst: 0, prefixLen: 0, gateway: ipToU32('172.16.0.12'), ifindex: eth0.ifindex, mtu: 9001 });
  return { sim, node, pod, lxc, eth0 };
}

/** `ip -c` as the seed's blog shows it: the text without iproute2's colour escapes (test/accept.seed003_diffs checks those). */
const noColour = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');

t.test('pod: ip -c -4 addr and route -n as in the seed', async (t) => {
  const { pod } = seedNode();
  const r = runKernelTool(pod, ['ip', '-c', '-4', 'addr'])!;
  t.equal(r.exitCode, 0);
  t.equal(noColour(r.stdout), [
    '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000',
    '    inet 127.0.0.1/8 scope host lo',
    '       valid_lft forever preferred_lft forever',
    '9: eth0@if10: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 9001 qdisc noqueue state UP group default qlen 1000 link-netnsid 0',
    '    inet 172.16.0.230/32 scope global eth0',
    '       valid_lft forever preferred_lft forever',
    '',
  ].join('\n'));
  t.equal(runKernelTool(pod, ['route', '-n'])!.stdout, [
    'Kernel IP routing table',
    'Destination     Gateway         Genmask         Flags Metric Ref    Use Iface',
    '0.0.0.0         172.16.0.12     0.0.0.0         UG    0      0        0 eth0',
    '172.16.0.12     0.0.0.0         255.255.255.255 UH    0      0        0 eth0',
    '',
  ].join('\n'));
  t.equal(runKernelTool(pod, ['ip', 'route'])!.stdout, 'default via 172.16.0.12 dev eth0 mtu 9001\n172.16.0.12 dev eth0 scope link\n');
});

t.test('host: ip addr show dev lxc as in the seed; ip link; errors', async (t) => {
  const { node } = seedNode();
  t.equal(noColour(runKernelTool(node.hostNs, ['ip', '-c', 'addr', 'show', 'dev', 'lxc7408fc78b9ff'])!.stdout), [
    '10: lxc7408fc78b9ff@if9: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 9001 qdisc noqueue state UP group default qlen 1000',
    '    link/ether 5e:b5:9a:19:fb:b3 brd ff:ff:ff:ff:ff:ff link-netns cni-35c57e23-01ba-0bc8-9858-769f1479059c',
    '    inet6 fe80::5cb5:9aff:fe19:fbb3/64 scope link',
    '       valid_lft forever preferred_lft forever',
    '',
  ].join('\n'));
  const link = runKernelTool(node.hostNs, ['ip', 'link', 'show', 'cilium_host'])!.stdout.split('\n');
  t.match(link[0], /^4: cilium_host@cilium_net: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 9001 qdisc noqueue state UP mode DEFAULT group default qlen 1000$/);
  t.match(link[1], /^    link\/ether [0-9a-f:]{17} brd ff:ff:ff:ff:ff:ff$/);
  const ens5 = runKernelTool(node.hostNs, ['ip', '-4', 'a', 'show', 'ens5'])!.stdout;
  t.match(ens5, /inet 192\.168\.10\.10\/24 brd 192\.168\.10\.255 scope global ens5/);
  t.equal(runKernelTool(node.hostNs, ['ip', 'route'])!.stdout, '192.168.10.0/24 dev ens5 proto kernel scope link src 192.168.10.10\n');
  const cases: Array<[string[], string, number]> = [
    [['ip', 'addr', 'show', 'dev', 'nope'], 'Device "nope" does not exist.\n', 1],
    [['ip', 'frob'], 'Object "frob" is unknown, try "ip help".\n', 1],
    [['ip', 'route', 'frob'], 'Command "frob" is unknown, try "ip route help".\n', 1],
    [['ip', '-x', 'addr'], 'Option "-x" is unknown, try "ip -help".\n', 255],
    [['bpftool', 'prog', 'show', 'id', '999'], 'Error: get by id (999): No such file or directory\n', 255],
  ];
  for (const [argv, stderr, code] of cases) {
    const r = runKernelTool(node.hostNs, argv)!;
    t.same([r.stderr, r.exitCode, r.stdout], [stderr, code, ''], argv.join(' '));
  }
  t.equal(runKernelTool(node.hostNs, ['ls']), undefined, 'not a kernel tool');
});

/** A loaded program as bpf_prog_info shows it; the loader gives every program its own BTF (btf_id). */
function prog(id: number, name: string, mapIds: number[] = [], btfId?: number) {
  return { id, name, type: 'sched_cls' as const, tag: 'ebe634d5df387fad', mapIds, loadedAtMs: Date.UTC(2024, 9, 21, 11, 6, 22, 500), run: () => 0,
    ...(btfId !== undefined ? { btfId } : {}) };
}

t.test('bpftool net show: by ifindex, ingress before egress, node-wide link ids', async (t) => {
  const { node, lxc } = seedNode();
  const d = (n: string) => node.hostNs.device(n)!;
  node.ids.nextLinkId(); node.ids.nextLinkId(); // link ids 13, 14 used elsewhere
  node.attachTcx(d('cilium_net'), 'ingress', prog(1278, 'cil_to_host', [], 316));
  node.attachTcx(d('ens5'), 'ingress', prog(1284, 'cil_from_netdev', [], 322));
  node.attachTcx(lxc, 'egress', prog(1311, 'cil_to_container', [66, 175], 349));
  node.attachTcx(lxc, 'ingress', prog(1312, 'cil_from_container', [175, 66], 350));
  node.attachTcx(d('ens5'), 'egress', prog(1290, 'cil_to_netdev', [], 328));
  t.equal(runKernelTool(node.hostNs, ['bpftool', 'net', 'show'])!.stdout, [
    'xdp:',
    '',
    'tc:',
    'ens5(2) tcx/ingress cil_from_netdev prog_id 1284 link_id 16 ',
    'ens5(2) tcx/egress cil_to_netdev prog_id 1290 link_id 19 ',
    'cilium_net(3) tcx/ingress cil_to_host prog_id 1278 link_id 15 ',
    'lxc7408fc78b9ff(10) tcx/ingress cil_from_container prog_id 1312 link_id 18 ',
    'lxc7408fc78b9ff(10) tcx/egress cil_to_container prog_id 1311 link_id 17 ',
    '',
    'flow_dissector:',
    '',
    'netfilter:',
    '',
    '',
  ].join('\n'));
  t.equal(runKernelTool(node.hostNs, ['bpftool', 'net', 'show', 'dev', 'ens5'])!.stdout.split('\n').filter((l) => l.includes('tcx')).length, 2);
  // The seed's two entry programs: map_ids in each program's used_maps order, btf_id last.
  const show = (id: string) => runKernelTool(node.hostNs, ['bpftool', 'prog', 'show', 'id', id])!.stdout;
  t.match(show('1312'), /^1312: sched_cls  name cil_from_container  tag ebe634d5df387fad  gpl\n\tloaded_at 2024-10-21T11:06:22\+0000  uid 0\n\txlated \d+B  jited \d+B  memlock 4096B  map_ids 175,66\n\tbtf_id 350\n$/);
  t.match(show('1311'), /^1311: sched_cls  name cil_to_container  tag ebe634d5df387fad  gpl\n\tloaded_at 2024-10-21T11:06:22\+0000  uid 0\n\txlated \d+B  jited \d+B  memlock 4096B  map_ids 66,175\n\tbtf_id 349\n$/);
});

t.test('bpftool names: the kernel keeps 15 characters; BTF gives a program its full name back, a map has none', async (t) => {
  const { node, lxc } = seedNode();
  node.attachTcx(lxc, 'ingress', prog(1401, 'cil_from_container'));
  node.attachTcx(lxc, 'egress', prog(1402, 'cil_to_container', [], 400));
  node.registerProg(prog(1403, 'cil_to_host'));
  const cases: Array<[string[], RegExp]> = [
    [['bpftool', 'prog', 'show', 'id', '1401'], /^1401: sched_cls  name cil_from_contai  tag /],
    [['bpftool', 'prog', 'show', 'id', '1402'], /^1402: sched_cls  name cil_to_container  tag [^\n]+\n(\t[^\n]+\n)*\tbtf_id 400\n$/],
    [['bpftool', 'prog', 'show', 'id', '1403'], /^1403: sched_cls  name cil_to_host  tag /],
    [['bpftool', 'net', 'show'], /^lxc7408fc78b9ff\(10\) tcx\/ingress cil_from_contai prog_id 1401 link_id \d+ $/m],
    [['bpftool', 'net', 'show'], /^lxc7408fc78b9ff\(10\) tcx\/egress cil_to_container prog_id 1402 link_id \d+ $/m],
  ];
  for (const [argv, re] of cases) t.match(runKernelTool(node.hostNs, argv)!.stdout, re, argv.join(' '));
  t.notMatch(runKernelTool(node.hostNs, ['bpftool', 'prog', 'show', 'id', '1401'])!.stdout, /btf_id/, 'no BTF, no btf_id line');
});

t.test('bpftool map list: prog_array line as in the seed, names cut to 15 characters', async (t) => {
  const { node } = seedNode();
  // The seed's 172 is an endpoint's cilium_calls_<05d> map.
  const m = createMap({ name: 'cilium_calls_00905', type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 50, flags: 0 }, 172);
  node.registerMap(m);
  node.registerMap(createMap({ name: 'cilium_lxc', type: 'hash', keySize: 20, valueSize: 48, maxEntries: 65535, flags: 0 }, 173));
  t.equal(runKernelTool(node.hostNs, ['bpftool', 'map', 'list'])!.stdout,
    '172: prog_array  name cilium_calls_00  flags 0x0\n\tkey 4B  value 4B  max_entries 50  memlock 720B\n\towner_prog_type sched_cls  owner jited\n' +
    `173: hash  name cilium_lxc  flags 0x0\n\tkey 20B  value 48B  max_entries 65535  memlock ${node.maps.get(173)!.memlock}B\n`);
  const cases: Array<[string, number, string, string]> = [
    ['map show id 172', 0, '172: prog_array  name cilium_calls_00  flags 0x0\n\tkey 4B  value 4B  max_entries 50  memlock 720B\n\towner_prog_type sched_cls  owner jited\n', ''],
    ['map show id 999', 255, '', 'Error: get map by id (999): No such file or directory\n'],
    ['map show foo', 255, '', "Error: what is 'foo'?\n"],
    ['map show foo 1', 255, '', "Error: expected 'id', 'name' or 'pinned', got: 'foo'?\n"],
  ];
  for (const [cmd, code, stdout, stderr] of cases) {
    const r = runKernelTool(node.hostNs, ['bpftool', ...cmd.split(' ')])!;
    t.same([r.exitCode, r.stdout, r.stderr], [code, stdout, stderr], `bpftool ${cmd}`);
  }
});
