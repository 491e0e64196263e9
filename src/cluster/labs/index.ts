// Embedded labs, selectable by name (`dplab serve --lab cilium`).

import { CILIUM_LAB } from './cilium.ts';
import { KIND_IPTABLES_LAB } from './kind_iptables.ts';
import { CALICO_IPIP_LAB } from './calico_ipip.ts';
import { KIND_IPVS_LAB } from './kind_ipvs.ts';

/** Lab name -> Cluster document plus manifests. */
export const LABS: Record<string, string> = {
  cilium: CILIUM_LAB,
  kind: `apiVersion: kind.x-k8s.io/v1alpha4
kind: Cluster
nodes: [{role: control-plane}, {role: worker}, {role: worker}]
networking: {kubeProxyMode: none}
`,
  'kind-iptables': KIND_IPTABLES_LAB,
  'kind-ipvs': KIND_IPVS_LAB,
  'calico-ipip': CALICO_IPIP_LAB,
};
