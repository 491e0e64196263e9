// kube-proxy's iptables generator against real output: the seed 000 kind
// cluster's `iptables -t nat -S` lines, the upstream TestOverallIPTablesRules
// ruleset as real iptables saved it, the chain-name hash and probability
// vectors, and one case per service type and option (reference section 2).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import {
  hash16, iptablesRestore, probability, savedProbability, saveText, specText, stateFromObjects, syncIptables, KubeProxyInputError,
  serviceFromJSON, endpointSliceFromJSON, syncIpvs, type ProxyConfig, type ProxyState, type ServiceSpec,
} from '../src/kubeproxy/index.ts';

const dir = join(import.meta.dirname, 'scenarios', 'kubeproxy');
const scenario = (name: string) => YAML.parse(readFileSync(join(dir, name), 'utf8'));
const grep = (text: string, s: string) => text.split('\n').filter((l) => l.includes(s)).join('\n') + '\n';

t.test('chain names: base32(sha256(servicePortName + protocol [+ endpoint]))[:16]', async (t) => {
  const cases: Array<[string, string]> = [
    ['default/svc-clusterip:svc-webporttcp', 'KBDEBIL6IU6WL7RF'],
    ['default/svc-clusterip:svc-webporttcp10.10.1.2:80', 'TBW2IYJKUCAC7GB3'],
    ['default/svc-clusterip:svc-webporttcp10.10.2.3:80', 'SZHENXPAXVOCHRDA'],
    ['default/svc-clusterip:svc-webporttcp10.10.3.2:80', '2TLZC6QOUTI37HEJ'],
    ['default/svc-clusterip:svc-webporttcp10.10.2.4:80', 'W5ROWLZT7Z7YVFGJ'],
    ['default/kubernetes:httpstcp', 'NPX46M4PTMTKRN6Y'],
    ['kube-system/kube-dns:dnsudp', 'TCOU7JCQXEZGVUNU'],
    ['kube-system/kube-dns:dns-tcptcp', 'ERIFXISQEP7F7OF4'],
    ['kube-system/kube-dns:metricstcp', 'JD5MR3NA4I4DYORP'],
    ['kube-system/kube-ops-view:httptcp', '7EJNTS7AENER2WX5'],
    ['default/nginxtcp', '2CMXP7HKUVJN7L6M'],
    ['ns1/svc1:p80tcp', 'XPGD46QRK7WJZT7O'],
    ['ns2/svc2:p80tcp', 'GNZBNJ2PO5MGZ6GT'],
    ['ns5/svc5:p80tcp', 'NUKIZ6OKUXPJNT4C'],
    ['ns1/svc1:p80tcp10.180.0.1:80', 'SXIVWICOYRO3J4NJ'],
    ['ns2/svc2:p80tcp10.180.0.2:80', 'RS4RBKLTHTF2IUXJ'],
    ['ns5/svc5:p80tcp10.180.0.3:80', 'I77PXRDZVX7PMWMN'],
    ['ns1/svc1:p80tcp[fd00:10::5]:80', 'FFJYLBGAQYHKJ5VA'],
  ];
  for (const [input, want] of cases) t.equal(hash16(input), want, input);
});

t.test('statistic probability: what kube-proxy writes and what iptables prints back', async (t) => {
  const cases: Array<[number, string, string]> = [
    [2, '0.5000000000', '0.50000000000'], [3, '0.3333333333', '0.33333333349'], [4, '0.2500000000', '0.25000000000'],
    [5, '0.2000000000', '0.20000000019'], [6, '0.1666666667', '0.16666666651'], [7, '0.1428571429', '0.14285714272'],
    [9, '0.1111111111', '0.11111111101'], [10, '0.1000000000', '0.10000000009'], [11, '0.0909090909', '0.09090909082'],
    [12, '0.0833333333', '0.08333333349'], [13, '0.0769230769', '0.07692307699'], [15, '0.0666666667', '0.06666666688'],
    [20, '0.0500000000', '0.04999999981'], [100, '0.0100000000', '0.00999999978'], [1000, '0.0010000000', '0.00100000016'],
  ];
  for (const [n, written, printed] of cases) {
    t.equal(probability(n), written, `1/${n} written`);
    t.equal(savedProbability(written), printed, `1/${n} printed`);
  }
  // Go's %0.10f rounds an exact tie half to even: 1/2048 = 0.00048828125.
  t.equal(probability(2048), '0.0004882812');
  t.equal(probability(4096), '0.0002441406');
});

