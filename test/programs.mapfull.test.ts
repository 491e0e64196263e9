// Full maps on the seed lab: the datapath drops with Cilium's reason, counts
// it in cilium_metrics and reports it on cilium-dbg monitor; nothing throws and
// other flows keep working.
//
// Which maps can be "full" the way a user sees it, as in Cilium 1.16:
// - cilium_snat_v4_external, cilium_ct4_global, cilium_ct_any4_global are
//   LRU_HASH (bpf/lib/nat.h, conntrack_map.h): a full map evicts, it never
//   refuses an insert. What runs out is the SNAT *port space* towards one
//   destination: snat_v4_new_mapping() finds every retried port taken and
//   returns DROP_NAT_NO_MAPPING ("No mapping for NAT masquerade").
// - cilium_metrics is the non-LRU hash the datapath inserts into: once full,
//   update_metrics() ignores the failed insert, so new counters are lost but
//   the packet path is unaffected.
import t from 'tap';
import type { Cluster } from '../src/cluster/cluster.ts';
import type { NodeMaps } from '../maps/index.ts';
import { ciliumOf } from '../src/cilium/plugin.ts';
import { NatEntry4, NatKey4 } from '../maps/cilium_snat_v4_external.ts';
import { CT_ENTRY_OFF_LIFETIME, TUPLE_F_IN } from '../maps/cilium_ct4_global.ts';
import { MetricsKey, MetricsValue } from '../maps/cilium_metrics.ts';
import { ipToU32 } from '../src/wire/addr.ts';
import { drain, inPod, ip4, onNode, record, seedLab } from './helpers/lab.ts';

const NODE_IP = ipToU32('192.168.10.10'), NETPOD = ipToU32('172.16.0.230'), DNS = ipToU32('8.8.8.8');
const NAT_DROP = /^xx drop \(No mapping for NAT masquerade\) flow 0x[0-9a-f]+ to endpoint 0, ifindex 2, file bpf_host\.c:\d+, , identity \d+->world: 172\.16\.0\.230 -> 8\.8\.8\.8 EchoRequest$/;

function lab(): { c: Cluster; maps: NodeMaps; monitor: string[] } {
  const c = seedLab();
  const monitor: string[] = [];
  c.monitor('k8s-s', (l) => monitor.push(l.text));
  return { c, maps: ciliumOf(c.cni)!.agent('k8s-s').maps, monitor };
}

/** `cilium-dbg bpf metrics list` rows as "REASON|DIRECTION" -> packets. */
async function metrics(c: Cluster): Promise<Map<string, number>> {
  const r = await onNode(c, 'k8s-s', ['cilium-dbg', 'bpf', 'metrics', 'list']);
  const out = new Map<string, number>();
  for (const line of r.stdout.split('\n').slice(1)) {
    const m = /^(.+?)\s{3,}(INGRESS|EGRESS|SERVICE|UNKNOWN)\s+(\d+)\s+\d+\s+\d+\s+\S+$/.exec(line);
    if (m) out.set(`${m[1]}|${m[2]}`, (out.get(`${m[1]}|${m[2]}`) ?? 0) + Number(m[3]));
  }
  return out;
}

/** Take every NAT port (0-65535) of the node towards 8.8.8.8 for ICMP: the reply tuples snat_v4_new_mapping probes. */
function exhaustIcmpPorts(maps: NodeMaps): Uint8Array[] {
  const v = new NatEntry4(0, 0, NETPOD, 0).encode(), keys: Uint8Array[] = [];
  for (let port = 0; port < 65536; port++) {
    const k = new NatKey4({ daddr: NODE_IP, saddr: DNS, dport: port, sport: 0, nexthdr: 1, flags: TUPLE_F_IN }).encode();
    if (maps.snat4.update(k, v) === 0) keys.push(k);
  }
  return keys;
}

const ok = (r: { exitCode: number }) => r.exitCode === 0;

