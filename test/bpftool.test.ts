// bpftool's read side, byte for byte as bpftool v7.4 prints it: plain text,
// -j and -p JSON (json_writer's separators), map dumps in fprint_hex's layout,
// pinned paths (-f), and the errors with their exit status. One small node
// with a map of each shape the dump formats tell apart.
import t from 'tap';
import { Sim } from '../src/sim/sim.ts';
import { createNode } from '../src/kernel/node.ts';
import { Underlay } from '../src/kernel/underlay.ts';
import { runKernelTool, BPFTOOL_HELP } from '../src/kernel/tools.ts';
import { MAP_HELP, NET_HELP } from '../src/kernel/bpftool_help.ts';
import { pinMapsUnder } from '../src/kernel/bpffs.ts';
import { createMap, type ProgArrayMap } from '../src/bpf/maps/index.ts';

const bytes = (...b: number[]) => Uint8Array.from(b);
const seq = (n: number, from = 0) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

function lab() {
  const sim = new Sim(1);
  const node = createNode('k8s-s', sim, { underlay: new Underlay(), netdevName: 'ens5', nodeIp: '192.168.10.10', prefixLen: 24, mtu: 9001 });
  const prog = (id: number, name: string, mapIds: number[], btfId?: number) => ({
    id, name, type: 'sched_cls' as const, tag: 'ebe634d5df387fad', mapIds, loadedAtMs: Date.UTC(2024, 9, 21, 11, 6, 22, 500), run: () => 0,
    xlatedBytes: 728, jitedBytes: 545, ...(btfId ? { btfId } : {}),
  });
  // One map per dump layout: single line (key + value <= 24 bytes), broken names (> 16), per-CPU, prog array, perf event array.
  const small = createMap({ name: 'small', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 16, flags: 0 }, 60);
  small.update(bytes(1, 2, 3, 4), seq(8, 10));
  const lxc = createMap({ name: 'cilium_lxc', type: 'hash', keySize: 20, valueSize: 48, maxEntries: 65535, flags: 0 }, 61);
  lxc.update(seq(20), seq(48, 100));
  const metrics = createMap({ name: 'cilium_metrics', type: 'percpu_hash', keySize: 8, valueSize: 16, maxEntries: 1024, flags: 1 }, 66);
  metrics.update(seq(8), Uint8Array.from([...seq(16, 0x20), ...seq(16, 0x40)]));
  const calls = createMap({ name: 'cilium_calls_00416', type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 50, flags: 0 }, 175) as ProgArrayMap;
  const events = createMap({ name: 'cilium_events', type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 2, flags: 0 }, 62);
  for (const m of [small, lxc, metrics, calls, events]) node.registerMap(m);
  const lxcDev = node.createVeth('lxc7408fc78b9ff', node.createNetns('pod'), 'eth0', { hostIfindex: 10, peerIfindex: 9 })[0];
  const from = prog(1312, 'cil_from_container', [175, 66], 350), to = prog(1311, 'cil_to_container', [66, 175], 349);
  node.ids.nextLinkId(); node.ids.nextLinkId(); // 13, 14 taken
  node.attachTcx(lxcDev, 'egress', to);
  node.attachTcx(lxcDev, 'ingress', from);
  calls.setProg(1, to);
  node.attachCgroup('connect4', { ...prog(1400, 'cil_sock4_connect', [66]), type: 'cgroup_sock_addr' as const, tag: '2f8b1c2ad3f6c1e0' });
  node.attachCgroup('getpeername4', { ...prog(1401, 'cil_sock4_getpeername', [66], 402), type: 'cgroup_sock_addr' as const, tag: '2f8b1c2ad3f6c1e1' });
  pinMapsUnder(node, '/sys/fs/bpf/tc/globals');
  return node;
}

const node = lab();
const run = (cmd: string) => runKernelTool(node.hostNs, ['bpftool', ...cmd.split(' ').filter(Boolean)])!;