t.test('seed 000: kind + kube-proxy, the lines the seed shows on every node', async (t) => {
  const sc = scenario('seed000.yaml');
  const state = stateFromObjects(sc.objects);
  for (const node of sc.nodes as string[]) {
    const cfg: ProxyConfig = { ...sc.config, nodeName: node };
    const nat = specText(syncIptables(state, cfg), 'nat');
    t.equal(grep(nat, '10.200.1.118'), sc.grepClusterIP, `${node}: iptables -t nat -S | grep $SVC1`);
    t.equal(grep(nat, 'KUBE-POSTROUTING'), sc.grepPostrouting, `${node}: iptables -t nat -S | grep KUBE-POSTROUTING`);
  }
  const nat = specText(syncIptables(state, sc.config), 'nat');
  const services = nat.split('\n').filter((l) => l.startsWith('-A KUBE-SERVICES '))
    .map((l) => `${/-j (\S+)/.exec(l)![1]} ${/--comment "([^"]+)"/.exec(l)![1]}`);
  t.same(services, sc.kubeServicesTargets, 'KUBE-SERVICES in the seed listing\'s order (cluster IP order)');
  const jumps = nat.split('\n').filter((l) => l.startsWith('-A KUBE-SVC-KBDEBIL6IU6WL7RF -m comment'))
    .map((l) => [/-j (\S+)/.exec(l)![1], /--comment "([^"]+)"/.exec(l)![1], /--probability (\S+)/.exec(l)?.[1] ?? '']);
  t.same(jumps, sc.svcChainJumps, 'KUBE-SVC chain: SEPs, comments, printed probabilities');

  // kubectl patch ... sessionAffinity ClientIP; webpod2 came back at 10.10.2.4.
  const objects = structuredClone(sc.objects) as Array<Record<string, any>>;
  const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'svc-clusterip')!;
  svc.spec.sessionAffinity = 'ClientIP';
  svc.spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  const slice = objects.find((o) => o.kind === 'EndpointSlice' && o.metadata.name === 'svc-clusterip-h2dwm')!;
  slice.endpoints = (sc.affinityEndpoints as string[]).map((ip) => ({ addresses: [ip], conditions: { ready: true } }));
  const sticky = specText(syncIptables(stateFromObjects(objects), sc.config), 'nat');
  t.equal(grep(sticky, 'recent'), sc.grepRecent, 'iptables -t nat -S | grep recent');
});

t.test('seed 000: the restore input is kube-proxy\'s own argument order', async (t) => {
  const sc = scenario('seed000.yaml');
  const text = iptablesRestore(stateFromObjects(sc.objects), sc.config);
  t.equal(grep(text, 'svc-clusterip'), [
    '-A KUBE-SERVICES -m comment --comment "default/svc-clusterip:svc-webport cluster IP" -m tcp -p tcp -d 10.200.1.118 --dport 9000 -j KUBE-SVC-KBDEBIL6IU6WL7RF',
    '-A KUBE-SVC-KBDEBIL6IU6WL7RF -m comment --comment "default/svc-clusterip:svc-webport cluster IP" -m tcp -p tcp -d 10.200.1.118 --dport 9000 ! -s 10.10.0.0/16 -j KUBE-MARK-MASQ',
    '-A KUBE-SVC-KBDEBIL6IU6WL7RF -m comment --comment "default/svc-clusterip:svc-webport -> 10.10.1.2:80" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-TBW2IYJKUCAC7GB3',
    '-A KUBE-SVC-KBDEBIL6IU6WL7RF -m comment --comment "default/svc-clusterip:svc-webport -> 10.10.2.3:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-SZHENXPAXVOCHRDA',
    '-A KUBE-SVC-KBDEBIL6IU6WL7RF -m comment --comment "default/svc-clusterip:svc-webport -> 10.10.3.2:80" -j KUBE-SEP-2TLZC6QOUTI37HEJ',
    '-A KUBE-SEP-TBW2IYJKUCAC7GB3 -m comment --comment default/svc-clusterip:svc-webport -s 10.10.1.2 -j KUBE-MARK-MASQ',
    '-A KUBE-SEP-TBW2IYJKUCAC7GB3 -m comment --comment default/svc-clusterip:svc-webport -m tcp -p tcp -j DNAT --to-destination 10.10.1.2:80',
    '-A KUBE-SEP-SZHENXPAXVOCHRDA -m comment --comment default/svc-clusterip:svc-webport -s 10.10.2.3 -j KUBE-MARK-MASQ',
    '-A KUBE-SEP-SZHENXPAXVOCHRDA -m comment --comment default/svc-clusterip:svc-webport -m tcp -p tcp -j DNAT --to-destination 10.10.2.3:80',
    '-A KUBE-SEP-2TLZC6QOUTI37HEJ -m comment --comment default/svc-clusterip:svc-webport -s 10.10.3.2 -j KUBE-MARK-MASQ',
    '-A KUBE-SEP-2TLZC6QOUTI37HEJ -m comment --comment default/svc-clusterip:svc-webport -m tcp -p tcp -j DNAT --to-destination 10.10.3.2:80',
  ].join('\n') + '\n');
  t.match(text, /^\*filter\n:KUBE-SERVICES - \[0:0\]\n:KUBE-EXTERNAL-SERVICES - \[0:0\]\n:KUBE-FORWARD - \[0:0\]\n:KUBE-NODEPORTS - \[0:0\]\n:KUBE-PROXY-FIREWALL - \[0:0\]\n:KUBE-FIREWALL - \[0:0\]\n/);
  t.match(text, /\nCOMMIT\n\*nat\n:KUBE-SERVICES - \[0:0\]\n:KUBE-NODEPORTS - \[0:0\]\n:KUBE-POSTROUTING - \[0:0\]\n:KUBE-MARK-MASQ - \[0:0\]\n/);
  t.match(text, '-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN\n-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000\n');
  t.match(text, '-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000\n');
  t.ok(text.endsWith('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\nCOMMIT\n'));
});

