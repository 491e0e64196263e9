// The hubble CLI's printers on flows built as the facts sheet describes them
// (/work/shared/reference/hubble-cli-0.11.md §4-§7, measured on hubble
// 0.11.6): each expected line is the one the real binary printed.
import t from 'tap';
import { compactLine, dictRecord, FlowPrinter, type FlowPrintOptions } from '../src/hubble/printer/flows.ts';
import type { PrintableFlow } from '../src/hubble/printer/flow_text.ts';
import { nodesText, serverStatusText, f2 } from '../src/hubble/printer/status.ts';
import { formatTimestamp, goDuration, timeLayout, type TimeLayout } from '../src/hubble/printer/time.ts';

const T = (iso: string, nanos = 0) => ({ seconds: Date.parse(iso) / 1000, nanos });
const OPTS = { timeLayout: 'StampMilli' as TimeLayout, nodeName: false, ipTranslation: true };

const netpod = { ID: 416, identity: 39126, namespace: 'default', pod_name: 'netpod', labels: ['k8s:app=netpod'] };
const webpod2 = { identity: 25054, namespace: 'default', pod_name: 'webpod2' };
const coredns = { identity: 39166, namespace: 'kube-system', pod_name: 'coredns-55cb58b774-2xvk2' };
const ip = (source: string, destination: string) => ({ source, destination, ipVersion: 1 });
const tcp = (sp: number, dp: number) => ({ TCP: { source_port: sp, destination_port: dp } });
const udp = (sp: number, dp: number) => ({ UDP: { source_port: sp, destination_port: dp } });

/** The SYN of §4.1: netpod -> webpod2:80 at to-endpoint on k8s-w2. */
const SYN: PrintableFlow = {
  time: T('2024-10-21T11:12:11Z', 151234567), verdict: 1, IP: ip('172.16.0.230', '172.16.2.180'), l4: tcp(60650, 80),
  source: netpod, destination: webpod2, Type: 1, node_name: 'lab/k8s-w2', event_type: { type: 4, sub_type: 0 },
  trace_observation_point: 101, is_reply: { value: false }, Summary: 'TCP Flags: SYN',
};
/** The packet-oriented SYN-ACK: webpod2:80 -> netpod, is_reply true, at to-network. */
const SYNACK: PrintableFlow = {
  ...SYN, time: T('2024-10-21T11:12:11Z', 152000000), IP: ip('172.16.2.180', '172.16.0.230'), l4: tcp(80, 60650),
  source: webpod2, destination: netpod, event_type: { type: 4, sub_type: 11 }, is_reply: { value: true }, Summary: 'TCP Flags: SYN, ACK',
};
const DROP: PrintableFlow = {
  time: T('2024-10-21T11:12:12Z', 1234567), verdict: 2, drop_reason: 133, drop_reason_desc: 133, IP: ip('172.16.0.230', '172.16.2.180'),
  l4: tcp(41234, 8080), source: netpod, destination: webpod2, Type: 1, node_name: 'lab/k8s-w2', event_type: { type: 1, sub_type: 133 },
  traffic_direction: 1, Summary: 'TCP Flags: SYN',
};
const SOCK_PRE: PrintableFlow = {
  time: T('2024-10-21T11:14:01Z', 4000000), verdict: 6, IP: ip('172.16.0.230', '172.16.1.210'), l4: udp(44939, 0), source: netpod,
  destination: coredns, Type: 3, event_type: { type: 7, sub_type: 3 }, sock_xlate_point: 3, Summary: 'UDP',
};
const SOCK_POST: PrintableFlow = {
  time: T('2024-10-21T11:14:01Z', 6000000), verdict: 7, IP: ip('10.96.0.10', '172.16.0.230'), l4: udp(53, 0), source: { identity: 2 },
  source_service: { name: 'kube-dns', namespace: 'kube-system' }, destination: netpod, Type: 3, event_type: { type: 7, sub_type: 4 },
  sock_xlate_point: 4, Summary: 'UDP',
};
const at = (ms: number) => T('2024-10-21T11:12:20Z', ms * 1e6);
const ICMP: PrintableFlow = { ...SYN, l4: { ICMPv4: { type: 8, code: 0 } }, Summary: 'ICMPv4 EchoRequest' };

