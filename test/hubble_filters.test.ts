// Hubble's FlowFilter semantics on the seed lab's flows: each field as Hubble
// matches it (table-driven), AND within a filter, OR across a whitelist,
// blacklist subtraction, and the values Hubble refuses with INVALID_ARGUMENT.
import t from 'tap';
import { ciliumOf } from '../src/cilium/plugin.ts';
import { HubbleError } from '../src/hubble/errors.ts';
import type { FlowFilterObject, FlowObject, GetFlowsRequestObject } from '../src/hubble/proto.ts';
import { drain, inPod, seedLab } from './helpers/lab.ts';

const NETPOD = '172.16.0.230', WEBPOD1 = '172.16.1.111', WEBPOD2 = '172.16.2.180';

const c = seedLab();
t.teardown(() => c.close());
const relay = () => c.hubble()!;

async function query(req: GetFlowsRequestObject): Promise<FlowObject[]> {
  const out: FlowObject[] = [];
  await relay().getFlows(req, (r) => { if (r.flow) out.push(r.flow); }, new AbortController().signal);
  return out;
}

let all: FlowObject[] = [];
let netpodId = 0;
t.before(async () => {
  for (const cmd of [`ping -c 1 ${WEBPOD2}`, `curl -s ${WEBPOD2}`, `curl -s ${WEBPOD1}:8080`, 'nslookup webpod']) {
    await inPod(c, 'netpod', cmd.split(' '));
    await drain(c);
  }
  all = await query({});
  netpodId = ciliumOf(c.cni)!.endpoints('k8s-s').find((e) => e.podName === 'netpod')!.identity;
});

const port = (f: FlowObject, side: 'source_port' | 'destination_port') => (f.l4?.TCP ?? f.l4?.UDP)?.[side];
const labels = (f: FlowObject, side: 'source' | 'destination') => f[side]?.labels ?? [];