t.test('upstream TestOverallIPTablesRules: nat and filter exactly as real iptables-save printed them', async (t) => {
  const sc = scenario('upstream_overall.yaml');
  const want = readFileSync(join(dir, 'upstream_overall.save'), 'utf8').split('\n').filter((l) => !l.startsWith('#'));
  const got = saveText(syncIptables(stateFromObjects(sc.objects), sc.config)).split('\n'); // config says kubelet: false
  const table = (lines: string[], name: string) => { const i = lines.indexOf('*' + name); return lines.slice(i, lines.indexOf('COMMIT', i) + 1).join('\n'); };
  t.equal(table(got, 'nat'), table(want, 'nat'));
  t.equal(table(got, 'filter'), table(want, 'filter'));
});

// ---- one case per service type and option ----

const base: ProxyConfig = { nodeName: 'node-a', nodeIP: '192.168.0.2', clusterCIDR: '10.0.0.0/8' };
function svc(o: Partial<ServiceSpec>): ServiceSpec {
  return {
    namespace: 'ns', name: 's', type: 'ClusterIP', clusterIP: '172.30.0.10', ports: [{ name: 'p80', protocol: 'TCP', port: 80, nodePort: 0 }],
    externalIPs: [], loadBalancerIPs: [], loadBalancerSourceRanges: [], sessionAffinity: 'None', stickyMaxAgeSeconds: 10800,
    externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster', healthCheckNodePort: 0, ...o,
  };
}
type Ep = [ip: string, node: string, cond?: Partial<{ ready: boolean; serving: boolean; terminating: boolean }>];
function state(s: ServiceSpec, eps: Ep[], proto: 'TCP' | 'UDP' = 'TCP'): ProxyState {
  return {
    services: [s],
    endpointSlices: [{
      namespace: s.namespace, serviceName: s.name, addressType: 'IPv4', ports: [{ name: 'p80', protocol: proto, port: 8080 }],
      endpoints: eps.map(([ip, nodeName, c]) => ({ ip, nodeName, ready: true, serving: true, terminating: false, ...c })),
    }],
  };
}
const H = 'BZ6WZDDMRJLNKUHW'; // ns/s:p80tcp
t.equal(hash16('ns/s:p80tcp'), H);

