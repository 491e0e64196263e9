// `hubble observe|status|list nodes` flags -> what is asked of the server, as
// hubble 0.11.6 built its requests (measured on the wire, facts sheet §3.2),
// with its defaults and its error messages; the request bytes as sent.
import t from 'tap';
import { observerService } from '../src/hubble/grpc/definition.ts';
import { parseHubbleArgs, type HubbleInvocation } from '../src/hubble/cli/command.ts';
import type { GetFlowsRequestObject } from '../src/hubble/proto.ts';

const NOW = Date.UTC(2024, 9, 21, 12, 0, 0, 250);
const env = { nowMs: NOW };
const observe = (...args: string[]): GetFlowsRequestObject => {
  const inv = parseHubbleArgs(['observe', ...args], env);
  if (inv.cmd !== 'observe') throw new Error(`not observe: ${inv.cmd}`);
  return inv.request;
};
const hex = (req: GetFlowsRequestObject) => observerService.GetFlows.requestSerialize(req).toString('hex');
const error = (...args: string[]): string => {
  try { parseHubbleArgs(args, env); } catch (e) { return (e as Error).message; }
  return '(no error)';
};

t.test('selectors: number, first, follow, since, until as hubble sends them', async (t) => {
  const cases: Array<[string[], GetFlowsRequestObject]> = [
    [[], { number: 20 }],
    [['--last', '10'], { number: 10 }],
    [['--last', '10', '-o', 'jsonpb', '--print-node-name'], { number: 10 }],
    [['--last', '0'], { number: 20 }],
    [['--first', '0'], { number: 20 }],
    [['--first', '5'], { number: 5, first: true }],
    [['--follow'], { follow: true }],
    [['-f'], { follow: true }],
    [['-f', '--last', '1'], { number: 1, follow: true }],
    [['-f', '--since', '1m'], { follow: true, since: { seconds: NOW / 1000 - 60 - 0.25, nanos: 250e6 } }],
    [['-f', '--until', '1m'], { follow: true }],
    [['--since', '1m'], { since: { seconds: 1729511940, nanos: 250e6 } }],
    [['--since', '1m', '--until', '10s'], { since: { seconds: 1729511940, nanos: 250e6 }, until: { seconds: 1729511990, nanos: 250e6 } }],
    [['--until', '1m'], { until: { seconds: 1729511940, nanos: 250e6 } }],
    [['--last', '5', '--since', '1m'], { number: 5, since: { seconds: 1729511940, nanos: 250e6 } }],
    [['--first', '3', '--since', '1h'], { number: 3, first: true, since: { seconds: 1729508400, nanos: 250e6 } }],
    [['--since', '2024-10-21T11:00:00Z', '--until', '2024-10-21T12:00:00Z'], { since: { seconds: 1729508400, nanos: 0 }, until: { seconds: 1729512000, nanos: 0 } }],
    [['--since', '2024-10-21'], { since: { seconds: 1729468800, nanos: 0 } }],
    [['--since', '2024-10-21T11Z'], { since: { seconds: 1729508400, nanos: 0 } }],
    [['--since', '2024-10-21T13:30+02:00'], { since: { seconds: 1729510200, nanos: 0 } }],
    [['--since', '2024-10-21T11:00:00.5Z'], { since: { seconds: 1729508400, nanos: 5e8 } }],
    [['--since', 'Mon, 21 Oct 2024 11:00:00 +0000'], { since: { seconds: 1729508400, nanos: 0 } }],
    [['--since', '1h30m'], { since: { seconds: 1729506600, nanos: 250e6 } }],
    [['--since', '1.5h'], { since: { seconds: 1729506600, nanos: 250e6 } }],
  ];
  for (const [args, want] of cases) t.same(observe(...args), want, `observe ${args.join(' ')}`);
  t.same(observe('--all').number, { low: -1, high: -1, unsigned: true }, '--all is 2^64-1');
  t.equal(hex(observe()), '0814', 'plain observe on the wire');
  t.equal(hex(observe('--all')), '08ffffffffffffffffff01', '--all on the wire');
  t.equal(hex(observe('--first', '5')), '08054801', '--first 5: number and first');
  t.equal(hex(observe('-f')), '1801', '-f: follow only');
});

