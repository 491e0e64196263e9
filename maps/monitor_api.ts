// The numbers cilium_events samples carry, one table per enum, each row with
// the C name (bpf/lib/common.h, notify.h, trace.h, source_info.h) and the
// words the agent prints (pkg/monitor/api: drop.go, types.go, files.go).
// Programs take their constants from here; `cilium-dbg monitor`, `bpf metrics
// list`, Hubble and tests print and parse through the same rows.

/** A row: number, C name, printed word(s). */
export interface EnumRow { readonly code: number; readonly name: string; readonly text: string }

function rows(t: ReadonlyArray<readonly [number, string, string]>): readonly EnumRow[] {
  return Object.freeze(t.map(([code, name, text]) => Object.freeze({ code, name, text })));
}
function byCode(t: readonly EnumRow[]): ReadonlyMap<number, EnumRow> { return new Map(t.map((r) => [r.code, r])); }
function codeOf(t: readonly EnumRow[], name: string): number {
  const r = t.find((x) => x.name === name);
  if (!r) throw new Error(`no ${name}`);
  return r.code;
}

/** Drop reasons (DROP_*; the datapath returns them negated), with pkg/monitor/api/drop.go's text. */
export const DROP_REASON_TABLE = rows([
  [130, 'DROP_INVALID_SMAC', 'Invalid source mac'], [131, 'DROP_INVALID_DMAC', 'Invalid destination mac'],
  [132, 'DROP_INVALID_SIP', 'Invalid source ip'], [133, 'DROP_POLICY', 'Policy denied'], [134, 'DROP_INVALID', 'Invalid packet'],
  [135, 'DROP_CT_INVALID_HDR', 'CT: Truncated or invalid header'], [136, 'DROP_FRAG_NEEDED', 'Fragmentation needed'],
  [137, 'DROP_CT_UNKNOWN_PROTO', 'CT: Unknown L4 protocol'], [138, 'DROP_CT_CANT_CREATE_', "CT: Can't create entry from packet"],
  [139, 'DROP_UNKNOWN_L3', 'Unsupported L3 protocol'], [140, 'DROP_MISSED_TAIL_CALL', 'Missed tail call'],
  [141, 'DROP_WRITE_ERROR', 'Error writing to packet'], [142, 'DROP_UNKNOWN_L4', 'Unknown L4 protocol'],
  [143, 'DROP_UNKNOWN_ICMP_CODE', 'Unknown ICMPv4 code'], [144, 'DROP_UNKNOWN_ICMP_TYPE', 'Unknown ICMPv4 type'],
  [145, 'DROP_UNKNOWN_ICMP6_CODE', 'Unknown ICMPv6 code'], [146, 'DROP_UNKNOWN_ICMP6_TYPE', 'Unknown ICMPv6 type'],
  [147, 'DROP_NO_TUNNEL_KEY', 'Error retrieving tunnel key'], [148, 'DROP_NO_TUNNEL_OPT', 'Error retrieving tunnel options'],
  [149, 'DROP_INVALID_GENEVE', 'Invalid Geneve option'], [150, 'DROP_UNKNOWN_TARGET', 'Unknown L3 target address'],
  [151, 'DROP_UNROUTABLE', 'Stale or unroutable IP'], [152, 'DROP_NO_LXC', 'No matching local container found'],
  [153, 'DROP_CSUM_L3', 'Error while correcting L3 checksum'], [154, 'DROP_CSUM_L4', 'Error while correcting L4 checksum'],
  [155, 'DROP_CT_CREATE_FAILED', 'CT: Map insertion failed'], [156, 'DROP_INVALID_EXTHDR', 'Invalid IPv6 extension header'],
  [157, 'DROP_FRAG_NOSUPPORT', 'IP fragmentation not supported'], [158, 'DROP_NO_SERVICE', 'Service backend not found'],
  [160, 'DROP_NO_TUNNEL_ENDPOINT', 'No tunnel/encapsulation endpoint (datapath BUG!)'],
  [161, 'DROP_NAT_46X64_DISABLED', 'NAT 46/64 not enabled'], [162, 'DROP_EDT_HORIZON', 'Reached EDT rate-limiting drop horizon'],
  [163, 'DROP_UNKNOWN_CT', 'Unknown connection tracking state'], [164, 'DROP_HOST_UNREACHABLE', 'Local host is unreachable'],
  [165, 'DROP_NO_CONFIG', 'No configuration available to perform policy decision'],
  [166, 'DROP_UNSUPPORTED_L2', 'Unsupported L2 protocol'], [167, 'DROP_NAT_NO_MAPPING', 'No mapping for NAT masquerade'],
  [168, 'DROP_NAT_UNSUPP_PROTO', 'Unsupported protocol for NAT masquerade'], [169, 'DROP_NO_FIB', 'FIB lookup failed'],
  [170, 'DROP_ENCAP_PROHIBITED', 'Encapsulation traffic is prohibited'], [171, 'DROP_INVALID_IDENTITY', 'Invalid identity'],
  [172, 'DROP_UNKNOWN_SENDER', 'Unknown sender'], [173, 'DROP_NAT_NOT_NEEDED', 'NAT not needed'],
  [174, 'DROP_IS_CLUSTER_IP', 'Is a ClusterIP'], [175, 'DROP_FRAG_NOT_FOUND', 'First logical datagram fragment not found'],
  [176, 'DROP_FORBIDDEN_ICMP6', 'Forbidden ICMPv6 message'], [177, 'DROP_NOT_IN_SRC_RANGE', 'Denied by LB src range check'],
  [178, 'DROP_PROXY_LOOKUP_FAILED', 'Socket lookup failed'], [179, 'DROP_PROXY_SET_FAILED', 'Socket assign failed'],
  [180, 'DROP_PROXY_UNKNOWN_PROTO', 'Proxy redirection not supported for protocol'],
  [181, 'DROP_POLICY_DENY', 'Policy denied by denylist'], [182, 'DROP_VLAN_FILTERED', 'VLAN traffic disallowed by VLAN filter'],
  [183, 'DROP_INVALID_VNI', 'Incorrect VNI from VTEP'], [184, 'DROP_INVALID_TC_BUFFER', 'Failed to update or lookup TC buffer'],
  [185, 'DROP_NO_SID', 'No SID was found for the IP address'], [186, 'DROP_MISSING_SRV6_STATE', 'SRv6 state was removed during tail call'],
  [187, 'DROP_NAT46', 'L3 translation from IPv4 to IPv6 failed (NAT46)'], [188, 'DROP_NAT64', 'L3 translation from IPv6 to IPv4 failed (NAT64)'],
  [189, 'DROP_POLICY_AUTH_REQUIRED', 'Authentication required'], [190, 'DROP_CT_NO_MAP_FOUND', 'No conntrack map found'],
  [191, 'DROP_SNAT_NO_MAP_FOUND', 'No nat map found'], [192, 'DROP_INVALID_CLUSTER_ID', 'Invalid ClusterID'],
  [193, 'DROP_DSR_ENCAP_UNSUPP_PROTO', 'Unsupported packet protocol for DSR encapsulation'],
  [194, 'DROP_NO_EGRESS_GATEWAY', 'No egress gateway found'], [195, 'DROP_UNENCRYPTED_TRAFFIC', 'Traffic is unencrypted'],
  [196, 'DROP_TTL_EXCEEDED', 'TTL exceeded'], [197, 'DROP_NO_NODE_ID', 'No node ID found'],
  [198, 'DROP_RATE_LIMITED', 'Rate limited'], [199, 'DROP_IGMP_HANDLED', 'IGMP handled'],
  [200, 'DROP_IGMP_SUBSCRIBED', 'IGMP subscribed'], [201, 'DROP_MULTICAST_HANDLED', 'Multicast handled'],
]);
const DROP_BY_CODE = byCode(DROP_REASON_TABLE);
/** Code of a DROP_* name (throws on a typo, at module load). */
export function dropReason(name: string): number { return codeOf(DROP_REASON_TABLE, name); }
/** monitorAPI.DropReason(): 0 is "Success" (forwarded, in metrics); unknown codes print as the number. */
export function dropReasonText(code: number): string { return code === 0 ? 'Success' : DROP_BY_CODE.get(code)?.text ?? String(code); }