interface Case { name: string; st: ProxyState; cfg?: Partial<ProxyConfig>; has?: string[]; lacks?: string[]; kubelet?: boolean }
const remote: Ep = ['10.1.0.5', 'node-b'];
const local: Ep = ['10.1.0.7', 'node-a'];
const cases: Case[] = [
  {
    name: 'ClusterIP', st: state(svc({}), [remote]),
    has: [
      `-A KUBE-SERVICES -d 172.30.0.10/32 -p tcp -m comment --comment "ns/s:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-${H}`,
      `-A KUBE-SVC-${H} ! -s 10.0.0.0/8 -d 172.30.0.10/32 -p tcp -m comment --comment "ns/s:p80 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ`,
      `-A KUBE-SVC-${H} -m comment --comment "ns/s:p80 -> 10.1.0.5:8080" -j KUBE-SEP-`,
    ],
    lacks: ['KUBE-EXT-', 'KUBE-FW-', 'KUBE-SVL-', 'KUBE-NODEPORTS -p'],
  },
  {
    name: 'UDP', st: state(svc({ ports: [{ name: 'p80', protocol: 'UDP', port: 53, nodePort: 0 }] }), [remote], 'UDP'),
    has: ['-A KUBE-SERVICES -d 172.30.0.10/32 -p udp -m comment --comment "ns/s:p80 cluster IP" -m udp --dport 53 -j KUBE-SVC-', '-p udp -m comment --comment "ns/s:p80" -m udp -j DNAT --to-destination 10.1.0.5:8080'],
  },
  {
    name: 'no endpoints: REJECT in filter, nothing in nat', st: state(svc({}), []),
    has: [`-A KUBE-SERVICES -d 172.30.0.10/32 -p tcp -m comment --comment "ns/s:p80 has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable`],
    lacks: ['KUBE-SVC-', 'KUBE-SEP-'],
  },
  {
    name: 'NodePort', st: state(svc({ type: 'NodePort', ports: [{ name: 'p80', protocol: 'TCP', port: 80, nodePort: 30080 }] }), [remote]),
    has: [
      `-A KUBE-NODEPORTS -p tcp -m comment --comment "ns/s:p80" -m tcp --dport 30080 -j KUBE-EXT-${H}`,
      `-A KUBE-EXT-${H} -m comment --comment "masquerade traffic for ns/s:p80 external destinations" -j KUBE-MARK-MASQ`,
      `-A KUBE-EXT-${H} -j KUBE-SVC-${H}`,
    ],
  },
  {
    name: 'NodePort without endpoints: REJECT on the node port',
    st: state(svc({ type: 'NodePort', ports: [{ name: 'p80', protocol: 'TCP', port: 80, nodePort: 30080 }] }), []),
    has: ['-A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment "ns/s:p80 has no endpoints" -m addrtype --dst-type LOCAL -m tcp --dport 30080 -j REJECT --reject-with icmp-port-unreachable'],
    lacks: ['KUBE-EXT-'],
  },
  {
    name: 'externalIPs', st: state(svc({ externalIPs: ['192.168.99.1'] }), [remote]),
    has: [`-A KUBE-SERVICES -d 192.168.99.1/32 -p tcp -m comment --comment "ns/s:p80 external IP" -m tcp --dport 80 -j KUBE-EXT-${H}`],
  },
  {
    name: 'LoadBalancer', st: state(svc({ type: 'LoadBalancer', loadBalancerIPs: ['1.2.3.4'], ports: [{ name: 'p80', protocol: 'TCP', port: 80, nodePort: 31000 }] }), [remote]),
    has: [`-A KUBE-SERVICES -d 1.2.3.4/32 -p tcp -m comment --comment "ns/s:p80 loadbalancer IP" -m tcp --dport 80 -j KUBE-EXT-${H}`],
    lacks: ['KUBE-FW-', 'KUBE-PROXY-FIREWALL -d'],
  },
  {
    name: 'loadBalancerSourceRanges containing the node IP also allow the LB IP as a source',
    st: state(svc({ type: 'LoadBalancer', loadBalancerIPs: ['1.2.3.4'], loadBalancerSourceRanges: ['192.168.0.0/24', ' 203.0.113.7/25'] }), [remote]),
    has: [
      `-A KUBE-SERVICES -d 1.2.3.4/32 -p tcp -m comment --comment "ns/s:p80 loadbalancer IP" -m tcp --dport 80 -j KUBE-FW-${H}`,
      `-A KUBE-FW-${H} -s 192.168.0.0/24 -m comment --comment "ns/s:p80 loadbalancer IP" -j KUBE-EXT-${H}\n-A KUBE-FW-${H} -s 203.0.113.0/25 -m comment --comment "ns/s:p80 loadbalancer IP" -j KUBE-EXT-${H}\n-A KUBE-FW-${H} -s 1.2.3.4/32 -m comment --comment "ns/s:p80 loadbalancer IP" -j KUBE-EXT-${H}\n-A KUBE-FW-${H} -m comment --comment "other traffic to ns/s:p80 will be dropped by KUBE-PROXY-FIREWALL"\n`,
      `-A KUBE-PROXY-FIREWALL -d 1.2.3.4/32 -p tcp -m comment --comment "ns/s:p80 traffic not accepted by KUBE-FW-${H}" -m tcp --dport 80 -j DROP`,
    ],
  },
  {
    name: 'externalTrafficPolicy Local with a local endpoint',
    st: state(svc({ type: 'LoadBalancer', loadBalancerIPs: ['1.2.3.4'], externalTrafficPolicy: 'Local', healthCheckNodePort: 32000, ports: [{ name: 'p80', protocol: 'TCP', port: 80, nodePort: 31000 }] }), [remote, local]),
    has: [
      `-A KUBE-EXT-${H} -s 10.0.0.0/8 -m comment --comment "pod traffic for ns/s:p80 external destinations" -j KUBE-SVC-${H}`,
      `-A KUBE-EXT-${H} -m comment --comment "masquerade LOCAL traffic for ns/s:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
      `-A KUBE-EXT-${H} -m comment --comment "route LOCAL traffic for ns/s:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-${H}\n-A KUBE-EXT-${H} -j KUBE-SVL-${H}\n`,
      `-A KUBE-SVL-${H} -m comment --comment "ns/s:p80 -> 10.1.0.7:8080" -j KUBE-SEP-`,
      `-A KUBE-SVC-${H} -m comment --comment "ns/s:p80 -> 10.1.0.5:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-`,
      '-A KUBE-NODEPORTS -p tcp -m comment --comment "ns/s:p80 health check node port" -m tcp --dport 32000 -j ACCEPT',
    ],
    lacks: [`-A KUBE-SVL-${H} !`, 'has no local endpoints'],
  },
  {
    name: 'externalTrafficPolicy Local without a local endpoint: DROP for outside traffic',
    st: state(svc({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'p80', protocol: 'TCP', port: 80, nodePort: 31000 }] }), [remote]),
    has: [
      '-A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment "ns/s:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp --dport 31000 -j DROP',
      `-A KUBE-EXT-${H} -m comment --comment "route LOCAL traffic for ns/s:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-${H}\n-A KUBE-MARK-MASQ`,
    ],
    lacks: ['KUBE-SVL-'],
  },
  {
    name: 'internalTrafficPolicy Local with a local endpoint', st: state(svc({ internalTrafficPolicy: 'Local' }), [remote, local]),
    has: [
      `-A KUBE-SERVICES -d 172.30.0.10/32 -p tcp -m comment --comment "ns/s:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVL-${H}`,
      `-A KUBE-SVL-${H} ! -s 10.0.0.0/8 -d 172.30.0.10/32 -p tcp -m comment --comment "ns/s:p80 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ\n-A KUBE-SVL-${H} -m comment --comment "ns/s:p80 -> 10.1.0.7:8080" -j KUBE-SEP-`,
    ],
    lacks: [`KUBE-SVC-${H}`, '10.1.0.5'],
  },
  {
    name: 'internalTrafficPolicy Local without a local endpoint', st: state(svc({ internalTrafficPolicy: 'Local' }), [remote]),
    has: ['-A KUBE-SERVICES -d 172.30.0.10/32 -p tcp -m comment --comment "ns/s:p80 has no local endpoints" -m tcp --dport 80 -j DROP'],
    lacks: ['KUBE-SVL-', 'KUBE-SEP-'],
  },
  {
    name: 'sessionAffinity ClientIP', st: state(svc({ sessionAffinity: 'ClientIP', stickyMaxAgeSeconds: 600 }), [remote, local]),
    has: [
      '-m recent --rcheck --seconds 600 --reap --name KUBE-SEP-',
      '-m recent --set --name KUBE-SEP-',
    ],
  },
  {
    name: 'masqueradeAll', st: state(svc({}), [remote]), cfg: { masqueradeAll: true },
    has: [`-A KUBE-SVC-${H} -d 172.30.0.10/32 -p tcp -m comment --comment "ns/s:p80 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ`],
  },
  {
    name: 'no clusterCIDR: no local detector, no cluster IP masquerade rule', st: state(svc({}), [remote]), cfg: { clusterCIDR: undefined },
    lacks: [`-A KUBE-SVC-${H} ! -s`, `-A KUBE-SVC-${H} -d`],
  },
  {
    name: 'detectLocalMode InterfaceNamePrefix', cfg: { detectLocal: { mode: 'InterfaceNamePrefix', prefix: 'veth' } },
    st: state(svc({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'p80', protocol: 'TCP', port: 80, nodePort: 31000 }] }), [local]),
    has: [
      `-A KUBE-SVC-${H} -d 172.30.0.10/32 ! -i veth+ -p tcp -m comment --comment "ns/s:p80 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ`,
      `-A KUBE-EXT-${H} -i veth+ -m comment --comment "pod traffic for ns/s:p80 external destinations" -j KUBE-SVC-${H}`,
    ],
    lacks: ['10.0.0.0/8'],
  },
  {
    name: 'detectLocalMode BridgeInterface', st: state(svc({}), [remote]), cfg: { detectLocal: { mode: 'BridgeInterface', bridge: 'cbr0' } },
    has: [`-A KUBE-SVC-${H} -d 172.30.0.10/32 ! -i cbr0 -p tcp -m comment --comment "ns/s:p80 cluster IP"`],
  },
  {
    name: 'detectLocalMode NodeCIDR', st: state(svc({}), [remote]), cfg: { detectLocal: { mode: 'NodeCIDR', cidr: '10.0.1.0/24' } },
    has: [`-A KUBE-SVC-${H} ! -s 10.0.1.0/24 -d 172.30.0.10/32 -p tcp`],
  },
  {
    name: 'masqueradeBit 15', st: state(svc({}), [remote]), cfg: { masqueradeBit: 15 },
    has: ['-A KUBE-MARK-MASQ -j MARK --set-xmark 0x8000/0x8000', '-A KUBE-POSTROUTING -m mark ! --mark 0x8000/0x8000 -j RETURN', '--mark 0x8000/0x8000 -j ACCEPT'],
  },
  {
    name: 'serving terminating endpoints when none is ready', st: state(svc({}), [['10.1.0.9', 'node-b', { ready: false, serving: true, terminating: true }], ['10.1.0.8', 'node-b', { ready: false, serving: false, terminating: true }]]),
    has: ['--to-destination 10.1.0.9:8080'], lacks: ['10.1.0.8', 'has no endpoints'],
  },
  {
    name: 'endpoints in IP:port string order', st: state(svc({}), [['10.1.0.2', 'node-b'], ['10.1.0.10', 'node-b']]),
    has: [`"ns/s:p80 -> 10.1.0.10:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-`],
  },
  {
    name: 'nodePortAddresses: one KUBE-NODEPORTS jump per matching node address', st: state(svc({}), [remote]),
    cfg: { nodePortAddresses: ['192.168.0.0/16', '127.0.0.0/8'], nodeAddresses: ['192.168.0.2', '192.168.1.9', '172.18.0.2', '127.0.0.1'] },
    has: [
      '-A KUBE-SERVICES -d 192.168.0.2/32 -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -j KUBE-NODEPORTS\n' +
      '-A KUBE-SERVICES -d 192.168.1.9/32 -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -j KUBE-NODEPORTS\n' +
      '-A KUBE-SERVICES -d 127.0.0.1/32 -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -j KUBE-NODEPORTS\n',
    ],
    lacks: ['172.18.0.2', '--dst-type LOCAL -j KUBE-NODEPORTS'],
  },
  {
    name: 'localhostNodePorts false', st: state(svc({}), [remote]), cfg: { localhostNodePorts: false }, kubelet: false,
    has: ['-A KUBE-SERVICES ! -d 127.0.0.0/8 -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS'],
    lacks: ['block incoming localnet connections'],
  },
  {
    name: 'nf_conntrack_tcp_be_liberal set: no INVALID drop', st: state(svc({}), [remote]), cfg: { conntrackTCPBeLiberal: true },
    lacks: ['--ctstate INVALID'],
  },
  {
    name: 'nfacct counters (v1.31+): INVALID drops and localhost node ports counted',
    st: state(svc({ type: 'NodePort', ports: [{ name: 'p80', protocol: 'TCP', port: 80, nodePort: 30080 }] }), [remote]), cfg: { nfacct: true },
    has: [
      '-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name  ct_state_invalid_dropped_pkts -j DROP',
      `-A KUBE-NODEPORTS -d 127.0.0.0/8 -p tcp -m comment --comment "ns/s:p80" -m tcp --dport 30080 -m nfacct --nfacct-name  localhost_nps_accepted_pkts -j KUBE-EXT-${H}\n-A KUBE-NODEPORTS -p tcp -m comment --comment "ns/s:p80" -m tcp --dport 30080 -j KUBE-EXT-${H}\n`,
    ],
  },
  {
    name: 'nfacct without localhost node ports: only the INVALID counter',
    st: state(svc({ type: 'NodePort', ports: [{ name: 'p80', protocol: 'TCP', port: 80, nodePort: 30080 }] }), [remote]), cfg: { nfacct: true, localhostNodePorts: false },
    has: ['--nfacct-name  ct_state_invalid_dropped_pkts'], lacks: ['localhost_nps_accepted_pkts'],
  },
  {
    name: 'kubelet ran first: KUBE-FIREWALL jumps last', st: state(svc({}), [remote]),
    has: ['-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES\n-A INPUT -j KUBE-FIREWALL\n', ':KUBE-KUBELET-CANARY - [0:0]', ':KUBE-IPTABLES-HINT - [0:0]'],
  },
  {
    name: 'kube-proxy alone: KUBE-FIREWALL jumps first', st: state(svc({}), [remote]), kubelet: false,
    has: ['-A INPUT -j KUBE-FIREWALL\n-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL\n'],
    lacks: ['KUBE-KUBELET-CANARY'],
  },
];

