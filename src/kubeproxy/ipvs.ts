// kube-proxy's IPVS proxier (pkg/proxy/ipvs/proxier.go syncProxyRules and
// writeIptablesRules, v1.30/1.31) as a pure function: the virtual servers
// and real servers it programs, the addresses it binds to kube-ipvs0, the
// ipsets it fills, and the iptables rules it restores (nat, then filter).
// IPv4 only; graceful termination (weight 0 before deletion) is not modelled.

import { categorize, servicePorts, type Endpoint, type ServicePort } from './model.ts';
import { cidrContains, isLoopback } from './ip.ts';
import { masqueradeMark, nodePortIPs, type JumpRule, type TableRules } from './iptables.ts';
import {
  addrtype, comment, ctstate, jump, markMatch, masquerade, match, matchSet, orMark, proto, reject, src, xorMark, type Rule,
} from './rule.ts';
import type { Protocol, ProxyConfig, ProxyState } from './types.ts';
import type { RuleSync } from './text.ts';

export type IpsetType = 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'hash:ip' | 'bitmap:port';

export interface IpsetSpec {
  name: string;
  type: IpsetType;
  /** The set's purpose, used as the `-m comment` of the rules that match it. */
  comment: string;
  /** Entry strings as `ipset add` takes them (`10.96.0.1,tcp:443`, `30080`), sorted. */
  entries: string[];
}

export interface RealServer { address: string; port: number; weight: number }

export interface VirtualServer {
  address: string;
  port: number;
  protocol: Protocol;
  scheduler: string;
  /** ClientIP affinity: the persistence timeout in seconds. */
  persistent?: number;
  /** ServicePortName.String() of the service port it serves. */
  service: string;
  realServers: RealServer[];
}

export interface IpvsSync extends RuleSync {
  virtualServers: VirtualServer[];
  /** Addresses bound to kube-ipvs0 (/32 each), in binding order; also KUBE-IPVS-IPS. */
  dummyAddresses: string[];
  ipsets: IpsetSpec[];
}