const LXC_DUMP = 'key:\n00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f\n10 11 12 13\nvalue:\n'
  + '64 65 66 67 68 69 6a 6b  6c 6d 6e 6f 70 71 72 73\n74 75 76 77 78 79 7a 7b  7c 7d 7e 7f 80 81 82 83\n84 85 86 87 88 89 8a 8b  8c 8d 8e 8f 90 91 92 93\n';

const CASES: Array<{ cmd: string; code?: number; stdout?: string; stderr?: string }> = [
  // map dump: fprint_hex's layout, one line per 16 bytes, two blanks after 8; key and value on one line while they fit in 24 bytes.
  { cmd: 'map dump id 60', stdout: 'key: 01 02 03 04  value: 0a 0b 0c 0d 0e 0f 10 11\nFound 1 element\n' },
  { cmd: 'map dump name cilium_lxc', stdout: `${LXC_DUMP}Found 1 element\n` },
  { cmd: 'map dump pinned /sys/fs/bpf/tc/globals/cilium_lxc', stdout: `${LXC_DUMP}Found 1 element\n` },
  { cmd: 'map dump pinned /sys/fs/bpf//tc/globals/./cilium_lxc', stdout: `${LXC_DUMP}Found 1 element\n` },
  { cmd: 'map dump id 66', stdout: 'key:\n00 01 02 03 04 05 06 07\nvalue (CPU 00): 20 21 22 23 24 25 26 27  28 29 2a 2b 2c 2d 2e 2f\nvalue (CPU 01): 40 41 42 43 44 45 46 47  48 49 4a 4b 4c 4d 4e 4f\nFound 1 element\n' },
  // Prog arrays: empty slots are skipped; the value is the program id.
  { cmd: 'map dump id 175', stdout: 'key: 01 00 00 00  value: 1f 05 00 00\nFound 1 element\n' },
  // A perf event array has nothing userspace can read (ENOTSUPP, 524).
  { cmd: 'map dump name cilium_events', stdout: 'key:\n00 00 00 00\nvalue:\nUnknown error 524\nkey:\n01 00 00 00\nvalue:\nUnknown error 524\nFound 0 elements\n' },
  { cmd: 'map dump id 0x3c', stdout: 'key: 01 02 03 04  value: 0a 0b 0c 0d 0e 0f 10 11\nFound 1 element\n' },
  { cmd: 'ma d i 60', stdout: 'key: 01 02 03 04  value: 0a 0b 0c 0d 0e 0f 10 11\nFound 1 element\n' },
  // JSON: hex strings per byte; per-CPU values by cpu; -p as json_writer breaks lines.
  { cmd: '-j map dump id 60', stdout: '[{"key":["0x01","0x02","0x03","0x04"],"value":["0x0a","0x0b","0x0c","0x0d","0x0e","0x0f","0x10","0x11"]}]\n' },
  { cmd: '-j map dump id 66', stdout: '[{"key":["0x00","0x01","0x02","0x03","0x04","0x05","0x06","0x07"],"values":[{"cpu":0,"value":["0x20","0x21","0x22","0x23","0x24","0x25","0x26","0x27","0x28","0x29","0x2a","0x2b","0x2c","0x2d","0x2e","0x2f"]},{"cpu":1,"value":["0x40","0x41","0x42","0x43","0x44","0x45","0x46","0x47","0x48","0x49","0x4a","0x4b","0x4c","0x4d","0x4e","0x4f"]}]}]\n' },
  { cmd: '-p map dump id 60', stdout: '[{\n        "key": ["0x01","0x02","0x03","0x04"\n        ],\n        "value": ["0x0a","0x0b","0x0c","0x0d","0x0e","0x0f","0x10","0x11"\n        ]\n    }\n]\n' },
  { cmd: '-j map dump id 62', stdout: '[{"key":["0x00","0x00","0x00","0x00"],"value":{"error":"Unknown error 524"}},{"key":["0x01","0x00","0x00","0x00"],"value":{"error":"Unknown error 524"}}]\n' },
  // map lookup / getnext: the key as parse_bytes reads it (strtoul base 0, or 16 after `hex`), the element as a dump prints it.
  { cmd: 'map lookup id 60 key 1 2 3 4', stdout: 'key: 01 02 03 04  value: 0a 0b 0c 0d 0e 0f 10 11\n' },
  { cmd: 'map lookup id 60 key hex 01 02 03 04', stdout: 'key: 01 02 03 04  value: 0a 0b 0c 0d 0e 0f 10 11\n' },
  { cmd: 'map lookup id 60 key 0x01 02 3 0x4', stdout: 'key: 01 02 03 04  value: 0a 0b 0c 0d 0e 0f 10 11\n' },
  { cmd: '-j map lookup id 60 key 1 2 3 4', stdout: '{"key":["0x01","0x02","0x03","0x04"],"value":["0x0a","0x0b","0x0c","0x0d","0x0e","0x0f","0x10","0x11"]}\n' },
  { cmd: 'map lookup id 175 key 1 0 0 0', stdout: 'key: 01 00 00 00  value: 1f 05 00 00\n' },
  { cmd: 'map peek id 66 key 0 1 2 3 4 5 6 7', stdout: 'key:\n00 01 02 03 04 05 06 07\nvalue (CPU 00): 20 21 22 23 24 25 26 27  28 29 2a 2b 2c 2d 2e 2f\nvalue (CPU 01): 40 41 42 43 44 45 46 47  48 49 4a 4b 4c 4d 4e 4f\n' },
  { cmd: 'map lookup id 60 key 9 9 9 9', code: 255, stdout: 'key:\n09 09 09 09\n\nNot found\n' },
  { cmd: '-j map lookup id 60 key 9 9 9 9', code: 255, stdout: 'null\n' },
  { cmd: 'map lookup id 60 key 1 2 3', code: 255, stderr: 'Error: key expected 4 bytes got 3\n' },
  { cmd: 'map lookup id 60 key 1 2 3 zz', code: 255, stderr: 'Error: error parsing byte: zz\n' },
  { cmd: 'map lookup id 60 key 1 2 3 4 5', code: 255, stderr: 'Error: expected key or value, got: 5\n' },
  { cmd: 'map lookup id 60', code: 255, stderr: 'Error: did not find key\n' },
  { cmd: 'map lookup id 62 key 0 0 0 0', code: 255, stderr: 'Error: lookup failed: Unknown error 524\n' },
  { cmd: 'map lookup', code: 255, stderr: MAP_HELP('map') },
  { cmd: 'map getnext id 60', stdout: 'key: None\nnext key:\n01 02 03 04\n' },
  { cmd: 'map getnext id 175 key 1 0 0 0', stdout: 'key:\n01 00 00 00\nnext key:\n02 00 00 00\n' },
  { cmd: 'map getnext id 60 key 1 2 3 4', code: 255, stderr: "Error: can't get next key: No such file or directory\n" },
  { cmd: '-j map getnext id 60', stdout: '{"key":null,"next_key":["0x01","0x02","0x03","0x04"]}\n' },
  // map show / list: the kernel's 15-character names, owner line of prog arrays, pinned paths with -f.
  { cmd: 'map show id 175', stdout: `175: prog_array  name cilium_calls_00  flags 0x0\n\tkey 4B  value 4B  max_entries 50  memlock ${node.maps.get(175)!.memlock}B\n\towner_prog_type sched_cls  owner jited\n` },
  { cmd: '-f map show name cilium_lxc', stdout: `61: hash  name cilium_lxc  flags 0x0\n\tkey 20B  value 48B  max_entries 65535  memlock ${node.maps.get(61)!.memlock}B\n\tpinned /sys/fs/bpf/tc/globals/cilium_lxc\n` },
  { cmd: '-j map show id 66', stdout: `{"id":66,"type":"percpu_hash","name":"cilium_metrics","flags":1,"bytes_key":8,"bytes_value":16,"max_entries":1024,"bytes_memlock":${node.maps.get(66)!.memlock},"frozen":0}\n` },
  { cmd: '--json --bpffs map show id 175', stdout: `{"id":175,"type":"prog_array","name":"cilium_calls_00","flags":0,"bytes_key":4,"bytes_value":4,"max_entries":50,"bytes_memlock":${node.maps.get(175)!.memlock},"owner_prog_type":"sched_cls","owner_jited":true,"frozen":0,"pinned":["/sys/fs/bpf/tc/globals/cilium_calls_00416"]}\n` },
  // prog show: the seed's shape; JSON loaded_at in seconds since the epoch.
  { cmd: 'prog show id 1312', stdout: '1312: sched_cls  name cil_from_container  tag ebe634d5df387fad  gpl\n\tloaded_at 2024-10-21T11:06:22+0000  uid 0\n\txlated 728B  jited 545B  memlock 4096B  map_ids 175,66\n\tbtf_id 350\n' },
  { cmd: '-j prog show id 1311', stdout: '{"id":1311,"type":"sched_cls","name":"cil_to_container","tag":"ebe634d5df387fad","gpl_compatible":true,"loaded_at":1729508782,"uid":0,"orphaned":false,"bytes_xlated":728,"jited":true,"bytes_jited":545,"bytes_memlock":4096,"map_ids":[66,175],"btf_id":349}\n' },
  { cmd: '-p prog show id 1311', stdout: '{\n    "id": 1311,\n    "type": "sched_cls",\n    "name": "cil_to_container",\n    "tag": "ebe634d5df387fad",\n    "gpl_compatible": true,\n    "loaded_at": 1729508782,\n    "uid": 0,\n    "orphaned": false,\n    "bytes_xlated": 728,\n    "jited": true,\n    "bytes_jited": 545,\n    "bytes_memlock": 4096,\n    "map_ids": [66,175\n    ],\n    "btf_id": 349\n}\n' },
  { cmd: 'prog show tag ebe634d5df387fad', stdout: run('prog show id 1311').stdout + run('prog show id 1312').stdout },
  { cmd: 'prog show name cil_to_container', stdout: run('prog show id 1311').stdout },
  // net show and link show: the tcx links, with the blanks bpftool leaves at the ends of lines.
  { cmd: 'net show dev lxc7408fc78b9ff', stdout: 'xdp:\n\ntc:\nlxc7408fc78b9ff(10) tcx/ingress cil_from_container prog_id 1312 link_id 16 \nlxc7408fc78b9ff(10) tcx/egress cil_to_container prog_id 1311 link_id 15 \n\nflow_dissector:\n\nnetfilter:\n\n' },
  { cmd: '-j net show dev lxc7408fc78b9ff', stdout: '[{"xdp":[],"tc":[{"devname":"lxc7408fc78b9ff","ifindex":10,"kind":"tcx/ingress","name":"cil_from_container","prog_id":1312,"prog_flags":[],"link_id":16,"link_flags":[]},{"devname":"lxc7408fc78b9ff","ifindex":10,"kind":"tcx/egress","name":"cil_to_container","prog_id":1311,"prog_flags":[],"link_id":15,"link_flags":[]}],"flow_dissector":[],"netfilter":[]}]\n' },
  { cmd: 'link list', stdout: '15: tcx  prog 1311  \n\tifindex lxc7408fc78b9ff(10)  attach_type tcx_egress  \n16: tcx  prog 1312  \n\tifindex lxc7408fc78b9ff(10)  attach_type tcx_ingress  \n' },
  { cmd: '-j link show id 16', stdout: '{"id":16,"type":"tcx","prog_id":1312,"devname":"lxc7408fc78b9ff","ifindex":10,"attach_type":"tcx_ingress"}\n' },
  // cgroup: the socket-LB programs at the cgroup root, by attach type, with cgroup.c's column widths.
  { cmd: 'cgroup show /run/cilium/cgroupv2', stdout: 'ID       AttachType      AttachFlags     Name           \n1400     cgroup_inet4_connect multi           cil_sock4_conne\n1401     cgroup_inet4_getpeername multi           cil_sock4_getpeername\n' },
  { cmd: 'cgroup tree', stdout: 'CgroupPath\nID       AttachType      AttachFlags     Name           \n/sys/fs/cgroup\n1400     cgroup_inet4_connect multi           cil_sock4_conne\n1401     cgroup_inet4_getpeername multi           cil_sock4_getpeername\n' },
  { cmd: '-j cgroup tree /run/cilium/cgroupv2', stdout: '[{"cgroup":"/run/cilium/cgroupv2","programs":[{"id":1400,"attach_type":"cgroup_inet4_connect","attach_flags":"multi","name":"cil_sock4_conne","attach_btf_obj_id":0,"attach_btf_id":0},{"id":1401,"attach_type":"cgroup_inet4_getpeername","attach_flags":"multi","name":"cil_sock4_getpeername","attach_btf_obj_id":0,"attach_btf_id":0}]}]\n' },
  { cmd: 'cgroup show /sys/fs/cgroup/kubepods.slice', code: 255, stderr: "Error: can't open cgroup /sys/fs/cgroup/kubepods.slice\n" },
  { cmd: 'cgroup show', code: 255, stderr: "Error: 'show' needs at least 1 arguments, 0 found\n" },
  // Errors: bpftool's words, exit 255; under -j on stdout as {"error": ...}.
  { cmd: 'map dump id 999', code: 255, stderr: 'Error: get map by id (999): No such file or directory\n' },
  { cmd: '-j map dump id 999', code: 255, stdout: '{"error":"get map by id (999): No such file or directory"}\n' },
  { cmd: 'map dump id 6x', code: 255, stderr: "Error: can't parse 6x as ID\n" },
  { cmd: 'map dump name cilium_calls_00416', code: 255, stderr: "Error: can't parse name\n" },
  { cmd: 'map dump name nosuch', code: 255 },
  { cmd: 'map dump pinned /sys/fs/bpf/tc/globals/nosuch', code: 255, stderr: 'Error: bpf obj get (/sys/fs/bpf/tc/globals/nosuch): No such file or directory\n' },
  { cmd: 'map dump', code: 255, stderr: MAP_HELP('map') },
  { cmd: 'map dump id', code: 255, stderr: MAP_HELP('map') },
  { cmd: 'map frob', code: 255, stderr: MAP_HELP('map') },
  { cmd: 'map show bogus', code: 255, stderr: "Error: what is 'bogus'?\n" },
  { cmd: 'map show bogus 1', code: 255, stderr: "Error: expected 'id', 'name' or 'pinned', got: 'bogus'?\n" },
  { cmd: 'map update id 60 key 1 2 3 4 value 0 0 0 0 0 0 0 0', code: 255, stderr: "Error: 'map update' is not emulated here: dplab's bpftool only reads\n" },
  { cmd: 'prog show id 7', code: 255, stderr: 'Error: get by id (7): No such file or directory\n' },
  { cmd: 'prog show tag xyz', code: 255, stderr: "Error: can't parse tag\n" },
  { cmd: 'prog show pinned /sys/fs/bpf/tc/globals/cilium_lxc', code: 255, stderr: 'Error: incorrect object type: map\n' },
  { cmd: 'link show id 99', code: 255, stderr: 'Error: failed to get link with ID 99: No such file or directory\n' },
  { cmd: 'net show dev nosuch', code: 255, stderr: 'Error: invalid devname nosuch\n' },
  { cmd: 'net show lxc7408fc78b9ff', code: 255, stderr: NET_HELP('net') },
  { cmd: 'perf list', code: 255, stderr: "Error: 'perf' is not emulated here (dplab's bpftool reads prog, map, link, net and cgroup)\n" },
  // Help: main's on stderr, exit 0; an unknown object prints it and fails; -j prints null.
  { cmd: '', stderr: BPFTOOL_HELP },
  { cmd: '--help', stderr: BPFTOOL_HELP },
  { cmd: 'frob', code: 255, stderr: BPFTOOL_HELP },
  { cmd: '-j map help', stdout: 'null\n' },
  { cmd: '-x map show', code: 255, stderr: `Error: unrecognized option '-x'\n${BPFTOOL_HELP}` },
  { cmd: '-c prog show', code: 255, stderr: `Error: unrecognized option '-c'\n${BPFTOOL_HELP}` },
  { cmd: 'version', stdout: 'bpftool v7.4.0\nusing libbpf v1.4\nfeatures:\n' },
];