t.test('service types and options (saved form)', async (t) => {
  for (const c of cases) {
    const text = saveText(syncIptables(c.st, { ...base, ...c.cfg }), { kubelet: c.kubelet ?? true });
    for (const h of c.has ?? []) t.ok(text.includes(h), `${c.name}: has ${h}`);
    for (const l of c.lacks ?? []) t.notOk(text.includes(l), `${c.name}: lacks ${l}`);
  }
});

t.test('iptables-save header and footer lines when a date is given', async (t) => {
  const text = saveText(syncIptables(state(svc({}), [remote]), base), { date: 'Sun Dec  6 08:14:21 2026' });
  t.match(text, /^# Generated by iptables-save v1\.8\.9 \(nf_tables\) on Sun Dec  6 08:14:21 2026\n\*mangle\n/);
  t.match(text, '\nCOMMIT\n# Completed on Sun Dec  6 08:14:21 2026\n# Generated by iptables-save v1.8.9 (nf_tables) on Sun Dec  6 08:14:21 2026\n*filter\n');
  t.ok(text.endsWith('COMMIT\n# Completed on Sun Dec  6 08:14:21 2026\n'));
});

t.test('a service given twice is proxied once', async (t) => {
  const st = state(svc({}), [remote]);
  st.services.push(svc({ clusterIP: '172.30.0.99' }));
  const text = iptablesRestore(st, base);
  t.equal(text.split('\n').filter((l) => l.startsWith(`:KUBE-SVC-${H} `)).length, 1);
  t.notMatch(text, '172.30.0.99');
});

t.test('headless and ExternalName services get no rules', async (t) => {
  const objs = [
    { kind: 'Service', metadata: { name: 'h', namespace: 'd' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } },
    { kind: 'Service', metadata: { name: 'x', namespace: 'd' }, spec: { type: 'ExternalName', externalName: 'example.com' } },
  ];
  const st = stateFromObjects(objs);
  t.same(st.services, []);
  t.notMatch(iptablesRestore(st, base), /d\/[hx]/);
});

t.test('more than 1000 endpoints: SEP rules and SVC->SEP jumps lose their comments', async (t) => {
  const eps: Ep[] = Array.from({ length: 1001 }, (_, i) => [`10.2.${i >> 8}.${i & 255}`, 'node-b']);
  const text = saveText(syncIptables(state(svc({}), eps), base));
  t.match(text, /\n-A KUBE-SEP-[A-Z2-7]{16} -s 10\.2\.0\.0\/32 -j KUBE-MARK-MASQ\n/);
  t.match(text, /\n-A KUBE-SEP-[A-Z2-7]{16} -p tcp -m tcp -j DNAT --to-destination 10\.2\.0\.0:8080\n/);
  t.match(text, `-A KUBE-SVC-${H} -m statistic --mode random --probability 0.00099900085 -j KUBE-SEP-`);
  t.match(text, `-A KUBE-SERVICES -d 172.30.0.10/32 -p tcp -m comment --comment "ns/s:p80 cluster IP"`, 'KUBE-SERVICES keeps its comments');
  const small = saveText(syncIptables(state(svc({}), eps.slice(0, 1000)), base));
  t.match(small, '-s 10.2.0.0/32 -m comment --comment "ns/s:p80" -j KUBE-MARK-MASQ');
});

t.test('the adapter rejects malformed objects with a message naming the field', async (t) => {
  const bad: Array<[unknown, RegExp]> = [
    [{ metadata: { name: 's' }, spec: { clusterIP: '10.0.0.1', ports: [{ port: 70000 }] } }, /spec\.ports\[0\]\.port/],
    [{ metadata: { name: 's' }, spec: { clusterIP: '10.0.0.1', ports: [{ port: 80, protocol: 'ICMP' }] } }, /unsupported protocol ICMP/],
    [{ metadata: { name: 's' }, spec: { clusterIP: '10.0.0.1', ports: 'x' } }, /spec\.ports: not a list/],
    [{ metadata: { name: 's' }, spec: { type: 'Weird', clusterIP: '10.0.0.1' } }, /unknown type Weird/],
  ];
  for (const [o, re] of bad) t.throws(() => serviceFromJSON(o), re);
  t.throws(() => endpointSliceFromJSON({ metadata: { labels: { 'kubernetes.io/service-name': 's' } }, endpoints: [{ addresses: [7] }] }), /endpoints\[0\]\.addresses\[0\]: not a string/);
  t.ok(new KubeProxyInputError('x') instanceof Error);
  t.equal(endpointSliceFromJSON({ metadata: { name: 'no-label' }, endpoints: [] }), undefined, 'a slice without the service-name label is ignored');
});

t.test('bad configuration: one error naming the field, no rules', async (t) => {
  const st = state(svc({}), [remote]);
  const bad: Array<[Partial<ProxyConfig>, RegExp]> = [
    [{ clusterCIDR: '10.0.0.0/33' }, /^clusterCIDR: Invalid value: "10.0.0.0\/33": must be a valid CIDR/],
    [{ clusterCIDR: '10.0.0.1' }, /^clusterCIDR: /],
    [{ masqueradeBit: 32 }, /^iptables\.masqueradeBit: Invalid value: 32: must be within the range \[0, 31\]/],
    [{ nodeIP: 'node-a' }, /^nodeIP: /],
    [{ nodeName: '' }, /^hostnameOverride: /],
    [{ nodePortAddresses: ['192.168.0.0/16', 'eth0'] }, /^nodePortAddresses: Invalid value: "eth0"/],
    [{ ipvsScheduler: 'fastest' }, /^ipvs\.scheduler: /],
    [{ detectLocal: { mode: 'BridgeInterface', bridge: 'a b' } }, /^detectLocal\.bridgeInterface: /],
    [{ detectLocal: { mode: 'NodeCIDR', cidr: '10.0.1.0' } }, /^detectLocal\.nodeCIDR: /],
  ];
  for (const [c, re] of bad) {
    t.throws(() => syncIptables(st, { ...base, ...c }), re, JSON.stringify(c));
    t.throws(() => syncIpvs(st, { ...base, ...c }), re);
  }
});

t.test('the adapter reads what kube-proxy reads', async (t) => {
  const slice = endpointSliceFromJSON({
    metadata: { namespace: 'd', labels: { 'kubernetes.io/service-name': 's' } },
    ports: [{ port: 80 }, { name: '', port: 81 }, { name: 'x', port: 0 }],
    endpoints: [{ addresses: ['10.1.0.1'] }, { addresses: ['10.1.0.2'], conditions: { ready: false, terminating: true } }, { addresses: [] }],
  })!;
  t.same(slice.ports.map((p) => p.port), [81, 0], 'a port with no name field is skipped (a 0 port is dropped later)');
  t.same(slice.endpoints, [
    { ip: '10.1.0.1', ready: true, serving: true, terminating: false },
    { ip: '10.1.0.2', ready: false, serving: true, terminating: true },
  ], 'unset conditions: ready and serving; an endpoint without addresses is skipped');
  const dual = serviceFromJSON({ metadata: { name: 's' }, spec: { clusterIP: 'fd00::1', clusterIPs: ['fd00::1', '10.96.0.7'], ports: [{ port: 80 }] } })!;
  t.equal(dual.clusterIP, '10.96.0.7', 'dual-stack: the IPv4 cluster IP');
  t.equal(dual.namespace, 'default');
  const np = serviceFromJSON({ metadata: { name: 's' }, spec: { clusterIP: '10.96.0.8', ports: [{ port: 80, nodePort: 30001 }], healthCheckNodePort: 31000, externalTrafficPolicy: 'Local' } })!;
  t.equal(np.ports[0]!.nodePort, 0, 'a ClusterIP service has no node port');
  t.equal(np.healthCheckNodePort, 0, 'nor a health check node port');
  const lb = serviceFromJSON({
    metadata: { name: 's' },
    spec: { type: 'LoadBalancer', clusterIP: '10.96.0.9', ports: [{ port: 80, nodePort: 30001 }], externalTrafficPolicy: 'Local', healthCheckNodePort: 31000 },
    status: { loadBalancer: { ingress: [{ ip: '1.1.1.1' }, { ip: '2.2.2.2', ipMode: 'Proxy' }, { hostname: 'lb.example' }] } },
  })!;
  t.same([lb.loadBalancerIPs, lb.healthCheckNodePort, lb.ports[0]!.nodePort], [['1.1.1.1'], 31000, 30001], 'ipMode Proxy and hostname ingress are not VIPs');
});
