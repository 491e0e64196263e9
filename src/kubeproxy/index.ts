// kube-proxy's rule generators, pure: plain Services/EndpointSlices and the
// proxier's configuration in, iptables-restore text (and IPVS data) out.
// Not yet wired into a cluster datapath.

import { syncIptables, type NodeTables } from './iptables.ts';
import { syncIpvs } from './ipvs.ts';
import { restoreText } from './text.ts';
import type { ProxyConfig, ProxyState } from './types.ts';

export type * from './types.ts';
export { KubeProxyInputError, checkConfig, endpointSliceFromJSON, serviceFromJSON, stateFromObjects } from './adapter.ts';
export { endpointString, hash16, portProtoHash, servicePortName } from './hash.ts';
export { isServiceChainName, jumpRules, masqueradeMark, syncIptables, type IptablesSync, type JumpRule, type NodeTables, type TableRules } from './iptables.ts';
export { ipsetRestoreText, ipvsadmSaveText, syncIpvs, type IpsetSpec, type IpvsSync, type RealServer, type VirtualServer } from './ipvs.ts';
export { probability, restoreLine, saveLine, savedProbability, type Rule } from './rule.ts';
export { restoreText, saveTables, saveText, specText, type RuleSync, type SavedTable } from './text.ts';
export { proxyConfigFromKubeProxyConfiguration, stateFromServicePorts, type NodeFacts } from './seam.ts';

/** The `iptables-restore --noflush --counters` input of one full kube-proxy (iptables mode) sync. */
export function iptablesRestore(state: ProxyState, cfg: ProxyConfig, node: NodeTables = {}): string {
  return restoreText(syncIptables(state, cfg, node));
}

/** The iptables-restore input of one IPVS-mode sync (nat first, as the IPVS proxier writes it); load its ipsets first. */
export function ipvsIptablesRestore(state: ProxyState, cfg: ProxyConfig): string {
  return restoreText(syncIpvs(state, cfg), ['nat', 'filter']);
}
