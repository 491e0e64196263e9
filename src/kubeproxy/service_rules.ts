// The rules of one service port, in the order syncProxyRules writes them
// (pkg/proxy/iptables/proxier.go): the captures (KUBE-SERVICES, KUBE-NODEPORTS
// and the filter REJECT/DROP rules), the cluster IP masquerade rule, KUBE-EXT,
// KUBE-FW, KUBE-SVC / KUBE-SVL and the KUBE-SEP chains.

import {
  addrtype, comment, dnat, dport, dst, jump, nfacct, probability, proto, recentCheck, recentSet, reject, src, statistic,
  type Part, type Rule, type Target,
} from './rule.ts';
import { categorize, type Categorized, type Endpoint, type ServicePort } from './model.ts';
import { cidrContains } from './ip.ts';
import { ifLocal, ifNotLocal } from './detect.ts';
import { KUBE_EXTERNAL_SERVICES, KUBE_MARK_MASQ, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL, KUBE_SERVICES } from './names.ts';
import type { ProxyConfig } from './types.ts';

export interface Ctx {
  cfg: ProxyConfig;
  filter: { chains: string[]; rules: Rule[] };
  nat: { chains: string[]; rules: Rule[] };
  largeClusterMode: boolean;
  localhostNP: boolean;
}

/** What syncProxyRules decides for a service port before it writes anything. */
interface Plan extends Categorized {
  /** Where cluster IP traffic goes: KUBE-SVL with internalTrafficPolicy Local, else KUBE-SVC. */
  internalChain: string;
  hasInternal: boolean;
  /** Where external traffic ends: KUBE-SVL with externalTrafficPolicy Local, else KUBE-SVC. */
  externalPolicyChain: string;
  hasExternal: boolean;
  usesExternalChain: boolean;
  usesFW: boolean;
  /** REJECT (no endpoints at all) or DROP (none for this policy), with its comment. */
  internalFilter?: [Target, string];
  externalFilter?: [Target, string];
}

function plan(sp: ServicePort): Plan {
  const c = categorize(sp);
  const hasInternal = c.hasAny && !(sp.internalPolicyLocal && c.local.length === 0);
  const hasExternal = c.hasAny && !(sp.externalPolicyLocal && c.local.length === 0);
  const none: [Target, string] = [reject(), `${sp.name} has no endpoints`];
  const noLocal: [Target, string] = [jump('DROP'), `${sp.name} has no local endpoints`];
  return {
    ...c,
    internalChain: sp.internalPolicyLocal ? sp.svlChain : sp.svcChain,
    hasInternal,
    externalPolicyChain: sp.externalPolicyLocal ? sp.svlChain : sp.svcChain,
    hasExternal,
    usesExternalChain: c.hasAny && sp.externallyAccessible,
    usesFW: c.hasAny && sp.lbIPs.length > 0 && sp.sourceRanges.length > 0,
    ...(!c.hasAny ? { internalFilter: none, externalFilter: none } : {
      ...(hasInternal ? {} : { internalFilter: noLocal }),
      ...(hasExternal ? {} : { externalFilter: noLocal }),
    }),
  };
}

/** `-m comment --comment "<text>" -m P -p P -d IP --dport N`. */
const capture = (text: string, sp: ServicePort, ip: string): Part[] => [comment(text), proto(sp.proto), dst(ip), dport(sp.port)];

export function servicePortRules(ctx: Ctx, sp: ServicePort): void {
  const p = plan(sp);
  captures(ctx, sp, p);
  if (p.hasInternal) clusterIPMasquerade(ctx, sp, p);
  if (p.usesExternalChain) externalChain(ctx, sp, p);
  if (p.usesFW) firewallChain(ctx, sp);
  if (p.cluster.length > 0 && (!sp.internalPolicyLocal || sp.externallyAccessible)) {
    ctx.nat.chains.push(sp.svcChain);
    endpointJumps(ctx, sp, sp.svcChain, p.cluster);
  }
  if (p.local.length > 0 && (sp.internalPolicyLocal || (sp.externalPolicyLocal && sp.externallyAccessible))) {
    ctx.nat.chains.push(sp.svlChain);
    endpointJumps(ctx, sp, sp.svlChain, p.local);
  }
  const sepComment = ctx.largeClusterMode ? [] : [comment(sp.name)];
  for (const ep of p.reachable) endpointChain(ctx, sp, ep, sepComment);
}