t.test('compact lines as hubble 0.11.6 printed them', async (t) => {
  const cases: Array<[string, PrintableFlow, string, Partial<typeof OPTS>?]> = [
    ['request', SYN, 'Oct 21 11:12:11.151: default/netpod:60650 (ID:39126) -> default/webpod2:80 (ID:25054) to-endpoint FORWARDED (TCP Flags: SYN)'],
    ['reply: swapped, <-', SYNACK, 'Oct 21 11:12:11.152: default/netpod:60650 (ID:39126) <- default/webpod2:80 (ID:25054) to-network FORWARDED (TCP Flags: SYN, ACK)'],
    ['--print-node-name', SYN, 'Oct 21 11:12:11.151 [lab/k8s-w2]: default/netpod:60650 (ID:39126) -> default/webpod2:80 (ID:25054) to-endpoint FORWARDED (TCP Flags: SYN)', { nodeName: true }],
    ['--numeric', SYNACK, 'Oct 21 11:12:11.152: 172.16.0.230:60650 (ID:39126) <- 172.16.2.180:80 (ID:25054) to-network FORWARDED (TCP Flags: SYN, ACK)', { ipTranslation: false }],
    ['drop', DROP, 'Oct 21 11:12:12.001: default/netpod:41234 (ID:39126) <> default/webpod2:8080 (ID:25054) Policy denied DROPPED (TCP Flags: SYN)'],
    ['pre-xlate-rev', SOCK_PRE, 'Oct 21 11:14:01.004: default/netpod:44939 (ID:39126) <> kube-system/coredns-55cb58b774-2xvk2 (ID:39166) pre-xlate-rev TRACED (UDP)'],
    ['post-xlate-rev: service, world', SOCK_POST, 'Oct 21 11:14:01.006: kube-system/kube-dns:53 (world) <> default/netpod (ID:39126) post-xlate-rev TRANSLATED (UDP)'],
    ['is_reply absent', { ...SYN, time: at(1), is_reply: undefined }, 'Oct 21 11:12:20.001: default/netpod:60650 (ID:39126) <> default/webpod2:80 (ID:25054) to-endpoint FORWARDED (TCP Flags: SYN)'],
    ['drop sub_type 0 is Success, desc ignored', { ...DROP, time: at(3), l4: tcp(41235, 8080), event_type: { type: 1, sub_type: 0 }, drop_reason_desc: 181 },
      'Oct 21 11:12:20.003: default/netpod:41235 (ID:39126) <> default/webpod2:8080 (ID:25054) Success DROPPED (TCP Flags: SYN)'],
    ['empty Summary', { ...SYN, time: at(7), l4: { TCP: { source_port: 60653, destination_port: 80, flags: { SYN: true } } }, Summary: '' },
      'Oct 21 11:12:20.007: default/netpod:60653 (ID:39126) -> default/webpod2:80 (ID:25054) to-endpoint FORWARDED ()'],
    ['no l4, no port', { ...ICMP, time: at(8), l4: undefined }, 'Oct 21 11:12:20.008: default/netpod (ID:39126) -> default/webpod2 (ID:25054) to-endpoint FORWARDED (ICMPv4 EchoRequest)'],
    ['pod wins over service; point unset', { ...SOCK_PRE, time: at(14), l4: udp(0, 53), destination_service: { name: 'kube-dns', namespace: 'kube-system' }, sock_xlate_point: 0 },
      'Oct 21 11:12:20.014: default/netpod (ID:39126) <> kube-system/coredns-55cb58b774-2xvk2:53 (ID:39166) SOCK_XLATE_POINT_UNKNOWN TRACED (UDP)'],
    ['host', { ...ICMP, time: at(15), IP: ip('192.168.10.10', '172.16.0.230'), source: { identity: 1 }, destination: netpod },
      'Oct 21 11:12:20.015: 192.168.10.10 (host) -> default/netpod (ID:39126) to-endpoint FORWARDED (ICMPv4 EchoRequest)'],
    ['world', { ...SYN, time: at(16), IP: ip('172.16.0.230', '5.9.243.187'), l4: tcp(40294, 80), destination: { identity: 2 }, event_type: { type: 4, sub_type: 11 } },
      'Oct 21 11:12:20.016: default/netpod:40294 (ID:39126) -> 5.9.243.187:80 (world) to-network FORWARDED (TCP Flags: SYN)'],
    ['unknown, remote-node', { ...SYN, time: at(17), IP: ip('10.0.0.1', '192.168.10.101'), l4: undefined, source: { identity: 0 }, destination: { identity: 6 }, Summary: 'IPv4' },
      'Oct 21 11:12:20.017: 10.0.0.1 (unknown) -> 192.168.10.101 (remote-node) to-endpoint FORWARDED (IPv4)'],
    ['health, kube-apiserver', { ...SYN, time: at(18), IP: ip('172.16.0.236', '192.168.10.10'), l4: undefined, source: { identity: 4 }, destination: { identity: 7 }, Summary: 'IPv4' },
      'Oct 21 11:12:20.018: 172.16.0.236 (health) -> 192.168.10.10 (kube-apiserver) to-endpoint FORWARDED (IPv4)'],
    ['ingress; 9 has no name in 0.11.6', { ...SYN, time: at(19), IP: ip('10.0.0.8', '8.8.8.8'), l4: undefined, source: { identity: 8 }, destination: { identity: 9 }, Summary: 'IPv4' },
      'Oct 21 11:12:20.019: 10.0.0.8 (ingress) -> 8.8.8.8 (ID:9) to-endpoint FORWARDED (IPv4)'],
    ['102 and a local identity', { ...SYN, time: at(22), IP: ip('10.0.0.102', '1.1.1.1'), l4: undefined, source: { identity: 102 }, destination: { identity: 16777217 }, Summary: 'IPv4' },
      'Oct 21 11:12:20.022: 10.0.0.102 (ID:102) -> 1.1.1.1 (ID:16777217) to-endpoint FORWARDED (IPv4)'],
    ['pod without namespace; DNS names', { ...SYN, time: at(23), l4: tcp(5555, 443), source: { identity: 39126, pod_name: 'netpod' }, destination: { identity: 2 }, destination_names: ['example.com', 'www.example.com'] },
      'Oct 21 11:12:20.023: netpod:5555 (ID:39126) -> example.com,www.example.com:443 (world) to-endpoint FORWARDED (TCP Flags: SYN)'],
    ['IPv6 ports bracketed', { ...SYN, time: at(24), IP: { source: 'fd00::1', destination: 'fd00::2', ipVersion: 2 }, l4: tcp(1234, 80), source: { identity: 2 }, destination: { identity: 2 } },
      'Oct 21 11:12:20.024: [fd00::1]:1234 (world) -> [fd00::2]:80 (world) to-endpoint FORWARDED (TCP Flags: SYN)'],
    ['policy verdict allowed', { ...SYN, time: at(25), event_type: { type: 5, sub_type: 0 }, policy_match_type: 2, traffic_direction: 1 },
      'Oct 21 11:12:20.025: default/netpod:60650 (ID:39126) -> default/webpod2:80 (ID:25054) policy-verdict:L3-L4 INGRESS ALLOWED (TCP Flags: SYN)'],
    ['policy verdict denied', { ...SYN, time: at(26), l4: tcp(41234, 8080), verdict: 2, event_type: { type: 5, sub_type: 0 }, policy_match_type: 0, traffic_direction: 2 },
      'Oct 21 11:12:20.026: default/netpod:41234 (ID:39126) -> default/webpod2:8080 (ID:25054) policy-verdict:none EGRESS DENIED (TCP Flags: SYN)'],
    ['no time', { ...ICMP, time: undefined, l4: undefined, Summary: 'no time' }, 'N/A: default/netpod (ID:39126) -> default/webpod2 (ID:25054) to-endpoint FORWARDED (no time)'],
    ['no event_type', { ...ICMP, time: at(28), l4: undefined, event_type: undefined, Summary: 'no event_type' },
      'Oct 21 11:12:20.028: default/netpod (ID:39126) -> default/webpod2 (ID:25054) UNKNOWN FORWARDED (no event_type)'],
    ['no verdict', { ...ICMP, time: at(29), l4: undefined, verdict: undefined, Summary: 'no verdict' },
      'Oct 21 11:12:20.029: default/netpod (ID:39126) -> default/webpod2 (ID:25054) to-endpoint VERDICT_UNKNOWN (no verdict)'],
    ['no IP: MACs', { ...ICMP, time: at(30), IP: undefined, l4: undefined, ethernet: { source: '92:ef:86:7b:d1:d4', destination: '5e:b5:9a:19:fb:b3' }, Summary: 'ARP' },
      'Oct 21 11:12:20.030: 92:ef:86:7b:d1:d4 (ID:39126) -> 5e:b5:9a:19:fb:b3 (ID:25054) to-endpoint FORWARDED (ARP)'],
    ['deprecated reply ignored', { ...SYNACK, time: at(31), is_reply: undefined, reply: true, event_type: { type: 4, sub_type: 0 }, Summary: 'reply-field-only' },
      'Oct 21 11:12:20.031: default/webpod2:80 (ID:25054) <> default/netpod:60650 (ID:39126) to-endpoint FORWARDED (reply-field-only)'],
    ['dropped reply swaps too', { ...SYNACK, time: at(32), verdict: 2, event_type: { type: 1, sub_type: 151 }, Summary: 'TCP Flags: ACK' },
      'Oct 21 11:12:20.032: default/netpod:60650 (ID:39126) <- default/webpod2:80 (ID:25054) Stale or unroutable IP DROPPED (TCP Flags: ACK)'],
    ['http request', { ...SYN, time: at(37), l4: tcp(40000, 80), l7: { type: 1, http: { method: 'GET', url: 'http://webpod/' } }, Summary: 'HTTP/1.1 GET http://webpod/' },
      'Oct 21 11:12:20.037: default/netpod:40000 (ID:39126) -> default/webpod2:80 (ID:25054) http-request FORWARDED (HTTP/1.1 GET http://webpod/)'],
    ['dns request with its source', { ...SYN, time: at(39), l4: udp(33333, 53), destination: coredns, l7: { type: 1, dns: { query: 'example.com.', observation_source: 'proxy' } }, Summary: 'DNS Query example.com. A' },
      'Oct 21 11:12:20.039: default/netpod:33333 (ID:39126) -> kube-system/coredns-55cb58b774-2xvk2:53 (ID:39166) dns-request proxy FORWARDED (DNS Query example.com. A)'],
    ['service without namespace', { ...SYN, time: at(42), destination: { identity: 2 }, destination_service: { name: 'websvc', namespace: '' }, Summary: 'svc no ns' },
      'Oct 21 11:12:20.042: default/netpod:60650 (ID:39126) -> websvc:80 (world) to-endpoint FORWARDED (svc no ns)'],
    ['source endpoint missing', { ...SYN, time: T('2024-10-21T11:12:40Z', 103e6), source: undefined, Summary: 'source null' },
      'Oct 21 11:12:40.103: 172.16.0.230:60650 (unknown) -> default/webpod2:80 (ID:25054) to-endpoint FORWARDED (source null)'],
    ['unknown trace point and drop code print as numbers', { ...SYN, time: at(50), event_type: { type: 4, sub_type: 12 }, Summary: 'x' },
      'Oct 21 11:12:20.050: default/netpod:60650 (ID:39126) -> default/webpod2:80 (ID:25054) 12 FORWARDED (x)'],
    ['drop code 196 unknown to 0.11.6', { ...DROP, time: at(51), event_type: { type: 1, sub_type: 196 }, Summary: 'x' },
      'Oct 21 11:12:20.051: default/netpod:41234 (ID:39126) <> default/webpod2:8080 (ID:25054) 196, 0 DROPPED (x)'],
    ['enum names are read too (a JSON-decoded flow)', { ...SYN, time: at(52), verdict: 'TRACED', event_type: { type: 7, sub_type: 1 }, sock_xlate_point: 'SOCK_XLATE_POINT_PRE_DIRECTION_FWD', Summary: 'x' },
      'Oct 21 11:12:20.052: default/netpod:60650 (ID:39126) -> default/webpod2:80 (ID:25054) pre-xlate-fwd TRACED (x)'],
  ];
  for (const [name, f, want, o] of cases) t.equal(compactLine(f, { ...OPTS, ...o }), `${want}\n`, name);
});