t.test('SNAT ports towards a destination exhausted: DROP_NAT_NO_MAPPING, counted, reported; other flows unaffected', async (t) => {
  const { c, maps, monitor } = lab();
  t.teardown(() => c.close());
  const before = await metrics(c);
  t.equal(before.get('No mapping for NAT masquerade|EGRESS'), undefined, 'no NAT drop counted yet');
  const keys = exhaustIcmpPorts(maps);
  t.equal(keys.length, 65536, 'every port taken');
  const wire = record(c, 'k8s-s', 'ens5');

  const ping = await inPod(c, 'netpod', ['ping', '-c', '2', '-W', '1', '8.8.8.8']);
  t.equal(ping.exitCode, 1, 'ping fails');
  t.match(ping.stdout, /2 packets transmitted, 0 received, 100% packet loss/);
  await drain(c);
  wire.stop();
  t.notOk(wire.frames.some((f) => ip4(f.frame)?.dst === '8.8.8.8'), 'nothing towards 8.8.8.8 left ens5');
  t.equal(monitor.filter((l) => NAT_DROP.test(l)).length, 2, `one drop event per echo request:\n${monitor.join('\n')}`);
  const after = await metrics(c);
  t.equal(after.get('No mapping for NAT masquerade|EGRESS'), 2, 'cilium_metrics counts both drops');
  const row = (await onNode(c, 'k8s-s', ['cilium-dbg', 'bpf', 'metrics', 'list'])).stdout.split('\n').find((l) => l.startsWith('No mapping'));
  t.match(row, /^No mapping for NAT masquerade {3}EGRESS {6}2 {9}196 {5}\d+ +bpf_host\.c$/, 'bpf metrics list row: 2 packets of 98 bytes, file bpf_host.c');
  t.equal(maps.snat4.size, 65536, 'a failed mapping leaves no half entry behind');

  // Other flows: pod to pod, service, DNS, and masquerade towards another destination.
  t.ok(ok(await inPod(c, 'netpod', ['ping', '-c', '1', '172.16.1.111'])), 'pod to pod');
  t.match((await inPod(c, 'netpod', ['curl', '-s', 'webpod'])).stdout, /^Hostname: webpod[12]\n/, 'ClusterIP service');
  t.ok(ok(await inPod(c, 'netpod', ['nslookup', 'webpod'])), 'DNS');
  t.match((await inPod(c, 'netpod', ['curl', '-s', 'wttr.in/seoul'])).stdout, /Weather report: seoul/, 'masquerade to another destination');
  t.equal((await metrics(c)).get('No mapping for NAT masquerade|EGRESS'), 2, 'no new NAT drops');

  // Ports freed (as their entries expire): the same ping works again.
  for (const k of keys) maps.snat4.delete(k);
  const again = await inPod(c, 'netpod', ['ping', '-c', '1', '8.8.8.8']);
  t.match(again.stdout, /1 packets transmitted, 1 received/, 'recovers once ports are free');
});

t.test('full conntrack maps (LRU) evict the least recently used entry: no drop', async (t) => {
  const { c, maps, monitor } = lab();
  t.teardown(() => c.close());
  const k = new Uint8Array(14), v = new Uint8Array(56);
  new DataView(v.buffer).setUint32(CT_ENTRY_OFF_LIFETIME, 0xfffffff0, true); // never expires: GC cannot make room
  for (const [map, proto, port] of [[maps.ct4, 6, 80], [maps.ctAny4, 17, 53]] as const) {
    for (let i = 0; map.size < map.spec.maxEntries; i++) {
      k.fill(0); k.set([10, 99, (i >> 16) & 255, (i >> 8) & 255, i & 255, 0, 0, 1], 0); k[9] = port; k[12] = proto;
      map.update(k, v);
    }
  }
  const ev = [maps.ct4.evictions, maps.ctAny4.evictions];

  t.match((await inPod(c, 'netpod', ['curl', '-s', 'webpod'])).stdout, /^Hostname: webpod[12]\n/, 'TCP through the service');
  t.match((await inPod(c, 'netpod', ['ping', '-c', '1', '172.16.2.180'])).stdout, /1 received/, 'ICMP');
  t.match((await inPod(c, 'netpod', ['nslookup', 'webpod'])).stdout, /Address: 10\.\d+\.\d+\.\d+/, 'UDP DNS');
  await drain(c);
  t.equal(maps.ct4.size, maps.ct4.spec.maxEntries, 'cilium_ct4_global stays full');
  t.equal(maps.ctAny4.size, maps.ctAny4.spec.maxEntries, 'cilium_ct_any4_global stays full');
  t.ok(maps.ct4.evictions > ev[0]! && maps.ctAny4.evictions > ev[1]!, 'new flows evicted old entries');
  t.notOk(monitor.some((l) => l.startsWith('xx drop')), 'no drop event');
  t.notOk([...(await metrics(c)).keys()].some((r) => r.startsWith('CT: Map insertion failed')), 'no CT insertion failure counted');
});

t.test('full cilium_metrics (non-LRU): new counters are lost, packets are not', async (t) => {
  const { c, maps, monitor } = lab();
  t.teardown(() => c.close());
  const one = new MetricsValue(1, 1).encode();
  for (let line = 1; maps.metrics.size < maps.metrics.spec.maxEntries; line++) maps.metrics.update(new MetricsKey(134, 1, line, 2).encode(), one);
  const rows = maps.metrics.entries().length;
  exhaustIcmpPorts(maps);

  t.match((await inPod(c, 'netpod', ['curl', '-s', 'webpod'])).stdout, /^Hostname: webpod[12]\n/, 'forwarding works');
  const ping = await inPod(c, 'netpod', ['ping', '-c', '1', '-W', '1', '8.8.8.8']);
  t.match(ping.stdout, /1 packets transmitted, 0 received/, 'the NAT drop still drops');
  t.equal(monitor.filter((l) => NAT_DROP.test(l)).length, 1, 'and is still reported on monitor');
  t.equal(maps.metrics.entries().length, rows, 'the map stays at max_entries');
  t.notOk(maps.metrics.entries().some(([k]) => k[0] === 167), 'the uncountable drop has no counter, as update_metrics() ignores -E2BIG');
  const list = await onNode(c, 'k8s-s', ['cilium-dbg', 'bpf', 'metrics', 'list']);
  t.equal(list.exitCode, 0);
  t.equal(list.stdout.split('\n').length - 2, 1024, 'bpf metrics list shows all 1024 rows');
});