/**
 * enum trace_point: the trace_notify subtype. `text` is the monitor's word
 * (TraceObservationPoints, what Hubble prints); `summary` and `arg` give
 * TraceNotify.traceSummary(): the arrow text and which field follows it.
 */
export interface TracePointRow extends EnumRow { readonly summary: string; readonly arg: 'dst_id' | 'source' | 'proxy_port' | '' }
export const TRACE_POINT_TABLE: readonly TracePointRow[] = Object.freeze(([
  [0, 'TRACE_TO_LXC', 'to-endpoint', '-> endpoint', 'dst_id'], [1, 'TRACE_TO_PROXY', 'to-proxy', '-> proxy', 'proxy_port'],
  [2, 'TRACE_TO_HOST', 'to-host', '-> host from', ''], [3, 'TRACE_TO_STACK', 'to-stack', '-> stack', ''],
  [4, 'TRACE_TO_OVERLAY', 'to-overlay', '-> overlay', ''], [5, 'TRACE_FROM_LXC', 'from-endpoint', '<- endpoint', 'source'],
  [6, 'TRACE_FROM_PROXY', 'from-proxy', '<- proxy', ''], [7, 'TRACE_FROM_HOST', 'from-host', '<- host', ''],
  [8, 'TRACE_FROM_STACK', 'from-stack', '<- stack', ''], [9, 'TRACE_FROM_OVERLAY', 'from-overlay', '<- overlay', ''],
  [10, 'TRACE_FROM_NETWORK', 'from-network', '<- network', ''], [11, 'TRACE_TO_NETWORK', 'to-network', '-> network', ''],
  [12, 'TRACE_FROM_CRYPTO', 'from-crypto', '<- crypto', ''], [13, 'TRACE_TO_CRYPTO', 'to-crypto', '-> crypto', ''],
] as const).map(([code, name, text, summary, arg]) => Object.freeze({ code, name, text, summary, arg })));
const POINT_BY_CODE = new Map(TRACE_POINT_TABLE.map((r) => [r.code, r]));
export function tracePoint(name: string): number { return codeOf(TRACE_POINT_TABLE, name); }
export function tracePointRow(code: number): TracePointRow | undefined { return POINT_BY_CODE.get(code); }

