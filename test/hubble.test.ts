// Hubble on the seed-003 lab (native routing, socket LB): the seed's traffic
// (ping, curl :80 and :8080 to the webpods, DNS through kube-dns, the world)
// read back through the relay, flow by flow: which node reports which
// observation point, and the fields Hubble fills (identities, endpoints,
// services, is_reply, direction, interface, Summary...).
import t from 'tap';
import { ciliumOf } from '../src/cilium/plugin.ts';
import { compactLine } from '../src/hubble/printer/flows.ts';
import { Flow, type FlowObject, type GetFlowsRequestObject, type GetFlowsResponseObject } from '../src/hubble/proto.ts';
import type { HubbleService } from '../src/hubble/service.ts';
import { ClusterError } from '../src/cluster/facade.ts';
import { drain, inPod, seedLab } from './helpers/lab.ts';

const NETPOD = '172.16.0.230', WEBPOD1 = '172.16.1.111', WEBPOD2 = '172.16.2.180', KUBE_DNS = '10.96.0.10', WTTR = '5.9.243.187';
const TO_ENDPOINT = 101, TO_NETWORK = 11, WORLD = 2;

const c = seedLab();
t.teardown(() => c.close());
const cilium = ciliumOf(c.cni)!;
const ep = (node: string, ip: string) => cilium.endpoints(node).find((e) => e.ipv4 === ip.split('.').reduce((v, o) => v * 256 + Number(o), 0))!;

async function flows(svc: HubbleService, req: GetFlowsRequestObject = {}): Promise<GetFlowsResponseObject[]> {
  const out: GetFlowsResponseObject[] = [];
  await svc.getFlows(req, (r) => { out.push(r); }, new AbortController().signal);
  return out;
}
const line = (f: FlowObject) => compactLine(f as Parameters<typeof compactLine>[0], { timeLayout: 'StampMilli', nodeName: false, ipTranslation: true }).trimEnd();
/** A compact line with what differs between runs masked: time, identity numbers, the client's ephemeral port. */
const masked = (l: string) => l.replace(/^\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3}: /, '').replace(/\(ID:\d+\)/g, '(ID:N)').replace(/netpod:\d+/g, 'netpod:P');
/** `want` appears in `have` in order (other lines may sit between). */
function subsequence(have: string[], want: string[]): string[] {
  let i = 0;
  for (const h of have) if (i < want.length && h === want[i]) i++;
  return want.slice(i);
}
const short = (f: FlowObject) => [f.node_name.split('/')[1], f.event_type.sub_type === 0 ? 'to-endpoint' : f.event_type.sub_type === 11 ? 'to-network' : String(f.event_type.sub_type), f.Summary, f.is_reply?.value];

let all: FlowObject[] = [];
t.before(async () => {
  for (const cmd of [`ping -c 1 ${WEBPOD1}`, `ping -c 1 ${WEBPOD2}`, `curl -s ${WEBPOD1}`, `curl -s ${WEBPOD2}`, `curl -s ${WEBPOD1}:8080`,
    `curl -s ${WEBPOD2}:8080`, 'ping -c 1 8.8.8.8', 'curl -s wttr.in/seoul']) {
    await inPod(c, 'netpod', cmd.split(' '));
    await drain(c);
  }
  all = (await flows(c.hubble()!)).flatMap((r) => (r.flow ? [r.flow] : []));
});

