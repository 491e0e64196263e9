// kube-proxy's iptables proxier (pkg/proxy/iptables/proxier.go, v1.30
// syncProxyRules) as a pure function: Services, EndpointSlices and the
// proxier's configuration in, the filter and nat rules of one full sync out,
// in kube-proxy's emission order. Real kube-proxy visits service ports in Go
// map order (random per sync); we visit them in ProxyConfig.serviceOrder.
// nfacct counters (v1.31+) are optional (ProxyConfig.nfacct); stale service
// chains are deleted when the node's nat chains are given. Not modelled:
// partial syncs, topology hints, IPv6, the `primary` nodePortAddresses keyword.

import {
  addrtype, comment, ctstate, dnat, dport, dst, jump, markMatch, masquerade, nfacct, orMark, probability, proto, recentCheck, recentSet,
  reject, src, statistic, xorMark, type Part, type Rule, type Target,
} from './rule.ts';
import { categorize, servicePorts, type Endpoint, type ServicePort } from './model.ts';
import { cidrContains, isLoopback } from './ip.ts';
import type { ProxyConfig, ProxyState } from './types.ts';

export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
export const KUBE_FIREWALL = 'KUBE-FIREWALL';
export const KUBE_PROXY_CANARY = 'KUBE-PROXY-CANARY';

/** Above this many endpoints (all service ports together), SEP rules and SVC->SEP jumps lose their comments. */
export const LARGE_CLUSTER_ENDPOINTS = 1000;

const NODEPORTS_LAST = 'kubernetes service nodeports; NOTE: this must be the last rule in this chain';

export interface TableRules {
  /** User chains in the order kube-proxy declares them (`:NAME - [0:0]`). */
  chains: string[];
  rules: Rule[];
  /**
   * Stale service chains (nat): declared after `chains` (which flushes them) and
   * deleted with `-X NAME` lines written just before `rules[at]`.
   */
  deleted?: { chains: string[]; at: number };
}

/** Chain prefixes kube-proxy owns and deletes when no service uses them (isServiceChainName). */
const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-SEP-', 'KUBE-FW-', 'KUBE-EXT-'];
export const isServiceChainName = (c: string) => SERVICE_CHAIN_PREFIXES.some((p) => c.startsWith(p));

/** What kube-proxy reads back from the node before it writes (`iptables-save -t nat`). */
export interface NodeTables {
  /** The nat table's chain names now; stale KUBE-SVC/SVL/SEP/FW/EXT chains among them are deleted. */
  natChains?: Iterable<string>;
}

/** A jump from a built-in chain, ensured with `iptables -C` / `-I` (prepend), outside the restore input. */
export interface JumpRule {
  table: 'filter' | 'nat';
  rule: Rule;
}

export interface IptablesSync {
  filter: TableRules;
  nat: TableRules;
  /** In the order kube-proxy ensures them (iptablesJumpChains then the kubelet duplicates). */
  jumps: JumpRule[];
  largeClusterMode: boolean;
  kubelet: boolean;
}

/** `fmt.Sprintf("%#08x", 1<<bit)`: 0x00004000 for the default bit 14. */
export function masqueradeMark(bit = 14): string {
  return '0x' + (2 ** bit).toString(16).padStart(8, '0');
}

const jumpRule = (table: 'filter' | 'nat', chain: string, to: string, text: string, newOnly: boolean): JumpRule => ({
  table, rule: { chain, parts: [...(newOnly ? [ctstate('NEW')] : []), ...(text ? [comment(text)] : [])], target: jump(to) },
});

/** iptablesJumpChains + iptablesKubeletJumpChains, in kube-proxy's order. */
export function jumpRules(): JumpRule[] {
  return [
    jumpRule('filter', 'INPUT', KUBE_EXTERNAL_SERVICES, 'kubernetes externally-visible service portals', true),
    jumpRule('filter', 'FORWARD', KUBE_EXTERNAL_SERVICES, 'kubernetes externally-visible service portals', true),
    jumpRule('filter', 'INPUT', KUBE_NODEPORTS, 'kubernetes health check service ports', false),
    jumpRule('filter', 'FORWARD', KUBE_SERVICES, 'kubernetes service portals', true),
    jumpRule('filter', 'OUTPUT', KUBE_SERVICES, 'kubernetes service portals', true),
    jumpRule('filter', 'FORWARD', KUBE_FORWARD, 'kubernetes forwarding rules', false),
    jumpRule('filter', 'INPUT', KUBE_PROXY_FIREWALL, 'kubernetes load balancer firewall', true),
    jumpRule('filter', 'OUTPUT', KUBE_PROXY_FIREWALL, 'kubernetes load balancer firewall', true),
    jumpRule('filter', 'FORWARD', KUBE_PROXY_FIREWALL, 'kubernetes load balancer firewall', true),
    jumpRule('nat', 'OUTPUT', KUBE_SERVICES, 'kubernetes service portals', false),
    jumpRule('nat', 'PREROUTING', KUBE_SERVICES, 'kubernetes service portals', false),
    jumpRule('nat', 'POSTROUTING', KUBE_POSTROUTING, 'kubernetes postrouting rules', false),
    jumpRule('filter', 'INPUT', KUBE_FIREWALL, '', false),
    jumpRule('filter', 'OUTPUT', KUBE_FIREWALL, '', false),
  ];
}