t.test('filter flags -> whitelist / blacklist as hubble builds them', async (t) => {
  const cases: Array<[string[], Partial<GetFlowsRequestObject>]> = [
    [['--pod', 'netpod'], { whitelist: [{ source_pod: ['netpod'] }, { destination_pod: ['netpod'] }] }],
    [['--pod', 'default/netpod'], { whitelist: [{ source_pod: ['default/netpod'] }, { destination_pod: ['default/netpod'] }] }],
    [['--pod', 'kube-system/'], { whitelist: [{ source_pod: ['kube-system/'] }, { destination_pod: ['kube-system/'] }] }],
    [['-n', 'kube-system'], { whitelist: [{ source_pod: ['kube-system/'] }, { destination_pod: ['kube-system/'] }] }],
    [['--to-namespace', 'kube-system'], { whitelist: [{ destination_pod: ['kube-system/'] }] }],
    [['--pod', 'netpod', '--pod', 'webpod2'], { whitelist: [{ source_pod: ['netpod', 'webpod2'] }, { destination_pod: ['netpod', 'webpod2'] }] }],
    [['--from-pod', 'netpod'], { whitelist: [{ source_pod: ['netpod'] }] }],
    [['--to-pod', 'webpod2'], { whitelist: [{ destination_pod: ['webpod2'] }] }],
    [['--from-pod', 'netpod', '--to-pod', 'webpod2'], { whitelist: [{ source_pod: ['netpod'], destination_pod: ['webpod2'] }] }],
    [['--not', '--pod', 'netpod'], { blacklist: [{ source_pod: ['netpod'] }, { destination_pod: ['netpod'] }] }],
    [['--pod', 'netpod', '--not', '--port', '53'], { whitelist: [{ source_pod: ['netpod'] }, { destination_pod: ['netpod'] }], blacklist: [{ source_port: ['53'] }, { destination_port: ['53'] }] }],
    [['--verdict', 'DROPPED'], { whitelist: [{ verdict: [2] }] }],
    [['--verdict', 'DROPPED', '--verdict', 'FORWARDED'], { whitelist: [{ verdict: [2, 1] }] }],
    [['--not', '--verdict', 'DROPPED'], { blacklist: [{ verdict: [2] }] }],
    [['--pod', 'netpod', '--verdict', 'DROPPED'], { whitelist: [{ source_pod: ['netpod'], verdict: [2] }, { destination_pod: ['netpod'], verdict: [2] }] }],
    [['--type', 'drop'], { whitelist: [{ event_type: [{ type: 1 }] }] }],
    [['--type', 'trace'], { whitelist: [{ event_type: [{ type: 4 }] }] }],
    [['--type', 'policy-verdict'], { whitelist: [{ event_type: [{ type: 5 }] }] }],
    [['--type', 'trace-sock'], { whitelist: [{ event_type: [{ type: 7 }] }] }],
    [['--type', 'l7'], { whitelist: [{ event_type: [{ type: 129 }] }] }],
    [['--type', 'trace:to-endpoint'], { whitelist: [{ event_type: [{ type: 4, match_sub_type: true, sub_type: 0 }] }] }],
    [['-t', 'trace:to-network'], { whitelist: [{ event_type: [{ type: 4, match_sub_type: true, sub_type: 11 }] }] }],
    [['--type', 'drop:133'], { whitelist: [{ event_type: [{ type: 1, match_sub_type: true, sub_type: 133 }] }] }],
    [['--type', '4:3'], { whitelist: [{ event_type: [{ type: 4, match_sub_type: true, sub_type: 3 }] }] }],
    [['--protocol', 'udp'], { whitelist: [{ protocol: ['udp'] }] }],
    [['--protocol', 'tcp', '--port', '80'], { whitelist: [{ protocol: ['tcp'], source_port: ['80'] }, { protocol: ['tcp'], destination_port: ['80'] }] }],
    [['--ip', '172.16.0.230'], { whitelist: [{ source_ip: ['172.16.0.230'] }, { destination_ip: ['172.16.0.230'] }] }],
    [['--to-ip', '10.0.0.0/8'], { whitelist: [{ destination_ip: ['10.0.0.0/8'] }] }],
    [['-l', 'app=netpod'], { whitelist: [{ source_label: ['app=netpod'] }, { destination_label: ['app=netpod'] }] }],
    [['--identity', '39126'], { whitelist: [{ source_identity: [39126] }, { destination_identity: [39126] }] }],
    [['--from-identity', 'world'], { whitelist: [{ source_identity: [2] }] }],
    [['--to-identity', '0x10'], { whitelist: [{ destination_identity: [16] }] }],
    [['--service', 'kube-dns'], { whitelist: [{ source_service: ['kube-dns'] }, { destination_service: ['kube-dns'] }] }],
    [['--to-service', 'kube-system/kube-dns'], { whitelist: [{ destination_service: ['kube-system/kube-dns'] }] }],
    [['--tcp-flags', 'syn,ack'], { whitelist: [{ tcp_flags: [{ SYN: true, ACK: true }] }] }],
    [['--node-name', 'k8s-w2'], { whitelist: [{ node_name: ['k8s-w2'] }] }],
    [['-4'], { whitelist: [{ ip_version: [1] }] }],
    [['--http-status', '5+'], { whitelist: [{ http_status_code: ['5+'] }] }],
    [['--fqdn', '*.cilium.io'], { whitelist: [{ source_fqdn: ['*.cilium.io'] }, { destination_fqdn: ['*.cilium.io'] }] }],
    [['--allowlist', '{"source_pod":["x"]}'], { whitelist: [{ source_pod: ['x'] }] }],
    [['--denylist', '{"destinationPod":["y"],"verdict":["DROPPED"]}'], { blacklist: [{ destination_pod: ['y'], verdict: [2] }] }],
    [['-f', '--pod', 'netpod', '--last', '3'], { number: 3, follow: true, whitelist: [{ source_pod: ['netpod'] }, { destination_pod: ['netpod'] }] }],
  ];
  for (const [args, want] of cases) t.same(observe(...args), { number: 20, ...want }, `observe ${args.join(' ')}`);
});

