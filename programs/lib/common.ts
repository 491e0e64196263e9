// Mirrors bpf/lib/common.h: drop reasons, tail-call slots, reserved identities,
// skb->cb slots, plus the node/endpoint configuration the loader compiles in
// (node_config.h / ep_config.h) as plain objects.

import type { BpfMap } from '../../src/bpf/map.ts';
import { dropReason, sourceFile } from '../../maps/monitor_api.ts';
export { METRIC_INGRESS, METRIC_EGRESS, METRIC_SERVICE } from '../../maps/cilium_metrics.ts';

/** Drop reasons (positive form; the datapath returns them negated): one table, maps/monitor_api.ts. */
export const DROP_INVALID_SIP = dropReason('DROP_INVALID_SIP'), DROP_POLICY = dropReason('DROP_POLICY'),
  DROP_INVALID = dropReason('DROP_INVALID'), DROP_CT_INVALID_HDR = dropReason('DROP_CT_INVALID_HDR'),
  DROP_CT_UNKNOWN_PROTO = dropReason('DROP_CT_UNKNOWN_PROTO'), DROP_UNKNOWN_L3 = dropReason('DROP_UNKNOWN_L3'),
  DROP_MISSED_TAIL_CALL = dropReason('DROP_MISSED_TAIL_CALL'), DROP_WRITE_ERROR = dropReason('DROP_WRITE_ERROR'),
  DROP_UNKNOWN_L4 = dropReason('DROP_UNKNOWN_L4'), DROP_UNKNOWN_TARGET = dropReason('DROP_UNKNOWN_TARGET'),
  DROP_UNROUTABLE = dropReason('DROP_UNROUTABLE'), DROP_CSUM_L3 = dropReason('DROP_CSUM_L3'), DROP_CSUM_L4 = dropReason('DROP_CSUM_L4'),
  DROP_CT_CREATE_FAILED = dropReason('DROP_CT_CREATE_FAILED'), DROP_FRAG_NOSUPPORT = dropReason('DROP_FRAG_NOSUPPORT'),
  DROP_NO_SERVICE = dropReason('DROP_NO_SERVICE'), DROP_NO_TUNNEL_ENDPOINT = dropReason('DROP_NO_TUNNEL_ENDPOINT'),
  DROP_HOST_UNREACHABLE = dropReason('DROP_HOST_UNREACHABLE'), DROP_UNSUPPORTED_L2 = dropReason('DROP_UNSUPPORTED_L2'),
  DROP_NAT_NO_MAPPING = dropReason('DROP_NAT_NO_MAPPING'), DROP_NAT_UNSUPP_PROTO = dropReason('DROP_NAT_UNSUPP_PROTO'),
  DROP_NO_FIB = dropReason('DROP_NO_FIB'), DROP_TTL_EXCEEDED = dropReason('DROP_TTL_EXCEEDED');

// Tail-call slots in cilium_calls_*: one table, the map's own (maps/cilium_calls.ts).
export {
  CILIUM_CALL_DROP_NOTIFY, CILIUM_CALL_ARP, CILIUM_CALL_IPV4_FROM_LXC, CILIUM_CALL_IPV4_TO_LXC_POLICY_ONLY,
  CILIUM_CALL_IPV4_TO_ENDPOINT, CILIUM_CALL_IPV4_CT_INGRESS, CILIUM_CALL_IPV4_CT_INGRESS_POLICY_ONLY,
  CILIUM_CALL_IPV4_CT_EGRESS, CILIUM_CALL_IPV4_FROM_LXC_CONT, CILIUM_CALL_IPV4_FROM_HOST,
} from '../../maps/cilium_calls.ts';

/** Reserved security identities (pkg/identity/numericidentity.go). */
export const UNKNOWN_ID = 0, HOST_ID = 1, WORLD_ID = 2, UNMANAGED_ID = 3, HEALTH_ID = 4, INIT_ID = 5,
  REMOTE_NODE_ID = 6, KUBE_APISERVER_ID = 7;

