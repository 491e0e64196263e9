// kube-proxy's IPVS generator: the seed 004 node's virtual servers, ipset
// members and kube-ipvs0 addresses from the same services, and the iptables
// rules IPVS mode writes as the reference shows them saved (section 7.3).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import {
  ipsetRestoreText, ipvsadmSaveText, ipvsIptablesRestore, restoreText, saveText, stateFromObjects, syncIpvs, type ProxyConfig, type ServiceSpec, type ProxyState,
} from '../src/kubeproxy/index.ts';
import { ipv4ToInt } from '../src/kubeproxy/ip.ts';

const sc = YAML.parse(readFileSync(join(import.meta.dirname, 'scenarios', 'kubeproxy', 'seed004_ipvs.yaml'), 'utf8'));

/** The seed's `ipvsadm -ln` as [service line, ...real server lines] without counters. */
function seedVirtualServers(text: string): string[][] {
  const out: string[][] = [];
  for (const line of text.split('\n')) {
    const vs = /^(TCP|UDP|SCTP)\s+(\S+) (\S+)$/.exec(line.trim());
    const rs = /^->\s+(\d\S+)\s+Masq\s+(\d+)/.exec(line.trim());
    if (vs) out.push([`${vs[1]} ${vs[2]} ${vs[3]}`]);
    else if (rs) out.at(-1)!.push(`${rs[1]} w${rs[2]}`);
  }
  return out;
}

const PROTO_NUM = { TCP: 6, UDP: 17, SCTP: 132 };

t.test('seed 004: virtual servers, KUBE-CLUSTER-IP and kube-ipvs0 from the same services', async (t) => {
  const s = syncIpvs(stateFromObjects(sc.objects), sc.config as ProxyConfig);
  // ipvsadm lists by protocol number, address, port; real servers by address, port.
  const got = [...s.virtualServers]
    .sort((a, b) => PROTO_NUM[a.protocol] - PROTO_NUM[b.protocol] || ipv4ToInt(a.address) - ipv4ToInt(b.address) || a.port - b.port)
    .map((v) => [`${v.protocol} ${v.address}:${v.port} ${v.scheduler}`,
      ...[...v.realServers].sort((a, b) => ipv4ToInt(a.address) - ipv4ToInt(b.address) || a.port - b.port).map((r) => `${r.address}:${r.port} w${r.weight}`)]);
  t.same(got, seedVirtualServers(sc.ipvsadm));
  t.same([...s.ipsets.find((x) => x.name === 'KUBE-CLUSTER-IP')!.entries].sort(), [...sc.clusterIPMembers].sort());
  t.same(s.dummyAddresses, sc.kubeIpvs0, 'kube-ipvs0 addresses in binding order (cluster IP order)');
  t.same(s.ipsets.find((x) => x.name === 'KUBE-IPVS-IPS')!.entries.length, 5);
  t.same(s.ipsets.find((x) => x.name === 'KUBE-LOOP-BACK')!.entries, ['10.245.0.2,tcp:53,10.245.0.2', '10.245.0.2,tcp:9153,10.245.0.2', '10.245.0.2,udp:53,10.245.0.2'],
    'hairpin entries for the local endpoints only');
  const save = saveText(s);
  for (const line of [
    '-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN',
    '-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE',
    '-A KUBE-SERVICES ! -s 10.245.0.0/16 -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ',
    '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT',
    '-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT',
    '-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT --reject-with icmp-port-unreachable',
    '-A KUBE-NODE-PORT -m comment --comment "Kubernetes health check node port" -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT',
    '-A INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER',
    '-A OUTPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-OUT-FILTER',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
  ]) t.ok(save.includes(line + '\n'), line);
  t.notOk(save.includes('--ctstate INVALID'), 'no INVALID drop in IPVS mode');
  t.notOk(save.includes('KUBE-SVC-'), 'no per-service chains');
  t.notOk(save.includes('"Kubernetes service lb portal"'), 'empty sets get no rules');
  const restore = restoreText(s, ['nat', 'filter']);
  t.equal(ipvsIptablesRestore(stateFromObjects(sc.objects), sc.config as ProxyConfig), restore);
  t.match(restore, /^\*nat\n:KUBE-SERVICES - \[0:0\]\n:KUBE-POSTROUTING - \[0:0\]\n:KUBE-NODE-PORT - \[0:0\]\n:KUBE-LOAD-BALANCER - \[0:0\]\n:KUBE-MARK-MASQ - \[0:0\]\n-A KUBE-SERVICES -s 127.0.0.0\/8 -j RETURN\n/);
  t.match(restore, '-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst ! -s 10.245.0.0/16 -j KUBE-MARK-MASQ\n');
  t.match(ipvsadmSaveText(s), '-A -t 10.225.122.243:80 -s rr\n-a -t 10.225.122.243:80 -r 10.245.1.131:8080 -m -w 1\n-a -t 10.225.122.243:80 -r 10.245.1.133:8080 -m -w 1\n');
  t.match(ipvsadmSaveText(s), '-A -u 10.225.0.3:53 -s rr\n');
  const ipset = ipsetRestoreText(s);
  t.match(ipset, 'create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536\nadd KUBE-CLUSTER-IP 10.225.0.1,tcp:443\nadd KUBE-CLUSTER-IP 10.225.0.3,tcp:53\n');
  t.match(ipset, 'create KUBE-NODE-PORT-TCP bitmap:port range 0-65535\ncreate');
});