/** enum trace_reason (CT states double as reasons); `text` is the monitor's `state` word. */
export const TRACE_REASON_TABLE = rows([
  [0, 'TRACE_REASON_POLICY', 'new'], [1, 'TRACE_REASON_CT_ESTABLISHED', 'established'], [2, 'TRACE_REASON_CT_REPLY', 'reply'],
  [3, 'TRACE_REASON_CT_RELATED', 'related'], [4, 'TRACE_REASON_CT_REOPENED', 'reopened'], [5, 'TRACE_REASON_UNKNOWN', 'unknown'],
  [6, 'TRACE_REASON_SRV6_ENCAP', 'srv6-encap'], [7, 'TRACE_REASON_SRV6_DECAP', 'srv6-decap'], [8, 'TRACE_REASON_ENCRYPT_OVERLAY', 'encrypt-overlay'],
]);
/** Bit or-ed into the reason when the packet was encrypted. */
export const TRACE_REASON_ENCRYPTED = 0x80;
const REASON_BY_CODE = byCode(TRACE_REASON_TABLE);
export function traceReason(name: string): number { return codeOf(TRACE_REASON_TABLE, name); }
/** The `state` word of a reason byte (encryption bit masked off), or the number. */
export function traceReasonText(reason: number): string { return REASON_BY_CODE.get(reason & ~TRACE_REASON_ENCRYPTED)?.text ?? String(reason); }

/** trace_sock_notify xlate points (SocketTranslationPoint); `text` is the monitor's bracketed word. */
export const XLATE_POINT_TABLE = rows([
  [0, 'XLATE_UNKNOWN', 'unknown'], [1, 'XLATE_PRE_DIRECTION_FWD', 'pre-xlate-fwd'], [2, 'XLATE_POST_DIRECTION_FWD', 'post-xlate-fwd'],
  [3, 'XLATE_PRE_DIRECTION_REV', 'pre-xlate-rev'], [4, 'XLATE_POST_DIRECTION_REV', 'post-xlate-rev'],
]);
const XLATE_BY_CODE = byCode(XLATE_POINT_TABLE);
export function xlatePoint(name: string): number { return codeOf(XLATE_POINT_TABLE, name); }
export function xlatePointText(code: number): string { return XLATE_BY_CODE.get(code)?.text ?? 'unknown'; }

/** CILIUM_NOTIFY_* message types (the first byte of a sample); `text` is Hubble's `--type` word. */
export const NOTIFY_TYPE_TABLE = rows([
  [1, 'CILIUM_NOTIFY_DROP', 'drop'], [2, 'CILIUM_NOTIFY_DBG_MSG', 'debug'], [3, 'CILIUM_NOTIFY_DBG_CAPTURE', 'capture'],
  [4, 'CILIUM_NOTIFY_TRACE', 'trace'], [5, 'CILIUM_NOTIFY_POLICY_VERDICT', 'policy-verdict'], [6, 'CILIUM_NOTIFY_CAPTURE', 'recorder'],
  [7, 'CILIUM_NOTIFY_TRACE_SOCK', 'trace-sock'],
]);
export function notifyType(name: string): number { return codeOf(NOTIFY_TYPE_TABLE, name); }

/** Source file ids (bpf/lib/source_info.h) that drop events and metrics carry, as monitorAPI.BPFFileName prints them. */
export const SOURCE_FILE_TABLE = rows([
  [1, 'bpf_host.c', 'bpf_host.c'], [2, 'bpf_lxc.c', 'bpf_lxc.c'], [3, 'bpf_overlay.c', 'bpf_overlay.c'], [4, 'bpf_xdp.c', 'bpf_xdp.c'],
  [5, 'bpf_sock.c', 'bpf_sock.c'], [7, 'bpf_wireguard.c', 'bpf_wireguard.c'], [101, 'drop.h', 'drop.h'], [104, 'nodeport.h', 'nodeport.h'],
  [105, 'lb.h', 'lb.h'], [107, 'ipv4.h', 'ipv4.h'], [108, 'conntrack.h', 'conntrack.h'], [109, 'local_delivery.h', 'local_delivery.h'],
  [110, 'trace.h', 'trace.h'], [111, 'encap.h', 'encap.h'],
]);
const FILE_BY_CODE = byCode(SOURCE_FILE_TABLE);
export function sourceFile(name: string): number { return codeOf(SOURCE_FILE_TABLE, name); }
/** monitorAPI.BPFFileName(). */
export function sourceFileName(id: number): string { return FILE_BY_CODE.get(id)?.text ?? `unknown(${id})`; }