t.test('bpftool outputs and errors as bpftool v7.4 prints them', async (t) => {
  for (const c of CASES) {
    const r = run(c.cmd);
    t.same({ code: r.exitCode, stdout: r.stdout, stderr: r.stderr }, { code: c.code ?? 0, stdout: c.stdout ?? '', stderr: c.stderr ?? '' }, `bpftool ${c.cmd}`);
  }
});

t.test('every JSON answer parses, and says what the text says', async (t) => {
  for (const cmd of ['prog show', 'map list', 'link list', 'net show', 'map dump id 61', 'map dump id 175']) {
    for (const flag of ['-j', '-p']) t.doesNotThrow(() => JSON.parse(run(`${flag} ${cmd}`).stdout), `${flag} ${cmd}`);
  }
  const maps = JSON.parse(run('-j map list').stdout) as Array<{ id: number; name: string }>;
  t.same(maps.map((m) => m.id), [60, 61, 62, 66, 175]);
  const progs = JSON.parse(run('-j prog list').stdout) as Array<{ id: number; map_ids: number[] }>;
  for (const p of progs) for (const id of p.map_ids) t.ok(maps.some((m) => m.id === id), `prog ${p.id}: map ${id} is in map list`);
  const dump = JSON.parse(run('-j map dump pinned /sys/fs/bpf/tc/globals/cilium_lxc').stdout) as Array<{ key: string[]; value: string[] }>;
  t.same(dump[0]!.key.map((x) => parseInt(x, 16)), [...seq(20)], 'the key bytes');
  t.equal(dump[0]!.value.length, 48, 'value_size bytes');
});

