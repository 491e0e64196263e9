// The seed 000 cluster (kind `myk8s`, the same nodes, pods, addresses and
// svc-clusterip) with kube-proxy in IPVS mode, as seed 004 explains it:
// kube-ipvs0 holding the ClusterIPs, the KUBE-* ipsets, the IPVS proxier's
// iptables rules and one rr virtual server per service port.

import { KIND_IPTABLES_LAB } from './kind_iptables.ts';

const FROM = '  datapath: iptables\n';
if (!KIND_IPTABLES_LAB.includes(FROM)) throw new Error('kind-ipvs: the kind-iptables lab no longer names its datapath');

export const KIND_IPVS_LAB = KIND_IPTABLES_LAB.replace(FROM, '  datapath: ipvs\n');