t.test('--time-format layouts, always UTC, milliseconds truncated', async (t) => {
  const ts = T('2024-10-21T11:12:11Z', 151234567);
  const want: Record<string, string> = {
    StampMilli: 'Oct 21 11:12:11.151', YearMonthDay: '2024-10-21', YearMonthDayHour: '2024-10-21T11Z', YearMonthDayHourMinute: '2024-10-21T11:12Z',
    RFC3339: '2024-10-21T11:12:11Z', RFC3339Milli: '2024-10-21T11:12:11.151Z', RFC3339Micro: '2024-10-21T11:12:11.151234Z',
    RFC3339Nano: '2024-10-21T11:12:11.151234567Z', RFC1123Z: 'Mon, 21 Oct 2024 11:12:11 +0000',
  };
  for (const [name, s] of Object.entries(want)) t.equal(formatTimestamp(ts, timeLayout(name.toLowerCase())), s, name);
  t.equal(formatTimestamp(T('2024-11-03T01:02:03Z', 4999999), 'StampMilli'), 'Nov  3 01:02:03.004', 'space-padded day, truncated ms');
  t.equal(formatTimestamp(T('2024-10-21T11:12:11Z', 150000000), 'RFC3339Milli'), '2024-10-21T11:12:11.15Z', 'Go trims .999 layouts');
  t.equal(formatTimestamp(T('2024-10-21T11:12:11Z'), 'RFC3339Nano'), '2024-10-21T11:12:11Z', 'no fraction at all');
  t.equal(formatTimestamp({}, 'StampMilli'), 'Jan  1 00:00:00.000', 'a zero Timestamp is the epoch');
  t.equal(formatTimestamp(undefined, 'StampMilli'), 'N/A');
  t.equal(formatTimestamp({ seconds: 253402300800, nanos: 0 }, 'StampMilli'), 'N/A', 'out of timestamppb range');
  t.equal(formatTimestamp({ seconds: '1729509131', nanos: 1e6 }, 'StampMilli'), 'Oct 21 11:12:11.001', 'int64 seconds as a string');
  t.equal(timeLayout('nonsense'), 'StampMilli', 'unknown names fall back as in hubble');
});

