// kube-proxy's IPVS proxier (pkg/proxy/ipvs/proxier.go syncProxyRules and
// writeIptablesRules, v1.30/1.31) as a pure function: the virtual servers
// and real servers it programs, the addresses it binds to kube-ipvs0, the
// ipsets it fills, and the iptables rules it restores (nat, then filter).
// IPv4 only; graceful termination (weight 0 before deletion) is not modelled.

import { checkConfig } from './adapter.ts';
import { categorize, servicePorts, type Endpoint, type ServicePort } from './model.ts';
import { cidrContains, isLoopback } from './ip.ts';
import { nodePortIPs } from './iptables.ts';
import { IPSETS, Sets, sortEntries, type IpsetType } from './ipvs_sets.ts';
import { ipvsJumps, ipvsRules } from './ipvs_rules.ts';
import type { Protocol, ProxyConfig, ProxyState } from './types.ts';
import type { RuleSync } from './text.ts';

export type { IpsetType } from './ipvs_sets.ts';

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

/** syncEndpoint's choice: local endpoints when the policy is Local and there are some, else the cluster ones. */
function realServers(sp: ServicePort, onlyNodeLocal: boolean): RealServer[] {
  const { cluster, local } = categorize(sp);
  const eps: Endpoint[] = onlyNodeLocal && local.length > 0 ? local : cluster;
  return eps.map((e) => ({ address: e.ip, port: e.port, weight: 1 }));
}

/** One full sync of the IPVS proxier. */
export function syncIpvs(state: ProxyState, cfg: ProxyConfig): IpvsSync {
  checkConfig(cfg);
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
  const jumps = ipvsJumps();
  const ipsets = IPSETS.map(([name, type, c]) => ({ name, type, comment: c, entries: sortEntries(sets.m.get(name)!) }));
  return { filter, nat, jumps, kubelet: cfg.kubelet ?? true, virtualServers, dummyAddresses: [...bound], ipsets };
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