t.test('printing options', async (t) => {
  const print = (...args: string[]) => (parseHubbleArgs(['observe', ...args], env) as Extract<HubbleInvocation, { cmd: 'observe' }>).print;
  t.same(print(), { output: 'compact', timeLayout: 'StampMilli', nodeName: false, ipTranslation: true });
  t.same(print('-o', 'json', '--print-node-name', '--time-format', 'RFC3339Nano', '--numeric'), { output: 'jsonpb', timeLayout: 'RFC3339Nano', nodeName: true, ipTranslation: false });
  t.same(print('-o', 'tab').output, 'table');
  t.same(print('-o', 'dict', '--ip-translation=false').ipTranslation, false);
  t.same(parseHubbleArgs(['observe', '--pod', 'netpod', '--not', '--port', '53', '--print-raw-filters'], env), {
    cmd: 'text',
    stdout: 'allowlist:\n- \'{"source_pod":["netpod"]}\'\n- \'{"destination_pod":["netpod"]}\'\ndenylist:\n- \'{"source_port":["53"]}\'\n- \'{"destination_port":["53"]}\'\n',
  });
});

t.test('server, status and list nodes', async (t) => {
  t.match(parseHubbleArgs(['observe'], env), { server: 'localhost:4245', timeoutMs: 5000 });
  t.match(parseHubbleArgs(['observe'], { ...env, serverEnv: '127.0.0.1:14999' }), { server: '127.0.0.1:14999' }, '$HUBBLE_SERVER');
  t.match(parseHubbleArgs(['observe', '--server', '127.0.0.1:4245'], { ...env, serverEnv: 'x:1' }), { server: '127.0.0.1:4245' }, '--server wins');
  t.match(parseHubbleArgs(['--server', '127.0.0.1:4245', 'status'], env), { cmd: 'status', server: '127.0.0.1:4245', output: 'compact' }, 'a global flag before the command');
  t.match(parseHubbleArgs(['list', 'nodes', '-o', 'wide'], env), { cmd: 'nodes', output: 'wide' });
  t.match(parseHubbleArgs(['list', 'node'], env), { cmd: 'nodes', output: 'table' }, 'node is an alias');
  t.match(parseHubbleArgs(['observe', '--help'], env), { cmd: 'text', stdout: /--pod <value>/ });
});