t.test('table: tab-aligned, no identities, no swap; header once; NODE column', async (t) => {
  const p = new FlowPrinter({ output: 'table', ...OPTS });
  for (const f of [SYN, SYNACK, DROP, SOCK_PRE, SOCK_POST]) t.same(p.write({ flow: f }), { stdout: '', stderr: '' }, 'rows wait for the end');
  t.equal(p.close().stdout, [
    'TIMESTAMP             SOURCE                    DESTINATION                            TYPE             VERDICT      SUMMARY',
    'Oct 21 11:12:11.151   default/netpod:60650      default/webpod2:80                     to-endpoint      FORWARDED    TCP Flags: SYN',
    'Oct 21 11:12:11.152   default/webpod2:80        default/netpod:60650                   to-network       FORWARDED    TCP Flags: SYN, ACK',
    'Oct 21 11:12:12.001   default/netpod:41234      default/webpod2:8080                   Policy denied    DROPPED      TCP Flags: SYN',
    'Oct 21 11:14:01.004   default/netpod:44939      kube-system/coredns-55cb58b774-2xvk2   pre-xlate-rev    TRACED       UDP',
    'Oct 21 11:14:01.006   kube-system/kube-dns:53   default/netpod                         post-xlate-rev   TRANSLATED   UDP',
    '',
  ].join('\n'));
  const n = new FlowPrinter({ output: 'table', ...OPTS, nodeName: true });
  n.write({ flow: SYN });
  n.write({ flow: { ...SYNACK, node_name: '' } });
  t.equal(n.close().stdout.split('\n')[0], 'TIMESTAMP             NODE         SOURCE                 DESTINATION            TYPE          VERDICT     SUMMARY');
  t.equal(new FlowPrinter({ output: 'table', ...OPTS }).close().stdout, '', 'no flows, no header');
});