t.test('bpftool reads the node kernel from any netns (a pod sees the same programs), net show the netns\'s own devices', async (t) => {
  const pod = node.netnses.get('pod')!;
  t.equal(runKernelTool(pod, ['bpftool', 'prog', 'show', 'id', '1312'])!.stdout, run('prog show id 1312').stdout);
  t.equal(runKernelTool(pod, ['bpftool', 'net', 'show'])!.stdout, 'xdp:\n\ntc:\n\nflow_dissector:\n\nnetfilter:\n\n', "net show lists the pod's own devices: no tcx on eth0");
  t.equal(runKernelTool(pod, ['bpftool', 'net', 'show', 'dev', 'lxc7408fc78b9ff'])!.stderr, 'Error: invalid devname lxc7408fc78b9ff\n', 'the host veth is not in the pod');
});

t.test('tc: qdiscs per device; tcx programs are no tc filters', async (t) => {
  const tc = (cmd: string) => runKernelTool(node.hostNs, ['tc', ...cmd.split(' ')])!;
  t.same(tc('qdisc show dev ens5'), { stdout: 'qdisc fq_codel 0: dev ens5 root refcnt 2 limit 10240p flows 1024 quantum 9015 target 5ms interval 100ms memory_limit 32Mb ecn drop_batch 64 \n', stderr: '', exitCode: 0 });
  t.match(tc('qdisc show').stdout, /^qdisc noqueue 0: dev lo root refcnt 2 \n/);
  t.same(tc('filter show dev lxc7408fc78b9ff ingress'), { stdout: '', stderr: '', exitCode: 0 });
  t.same(tc('qdisc show dev nosuch'), { stdout: '', stderr: 'Cannot find device "nosuch"\n', exitCode: 1 });
});