/** `block incoming localnet connections`, as kube-proxy (and kubelet) write it. */
export const kubeFirewallRule = (): Rule => ({
  chain: KUBE_FIREWALL,
  parts: [comment('block incoming localnet connections'), dst('127.0.0.0/8'), src('127.0.0.0/8', true), ctstate('RELATED,ESTABLISHED,DNAT', true)],
  target: jump('DROP'),
});

/** NewNodePortAddresses: match-all when empty or 0.0.0.0/0 is listed. */
function nodePortMatchAll(cfg: ProxyConfig): boolean {
  const a = cfg.nodePortAddresses ?? [];
  return a.length === 0 || a.some((c) => c.trim() === '0.0.0.0/0');
}

/** localhostNodePorts only holds when the nodeport addresses include 127.0.0.1. */
function localhostNodePorts(cfg: ProxyConfig): boolean {
  if (cfg.localhostNodePorts === false) return false;
  return nodePortMatchAll(cfg) || (cfg.nodePortAddresses ?? []).some((c) => cidrContains(c, '127.0.0.1'));
}

/** The node addresses inside `--nodeport-addresses` (GetNodeIPs), in CIDR order, each once. */
export function nodePortIPs(cfg: ProxyConfig): string[] {
  const addrs = cfg.nodeAddresses ?? [cfg.nodeIP, '127.0.0.1'];
  const out: string[] = [];
  for (const c of cfg.nodePortAddresses ?? []) for (const a of addrs) if (cidrContains(c, a) && !out.includes(a)) out.push(a);
  return out;
}

/** One full sync of the iptables proxier. */
export function syncIptables(state: ProxyState, cfg: ProxyConfig, node: NodeTables = {}): IptablesSync {
  const ports = servicePorts(state, cfg);
  const mark = masqueradeMark(cfg.masqueradeBit ?? 14);
  const localhostNP = localhostNodePorts(cfg);
  const filter: TableRules = { chains: [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL], rules: [] };
  const nat: TableRules = { chains: [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ], rules: [] };

  nat.rules.push(
    { chain: KUBE_POSTROUTING, parts: [markMatch(mark, true)], target: jump('RETURN') },
    { chain: KUBE_POSTROUTING, parts: [], target: xorMark(mark) },
    { chain: KUBE_POSTROUTING, parts: [comment('kubernetes service traffic requiring SNAT')], target: masquerade() },
    { chain: KUBE_MARK_MASQ, parts: [], target: orMark(mark) },
  );
  if (localhostNP) {
    filter.chains.push(KUBE_FIREWALL);
    filter.rules.push(kubeFirewallRule());
  }

  const totalEndpoints = ports.reduce((n, sp) => n + sp.endpoints.length, 0);
  const largeClusterMode = totalEndpoints > LARGE_CLUSTER_ENDPOINTS;
  const ctx: Ctx = { cfg, filter, nat, largeClusterMode, localhostNP };
  for (const sp of ports) servicePortRules(ctx, sp);

  if (node.natChains) {
    // kube-proxy skips this in large-cluster mode except once per sync period; a pure sync always cleans up.
    const active = new Set(nat.chains);
    const stale = [...new Set(node.natChains)].filter((c) => isServiceChainName(c) && !active.has(c)).sort();
    if (stale.length) nat.deleted = { chains: stale, at: nat.rules.length };
  }

  if (nodePortMatchAll(cfg)) {
    const parts: Part[] = [comment(NODEPORTS_LAST), addrtype('dst')];
    if (!localhostNP) parts.push(dst('127.0.0.0/8', true));
    nat.rules.push({ chain: KUBE_SERVICES, parts, target: jump(KUBE_NODEPORTS) });
  } else {
    for (const ip of nodePortIPs(cfg)) {
      if (isLoopback(ip) && !localhostNP) continue;
      nat.rules.push({ chain: KUBE_SERVICES, parts: [comment(NODEPORTS_LAST), dst(ip)], target: jump(KUBE_NODEPORTS) });
    }
  }

  if (!cfg.conntrackTCPBeLiberal) {
    const parts = [ctstate('INVALID'), ...(cfg.nfacct ? [nfacct('ct_state_invalid_dropped_pkts')] : [])];
    filter.rules.push({ chain: KUBE_FORWARD, parts, target: jump('DROP') });
  }
  filter.rules.push(
    { chain: KUBE_FORWARD, parts: [comment('kubernetes forwarding rules'), markMatch(mark)], target: jump('ACCEPT') },
    { chain: KUBE_FORWARD, parts: [comment('kubernetes forwarding conntrack rule'), ctstate('RELATED,ESTABLISHED')], target: jump('ACCEPT') },
  );
  return { filter, nat, jumps: jumpRules(), largeClusterMode, kubelet: cfg.kubelet ?? true };
}