t.test('mistakes: hubble\'s messages, nothing asked of the server', async (t) => {
  const cases: Array<[string[], string]> = [
    [['observe', '--last', '5', '--all'], 'cannot set both --last and --all'],
    [['observe', '--first', '5', '--last', '1'], 'cannot set both --first and --last'],
    [['observe', '--first', '5', '--all'], 'cannot set both --first and --all'],
    [['observe', '--first', '5', '-f'], 'cannot set both --first and --follow'],
    [['observe', '-f', '-o', 'table'], 'table output format is not compatible with follow mode'],
    [['observe', '-o', 'yaml'], 'invalid output format: yaml'],
    [['observe', '-n', 'default', '--pod', 'netpod'], 'invalid argument "netpod" for "--pod" flag: filters --namespace and --pod cannot be combined'],
    [['observe', '--pod', 'netpod', '-n', 'default'], 'invalid argument "default" for "-n, --namespace" flag: filters --namespace and --pod cannot be combined'],
    [['observe', '--label', 'a=b', '--from-label', 'c=d'], 'invalid argument "c=d" for "--from-label" flag: filters --label and --from-label cannot be combined'],
    [['observe', '--verdict', 'DROP'], 'invalid argument "DROP" for "--verdict" flag: invalid --verdict value: DROP'],
    [['observe', '--type', 'bogus'], 'invalid argument "bogus" for "-t, --type" flag: unable to parse type \'bogus\', not a known type name and unable to parse as numeric value: strconv.ParseUint: parsing "bogus": invalid syntax'],
    [['observe', '--identity', 'nobody'], 'invalid argument "nobody" for "--identity" flag: invalid security identity, expected one of [host world unmanaged health init remote-node kube-apiserver ingress] or a numeric value'],
    [['observe', '--tcp-flags', 'syn,xyz'], 'invalid argument "syn,xyz" for "--tcp-flags" flag: unknown tcp flag: xyz'],
    [['observe', '--not'], 'trailing --not found in the arguments'],
    [['observe', '--not', '--not', '--pod', 'x'], 'invalid argument "true" for "--not" flag: consecutive --not statements'],
    [['observe', '--last', 'abc'], 'invalid argument "abc" for "--last" flag: strconv.ParseUint: parsing "abc": invalid syntax'],
    [['observe', '--last', '-1'], 'invalid argument "-1" for "--last" flag: strconv.ParseUint: parsing "-1": invalid syntax'],
    [['observe', '--since', 'Oct 21 11:12:11.151'], 'failed to parse the since time: failed to convert Oct 21 11:12:11.151 to time'],
    [['observe', '--until', 'yesterday'], 'failed to parse the until time: failed to convert yesterday to time'],
    [['observe', '--since', '2024-13-01'], 'failed to parse the since time: failed to convert 2024-13-01 to time'],
    [['observe', '-A'], 'unknown shorthand flag: \'A\' in -A'],
    [['observe', '--all-namespaces'], 'unknown flag: --all-namespaces'],
    [['observe', '--pod'], 'flag needs an argument: --pod'],
    [['observe', '--allowlist', '{"nope":1}'], 'invalid --allowlist flag: failed to decode \'{"nope":1}\': proto: unknown field "nope"'],
  ];
  for (const [args, want] of cases) t.equal(error(...args), want, args.join(' '));
});
