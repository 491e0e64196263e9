// kube-proxy's iptables proxier (pkg/proxy/iptables/proxier.go, v1.30
// syncProxyRules) as a pure function: Services, EndpointSlices and the
// proxier's configuration in, the filter and nat rules of one full sync out,
// in kube-proxy's emission order. Real kube-proxy visits service ports in Go
// map order (random per sync); we visit them in ProxyConfig.serviceOrder.
// nfacct counters (v1.31+) are optional (ProxyConfig.nfacct); stale service
// chains are deleted when the node's nat chains are given. Not modelled:
// partial syncs, topology hints, IPv6, the `primary` nodePortAddresses keyword.

import { addrtype, comment, ctstate, dst, jump, markMatch, masquerade, nfacct, orMark, src, xorMark, type Part, type Rule } from './rule.ts';
import { checkConfig } from './adapter.ts';
import { servicePorts } from './model.ts';
import { cidrContains, isLoopback } from './ip.ts';
import type { ProxyConfig, ProxyState } from './types.ts';
import {
  KUBE_EXTERNAL_SERVICES, KUBE_FIREWALL, KUBE_FORWARD, KUBE_MARK_MASQ, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_PROXY_FIREWALL, KUBE_SERVICES,
  LARGE_CLUSTER_ENDPOINTS,
} from './names.ts';
import { servicePortRules, type Ctx } from './service_rules.ts';

export * from './names.ts';

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
  checkConfig(cfg);
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