t.test('dict: right-aligned keys, separators between records, NODE only with --print-node-name', async (t) => {
  t.equal(dictRecord(DROP, OPTS), '  TIMESTAMP: Oct 21 11:12:12.001\n     SOURCE: default/netpod:41234\nDESTINATION: default/webpod2:8080\n'
    + '       TYPE: Policy denied\n    VERDICT: DROPPED\n    SUMMARY: TCP Flags: SYN\n');
  const p = new FlowPrinter({ output: 'dict', ...OPTS, nodeName: true });
  const a = p.write({ flow: SYN }).stdout, b = p.write({ flow: { ...SYNACK, node_name: '' } }).stdout;
  t.match(a, /^ {2}TIMESTAMP: Oct 21 11:12:11\.151\n {7}NODE: lab\/k8s-w2\n/);
  t.match(b, /^------------\n {2}TIMESTAMP: .*\n {7}NODE: \n {5}SOURCE: default\/webpod2:80\n/, 'second record: separator, empty node, no swap');
});

t.test('jsonpb: the whole response, proto names, enums by name, defaults left out, declaration order', async (t) => {
  const p = new FlowPrinter({ output: 'jsonpb', ...OPTS });
  const r = { flow: { ...DROP, ethernet: { source: '92:ef:86:7b:d1:d4', destination: '5e:b5:9a:19:fb:b3' }, l4: { TCP: { source_port: 41234, destination_port: 8080, flags: { SYN: true } } } }, node_name: 'lab/k8s-w2', time: DROP.time };
  t.equal(p.write(r).stdout, '{"flow":{"time":"2024-10-21T11:12:12.001234567Z","verdict":"DROPPED","drop_reason":133,"ethernet":{"source":"92:ef:86:7b:d1:d4","destination":"5e:b5:9a:19:fb:b3"},'
    + '"IP":{"source":"172.16.0.230","destination":"172.16.2.180","ipVersion":"IPv4"},"l4":{"TCP":{"source_port":41234,"destination_port":8080,"flags":{"SYN":true}}},'
    + '"source":{"ID":416,"identity":39126,"namespace":"default","labels":["k8s:app=netpod"],"pod_name":"netpod"},"destination":{"identity":25054,"namespace":"default","pod_name":"webpod2"},'
    + '"Type":"L3_L4","node_name":"lab/k8s-w2","event_type":{"type":1,"sub_type":133},"traffic_direction":"INGRESS","drop_reason_desc":"POLICY_DENIED","Summary":"TCP Flags: SYN"},'
    + '"node_name":"lab/k8s-w2","time":"2024-10-21T11:12:12.001234567Z"}\n');
  const j = JSON.parse(p.write({ flow: { ...SYN, socket_cookie: '18446744073709551615' as unknown as number, Summary: '<a&b>' } }).stdout) as { flow: Record<string, unknown> };
  t.equal(j.flow.is_reply, false, 'a present BoolValue false is printed');
  t.equal(j.flow.socket_cookie, '18446744073709551615', 'uint64 as a string, exact');
  t.equal(j.flow.time, '2024-10-21T11:12:11.151234567Z');
  t.match(p.write({ flow: { ...SYN, Summary: '<a&b>', time: T('2024-10-21T11:12:11Z', 150000000) } }).stdout, /"time":"2024-10-21T11:12:11\.150Z".*"Summary":"\\u003ca\\u0026b\\u003e"/, 'millisecond fraction; HTML-safe escapes');
  t.same(p.write({ lost_events: { source: 3, num_events_lost: 12 }, node_name: 'x', time: SYN.time }), { stdout: '', stderr: '' }, 'lost events are not printed');
  t.same(p.write({ node_name: 'x' }), { stdout: '', stderr: '' }, 'an empty response is ignored');
});

