// The iptables rules of kube-proxy's IPVS proxier (pkg/proxy/ipvs/proxier.go
// writeIptablesRules, acceptIPVSTraffic, iptablesJumpChain), in emission order.

import { masqueradeMark, type JumpRule, type TableRules } from './iptables.ts';
import { ipsetComment, type Sets } from './ipvs_sets.ts';
import { addrtype, comment, ctstate, jump, markMatch, masquerade, match, matchSet, orMark, proto, reject, src, xorMark, type Rule } from './rule.ts';
import type { ProxyConfig } from './types.ts';
import { ifNotLocal } from './detect.ts';

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

/** The jumps from the built-in chains (ensured with `-I`, outside the restore input). */
export const ipvsJumps = (): JumpRule[] =>
  IPVS_JUMPS.map(([table, from, to, text]) => ({ table, rule: { chain: from, parts: [comment(text)], target: jump(to) } }));

/** writeIptablesRules (+ acceptIPVSTraffic), in its emission order. */
export function ipvsRules(cfg: ProxyConfig, sets: Sets, lbNoNodeAccess: Array<[string, string, number]>): { filter: TableRules; nat: TableRules } {
  const mark = masqueradeMark(cfg.masqueradeBit ?? 14);
  const nat: TableRules = { chains: ['KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-NODE-PORT', 'KUBE-LOAD-BALANCER', 'KUBE-MARK-MASQ'], rules: [] };
  const filter: TableRules = {
    chains: ['KUBE-FORWARD', 'KUBE-NODE-PORT', 'KUBE-PROXY-FIREWALL', 'KUBE-SOURCE-RANGES-FIREWALL', 'KUBE-IPVS-FILTER', 'KUBE-IPVS-OUT-FILTER'], rules: [],
  };
  const commentOf = ipsetComment;
  const push = (t: 'nat' | 'filter', r: Rule) => (t === 'nat' ? nat : filter).rules.push(r);

  nat.rules.push({ chain: 'KUBE-SERVICES', parts: [src('127.0.0.0/8')], target: jump('RETURN') });
  for (const [set, table, from, to, flags, p] of SET_RULES) {
    if (sets.empty(set)) continue;
    push(table, { chain: from, parts: [...(p ? [proto(p, false)] : []), comment(commentOf(set)), matchSet(set, flags)], target: jump(to) });
  }
  if (!sets.empty('KUBE-CLUSTER-IP')) {
    const head = [comment(commentOf('KUBE-CLUSTER-IP'))];
    if (cfg.masqueradeAll) nat.rules.push({ chain: 'KUBE-SERVICES', parts: [...head, matchSet('KUBE-CLUSTER-IP', 'dst,dst')], target: jump('KUBE-MARK-MASQ') });
    else if (ifNotLocal(cfg)) {
      nat.rules.push({ chain: 'KUBE-SERVICES', parts: [...head, matchSet('KUBE-CLUSTER-IP', 'dst,dst'), ifNotLocal(cfg)!], target: jump('KUBE-MARK-MASQ') });
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

