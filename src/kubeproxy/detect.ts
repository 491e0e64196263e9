// kube-proxy's local-traffic detector (pkg/proxy/util/localdetector.go):
// which sources count as pods of this cluster (or node), as a rule part.
// Undefined when no detector is configured (no cluster CIDR, no mode).

import { inIface, src, type Part } from './rule.ts';
import type { ProxyConfig } from './types.ts';

function detector(cfg: ProxyConfig): { cidr?: string; iface?: string } | undefined {
  const d = cfg.detectLocal;
  if (d?.mode === 'NodeCIDR') return { cidr: d.cidr };
  if (d?.mode === 'BridgeInterface') return { iface: d.bridge };
  if (d?.mode === 'InterfaceNamePrefix') return { iface: d.prefix + '+' };
  return cfg.clusterCIDR ? { cidr: cfg.clusterCIDR } : undefined;
}

/** IfLocal(): `-s CIDR` or `-i IFACE`. */
export function ifLocal(cfg: ProxyConfig): Part | undefined {
  const d = detector(cfg);
  return d && (d.cidr ? src(d.cidr) : inIface(d.iface!));
}

/** IfNotLocal(): `! -s CIDR` or `! -i IFACE`. */
export function ifNotLocal(cfg: ProxyConfig): Part | undefined {
  const d = detector(cfg);
  return d && (d.cidr ? src(d.cidr, true) : inIface(d.iface!, true));
}