/** empty: selects nothing here; every: selects every flow here. */
interface Case { name: string; req: GetFlowsRequestObject; want: (f: FlowObject) => boolean; empty?: boolean; every?: boolean }
const W = (...filters: FlowFilterObject[]): GetFlowsRequestObject => ({ whitelist: filters });
const cases = (): Case[] => [
  { name: 'source_ip exact', req: W({ source_ip: [NETPOD] }), want: (f) => f.IP?.source === NETPOD },
  { name: 'destination_ip CIDR', req: W({ destination_ip: ['172.16.2.0/24'] }), want: (f) => !!f.IP?.destination.startsWith('172.16.2.') },
  { name: 'source_pod without namespace = default', req: W({ source_pod: ['netpod'] }), want: (f) => f.source?.pod_name === 'netpod' },
  { name: 'source_pod prefix', req: W({ source_pod: ['web'] }), want: (f) => !!f.source?.pod_name?.startsWith('web') },
  { name: 'source_pod namespace/', req: W({ source_pod: ['kube-system/'] }), want: (f) => f.source?.namespace === 'kube-system' },
  { name: 'destination_pod /prefix in any namespace', req: W({ destination_pod: ['/coredns'] }), want: (f) => !!f.destination?.pod_name?.startsWith('coredns') },
  { name: 'destination_pod coredns in default: none', req: W({ destination_pod: ['coredns'] }), want: () => false, empty: true },
  { name: 'source_label bare key', req: W({ source_label: ['app=netpod'] }), want: (f) => labels(f, 'source').includes('k8s:app=netpod') },
  { name: 'destination_label with source and set', req: W({ destination_label: ['k8s:app in (webpod, nothing)'] }), want: (f) => labels(f, 'destination').includes('k8s:app=webpod') },
  { name: 'source_label reserved:world', req: W({ source_label: ['reserved:world'] }), want: (f) => labels(f, 'source').includes('reserved:world') },
  { name: 'source_label wrong source', req: W({ source_label: ['reserved:app=netpod'] }), want: () => false, empty: true },
  { name: 'source_label negation AND key', req: W({ source_label: ['!reserved:world,k8s-app'] }), want: (f) => labels(f, 'source').some((l) => l.startsWith('k8s:k8s-app=')) && !labels(f, 'source').includes('reserved:world') },
  { name: 'source_service ns/name', req: W({ source_service: ['kube-system/kube-dns'] }), want: (f) => f.source_service?.name === 'kube-dns' },
  { name: 'destination_port', req: W({ destination_port: ['80'] }), want: (f) => port(f, 'destination_port') === 80 },
  { name: 'source_port', req: W({ source_port: ['53'] }), want: (f) => port(f, 'source_port') === 53 },
  { name: 'protocol icmp', req: W({ protocol: ['icmp'] }), want: (f) => !!f.l4?.ICMPv4 },
  { name: 'protocol UDP (any case)', req: W({ protocol: ['UDP'] }), want: (f) => !!f.l4?.UDP },
  { name: 'protocol tcp or icmp', req: W({ protocol: ['tcp', 'icmpv4'] }), want: (f) => !!(f.l4?.TCP || f.l4?.ICMPv4) },
  { name: 'verdict by name', req: W({ verdict: ['TRANSLATED' as unknown as number] }), want: (f) => f.verdict === 7 },
  { name: 'verdict by number', req: W({ verdict: [6] }), want: (f) => f.verdict === 6 },
  { name: 'event_type trace-sock', req: W({ event_type: [{ type: 7 }] }), want: (f) => f.event_type.type === 7 },
  { name: 'event_type trace:to-endpoint (sub_type 0)', req: W({ event_type: [{ type: 4, match_sub_type: true }] }), want: (f) => f.event_type.type === 4 && f.event_type.sub_type === 0 },
  { name: 'event_type trace:to-network', req: W({ event_type: [{ type: 4, match_sub_type: true, sub_type: 11 }] }), want: (f) => f.event_type.sub_type === 11 && f.event_type.type === 4 },
  { name: 'event_type drop: none', req: W({ event_type: [{ type: 1 }] }), want: () => false, empty: true },
  { name: 'node_name bare', req: W({ node_name: ['k8s-w2'] }), want: (f) => f.node_name === 'default/k8s-w2' },
  { name: 'node_name cluster/glob', req: W({ node_name: ['default/k8s-w*'] }), want: (f) => f.node_name.startsWith('default/k8s-w') },
  { name: 'node_name other cluster', req: W({ node_name: ['other/'] }), want: () => false, empty: true },
  { name: 'tcp_flags SYN', req: W({ tcp_flags: [{ SYN: true }] }), want: (f) => !!f.l4?.TCP?.flags?.SYN },
  { name: 'tcp_flags SYN,ACK', req: W({ tcp_flags: [{ SYN: true, ACK: true }] }), want: (f) => !!(f.l4?.TCP?.flags?.SYN && f.l4.TCP.flags.ACK) },
  { name: 'tcp_flags RST or FIN', req: W({ tcp_flags: [{ RST: true }, { FIN: true }] }), want: (f) => !!(f.l4?.TCP?.flags?.RST || f.l4?.TCP?.flags?.FIN) },
  { name: 'source_identity', req: W({ source_identity: [netpodId] }), want: (f) => f.source?.identity === netpodId },
  { name: 'source_identity world', req: W({ source_identity: [2] }), want: (f) => f.source?.identity === 2 },
  { name: 'traffic_direction INGRESS', req: W({ traffic_direction: [1] }), want: (f) => f.traffic_direction === 1 },
  { name: 'reply true', req: W({ reply: [true] }), want: (f) => f.is_reply?.value === true },
  { name: 'reply false (unknown is_reply excluded)', req: W({ reply: [false] }), want: (f) => f.is_reply?.value === false },
  { name: 'ip_version IPv4', req: W({ ip_version: ['IPv4' as unknown as number] }), want: (f) => f.IP?.ipVersion === 1, every: true },
  { name: 'interface by name', req: W({ interface: [{ index: 0, name: 'ens5' }] }), want: (f) => f.interface?.name === 'ens5' },
  { name: 'uuid', req: W({ uuid: [all[3]!.uuid] }), want: (f) => f.uuid === all[3]!.uuid },
  { name: 'http_status_code: no L7 flows', req: W({ http_status_code: ['2+'] }), want: () => false, empty: true },
  { name: 'AND within a filter', req: W({ source_pod: ['netpod'], protocol: ['icmp'] }), want: (f) => f.source?.pod_name === 'netpod' && !!f.l4?.ICMPv4 },
  { name: 'OR across filters', req: W({ protocol: ['icmp'] }, { destination_port: ['8080'] }), want: (f) => !!f.l4?.ICMPv4 || port(f, 'destination_port') === 8080 },
  { name: 'blacklist alone', req: { blacklist: [{ protocol: ['udp'] }] }, want: (f) => !f.l4?.UDP },
  { name: 'whitelist minus blacklist', req: { whitelist: [{ source_pod: ['netpod'] }], blacklist: [{ protocol: ['tcp'] }, { destination_port: ['53'] }] },
    want: (f) => f.source?.pod_name === 'netpod' && !f.l4?.TCP && port(f, 'destination_port') !== 53 },
];

