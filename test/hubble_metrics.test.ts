// GET /metrics and /nodes/:node/metrics: Hubble's flow metrics and the agents'
// datapath counters in Prometheus text format, counted from the seed lab's
// traffic (every flow counted once; per node and summed).
import t from 'tap';
import { buildApp } from '../src/api/app.ts';
import { Cluster } from '../src/cluster/cluster.ts';
import { LABS } from '../src/cluster/labs/index.ts';
import type { FlowObject } from '../src/hubble/proto.ts';
import { drain, inPod, seedLab } from './helpers/lab.ts';

const c = seedLab();
const app = buildApp(c);
t.teardown(async () => { await app.close(); c.close(); });

/** `name{labels} value` lines of one metric, as label-string -> value. */
function series(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of text.split('\n')) {
    const m = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(l);
    if (m) out.set(m[1] ?? '', Number(m[2]));
  }
  return out;
}
const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

t.test('cluster and node metrics after the seed traffic', async (t) => {
  for (const cmd of ['ping -c 1 172.16.2.180', 'curl -s 172.16.2.180', 'curl -s 172.16.1.111:8080', 'nslookup webpod']) {
    await inPod(c, 'netpod', cmd.split(' '));
    await drain(c);
  }
  const flows: FlowObject[] = [];
  await c.hubble()!.getFlows({}, (r) => { if (r.flow) flows.push(r.flow); }, new AbortController().signal);

  const res = await app.inject({ method: 'GET', url: '/metrics' });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  const text = res.body;
  t.match(text, /^# HELP hubble_flows_processed_total Total number of flows processed\n# TYPE hubble_flows_processed_total counter$/m);
  const processed = series(text, 'hubble_flows_processed_total');
  t.equal(sum(processed), flows.length, 'every flow counted once');
  const toEndpointTcp = flows.filter((f) => f.event_type.type === 4 && f.event_type.sub_type === 0 && f.l4?.TCP).length;
  t.equal(processed.get('{protocol="TCP",subtype="to-endpoint",type="Trace",verdict="FORWARDED"}'), toEndpointTcp, 'TCP to-endpoint traces');
  t.equal(processed.get('{protocol="Unknown flow",subtype="7",type="Unknown",verdict="TRANSLATED"}'), flows.filter((f) => f.verdict === 7).length,
    'socket translations fall in the flow handler\'s default case, as in Hubble');
  const flags = series(text, 'hubble_tcp_flags_total');
  t.equal(flags.get('{family="IPv4",flag="SYN"}'), flows.filter((f) => f.l4?.TCP?.flags?.SYN && !f.l4.TCP.flags.ACK).length);
  t.equal(flags.get('{family="IPv4",flag="SYN-ACK"}'), flows.filter((f) => f.l4?.TCP?.flags?.SYN && f.l4.TCP.flags.ACK).length);
  t.equal(flags.get('{family="IPv4",flag="RST"}'), flows.filter((f) => f.l4?.TCP?.flags?.RST).length);
  const icmp = series(text, 'hubble_icmp_total');
  t.equal(icmp.get('{family="IPv4",type="EchoRequest"}'), flows.filter((f) => f.l4?.ICMPv4?.type === 8).length, 'ICMP by gopacket type name');
  t.equal(icmp.get('{family="IPv4",type="EchoReply"}'), flows.filter((f) => f.l4?.ICMPv4?.type === 0).length);
  const ports = series(text, 'hubble_port_distribution_total');
  t.equal(ports.get('{port="80",protocol="TCP"}'), flows.filter((f) => f.verdict === 1 && f.is_reply?.value === false && f.l4?.TCP?.destination_port === 80).length,
    'destination ports of forwarded non-reply packets');
  t.equal(ports.get('{port="53",protocol="UDP"}'), flows.filter((f) => f.verdict === 1 && f.is_reply?.value === false && f.l4?.UDP?.destination_port === 53).length);
  t.notOk([...ports.keys()].some((k) => /port="(3\d{4}|[4-6]\d{4})"/.test(k)), 'no client ephemeral ports (replies are left out)');
  t.same([...series(text, 'hubble_lost_events_total')], [['{source="perf_event_ring_buffer"}', 0], ['{source="hubble_ring_buffer"}', 0]]);
  t.match(text, /^# TYPE hubble_drop_total counter$/m, 'drop_total present (no drops in this traffic)');
  const fwd = series(text, 'cilium_forward_count_total');
  t.ok(sum(fwd) > 0, `forwarded packets counted (${sum(fwd)})`);
  t.ok([...fwd.keys()].every((k) => /^\{direction="(INGRESS|EGRESS|SERVICE|UNKNOWN)"\}$/.test(k)), 'by direction');
  t.match(text, /^# HELP cilium_drop_count_total Total dropped packets, tagged by drop reason and ingress\/egress direction$/m);

  let nodeSum = 0;
  for (const node of c.nodeNames()) {
    const r = await app.inject({ method: 'GET', url: `/nodes/${node}/metrics` });
    t.equal(r.statusCode, 200, node);
    const n = sum(series(r.body, 'hubble_flows_processed_total'));
    t.equal(n, flows.filter((f) => f.node_name === `default/${node}`).length, `${node}: its own flows`);
    nodeSum += sum(series(r.body, 'cilium_forward_count_total'));
  }
  t.equal(nodeSum, sum(fwd), 'the cluster sums its nodes');
  const bad = await app.inject({ method: 'GET', url: '/nodes/nope/metrics' });
  t.equal(bad.statusCode, 404);
  t.same(bad.json(), { error: 'node "nope" not found', field: 'node' });
});

t.test('no metrics without Hubble', async (t) => {
  const other = Cluster.fromYaml(LABS.cilium!, { seed: 3, hubble: false });
  const a = buildApp(other);
  const r = await a.inject({ method: 'GET', url: '/metrics' });
  t.equal(r.statusCode, 404);
  t.match(r.json(), { error: /Cilium CNI/ });
  await a.close(); other.close();
});