t.test('ping netpod -> webpod2: echo request and reply at the points and nodes the datapath passes', async (t) => {
  const icmp = all.filter((f) => f.l4?.ICMPv4 && [f.IP!.source, f.IP!.destination].includes(WEBPOD2));
  t.same(icmp.map(short), [
    ['k8s-s', 'to-network', 'ICMPv4 EchoRequest', false],
    ['k8s-w2', 'to-endpoint', 'ICMPv4 EchoRequest', false],
    ['k8s-w2', 'to-network', 'ICMPv4 EchoReply', true],
    ['k8s-s', 'to-endpoint', 'ICMPv4 EchoReply', true],
  ]);
  const net = ep('k8s-s', NETPOD), web = ep('k8s-w2', WEBPOD2);
  const [, req, reply] = icmp;
  t.match(req, {
    verdict: 1, Type: 1, node_name: 'default/k8s-w2', event_type: { type: 4, sub_type: 0 }, trace_observation_point: TO_ENDPOINT,
    trace_reason: 1, is_reply: { value: false }, Summary: 'ICMPv4 EchoRequest',
    IP: { source: NETPOD, destination: WEBPOD2, ipVersion: 1 }, l4: { ICMPv4: { type: 8, code: 0 } },
    ethernet: { source: /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, destination: /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/ },
    source: { identity: net.identity, namespace: 'default', pod_name: 'netpod', labels: net.labels },
    destination: { ID: web.id, identity: web.identity, namespace: 'default', pod_name: 'webpod2', labels: web.labels },
    interface: { index: web.ifindex, name: web.ifname },
    // Hubble's rule: orig_ip set (the datapath's to-endpoint trace carries it) counts as egress.
    traffic_direction: 2,
  }, 'the echo request delivered to webpod2');
  t.equal(req!.source!.ID, undefined, 'a remote pod has no endpoint ID');
  t.match(req!.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a v4 uuid');
  t.ok(req!.node_labels!.includes('kubernetes.io/hostname=k8s-w2'), 'node labels as key=value');
  t.match(reply, { is_reply: { value: true }, reply: true, trace_reason: 3, traffic_direction: 1, interface: { name: 'ens5' },
    IP: { source: WEBPOD2, destination: NETPOD }, source: { ID: web.id, pod_name: 'webpod2' }, destination: { pod_name: 'netpod' } });
  t.equal(line(reply!).replace(/^\S+ \S+ \S+ /, ''), `default/netpod (ID:${net.identity}) <- default/webpod2 (ID:${web.identity}) to-network FORWARDED (ICMPv4 EchoReply)`,
    "prints as the seed's reply line");
  t.ok(new Set(all.map((f) => f.uuid)).size === all.length, 'uuids are unique');
});

t.test('curl webpod2:80 as `hubble observe --pod webpod2` shows it in the seed', async (t) => {
  const ours = (await flows(c.hubble()!, { whitelist: [{ source_pod: ['webpod2'] }, { destination_pod: ['webpod2'] }] }))
    .flatMap((r) => (r.flow?.l4?.TCP?.destination_port === 80 || r.flow?.l4?.TCP?.source_port === 80 ? [masked(line(r.flow!))] : []));
  // Seed 003, `hubble observe --pod webpod2`, the :80 connection (its pre-xlate-rev lines aside).
  const seed = [
    'default/netpod:P (ID:N) -> default/webpod2:80 (ID:N) to-network FORWARDED (TCP Flags: SYN)',
    'default/netpod:P (ID:N) -> default/webpod2:80 (ID:N) to-endpoint FORWARDED (TCP Flags: SYN)',
    'default/netpod:P (ID:N) <- default/webpod2:80 (ID:N) to-network FORWARDED (TCP Flags: SYN, ACK)',
    'default/netpod:P (ID:N) <- default/webpod2:80 (ID:N) to-endpoint FORWARDED (TCP Flags: SYN, ACK)',
    'default/netpod:P (ID:N) -> default/webpod2:80 (ID:N) to-network FORWARDED (TCP Flags: ACK)',
    'default/netpod:P (ID:N) -> default/webpod2:80 (ID:N) to-endpoint FORWARDED (TCP Flags: ACK, PSH)',
    'default/netpod:P (ID:N) <- default/webpod2:80 (ID:N) to-network FORWARDED (TCP Flags: ACK, PSH)',
    'default/netpod:P (ID:N) <- default/webpod2:80 (ID:N) to-endpoint FORWARDED (TCP Flags: ACK, PSH)',
    'default/netpod:P (ID:N) -> default/webpod2:80 (ID:N) to-network FORWARDED (TCP Flags: ACK, FIN)',
    'default/netpod:P (ID:N) -> default/webpod2:80 (ID:N) to-endpoint FORWARDED (TCP Flags: ACK, FIN)',
    'default/netpod:P (ID:N) <- default/webpod2:80 (ID:N) to-network FORWARDED (TCP Flags: ACK, FIN)',
    'default/netpod:P (ID:N) <- default/webpod2:80 (ID:N) to-endpoint FORWARDED (TCP Flags: ACK, FIN)',
    'default/netpod:P (ID:N) -> default/webpod2:80 (ID:N) to-network FORWARDED (TCP Flags: ACK)',
    'default/netpod:P (ID:N) -> default/webpod2:80 (ID:N) to-endpoint FORWARDED (TCP Flags: ACK)',
  ];
  t.same(subsequence(ours, seed), [], 'every seed line, in the seed\'s order');
  const syn = all.find((f) => f.l4?.TCP?.flags?.SYN && !f.l4.TCP.flags.ACK && f.IP!.destination === WEBPOD2 && f.l4.TCP.destination_port === 80 && f.event_type.sub_type === 0)!;
  t.same(syn.l4, { TCP: { source_port: syn.l4!.TCP!.source_port, destination_port: 80, flags: { SYN: true } } }, 'TCP with its flags');
  const finAck = all.find((f) => f.Summary === 'TCP Flags: ACK, FIN' && f.IP!.source === WEBPOD2);
  t.same(finAck?.l4?.TCP?.flags, { FIN: true, ACK: true });
});

t.test('curl :8080: SYN out, ACK, RST back, for both webpods', async (t) => {
  for (const [ip, node] of [[WEBPOD1, 'k8s-w1'], [WEBPOD2, 'k8s-w2']] as const) {
    const conn = all.filter((f) => f.Type === 1 && (f.l4?.TCP?.destination_port === 8080 || f.l4?.TCP?.source_port === 8080) && [f.IP!.source, f.IP!.destination].includes(ip));
    t.same(conn.map(short), [
      ['k8s-s', 'to-network', 'TCP Flags: SYN', false],
      [node, 'to-endpoint', 'TCP Flags: SYN', false],
      [node, 'to-network', 'TCP Flags: ACK, RST', true],
      ['k8s-s', 'to-endpoint', 'TCP Flags: ACK, RST', true],
    ], ip);
  }
});

t.test('DNS through kube-dns: query to a coredns pod, pre-xlate-rev TRACED and post-xlate-rev TRANSLATED from kube-dns:53', async (t) => {
  const net = ep('k8s-s', NETPOD);
  const post = all.filter((f) => f.sock_xlate_point === 4);
  t.ok(post.length >= 1, `post-xlate-rev flows (${post.length})`);
  t.match(post[0], {
    Type: 3, verdict: 7, event_type: { type: 7, sub_type: 4 }, node_name: 'default/k8s-s', Summary: 'UDP',
    IP: { source: KUBE_DNS, destination: NETPOD, ipVersion: 1 }, l4: { UDP: { source_port: 53, destination_port: 0 } },
    source: { identity: WORLD, labels: ['reserved:world'] }, source_service: { name: 'kube-dns', namespace: 'kube-system' },
    destination: { ID: net.id, pod_name: 'netpod', namespace: 'default' }, cgroup_id: net.id,
  });
  t.ok(post[0]!.socket_cookie! > 0, 'the socket cookie');
  t.equal(post[0]!.is_reply, undefined, 'no is_reply: the CLI prints <>');
  t.equal(masked(line(post[0]!)), 'kube-system/kube-dns:53 (world) <> default/netpod (ID:N) post-xlate-rev TRANSLATED (UDP)', 'as the seed prints it');
  const pre = all.filter((f) => f.sock_xlate_point === 3 && f.l4?.UDP);
  const preLines = new Set(pre.map((f) => masked(line(f)).replace(/coredns-[0-9a-z]+-[0-9a-z]+/, 'coredns-X')));
  for (const l of ['default/netpod:P (ID:N) <> kube-system/coredns-X (ID:N) pre-xlate-rev TRACED (UDP)',
    'kube-system/coredns-X:53 (ID:N) <> default/netpod (ID:N) pre-xlate-rev TRACED (UDP)']) t.ok(preLines.has(l), l);
  const onCoredns = pre.find((f) => f.destination?.pod_name?.startsWith('coredns-'))!;
  t.match(onCoredns, { verdict: 6, node_name: 'default/k8s-w1', source: { pod_name: 'netpod' }, destination: { namespace: 'kube-system' } },
    'the coredns side: its recvmsg names netpod as the peer, on the coredns pod\'s node');
  const query = all.find((f) => f.Type === 1 && f.l4?.UDP?.destination_port === 53 && f.IP!.source === NETPOD && f.event_type.sub_type === 0)!;
  t.match(query, { node_name: 'default/k8s-w1', destination: { namespace: 'kube-system', pod_name: /^coredns-/ }, Summary: 'UDP' },
    'the query reaches a coredns pod (to-endpoint on its node), never the VIP');
  t.notOk(all.some((f) => f.Type === 1 && (f.IP!.destination === KUBE_DNS || f.IP!.source === KUBE_DNS)), 'no packet flow carries the ClusterIP');
});

t.test('flows to the world', async (t) => {
  const ours = (await flows(c.hubble()!, { whitelist: [{ destination_ip: [WTTR] }, { source_ip: [WTTR] }] }))
    .flatMap((r) => (r.flow && r.flow.Type === 1 ? [masked(line(r.flow))] : []));
  const seed = [
    'default/netpod:P (ID:N) -> 5.9.243.187:80 (world) to-network FORWARDED (TCP Flags: SYN)',
    'default/netpod:P (ID:N) <- 5.9.243.187:80 (world) to-endpoint FORWARDED (TCP Flags: SYN, ACK)',
    'default/netpod:P (ID:N) -> 5.9.243.187:80 (world) to-network FORWARDED (TCP Flags: ACK)',
    'default/netpod:P (ID:N) -> 5.9.243.187:80 (world) to-network FORWARDED (TCP Flags: ACK, PSH)',
    'default/netpod:P (ID:N) <- 5.9.243.187:80 (world) to-endpoint FORWARDED (TCP Flags: ACK, PSH)',
    'default/netpod:P (ID:N) -> 5.9.243.187:80 (world) to-network FORWARDED (TCP Flags: ACK, FIN)',
  ];
  t.same(subsequence(ours, seed), [], 'the seed\'s world lines in order');
  const syn = all.find((f) => f.IP?.destination === WTTR && f.Summary === 'TCP Flags: SYN')!;
  t.match(syn, { node_name: 'default/k8s-s', destination: { identity: WORLD, labels: ['reserved:world'] }, event_type: { sub_type: TO_NETWORK } });
  t.equal(syn.destination!.pod_name, undefined);
  const ping = all.filter((f) => f.l4?.ICMPv4 && [f.IP!.source, f.IP!.destination].includes('8.8.8.8'));
  t.same(ping.map(short), [['k8s-s', 'to-network', 'ICMPv4 EchoRequest', false], ['k8s-s', 'to-endpoint', 'ICMPv4 EchoReply', true]]);
});

t.test('--pod netpod over the relay: node status, then the last 20 per node, in time order', async (t) => {
  const rs = await flows(c.hubble()!, { number: 20, whitelist: [{ source_pod: ['netpod'] }, { destination_pod: ['netpod'] }] });
  t.same(rs[0]!.node_status, { state_change: 1, node_names: ['default/k8s-s', 'default/k8s-w1', 'default/k8s-w2'] });
  const fs = rs.slice(1).map((r) => r.flow!);
  for (const n of ['k8s-s', 'k8s-w1', 'k8s-w2']) {
    const held = all.filter((f) => f.node_name === `default/${n}` && (f.source?.pod_name === 'netpod' || f.destination?.pod_name === 'netpod')).length;
    t.equal(fs.filter((f) => f.node_name === `default/${n}`).length, Math.min(20, held), `the last ${Math.min(20, held)} of ${held} from ${n}`);
  }
  t.ok(fs.every((f) => f.source?.pod_name === 'netpod' || f.destination?.pod_name === 'netpod'), 'each names netpod');
  t.ok(fs.every((f, i) => i === 0 || f.time.seconds > fs[i - 1]!.time.seconds || (f.time.seconds === fs[i - 1]!.time.seconds && f.time.nanos >= fs[i - 1]!.time.nanos)), 'time order');
});

t.test("a node's own observer (the agent pod's hubble) holds that node's flows only", async (t) => {
  const w2 = (await flows(c.hubbleNode('k8s-w2')!)).map((r) => r.flow!);
  t.ok(w2.length > 0 && w2.every((f) => f.node_name === 'default/k8s-w2'));
  t.equal(w2.length, all.filter((f) => f.node_name === 'default/k8s-w2').length);
  let err: unknown;
  try { c.hubbleNode('nope'); } catch (e) { err = e; }
  t.ok(err instanceof ClusterError && err.status === 404, 'an unknown node is a 404');
});

t.test('every flow is a valid flow.Flow on the wire', async (t) => {
  for (const f of all) {
    const msg = Flow.fromObject(f);
    const back = Flow.toObject(Flow.decode(Flow.encode(msg).finish()), { longs: Number }) as FlowObject;
    if (back.Summary !== f.Summary || back.uuid !== f.uuid || back.IP?.source !== f.IP?.source) { t.fail(`round trip of ${f.uuid}`); return; }
  }
  t.pass(`${all.length} flows encode and decode`);
});