/** Cluster IP, external IPs, LB IPs, node port and health check node port: nat jumps or filter REJECT/DROP. */
function captures(ctx: Ctx, sp: ServicePort, p: Plan): void {
  const { nat, filter, cfg } = ctx;
  const [extTarget, extText] = p.externalFilter ?? [jump('DROP'), ''];
  if (p.hasInternal) nat.rules.push({ chain: KUBE_SERVICES, parts: capture(`${sp.name} cluster IP`, sp, sp.clusterIP), target: jump(p.internalChain) });
  else filter.rules.push({ chain: KUBE_SERVICES, parts: capture(p.internalFilter![1], sp, sp.clusterIP), target: p.internalFilter![0] });

  for (const ip of sp.externalIPs) {
    if (p.hasAny) nat.rules.push({ chain: KUBE_SERVICES, parts: capture(`${sp.name} external IP`, sp, ip), target: jump(sp.extChain) });
    if (!p.hasExternal) filter.rules.push({ chain: KUBE_EXTERNAL_SERVICES, parts: capture(extText, sp, ip), target: extTarget });
  }
  for (const ip of sp.lbIPs) {
    if (p.hasAny) {
      nat.rules.push({ chain: KUBE_SERVICES, parts: capture(`${sp.name} loadbalancer IP`, sp, ip), target: jump(p.usesFW ? sp.fwChain : sp.extChain) });
    }
    if (p.usesFW) {
      filter.rules.push({ chain: KUBE_PROXY_FIREWALL, parts: capture(`${sp.name} traffic not accepted by ${sp.fwChain}`, sp, ip), target: jump('DROP') });
    }
  }
  if (!p.hasExternal) for (const ip of sp.lbIPs) filter.rules.push({ chain: KUBE_EXTERNAL_SERVICES, parts: capture(extText, sp, ip), target: extTarget });

  if (sp.nodePort !== 0) {
    if (p.hasAny) {
      if (cfg.nfacct && ctx.localhostNP) {
        const parts = [comment(sp.name), proto(sp.proto), dst('127.0.0.0/8'), dport(sp.nodePort), nfacct('localhost_nps_accepted_pkts')];
        nat.rules.push({ chain: KUBE_NODEPORTS, parts, target: jump(sp.extChain) });
      }
      nat.rules.push({ chain: KUBE_NODEPORTS, parts: [comment(sp.name), proto(sp.proto), dport(sp.nodePort)], target: jump(sp.extChain) });
    }
    if (!p.hasExternal) {
      filter.rules.push({ chain: KUBE_EXTERNAL_SERVICES, parts: [comment(extText), addrtype('dst'), proto(sp.proto), dport(sp.nodePort)], target: extTarget });
    }
  }
  if (sp.healthCheckNodePort !== 0) {
    const parts = [comment(`${sp.name} health check node port`), proto('tcp'), dport(sp.healthCheckNodePort)];
    filter.rules.push({ chain: KUBE_NODEPORTS, parts, target: jump('ACCEPT') });
  }
}

/** Sources the detector does not call local get masqueraded to the cluster IP (all with masqueradeAll; none without a detector). */
function clusterIPMasquerade(ctx: Ctx, sp: ServicePort, p: Plan): void {
  const parts = capture(`${sp.name} cluster IP`, sp, sp.clusterIP);
  if (ctx.cfg.masqueradeAll) ctx.nat.rules.push({ chain: p.internalChain, parts, target: jump(KUBE_MARK_MASQ) });
  else {
    const notLocal = ifNotLocal(ctx.cfg);
    if (notLocal) ctx.nat.rules.push({ chain: p.internalChain, parts: [...parts, notLocal], target: jump(KUBE_MARK_MASQ) });
  }
}

