// The words `hubble observe` prints for numbers: trace observation points,
// drop reasons, reserved identities, policy match kinds. Tables as in the
// Cilium code vendored by the hubble CLI 0.11.6 (pkg/monitor/api, pkg/identity),
// the release whose output dplab matches (../../../README.md, Hubble).

import { enumName } from '../proto.ts';

/** pkg/monitor/api TraceObservationPoints: a trace event's sub_type. */
const TRACE_POINTS: readonly string[] = [
  'to-endpoint', 'to-proxy', 'to-host', 'to-stack', 'to-overlay', 'from-endpoint',
  'from-proxy', 'from-host', 'from-stack', 'from-overlay', 'from-network', 'to-network',
];

/** pkg/monitor/api drop.go errors: a drop event's sub_type. */
const DROP_TEXTS: Readonly<Record<number, string>> = {
  0: 'Success', 2: 'Invalid packet', 3: 'Interface', 4: 'Interface Decrypted',
  5: 'LB, sock cgroup: No backend slot entry found', 6: 'LB, sock cgroup: No backend entry found',
  7: 'LB, sock cgroup: Reverse entry update failed', 8: 'LB, sock cgroup: Reverse entry stale',
  9: 'Fragmented packet', 10: 'Fragmented packet entry update failed', 11: 'Missed tail call to custom program',
  130: 'Invalid source mac', 131: 'Invalid destination mac', 132: 'Invalid source ip', 133: 'Policy denied',
  134: 'Invalid packet', 135: 'CT: Truncated or invalid header', 136: 'Fragmentation needed', 137: 'CT: Unknown L4 protocol',
  138: 'CT: Can\'t create entry from packet', 139: 'Unsupported L3 protocol', 140: 'Missed tail call', 141: 'Error writing to packet',
  142: 'Unknown L4 protocol', 143: 'Unknown ICMPv4 code', 144: 'Unknown ICMPv4 type', 145: 'Unknown ICMPv6 code',
  146: 'Unknown ICMPv6 type', 147: 'Error retrieving tunnel key', 148: 'Error retrieving tunnel options', 149: 'Invalid Geneve option',
  150: 'Unknown L3 target address', 151: 'Stale or unroutable IP', 152: 'No matching local container found',
  153: 'Error while correcting L3 checksum', 154: 'Error while correcting L4 checksum', 155: 'CT: Map insertion failed',
  156: 'Invalid IPv6 extension header', 157: 'IP fragmentation not supported', 158: 'Service backend not found',
  160: 'No tunnel/encapsulation endpoint (datapath BUG!)', 161: 'NAT 46/64 not enabled', 162: 'Reached EDT rate-limiting drop horizon',
  163: 'Unknown connection tracking state', 164: 'Local host is unreachable', 165: 'No configuration available to perform policy decision',
  166: 'Unsupported L2 protocol', 167: 'No mapping for NAT masquerade', 168: 'Unsupported protocol for NAT masquerade',
  169: 'FIB lookup failed', 170: 'Encapsulation traffic is prohibited', 171: 'Invalid identity', 172: 'Unknown sender',
  173: 'NAT not needed', 174: 'Is a ClusterIP', 175: 'First logical datagram fragment not found', 176: 'Forbidden ICMPv6 message',
  177: 'Denied by LB src range check', 178: 'Socket lookup failed', 179: 'Socket assign failed',
  180: 'Proxy redirection not supported for protocol', 181: 'Policy denied by denylist', 182: 'VLAN traffic disallowed by VLAN filter',
  183: 'Incorrect VNI from VTEP', 184: 'Failed to update or lookup TC buffer', 185: 'No SID was found for the IP address',
  186: 'SRv6 state was removed during tail call', 187: 'L3 translation from IPv4 to IPv6 failed (NAT46)',
  188: 'L3 translation from IPv6 to IPv4 failed (NAT64)', 189: 'Authentication required',
};

/** pkg/identity reservedIdentityNames: the identities printed by name. */
export const RESERVED_IDENTITIES: readonly string[] = ['unknown', 'host', 'world', 'unmanaged', 'health', 'init', 'remote-node', 'kube-apiserver', 'ingress'];

/** pkg/monitor/api PolicyMatchType.String(). */
const POLICY_MATCH: readonly string[] = ['none', 'L3-Only', 'L3-L4', 'L4-Only', 'all', 'L3-Proto', 'Proto-Only'];

/** Name of a trace observation point (the CLI reads the sub_type as a uint8); unknown ones print as the number. */
export function traceObservationPoint(subType: number): string {
  const p = subType & 0xff;
  return TRACE_POINTS[p] ?? String(p);
}

/** A drop reason's text (uint8, as the CLI reads it); unknown codes print as "<code>, 0". */
export function dropReasonText(subType: number): string {
  const r = subType & 0xff;
  return DROP_TEXTS[r] ?? `${r}, 0`;
}

/** "(world)" for a reserved identity, "(ID:n)" for any other. */
export function identityText(id: number): string {
  const name = Number.isInteger(id) && id >= 0 ? RESERVED_IDENTITIES[id] : undefined;
  return name !== undefined ? `(${name})` : `(ID:${id >>> 0})`;
}

/** Reserved identity number for a name (as `--identity world` takes), or undefined; "unknown" is not one. */
export function reservedIdentity(name: string): number | undefined {
  const i = RESERVED_IDENTITIES.indexOf(name);
  return i > 0 ? i : undefined;
}

export function policyMatchType(m: number): string { return POLICY_MATCH[m] ?? 'unknown'; }

/** Go's String() of a generated enum: the value's name, or its number when the proto has none. */
export function goEnumString(enumType: string, v: unknown): string {
  if (typeof v === 'string') return v;
  const n = typeof v === 'number' ? v : 0;
  return enumName(enumType, n) ?? String(n);
}