function svc(o: Partial<ServiceSpec>): ServiceSpec {
  return {
    namespace: 'ns', name: 's', type: 'ClusterIP', clusterIP: '10.96.0.50', ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 0 }],
    externalIPs: [], loadBalancerIPs: [], loadBalancerSourceRanges: [], sessionAffinity: 'None', stickyMaxAgeSeconds: 10800,
    externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster', healthCheckNodePort: 0, ...o,
  };
}
const oneSvc = (s: ServiceSpec, proto: 'TCP' | 'UDP' | 'SCTP' = 'TCP'): ProxyState => ({
  services: [s],
  endpointSlices: [{
    namespace: 'ns', serviceName: 's', addressType: 'IPv4', ports: [{ name: 'http', protocol: proto, port: 8080 }],
    endpoints: [
      { ip: '10.244.1.5', ready: true, serving: true, terminating: false, nodeName: 'n2' },
      { ip: '10.244.0.9', ready: true, serving: true, terminating: false, nodeName: 'n1' },
    ],
  }],
});
const cfg: ProxyConfig = { nodeName: 'n1', nodeIP: '172.18.0.2', nodeAddresses: ['172.18.0.2', '127.0.0.1'], clusterCIDR: '10.244.0.0/16' };

t.test('IPVS: NodePort, LoadBalancer with Local policy and source ranges, affinity, externalIPs, SCTP', async (t) => {
  const lb = syncIpvs(oneSvc(svc({
    type: 'LoadBalancer', loadBalancerIPs: ['1.2.3.4'], loadBalancerSourceRanges: ['203.0.113.0/25'], externalTrafficPolicy: 'Local',
    healthCheckNodePort: 32000, sessionAffinity: 'ClientIP', externalIPs: ['192.168.99.9'], ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30080 }],
  })), cfg);
  const set = (n: string) => lb.ipsets.find((x) => x.name === n)!.entries;
  t.same(set('KUBE-NODE-PORT-TCP'), ['30080']);
  t.same(set('KUBE-NODE-PORT-LOCAL-TCP'), ['30080']);
  t.same(set('KUBE-LOAD-BALANCER'), ['1.2.3.4,tcp:80']);
  t.same(set('KUBE-LOAD-BALANCER-LOCAL'), ['1.2.3.4,tcp:80']);
  t.same(set('KUBE-LOAD-BALANCER-FW'), ['1.2.3.4,tcp:80']);
  t.same(set('KUBE-LOAD-BALANCER-SOURCE-CIDR'), ['1.2.3.4,tcp:80,203.0.113.0/25']);
  t.same(set('KUBE-LOAD-BALANCER-SOURCE-IP'), [], 'the node IP is outside the source ranges');
  t.same(set('KUBE-EXTERNAL-IP-LOCAL'), ['192.168.99.9,tcp:80']);
  t.same(set('KUBE-HEALTH-CHECK-NODE-PORT'), ['32000']);
  t.same(lb.dummyAddresses, ['10.96.0.50', '192.168.99.9', '1.2.3.4']);
  const vs = lb.virtualServers.map((v) => `${v.address}:${v.port} p=${v.persistent} -> ${v.realServers.map((r) => r.address).join(',')}`);
  t.same(vs, [
    '10.96.0.50:80 p=10800 -> 10.244.0.9,10.244.1.5',
    '192.168.99.9:80 p=10800 -> 10.244.0.9',
    '1.2.3.4:80 p=10800 -> 10.244.0.9',
    '172.18.0.2:30080 p=10800 -> 10.244.0.9',
  ], 'cluster IP keeps every endpoint; external destinations only the local one; no NodePort on 127.0.0.1');
  t.match(ipvsadmSaveText(lb), '-A -t 172.18.0.2:30080 -s rr -p 10800\n-a -t 172.18.0.2:30080 -r 10.244.0.9:8080 -m -w 1\n');
  const save = saveText(lb);
  for (const line of [
    '-A KUBE-SERVICES -m comment --comment "Kubernetes service lb portal" -m set --match-set KUBE-LOAD-BALANCER dst,dst -j KUBE-LOAD-BALANCER',
    '-A KUBE-LOAD-BALANCER -m comment --comment "Kubernetes service load balancer ip + port with externalTrafficPolicy=local" -m set --match-set KUBE-LOAD-BALANCER-LOCAL dst,dst -j RETURN',
    '-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port with externalTrafficPolicy=local" -m set --match-set KUBE-NODE-PORT-LOCAL-TCP dst -j RETURN',
    '-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ',
    '-A KUBE-PROXY-FIREWALL -m comment --comment "Kubernetes service load balancer ip + port for load balancer with sourceRange" -m set --match-set KUBE-LOAD-BALANCER-FW dst,dst -j KUBE-SOURCE-RANGES-FIREWALL',
    '-A KUBE-SOURCE-RANGES-FIREWALL -m comment --comment "Kubernetes service load balancer ip + port + source cidr for packet filter purpose" -m set --match-set KUBE-LOAD-BALANCER-SOURCE-CIDR dst,dst,src -j RETURN',
    '-A KUBE-SOURCE-RANGES-FIREWALL -j DROP',
    '-A KUBE-IPVS-OUT-FILTER -s 1.2.3.4/32 -m ipvs --vproto 6 --vaddr 1.2.3.4/32 --vport 80 -j DROP',
    '-A KUBE-SERVICES -m comment --comment "Kubernetes service external ip + port with externalTrafficPolicy=local" -m set --match-set KUBE-EXTERNAL-IP-LOCAL dst,dst -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT',
    '-A KUBE-SERVICES -m comment --comment "Kubernetes service external ip + port with externalTrafficPolicy=local" -m set --match-set KUBE-EXTERNAL-IP-LOCAL dst,dst -m addrtype --dst-type LOCAL -j ACCEPT',
    '-A KUBE-SERVICES -m set --match-set KUBE-LOAD-BALANCER dst,dst -j ACCEPT',
  ]) t.ok(save.includes(line + '\n'), line);
  t.match(restoreText(lb, ['nat', 'filter']), '-A KUBE-IPVS-OUT-FILTER -s 1.2.3.4 -m ipvs --vaddr 1.2.3.4 --vproto tcp --vport 80 -j DROP\n');

  const sctp = syncIpvs(oneSvc(svc({ type: 'NodePort', ports: [{ name: 'http', protocol: 'SCTP', port: 80, nodePort: 30090 }] }), 'SCTP'), { ...cfg, masqueradeAll: true });
  t.same(sctp.ipsets.find((x) => x.name === 'KUBE-NODE-PORT-SCTP-HASH')!.entries, ['172.18.0.2,sctp:30090']);
  t.ok(saveText(sctp).includes('-A KUBE-NODE-PORT -p sctp -m comment --comment "Kubernetes nodeport SCTP port for masquerade purpose with type \\\'hash ip:port\\\'" -m set --match-set KUBE-NODE-PORT-SCTP-HASH dst,dst -j KUBE-MARK-MASQ\n'), 'iptables-save escapes the quote');
  t.ok(saveText(sctp).includes('-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ\n'), 'masqueradeAll');
  const noDetector = syncIpvs(oneSvc(svc({})), { ...cfg, clusterCIDR: undefined, ipvsScheduler: 'lc' });
  t.ok(saveText(noDetector).includes('-m set --match-set KUBE-CLUSTER-IP src,dst -j KUBE-MARK-MASQ\n'), 'no local detector: src,dst');
  t.equal(noDetector.virtualServers[0]!.scheduler, 'lc');
});