t.test('node status events go to stderr, only unavailable and error ones', async (t) => {
  const ts = T('2024-10-21T11:12:30Z', 5e6);
  const ns = (state_change: number, node_names: string[], message = '') => ({ node_status: { state_change, node_names, message }, node_name: 'relay', time: ts });
  const c = new FlowPrinter({ output: 'compact', ...OPTS });
  t.same(c.write(ns(1, ['lab/k8s-s'])), { stdout: '', stderr: '' }, 'connected: only with --debug');
  t.same(c.write(ns(2, ['lab/k8s-w1'])), { stdout: '', stderr: 'Oct 21 11:12:30.005 [relay]: 1 nodes are unavailable: lab/k8s-w1\n' });
  t.same(c.write({ ...ns(4, ['lab/k8s-w1'], 'boom'), node_name: '' }), { stdout: '', stderr: 'Oct 21 11:12:30.005 []: Error "boom" on 1 nodes: lab/k8s-w1\n' });
  const many = Array.from({ length: 8 }, (_, i) => `lab/node-number-${i}`);
  t.match(c.write(ns(2, many)).stderr, /: 8 nodes are unavailable: lab\/node-number-0, lab\/node-number-1 \(and 6 more\)\n$/, 'long lists cut off');
  const j = new FlowPrinter({ output: 'jsonpb', ...OPTS });
  t.same(j.write(ns(2, ['lab/k8s-w1'])), { stdout: '', stderr: '{"node_status":{"state_change":"NODE_UNAVAILABLE","node_names":["lab/k8s-w1"]},"node_name":"relay","time":"2024-10-21T11:12:30.005Z"}\n' });
  const d = new FlowPrinter({ output: 'dict', ...OPTS });
  t.same(d.write(ns(2, ['lab/k8s-w1'])), { stdout: '', stderr: '  TIMESTAMP: Oct 21 11:12:30.005\n      STATE: NODE_UNAVAILABLE\n      NODES: lab/k8s-w1\n    MESSAGE: N/A\n' });
  t.equal(d.write(ns(4, ['a'], 'x')).stdout, '------------\n', 'a dict separator on stdout before later events');
});

