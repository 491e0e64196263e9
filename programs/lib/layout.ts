// Mirrors the C structs of Cilium's maps (bpf/lib/common.h, eps.h, lb.h, conntrack.h, nat.h):
// byte offsets programs read and write. Ports and addresses are network order,
// the rest host order (little-endian), as on x86.

/** struct endpoint_key (20): ip[16], family u8, key u8, cluster_id u16. */
export const EPKEY_SIZE = 20, EPKEY_IP = 0, EPKEY_FAMILY = 16;
/** struct endpoint_info (48). */
export const EPINFO_SIZE = 48, EPINFO_IFINDEX = 0, EPINFO_LXC_ID = 6, EPINFO_FLAGS = 8,
  EPINFO_MAC = 16, EPINFO_NODE_MAC = 24, EPINFO_SEC_ID = 32, EPINFO_PARENT_IFINDEX = 36;
export const ENDPOINT_F_HOST = 1;

/** struct ipcache_key (24): prefixlen u32, cluster_id u16, pad u8, family u8, ip[16]. */
export const IPCKEY_SIZE = 24, IPCKEY_PREFIXLEN = 0, IPCKEY_FAMILY = 7, IPCKEY_IP = 8;
/** Static key bits before the address: cluster_id + pad + family. */
export const IPCACHE_STATIC_PREFIX = 32;
/** struct remote_endpoint_info (1.16, 12): sec_identity u32, tunnel_endpoint u32, pad u16, key u8, flags u8. */
export const IPCVAL_SIZE = 12, IPCVAL_SEC_ID = 0, IPCVAL_TUNNEL = 4, IPCVAL_KEY = 10, IPCVAL_FLAGS = 11;
export const IPCACHE_F_SKIP_TUNNEL = 1, IPCACHE_F_HAS_TUNNEL_EP = 2;

/** struct lb4_key (12). */
export const LB4KEY_SIZE = 12, LB4KEY_ADDR = 0, LB4KEY_DPORT = 4, LB4KEY_SLOT = 6, LB4KEY_PROTO = 8, LB4KEY_SCOPE = 9;
export const LB_LOOKUP_SCOPE_EXT = 0, LB_LOOKUP_SCOPE_INT = 1;
/** struct lb4_service (12). Slot 0 keeps count/flags; @0 holds backend_id or affinity timeout. */
export const LB4SVC_SIZE = 12, LB4SVC_BACKEND_ID = 0, LB4SVC_COUNT = 4, LB4SVC_REV_NAT = 6, LB4SVC_FLAGS = 8, LB4SVC_FLAGS2 = 9, LB4SVC_QCOUNT = 10;
/** enum lb_svc_flags / lb_svc_flags2 (bpf/lib/common.h). */
export const SVC_FLAG_EXTERNAL_IP = 1, SVC_FLAG_NODEPORT = 2, SVC_FLAG_EXT_LOCAL_SCOPE = 4, SVC_FLAG_HOSTPORT = 8,
  SVC_FLAG_AFFINITY = 16, SVC_FLAG_LOADBALANCER = 32, SVC_FLAG_ROUTABLE = 64, SVC_FLAG_SOURCE_RANGE = 128;
export const SVC_FLAG2_LOCALREDIRECT = 1, SVC_FLAG2_NAT_46X64 = 2, SVC_FLAG2_L7LOADBALANCER = 4,
  SVC_FLAG2_LOOPBACK = 8, SVC_FLAG2_INT_LOCAL_SCOPE = 16, SVC_FLAG2_TWO_SCOPES = 32;
/** struct lb4_backend (12). */
export const LB4BE_SIZE = 12, LB4BE_ADDR = 0, LB4BE_PORT = 4, LB4BE_PROTO = 6, LB4BE_FLAGS = 7;
export const BE_STATE_ACTIVE = 0;
/** struct lb4_reverse_nat (6): address, port. Key: rev_nat_index u16 (network order). */
export const REVNAT_SIZE = 6, REVNAT_ADDR = 0, REVNAT_PORT = 4;
/** struct lb4_affinity_key (16) / lb_affinity_val (16). */
export const AFFKEY_SIZE = 16, AFFKEY_CLIENT = 0, AFFKEY_REV_NAT = 8, AFFKEY_NETNS = 10;
export const AFFVAL_SIZE = 16, AFFVAL_LAST_USED = 0, AFFVAL_BACKEND = 8;
/** struct ipv4_revnat_tuple (16) / ipv4_revnat_entry (8) of cilium_lb4_reverse_sk. */
export const RSKKEY_SIZE = 16, RSKKEY_COOKIE = 0, RSKKEY_ADDR = 8, RSKKEY_PORT = 12;
export const RSKVAL_SIZE = 8, RSKVAL_ADDR = 0, RSKVAL_PORT = 4, RSKVAL_REV_NAT = 6;

/**
 * struct ipv4_ct_tuple (14, packed). As stored by ct_lookup4/ct_create4 the
 * tuple reads src(@0):@10 -> dst(@4):@8 for the direction in `flags`, which is
 * what `cilium-dbg bpf ct list` prints.
 */
export const TUPLE_SIZE = 14, TUPLE_A0 = 0, TUPLE_A1 = 4, TUPLE_P8 = 8, TUPLE_P10 = 10, TUPLE_NEXTHDR = 12, TUPLE_FLAGS = 13;
export const TUPLE_F_OUT = 0, TUPLE_F_IN = 1, TUPLE_F_RELATED = 2, TUPLE_F_SERVICE = 4;
/** struct ct_entry (56). */
export const CT_SIZE = 56, CT_BACKEND_ID = 8, CT_PACKETS = 16, CT_BYTES = 24, CT_LIFETIME = 32, CT_FLAGS = 36,
  CT_REV_NAT = 38, CT_IFINDEX = 40, CT_TX_FLAGS_SEEN = 42, CT_RX_FLAGS_SEEN = 43, CT_SRC_SEC_ID = 44,
  CT_LAST_TX_REPORT = 48, CT_LAST_RX_REPORT = 52;
/** ct_entry flag bits (bitfield order). */
export const CTF_RX_CLOSING = 1, CTF_TX_CLOSING = 2, CTF_NAT64 = 4, CTF_LB_LOOPBACK = 8, CTF_SEEN_NON_SYN = 16,
  CTF_NODE_PORT = 32, CTF_PROXY_REDIRECT = 64, CTF_DSR_INTERNAL = 128, CTF_FROM_L7LB = 256, CTF_FROM_TUNNEL = 1024;

/** struct ipv4_nat_entry (40): created, needs_ct, pad1, pad2, to_saddr, to_sport. */
export const NAT_SIZE = 40, NAT_CREATED = 0, NAT_NEEDS_CT = 8, NAT_TO_ADDR = 32, NAT_TO_PORT = 36;

/** struct metrics_key (8) / metrics_value (16). */
export const METRICS_KEY_SIZE = 8, METRICS_REASON = 0, METRICS_DIR = 1, METRICS_LINE = 2, METRICS_FILE = 4;
export const METRICS_VAL_SIZE = 16, METRICS_COUNT = 0, METRICS_BYTES = 8;

/** struct tunnel_key (20) / tunnel_value (20) of cilium_tunnel_map. */
export const TUNKEY_SIZE = 20, TUNVAL_SIZE = 20;