/** ipsetInfo, in kube-proxy's order (pkg/proxy/ipvs/ipset.go). */
const IPSETS: Array<[string, IpsetType, string]> = [
  ['KUBE-LOOP-BACK', 'hash:ip,port,ip', 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose'],
  ['KUBE-CLUSTER-IP', 'hash:ip,port', 'Kubernetes service cluster ip + port for masquerade purpose'],
  ['KUBE-EXTERNAL-IP', 'hash:ip,port', 'Kubernetes service external ip + port for masquerade and filter purpose'],
  ['KUBE-EXTERNAL-IP-LOCAL', 'hash:ip,port', 'Kubernetes service external ip + port with externalTrafficPolicy=local'],
  ['KUBE-LOAD-BALANCER', 'hash:ip,port', 'Kubernetes service lb portal'],
  ['KUBE-LOAD-BALANCER-FW', 'hash:ip,port', 'Kubernetes service load balancer ip + port for load balancer with sourceRange'],
  ['KUBE-LOAD-BALANCER-LOCAL', 'hash:ip,port', 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local'],
  ['KUBE-LOAD-BALANCER-SOURCE-IP', 'hash:ip,port,ip', 'Kubernetes service load balancer ip + port + source IP for packet filter purpose'],
  ['KUBE-LOAD-BALANCER-SOURCE-CIDR', 'hash:ip,port,net', 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose'],
  ['KUBE-NODE-PORT-TCP', 'bitmap:port', 'Kubernetes nodeport TCP port for masquerade purpose'],
  ['KUBE-NODE-PORT-LOCAL-TCP', 'bitmap:port', 'Kubernetes nodeport TCP port with externalTrafficPolicy=local'],
  ['KUBE-NODE-PORT-UDP', 'bitmap:port', 'Kubernetes nodeport UDP port for masquerade purpose'],
  ['KUBE-NODE-PORT-LOCAL-UDP', 'bitmap:port', 'Kubernetes nodeport UDP port with externalTrafficPolicy=local'],
  ['KUBE-NODE-PORT-SCTP-HASH', 'hash:ip,port', "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'"],
  ['KUBE-NODE-PORT-LOCAL-SCTP-HASH', 'hash:ip,port', "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'"],
  ['KUBE-HEALTH-CHECK-NODE-PORT', 'bitmap:port', 'Kubernetes health check node port'],
  ['KUBE-IPVS-IPS', 'hash:ip', 'Addresses on the ipvs interface'],
];

/** ipsetWithIptablesChain: [set, table, from chain, to, match flags, -p]. */
const SET_RULES: Array<[string, 'nat' | 'filter', string, string, string, string]> = [
  ['KUBE-LOOP-BACK', 'nat', 'KUBE-POSTROUTING', 'MASQUERADE', 'dst,dst,src', ''],
  ['KUBE-LOAD-BALANCER', 'nat', 'KUBE-SERVICES', 'KUBE-LOAD-BALANCER', 'dst,dst', ''],
  ['KUBE-LOAD-BALANCER-LOCAL', 'nat', 'KUBE-LOAD-BALANCER', 'RETURN', 'dst,dst', ''],
  ['KUBE-NODE-PORT-LOCAL-TCP', 'nat', 'KUBE-NODE-PORT', 'RETURN', 'dst', 'tcp'],
  ['KUBE-NODE-PORT-TCP', 'nat', 'KUBE-NODE-PORT', 'KUBE-MARK-MASQ', 'dst', 'tcp'],
  ['KUBE-NODE-PORT-LOCAL-UDP', 'nat', 'KUBE-NODE-PORT', 'RETURN', 'dst', 'udp'],
  ['KUBE-NODE-PORT-UDP', 'nat', 'KUBE-NODE-PORT', 'KUBE-MARK-MASQ', 'dst', 'udp'],
  ['KUBE-NODE-PORT-LOCAL-SCTP-HASH', 'nat', 'KUBE-NODE-PORT', 'RETURN', 'dst,dst', 'sctp'],
  ['KUBE-NODE-PORT-SCTP-HASH', 'nat', 'KUBE-NODE-PORT', 'KUBE-MARK-MASQ', 'dst,dst', 'sctp'],
  ['KUBE-LOAD-BALANCER-FW', 'filter', 'KUBE-PROXY-FIREWALL', 'KUBE-SOURCE-RANGES-FIREWALL', 'dst,dst', ''],
  ['KUBE-LOAD-BALANCER-SOURCE-CIDR', 'filter', 'KUBE-SOURCE-RANGES-FIREWALL', 'RETURN', 'dst,dst,src', ''],
  ['KUBE-LOAD-BALANCER-SOURCE-IP', 'filter', 'KUBE-SOURCE-RANGES-FIREWALL', 'RETURN', 'dst,dst,src', ''],
];

const IPVS_JUMPS: Array<['filter' | 'nat', string, string, string]> = [
  ['nat', 'OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals'],
  ['nat', 'PREROUTING', 'KUBE-SERVICES', 'kubernetes service portals'],
  ['nat', 'POSTROUTING', 'KUBE-POSTROUTING', 'kubernetes postrouting rules'],
  ['filter', 'FORWARD', 'KUBE-FORWARD', 'kubernetes forwarding rules'],
  ['filter', 'INPUT', 'KUBE-NODE-PORT', 'kubernetes health check rules'],
  ['filter', 'INPUT', 'KUBE-PROXY-FIREWALL', 'kube-proxy firewall rules'],
  ['filter', 'FORWARD', 'KUBE-PROXY-FIREWALL', 'kube-proxy firewall rules'],
  ['filter', 'INPUT', 'KUBE-IPVS-FILTER', 'kubernetes ipvs access filter'],
  ['filter', 'OUTPUT', 'KUBE-IPVS-OUT-FILTER', 'kubernetes ipvs access filter'],
];

const PROTO_NUM: Record<string, number> = { tcp: 6, udp: 17, sctp: 132 };

class Sets {
  readonly m = new Map<string, Set<string>>(IPSETS.map(([n]) => [n, new Set<string>()]));
  add(name: string, entry: string): void { this.m.get(name)!.add(entry); }
  empty(name: string): boolean { return this.m.get(name)!.size === 0; }
}

/** syncEndpoint's choice: local endpoints when the policy is Local and there are some, else the cluster ones. */
function realServers(sp: ServicePort, onlyNodeLocal: boolean): RealServer[] {
  const { cluster, local } = categorize(sp);
  const eps: Endpoint[] = onlyNodeLocal && local.length > 0 ? local : cluster;
  return eps.map((e) => ({ address: e.ip, port: e.port, weight: 1 }));
}

/** One full sync of the IPVS proxier. */
export function syncIpvs(state: ProxyState, cfg: ProxyConfig): IpvsSync {
  const ports = servicePorts(state, cfg);
  const scheduler = cfg.ipvsScheduler || 'rr';
  const sets = new Sets();
  const virtualServers: VirtualServer[] = [];
  const bound = new Set<string>(); // insertion order = binding order
  const bind = (ip: string) => { bound.add(ip); };
  const nodeAddrs = cfg.nodeAddresses ?? [cfg.nodeIP, '127.0.0.1'];
  const matchAll = (cfg.nodePortAddresses ?? []).length === 0 || (cfg.nodePortAddresses ?? []).some((c) => c.trim() === '0.0.0.0/0');
  // Node addresses outside kube-ipvs0; loopback never gets NodePort virtual servers.
  const nodeIPs = (matchAll ? nodeAddrs : nodePortIPs(cfg)).filter((a) => !isLoopback(a));
  const lbNoNodeAccess: Array<[string, string, number]> = [];

  for (const sp of ports) {
    const vs = (address: string, port: number, onlyLocal: boolean) => virtualServers.push({
      address, port, protocol: sp.protocol, scheduler, ...(sp.affinity ? { persistent: sp.stickySeconds } : {}),
      service: sp.name, realServers: realServers(sp, onlyLocal),
    });
    const ipPort = (ip: string) => `${ip},${sp.proto}:${sp.port}`;
    for (const e of sp.endpoints) if (e.local) sets.add('KUBE-LOOP-BACK', `${e.ip},${sp.proto}:${e.port},${e.ip}`);

    sets.add('KUBE-CLUSTER-IP', ipPort(sp.clusterIP));
    vs(sp.clusterIP, sp.port, sp.internalPolicyLocal);
    bind(sp.clusterIP);

    for (const ip of sp.externalIPs) {
      sets.add(sp.externalPolicyLocal ? 'KUBE-EXTERNAL-IP-LOCAL' : 'KUBE-EXTERNAL-IP', ipPort(ip));
      vs(ip, sp.port, sp.externalPolicyLocal);
      if (!nodeAddrs.includes(ip)) bind(ip);
    }
    for (const ip of sp.lbIPs) {
      sets.add('KUBE-LOAD-BALANCER', ipPort(ip));
      if (sp.externalPolicyLocal) sets.add('KUBE-LOAD-BALANCER-LOCAL', ipPort(ip));
      if (sp.sourceRanges.length > 0) {
        sets.add('KUBE-LOAD-BALANCER-FW', ipPort(ip));
        let allowFromNode = false;
        for (const cidr of sp.sourceRanges) {
          sets.add('KUBE-LOAD-BALANCER-SOURCE-CIDR', `${ipPort(ip)},${cidr}`);
          if (cidrContains(cidr, cfg.nodeIP)) allowFromNode = true;
        }
        if (allowFromNode) sets.add('KUBE-LOAD-BALANCER-SOURCE-IP', `${ipPort(ip)},${ip}`);
        else lbNoNodeAccess.push([ip, sp.proto, sp.port]);
      }
      vs(ip, sp.port, sp.externalPolicyLocal);
      if (!nodeAddrs.includes(ip)) bind(ip);
    }
    if (sp.nodePort !== 0 && nodeIPs.length > 0) {
      const sctp = sp.proto === 'sctp';
      const entries = sctp ? nodeIPs.map((ip) => `${ip},sctp:${sp.nodePort}`) : [String(sp.nodePort)];
      const suffix = sctp ? 'SCTP-HASH' : sp.proto.toUpperCase();
      for (const e of entries) sets.add(`KUBE-NODE-PORT-${suffix}`, e);
      if (sp.externalPolicyLocal) for (const e of entries) sets.add(`KUBE-NODE-PORT-LOCAL-${suffix}`, e);
      for (const ip of nodeIPs) vs(ip, sp.nodePort, sp.externalPolicyLocal);
    }
    if (sp.healthCheckNodePort !== 0) sets.add('KUBE-HEALTH-CHECK-NODE-PORT', String(sp.healthCheckNodePort));
  }
  for (const ip of bound) sets.add('KUBE-IPVS-IPS', ip);

  const { filter, nat } = ipvsRules(cfg, sets, lbNoNodeAccess);
  const jumps: JumpRule[] = IPVS_JUMPS.map(([table, from, to, text]) => ({ table, rule: { chain: from, parts: [comment(text)], target: jump(to) } }));
  const ipsets = IPSETS.map(([name, type, c]) => ({ name, type, comment: c, entries: sortEntries(sets.m.get(name)!) }));
  return { filter, nat, jumps, kubelet: cfg.kubelet ?? true, virtualServers, dummyAddresses: [...bound], ipsets };
}

/** Entries sorted numerically by address, then port (ipset's own order is its hash order). */
function sortEntries(entries: Set<string>): string[] {
  const keyed = [...entries].map((e) => ({ e, k: e.split(/[,.:/]/).map((x) => (/^\d+$/.test(x) ? x.padStart(5, '0') : x)).join('.') }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  return keyed.map((x) => x.e);
}

/** writeIptablesRules (+ acceptIPVSTraffic), in its emission order. */
function ipvsRules(cfg: ProxyConfig, sets: Sets, lbNoNodeAccess: Array<[string, string, number]>): { filter: TableRules; nat: TableRules } {
  const mark = masqueradeMark(cfg.masqueradeBit ?? 14);
  const nat: TableRules = { chains: ['KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-NODE-PORT', 'KUBE-LOAD-BALANCER', 'KUBE-MARK-MASQ'], rules: [] };
  const filter: TableRules = {
    chains: ['KUBE-FORWARD', 'KUBE-NODE-PORT', 'KUBE-PROXY-FIREWALL', 'KUBE-SOURCE-RANGES-FIREWALL', 'KUBE-IPVS-FILTER', 'KUBE-IPVS-OUT-FILTER'], rules: [],
  };
  const commentOf = (set: string) => IPSETS.find(([n]) => n === set)![2];
  const push = (t: 'nat' | 'filter', r: Rule) => (t === 'nat' ? nat : filter).rules.push(r);

  nat.rules.push({ chain: 'KUBE-SERVICES', parts: [src('127.0.0.0/8')], target: jump('RETURN') });
  for (const [set, table, from, to, flags, p] of SET_RULES) {
    if (sets.empty(set)) continue;
    push(table, { chain: from, parts: [...(p ? [proto(p, false)] : []), comment(commentOf(set)), matchSet(set, flags)], target: jump(to) });
  }
  if (!sets.empty('KUBE-CLUSTER-IP')) {
    const head = [comment(commentOf('KUBE-CLUSTER-IP'))];
    if (cfg.masqueradeAll) nat.rules.push({ chain: 'KUBE-SERVICES', parts: [...head, matchSet('KUBE-CLUSTER-IP', 'dst,dst')], target: jump('KUBE-MARK-MASQ') });
    else if (cfg.clusterCIDR) {
      nat.rules.push({ chain: 'KUBE-SERVICES', parts: [...head, matchSet('KUBE-CLUSTER-IP', 'dst,dst'), src(cfg.clusterCIDR, true)], target: jump('KUBE-MARK-MASQ') });
    } else nat.rules.push({ chain: 'KUBE-SERVICES', parts: [...head, matchSet('KUBE-CLUSTER-IP', 'src,dst')], target: jump('KUBE-MARK-MASQ') });
  }
  const externalIPRules = (set: string) => {
    const head = [comment(commentOf(set)), matchSet(set, 'dst,dst')];
    nat.rules.push(
      { chain: 'KUBE-SERVICES', parts: [...head, match('-m physdev ! --physdev-is-in'), addrtype('src', true)], target: jump('ACCEPT') },
      { chain: 'KUBE-SERVICES', parts: [...head, addrtype('dst')], target: jump('ACCEPT') },
    );
  };
  if (!sets.empty('KUBE-EXTERNAL-IP')) {
    nat.rules.push({ chain: 'KUBE-SERVICES', parts: [comment(commentOf('KUBE-EXTERNAL-IP')), matchSet('KUBE-EXTERNAL-IP', 'dst,dst')], target: jump('KUBE-MARK-MASQ') });
    externalIPRules('KUBE-EXTERNAL-IP');
  }
  if (!sets.empty('KUBE-EXTERNAL-IP-LOCAL')) externalIPRules('KUBE-EXTERNAL-IP-LOCAL');
  nat.rules.push({ chain: 'KUBE-SERVICES', parts: [addrtype('dst')], target: jump('KUBE-NODE-PORT') });
  nat.rules.push({ chain: 'KUBE-LOAD-BALANCER', parts: [], target: jump('KUBE-MARK-MASQ') });
  filter.rules.push({ chain: 'KUBE-SOURCE-RANGES-FIREWALL', parts: [], target: jump('DROP') });
  for (const [ip, p, port] of lbNoNodeAccess) {
    filter.rules.push({
      chain: 'KUBE-IPVS-OUT-FILTER',
      parts: [src(ip), match(`-m ipvs --vaddr ${ip} --vproto ${p} --vport ${port}`, `-m ipvs --vproto ${PROTO_NUM[p]} --vaddr ${ip}/32 --vport ${port}`)],
      target: jump('DROP'),
    });
  }
  for (const set of ['KUBE-CLUSTER-IP', 'KUBE-LOAD-BALANCER']) {
    if (!sets.empty(set)) nat.rules.push({ chain: 'KUBE-SERVICES', parts: [matchSet(set, 'dst,dst')], target: jump('ACCEPT') });
  }
  filter.rules.push(
    { chain: 'KUBE-FORWARD', parts: [comment('kubernetes forwarding rules'), markMatch(mark)], target: jump('ACCEPT') },
    { chain: 'KUBE-FORWARD', parts: [comment('kubernetes forwarding conntrack rule'), ctstate('RELATED,ESTABLISHED')], target: jump('ACCEPT') },
    {
      chain: 'KUBE-NODE-PORT', parts: [comment(commentOf('KUBE-HEALTH-CHECK-NODE-PORT')), matchSet('KUBE-HEALTH-CHECK-NODE-PORT', 'dst')], target: jump('ACCEPT'),
    },
  );
  for (const set of ['KUBE-LOAD-BALANCER', 'KUBE-CLUSTER-IP', 'KUBE-EXTERNAL-IP', 'KUBE-EXTERNAL-IP-LOCAL']) {
    filter.rules.push({ chain: 'KUBE-IPVS-FILTER', parts: [matchSet(set, 'dst,dst')], target: jump('RETURN') });
  }
  filter.rules.push(
    { chain: 'KUBE-IPVS-FILTER', parts: [matchSet('KUBE-HEALTH-CHECK-NODE-PORT', 'dst')], target: jump('RETURN') },
    { chain: 'KUBE-IPVS-FILTER', parts: [ctstate('NEW'), matchSet('KUBE-IPVS-IPS', 'dst')], target: reject() },
  );
  nat.rules.push(
    { chain: 'KUBE-POSTROUTING', parts: [markMatch(mark, true)], target: jump('RETURN') },
    { chain: 'KUBE-POSTROUTING', parts: [], target: xorMark(mark) },
    { chain: 'KUBE-POSTROUTING', parts: [comment('kubernetes service traffic requiring SNAT')], target: masquerade() },
    { chain: 'KUBE-MARK-MASQ', parts: [], target: orMark(mark) },
  );
  return { filter, nat };
}

// ---- text forms: what `ipvsadm-restore` and `ipset restore` take ----

const PROTO_FLAG: Record<Protocol, string> = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' };

/** `ipvsadm -S -n` (and `ipvsadm-restore` input): `-A` per virtual server, `-a` per real server (Masq). */
export function ipvsadmSaveText(s: IpvsSync): string {
  const out: string[] = [];
  for (const v of s.virtualServers) {
    const svc = `${PROTO_FLAG[v.protocol]} ${v.address}:${v.port}`;
    out.push(`-A ${svc} -s ${v.scheduler}${v.persistent !== undefined ? ` -p ${v.persistent}` : ''}`);
    for (const r of v.realServers) out.push(`-a ${svc} -r ${r.address}:${r.port} -m -w ${r.weight}`);
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** `ipset restore` input: `create` per set (kube-proxy's parameters), `add` per entry. */
export function ipsetRestoreText(s: IpvsSync): string {
  const out: string[] = [];
  for (const set of s.ipsets) {
    out.push(set.type === 'bitmap:port'
      ? `create ${set.name} bitmap:port range 0-65535`
      : `create ${set.name} ${set.type} family inet hashsize 1024 maxelem 65536`);
    for (const e of set.entries) out.push(`add ${set.name} ${e}`);
  }
  return out.join('\n') + '\n';
}