t.test('hubble status lines', async (t) => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['empty', {}, 'Current/Max Flows: 0/0\nFlows/s: N/A\n'],
    ['one node', { num_flows: 2, max_flows: 4095, seen_flows: 2, uptime_ns: 3600e9 }, 'Current/Max Flows: 2/4,095 (0.05%)\nFlows/s: 0.00\n'],
    ['full ring', { num_flows: 4095, max_flows: 4095, seen_flows: 27850, uptime_ns: 5025e9 }, 'Current/Max Flows: 4,095/4,095 (100.00%)\nFlows/s: 5.54\n'],
    ['flows_rate ignored', { seen_flows: 123456, uptime_ns: 10e9, flows_rate: 12.345 }, 'Current/Max Flows: 0/0\nFlows/s: 12345.60\n'],
    ['over 100%', { num_flows: 1234567, max_flows: 4095 }, 'Current/Max Flows: 1,234,567/4,095 (30148.16%)\nFlows/s: N/A\n'],
    ['relay', { num_flows: 8190, max_flows: 8190, seen_flows: 900, uptime_ns: 1e9, num_connected_nodes: { value: 2 }, num_unavailable_nodes: { value: 1 }, unavailable_nodes: ['lab/k8s-w1'] },
      'Current/Max Flows: 8,190/8,190 (100.00%)\nFlows/s: 900.00\nConnected Nodes: 2/3\nUnavailable Nodes: 1\n  - lab/k8s-w1\n'],
    ['connected only', { num_connected_nodes: { value: 3 } }, 'Current/Max Flows: 0/0\nFlows/s: N/A\nConnected Nodes: 3\n'],
    ['zero wrappers', { num_connected_nodes: {}, num_unavailable_nodes: {} }, 'Current/Max Flows: 0/0\nFlows/s: N/A\nConnected Nodes: 0/0\n'],
    ['unavailable without names', { num_connected_nodes: { value: 1 }, num_unavailable_nodes: { value: 2 } }, 'Current/Max Flows: 0/0\nFlows/s: N/A\nConnected Nodes: 1/3\nUnavailable Nodes: 2\n'],
    ['more unavailable than named', { num_connected_nodes: { value: 1 }, num_unavailable_nodes: { value: 3 }, unavailable_nodes: ['b', 'a'] },
      'Current/Max Flows: 0/0\nFlows/s: N/A\nConnected Nodes: 1/4\nUnavailable Nodes: 3\n  - a\n  - b\n  - and 1 more...\n'],
  ];
  for (const [name, s, want] of cases) t.equal(serverStatusText(s, 'compact'), want, name);
  t.equal(serverStatusText({ num_flows: 4095, max_flows: 4095, seen_flows: 1234, uptime_ns: 5025e9, version: 'v' }, 'dict'),
    '          NUM FLOWS: 4,095\n          MAX FLOWS: 4,095\n         SEEN FLOWS: 1,234\n             UPTIME: 1h23m45s\nNUM CONNECTED NODES: N/A\n NUM UNAVAIL. NODES: N/A\n            VERSION: v\n');
  t.equal(f2(0.125), '0.12', "%.2f rounds an exact tie to even, as Go's");
  t.equal(f2(0.375), '0.38');
  t.equal(goDuration(3_723_500_000_000n), '1h2m3.5s');
  t.equal(goDuration(250_000_000n), '250ms');
});