t.test('each FlowFilter field as Hubble matches it', async (t) => {
  t.ok(all.length > 30, `${all.length} flows to filter`);
  for (const c of cases()) {
    const got = (await query(c.req)).map((f) => f.uuid);
    const want = all.filter(c.want).map((f) => f.uuid);
    t.same(got, want, `${c.name} (${want.length})`);
    if (c.every) t.equal(want.length, all.length, `${c.name}: selects all`);
    else if (!c.empty) t.ok(want.length > 0 && want.length < all.length, `${c.name}: selects some, not all`);
  }
});

t.test('values Hubble refuses: INVALID_ARGUMENT, nothing sent', async (t) => {
  const bad: Array<[string, GetFlowsRequestObject]> = [
    ['ip', W({ source_ip: ['x'] })], ['cidr', W({ destination_ip: ['10.0.0.0/33'] })],
    ['empty pod', W({ source_pod: [''] })], ['slash pod', W({ destination_pod: ['/'] })],
    ['port range', W({ source_port: ['70000'] })], ['port name', W({ destination_port: ['http'] })],
    ['protocol', W({ protocol: ['smtp'] })], ['status 600', W({ http_status_code: ['600'] })], ['status class', W({ http_status_code: ['6+'] })],
    ['selector', W({ source_label: ['app in ('] })], ['selector key', W({ destination_label: ['=x'] })],
    ['regex', W({ dns_query: ['('] })], ['verdict name', W({ verdict: ['NOPE' as unknown as number] })],
    ['event_type list', W({ event_type: 'x' as unknown as [] })], ['node name', W({ node_name: [''] })],
    ['fqdn', W({ source_fqdn: ['a b'] })], ['CEL', W({ experimental: { cel_expression: ['true'] } })],
    ['too many filters', { whitelist: Array.from({ length: 257 }, () => ({ protocol: ['tcp'] })) }],
    ['too many values', W({ source_pod: Array.from({ length: 1025 }, (_, i) => `p${i}`) })],
    ['number', { number: 'many' as unknown as number }],
  ];
  for (const [name, req] of bad) {
    let sent = 0;
    const err = await relay().getFlows(req, () => { sent++; }, new AbortController().signal).then(() => undefined, (e: unknown) => e);
    t.ok(err instanceof HubbleError && err.code === 'INVALID_ARGUMENT', `${name}: ${(err as Error | undefined)?.message}`);
    t.equal(sent, 0, `${name}: nothing sent (not even node status)`);
  }
});