interface Ctx { cfg: ProxyConfig; filter: TableRules; nat: TableRules; largeClusterMode: boolean; localhostNP: boolean }

/** `-m comment --comment "<svc> <what>" -m P -p P -d IP --dport N`. */
const capture = (text: string, sp: ServicePort, ip: string, port = sp.port): Part[] =>
  [comment(text), proto(sp.proto), dst(ip), dport(port)];

/** The rules of one service port, in syncProxyRules' order. */
function servicePortRules(ctx: Ctx, sp: ServicePort): void {
  const { cfg, filter, nat } = ctx;
  const { cluster, local, reachable, hasAny: hasEndpoints } = categorize(sp);
  const usesClusterPolicyChain = cluster.length > 0 && (!sp.internalPolicyLocal || sp.externallyAccessible);
  const usesLocalPolicyChain = local.length > 0 && (sp.internalPolicyLocal || (sp.externalPolicyLocal && sp.externallyAccessible));
  const internalChain = sp.internalPolicyLocal ? sp.svlChain : sp.svcChain;
  const hasInternal = hasEndpoints && !(sp.internalPolicyLocal && local.length === 0);
  const externalPolicyChain = sp.externalPolicyLocal ? sp.svlChain : sp.svcChain;
  const hasExternal = hasEndpoints && !(sp.externalPolicyLocal && local.length === 0);
  const usesExternalChain = hasEndpoints && sp.externallyAccessible;
  const usesFW = hasEndpoints && sp.lbIPs.length > 0 && sp.sourceRanges.length > 0;
  const lbChain = usesFW ? sp.fwChain : sp.extChain;

  let internalFilter: Target | undefined, internalText = '', externalFilter: Target | undefined, externalText = '';
  if (!hasEndpoints) {
    internalFilter = externalFilter = reject();
    internalText = externalText = `${sp.name} has no endpoints`;
  } else {
    if (!hasInternal) { internalFilter = jump('DROP'); internalText = `${sp.name} has no local endpoints`; }
    if (!hasExternal) { externalFilter = jump('DROP'); externalText = `${sp.name} has no local endpoints`; }
  }

  if (hasInternal) nat.rules.push({ chain: 'KUBE-SERVICES', parts: capture(`${sp.name} cluster IP`, sp, sp.clusterIP), target: jump(internalChain) });
  else filter.rules.push({ chain: 'KUBE-SERVICES', parts: capture(internalText, sp, sp.clusterIP), target: internalFilter });

  for (const ip of sp.externalIPs) {
    if (hasEndpoints) nat.rules.push({ chain: 'KUBE-SERVICES', parts: capture(`${sp.name} external IP`, sp, ip), target: jump(sp.extChain) });
    if (!hasExternal) filter.rules.push({ chain: 'KUBE-EXTERNAL-SERVICES', parts: capture(externalText, sp, ip), target: externalFilter });
  }
  for (const ip of sp.lbIPs) {
    if (hasEndpoints) nat.rules.push({ chain: 'KUBE-SERVICES', parts: capture(`${sp.name} loadbalancer IP`, sp, ip), target: jump(lbChain) });
    if (usesFW) {
      filter.rules.push({ chain: 'KUBE-PROXY-FIREWALL', parts: capture(`${sp.name} traffic not accepted by ${sp.fwChain}`, sp, ip), target: jump('DROP') });
    }
  }
  if (!hasExternal) {
    for (const ip of sp.lbIPs) filter.rules.push({ chain: 'KUBE-EXTERNAL-SERVICES', parts: capture(externalText, sp, ip), target: externalFilter });
  }
  if (sp.nodePort !== 0) {
    if (hasEndpoints) {
      if (cfg.nfacct && ctx.localhostNP) {
        nat.rules.push({
          chain: 'KUBE-NODEPORTS', parts: [comment(sp.name), proto(sp.proto), dst('127.0.0.0/8'), dport(sp.nodePort), nfacct('localhost_nps_accepted_pkts')],
          target: jump(sp.extChain),
        });
      }
      nat.rules.push({ chain: 'KUBE-NODEPORTS', parts: [comment(sp.name), proto(sp.proto), dport(sp.nodePort)], target: jump(sp.extChain) });
    }
    if (!hasExternal) {
      filter.rules.push({
        chain: 'KUBE-EXTERNAL-SERVICES', parts: [comment(externalText), addrtype('dst'), proto(sp.proto), dport(sp.nodePort)], target: externalFilter,
      });
    }
  }
  if (sp.healthCheckNodePort !== 0) {
    filter.rules.push({
      chain: 'KUBE-NODEPORTS', parts: [comment(`${sp.name} health check node port`), proto('tcp'), dport(sp.healthCheckNodePort)], target: jump('ACCEPT'),
    });
  }

  if (hasInternal) {
    const parts = capture(`${sp.name} cluster IP`, sp, sp.clusterIP);
    if (cfg.masqueradeAll) nat.rules.push({ chain: internalChain, parts, target: jump(KUBE_MARK_MASQ) });
    else if (cfg.clusterCIDR) nat.rules.push({ chain: internalChain, parts: [...parts, src(cfg.clusterCIDR, true)], target: jump(KUBE_MARK_MASQ) });
  }

  if (usesExternalChain) {
    nat.chains.push(sp.extChain);
    if (!sp.externalPolicyLocal) {
      nat.rules.push({ chain: sp.extChain, parts: [comment(`masquerade traffic for ${sp.name} external destinations`)], target: jump(KUBE_MARK_MASQ) });
    } else {
      if (cfg.clusterCIDR) {
        nat.rules.push({ chain: sp.extChain, parts: [comment(`pod traffic for ${sp.name} external destinations`), src(cfg.clusterCIDR)], target: jump(sp.svcChain) });
      }
      nat.rules.push(
        { chain: sp.extChain, parts: [comment(`masquerade LOCAL traffic for ${sp.name} external destinations`), addrtype('src')], target: jump(KUBE_MARK_MASQ) },
        { chain: sp.extChain, parts: [comment(`route LOCAL traffic for ${sp.name} external destinations`), addrtype('src')], target: jump(sp.svcChain) },
      );
    }
    if (hasExternal) nat.rules.push({ chain: sp.extChain, parts: [], target: jump(externalPolicyChain) });
  }

  if (usesFW) {
    nat.chains.push(sp.fwChain);
    const text = comment(`${sp.name} loadbalancer IP`);
    let allowFromNode = false;
    for (const cidr of sp.sourceRanges) {
      nat.rules.push({ chain: sp.fwChain, parts: [text, src(cidr)], target: jump(sp.extChain) });
      if (cidrContains(cidr, cfg.nodeIP)) allowFromNode = true;
    }
    if (allowFromNode) for (const ip of sp.lbIPs) nat.rules.push({ chain: sp.fwChain, parts: [text, src(ip)], target: jump(sp.extChain) });
    nat.rules.push({ chain: sp.fwChain, parts: [comment(`other traffic to ${sp.name} will be dropped by KUBE-PROXY-FIREWALL`)] });
  }

  if (usesClusterPolicyChain) { nat.chains.push(sp.svcChain); endpointJumps(ctx, sp, sp.svcChain, cluster); }
  if (usesLocalPolicyChain) { nat.chains.push(sp.svlChain); endpointJumps(ctx, sp, sp.svlChain, local); }

  for (const ep of reachable) {
    nat.chains.push(ep.chain);
    const c = ctx.largeClusterMode ? [] : [comment(sp.name)];
    nat.rules.push({ chain: ep.chain, parts: [...c, src(ep.ip)], target: jump(KUBE_MARK_MASQ) });
    nat.rules.push({ chain: ep.chain, parts: [...c, ...(sp.affinity ? [recentSet(ep.chain)] : []), proto(sp.proto)], target: dnat(ep.str) });
  }
}

/** writeServiceToEndpointRules: affinity checks first, then 1/n, 1/(n-1), ... and an unconditional last jump. */
function endpointJumps(ctx: Ctx, sp: ServicePort, chain: string, eps: Endpoint[]): void {
  const c = (ep: Endpoint) => (ctx.largeClusterMode ? [] : [comment(`${sp.name} -> ${ep.str}`)]);
  if (sp.affinity) {
    for (const ep of eps) ctx.nat.rules.push({ chain, parts: [...c(ep), recentCheck(ep.chain, sp.stickySeconds)], target: jump(ep.chain) });
  }
  eps.forEach((ep, i) => {
    const parts = c(ep);
    if (i < eps.length - 1) parts.push(statistic(probability(eps.length - i)));
    ctx.nat.rules.push({ chain, parts, target: jump(ep.chain) });
  });
}