t.test('hubble list nodes: sorted table, N/A rules, wide, json', async (t) => {
  const nodes = [
    { name: 'lab/k8s-w2', state: 1, uptime_ns: 3724e9, num_flows: 4095, max_flows: 4095, seen_flows: 37240 },
    { name: 'lab/k8s-w1', state: 2 },
    { name: 'lab/unk', state: 0 },
    { name: 'lab/err', state: 4 },
    { name: 'lab/k8s-s', state: 1, uptime_ns: 90062e9, num_flows: 100, max_flows: 4095, seen_flows: 100 },
    {},
    { name: 'lab/gone', state: 3 },
  ];
  t.equal(nodesText(nodes, 'table'), [
    'NAME         STATUS        AGE       FLOWS/S   CURRENT/MAX-FLOWS',
    '             Unknown       N/A       N/A       N/A',
    'lab/err      Error         N/A       N/A       N/A',
    'lab/gone     Gone          N/A       N/A       N/A',
    'lab/k8s-s    Connected     25h1m2s   0.00      100/4095 (  2.44%)',
    'lab/k8s-w1   Unavailable   N/A       N/A       N/A',
    'lab/k8s-w2   Connected     1h2m4s    10.00     4095/4095 (100.00%)',
    'lab/unk      Unknown       N/A       N/A       N/A',
    '',
  ].join('\n'));
  t.equal(nodesText([{ name: 'lab/k8s-w2', state: 1, uptime_ns: 1.4e9, seen_flows: 3 }, { name: 'lab/x', state: 1, uptime_ns: 0.4999e9, seen_flows: 3 }], 'table').split('\n').slice(1, 3).join('\n'),
    'lab/k8s-w2   Connected   1s    3.00      N/A\nlab/x        Connected   N/A   N/A       N/A', 'age rounds to whole seconds; the rate divides by it');
  t.equal(nodesText([{ name: 'c', state: 2, uptime_ns: 1e9, num_flows: 1, max_flows: 10, version: '1.16.3', address: '10.0.0.1:4244', tls: { enabled: true } }, { name: 'd', state: 1 }], 'wide'), [
    'NAME   STATUS        AGE   FLOWS/S   CURRENT/MAX-FLOWS   VERSION   ADDRESS         TLS',
    'c      Unavailable   1s    0.00      1/10 ( 10.00%)      1.16.3    10.0.0.1:4244   Enabled',
    'd      Connected     N/A   N/A       N/A                 N/A                       N/A',
    '',
  ].join('\n'));
  t.equal(nodesText([{ name: 'lab/err', state: 4 }, {}], 'json'), '[\n  {},\n  {\n    "name": "lab/err",\n    "state": "NODE_ERROR"\n  }\n]\n');
  t.equal(nodesText([], 'json'), 'null\n');
  t.equal(nodesText([], 'table'), 'NAME   STATUS   AGE   FLOWS/S   CURRENT/MAX-FLOWS\n', 'only the header');
});

t.test('printers never throw on odd flows', async (t) => {
  const odd: PrintableFlow[] = [{}, { IP: {} as never }, { l4: {} }, { event_type: { type: 1, sub_type: 99999 } }, { source: {}, destination: {}, is_reply: {} as never }];
  for (const f of odd) for (const output of ['compact', 'dict', 'jsonpb', 'table'] as const) {
    const p = new FlowPrinter({ output, ...OPTS } as FlowPrintOptions);
    t.doesNotThrow(() => { p.write({ flow: f }); p.close(); }, `${output} ${JSON.stringify(f)}`);
  }
});