/** KUBE-EXT-<hash>: masquerade (Cluster policy), or the pod / LOCAL short-circuits (Local policy), then the policy chain. */
function externalChain(ctx: Ctx, sp: ServicePort, p: Plan): void {
  const { nat, cfg } = ctx;
  const chain = sp.extChain;
  nat.chains.push(chain);
  if (!sp.externalPolicyLocal) {
    nat.rules.push({ chain, parts: [comment(`masquerade traffic for ${sp.name} external destinations`)], target: jump(KUBE_MARK_MASQ) });
  } else {
    const local = ifLocal(cfg);
    if (local) nat.rules.push({ chain, parts: [comment(`pod traffic for ${sp.name} external destinations`), local], target: jump(sp.svcChain) });
    nat.rules.push(
      { chain, parts: [comment(`masquerade LOCAL traffic for ${sp.name} external destinations`), addrtype('src')], target: jump(KUBE_MARK_MASQ) },
      { chain, parts: [comment(`route LOCAL traffic for ${sp.name} external destinations`), addrtype('src')], target: jump(sp.svcChain) },
    );
  }
  if (p.hasExternal) nat.rules.push({ chain, parts: [], target: jump(p.externalPolicyChain) });
}

/** KUBE-FW-<hash>: allowed source ranges (and the LB IPs when a range holds the node), then a target-less rule. */
function firewallChain(ctx: Ctx, sp: ServicePort): void {
  const { nat, cfg } = ctx;
  const chain = sp.fwChain;
  nat.chains.push(chain);
  const text = comment(`${sp.name} loadbalancer IP`);
  for (const cidr of sp.sourceRanges) nat.rules.push({ chain, parts: [text, src(cidr)], target: jump(sp.extChain) });
  if (sp.sourceRanges.some((cidr) => cidrContains(cidr, cfg.nodeIP))) {
    for (const ip of sp.lbIPs) nat.rules.push({ chain, parts: [text, src(ip)], target: jump(sp.extChain) });
  }
  nat.rules.push({ chain, parts: [comment(`other traffic to ${sp.name} will be dropped by KUBE-PROXY-FIREWALL`)] });
}

/** writeServiceToEndpointRules: affinity checks first, then 1/n, 1/(n-1), ... and an unconditional last jump. */
function endpointJumps(ctx: Ctx, sp: ServicePort, chain: string, eps: Endpoint[]): void {
  const c = (ep: Endpoint): Part[] => (ctx.largeClusterMode ? [] : [comment(`${sp.name} -> ${ep.str}`)]);
  if (sp.affinity) {
    for (const ep of eps) ctx.nat.rules.push({ chain, parts: [...c(ep), recentCheck(ep.chain, sp.stickySeconds)], target: jump(ep.chain) });
  }
  eps.forEach((ep, i) => {
    const parts = c(ep);
    if (i < eps.length - 1) parts.push(statistic(probability(eps.length - i)));
    ctx.nat.rules.push({ chain, parts, target: jump(ep.chain) });
  });
}

/** KUBE-SEP-<hash>: hairpin masquerade, then DNAT (recording the client for affinity); `c` is its comment part, if any. */
function endpointChain(ctx: Ctx, sp: ServicePort, ep: Endpoint, c: Part[]): void {
  ctx.nat.chains.push(ep.chain);
  ctx.nat.rules.push({ chain: ep.chain, parts: [...c, src(ep.ip)], target: jump(KUBE_MARK_MASQ) });
  ctx.nat.rules.push({ chain: ep.chain, parts: [...c, ...(sp.affinity ? [recentSet(ep.chain)] : []), proto(sp.proto)], target: dnat(ep.str) });
}