/** skb->cb slots (CB_*). */
export const CB_SRC_LABEL = 0, CB_IFINDEX = 1, CB_ORIG_SADDR = 2, CB_CT_STATE = 3, CB_BACKEND_ID = 4;

/** Source file ids of bpf/lib/source_info.h (drop events carry them): maps/monitor_api.ts. */
export const FILE_BPF_HOST = sourceFile('bpf_host.c'), FILE_BPF_LXC = sourceFile('bpf_lxc.c'), FILE_BPF_OVERLAY = sourceFile('bpf_overlay.c'),
  FILE_BPF_SOCK = sourceFile('bpf_sock.c'), FILE_NODEPORT = sourceFile('nodeport.h'), FILE_LB = sourceFile('lb.h'),
  FILE_CONNTRACK = sourceFile('conntrack.h'), FILE_LOCAL_DELIVERY = sourceFile('local_delivery.h');

/** skb->mark magic set by local delivery so cil_to_container lets the packet pass (MARK_MAGIC_IDENTITY). */
export const MARK_MAGIC_IDENTITY = 0x0f00;
export const MARK_MAGIC_HOST_MASK = 0x0f00;

/** monitor-aggregation levels (pkg/option/monitor.go). */
export const TRACE_AGGREGATE_NONE = 0, TRACE_AGGREGATE_RX = 1, TRACE_AGGREGATE_ACTIVE_CT = 3;

/** The maps the programs use; maps/index.ts NodeMaps fits this shape. */
export interface DatapathMaps {
  lxc: BpfMap; ipcache: BpfMap;
  lbServices: BpfMap; lbBackends: BpfMap; lbRevNat: BpfMap; lbAffinity: BpfMap;
  ct4: BpfMap; ctAny4: BpfMap; snat4: BpfMap;
  metrics: BpfMap; events: BpfMap; callPolicy: BpfMap;
  tunnel?: BpfMap;
  /** cilium_lb4_reverse_sk (socket LB reverse translation). */
  lbReverseSk?: BpfMap;
}

/** node_config.h: what every program on a node is compiled with. */
export interface NodeConfig {
  tunnel: boolean;
  socketLB: boolean;
  /** MONITOR_AGGREGATION level. */
  aggregation: number;
  /** IPV4_NODEPORT / NATIVE_DEV address. */
  nodeIp: number;
  /** IPV4_GATEWAY: cilium_host's address. */
  routerIp: number;
  clusterCidr: number; clusterCidrLen: number;
  /** Ifindex of cilium_vxlan (ENCAP_IFINDEX), 0 without tunnel. */
  encapIfindex: number;
  /** Ifindex of the native device (eth0). */
  netdevIfindex: number;
  /** Ifindex of cilium_host (HOST_IFINDEX). */
  hostIfindex: number;
  /** MAC of cilium_host: local delivery from the host uses it as source. */
  hostMac: Uint8Array;
  /** HOST_EP_ID. */
  hostEpId: number;
  /** ENABLE_BPF_MASQUERADE. */
  masquerade: boolean;
  /** ENABLE_HOST_ROUTING (BPF host routing, needs kube-proxy replacement); false = legacy routing through the stack. Default true. */
  hostRouting?: boolean;
}

/** ep_config.h: per endpoint constants (LXC_ID, SECLABEL, LXC_IPV4...). */
export interface EpConfig {
  lxcId: number;
  secLabel: number;
  ipv4: number;
  /** Host-side veth ifindex (THIS_INTERFACE_IFINDEX). */
  ifindex: number;
  /** Pod eth0 MAC and host-side veth MAC. */
  mac: Uint8Array;
  nodeMac: Uint8Array;
  /** cilium_calls_<id>. */
  calls: BpfMap;
}

/** Everything a program instance sees. */
export interface DatapathEnv { maps: DatapathMaps; node: NodeConfig }

/** What a program file builds; the loader turns it into a BpfProgram. */
export interface ProgSpec<C> {
  name: string;
  type: 'sched_cls' | 'cgroup_sock_addr';
  maps: BpfMap[];
  run(ctx: C, rt: import('../../src/bpf/program.ts').Runtime): number;
}
