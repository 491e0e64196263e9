// Hubble's protos (proto/flow, proto/observer, proto/relay) loaded once with
// protobufjs, and the plain-object shapes dplab fills. Field names are the
// proto names (keepCase), as protojson prints them with UseProtoNames.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** proto/ of the repository, found upward from this file (src/hubble or dist/src/hubble). */
function protoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'proto');
    if (existsSync(join(p, 'flow', 'flow.proto'))) return p;
    dir = dirname(dir);
  }
  throw new Error('proto/flow/flow.proto not found above ' + fileURLToPath(import.meta.url));
}

/** Absolute directory holding flow/, observer/ and relay/ (for gRPC reflection and loaders). */
export const PROTO_DIR = protoDir();
/** The files, as import paths relative to PROTO_DIR (the names Hubble's descriptors carry). */
export const PROTO_FILES = ['flow/flow.proto', 'relay/relay.proto', 'observer/observer.proto'] as const;

function load(): protobuf.Root {
  const root = new protobuf.Root();
  // google/protobuf/* resolve to protobufjs's bundled well-known types; ours to PROTO_DIR.
  root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : join(PROTO_DIR, target.replace(PROTO_DIR + '/', '')));
  root.loadSync(PROTO_FILES.map((f) => join(PROTO_DIR, f)), { keepCase: true });
  root.resolveAll();
  return root;
}

/** The loaded root (all three packages plus the well-known types they import). */
export const root: protobuf.Root = load();

const T = (name: string): protobuf.Type => root.lookupType(name);
export const Flow = T('flow.Flow');
export const FlowFilter = T('flow.FlowFilter');
export const LostEvent = T('flow.LostEvent');
export const AgentEvent = T('flow.AgentEvent');
export const DebugEvent = T('flow.DebugEvent');
export const NodeStatusEvent = T('relay.NodeStatusEvent');
export const GetFlowsRequest = T('observer.GetFlowsRequest');
export const GetFlowsResponse = T('observer.GetFlowsResponse');
export const GetAgentEventsRequest = T('observer.GetAgentEventsRequest');
export const GetAgentEventsResponse = T('observer.GetAgentEventsResponse');
export const GetDebugEventsRequest = T('observer.GetDebugEventsRequest');
export const GetDebugEventsResponse = T('observer.GetDebugEventsResponse');
export const ServerStatusRequest = T('observer.ServerStatusRequest');
export const ServerStatusResponse = T('observer.ServerStatusResponse');
export const GetNodesRequest = T('observer.GetNodesRequest');
export const GetNodesResponse = T('observer.GetNodesResponse');
export const GetNamespacesRequest = T('observer.GetNamespacesRequest');
export const GetNamespacesResponse = T('observer.GetNamespacesResponse');
export const ExportEvent = T('observer.ExportEvent');
/** The gRPC service definition observer.Observer. */
export const ObserverService: protobuf.Service = root.lookupService('observer.Observer');

const E = (name: string): Readonly<Record<string, number>> => root.lookupEnum(name).values;
/** Enum name -> number tables, from the protos (one source for the numbers). */
export const Verdict = E('flow.Verdict');
export const DropReason = E('flow.DropReason');
export const FlowType = E('flow.FlowType');
export const TraceObservationPoint = E('flow.TraceObservationPoint');
export const TraceReason = E('flow.TraceReason');
export const TrafficDirection = E('flow.TrafficDirection');
export const IPVersion = E('flow.IPVersion');
export const SocketTranslationPoint = E('flow.SocketTranslationPoint');
export const LostEventSource = E('flow.LostEventSource');
export const NodeState = E('relay.NodeState');

/** Enum number -> name, e.g. enumName('flow.Verdict', 1) = 'FORWARDED'. */
export function enumName(enumType: string, value: number): string | undefined {
  return root.lookupEnum(enumType).valuesById[value];
}

// ---- plain-object forms (what Type.fromObject takes and toObject({ keepCase }) gives) ----

/** google.protobuf.Timestamp. */
export interface TimestampObject { seconds: number; nanos: number }
/** google.protobuf.BoolValue / UInt32Value / Int32Value. */
export interface BoolValueObject { value: boolean }
export interface UInt32ValueObject { value: number }
export interface Int32ValueObject { value: number }

export interface WorkloadObject { name: string; kind: string }
export interface EndpointObject {
  ID?: number; identity?: number; cluster_name?: string; namespace?: string;
  labels?: string[]; pod_name?: string; workloads?: WorkloadObject[];
}
export interface EthernetObject { source: string; destination: string }
export interface IPObject { source: string; source_xlated?: string; destination: string; ipVersion: number; encrypted?: boolean }
export interface TCPFlagsObject {
  FIN?: boolean; SYN?: boolean; RST?: boolean; PSH?: boolean; ACK?: boolean; URG?: boolean; ECE?: boolean; CWR?: boolean; NS?: boolean;
}
export interface TCPObject { source_port: number; destination_port: number; flags?: TCPFlagsObject }
export interface UDPObject { source_port: number; destination_port: number }
export interface ICMPObject { type: number; code: number }
/** flow.Layer4: exactly one member set. */
export interface Layer4Object { TCP?: TCPObject; UDP?: UDPObject; ICMPv4?: ICMPObject; ICMPv6?: ICMPObject; SCTP?: UDPObject }
export interface ServiceObject { name: string; namespace: string }
export interface CiliumEventTypeObject { type: number; sub_type: number }
export interface NetworkInterfaceObject { index: number; name?: string }
export interface FileInfoObject { name: string; line: number }
export interface HTTPObject { code?: number; method?: string; url?: string; protocol?: string; headers?: Array<{ key: string; value: string }> }
export interface DNSObject {
  query?: string; ips?: string[]; ttl?: number; cnames?: string[]; observation_source?: string; rcode?: number; qtypes?: string[]; rrtypes?: string[];
}
export interface Layer7Object { type: number; latency_ns?: number; dns?: DNSObject; http?: HTTPObject }
export interface EmitterObject { name: string; version: string }
/** flow.Tunnel (protocol: 1 VXLAN, 2 GENEVE). */
export interface TunnelObject { protocol: number; IP?: IPObject; l4?: Layer4Object; vni: number }

/** flow.Flow as dplab fills it; enums are numbers. */
export interface FlowObject {
  time: TimestampObject;
  uuid: string;
  emitter?: EmitterObject;
  verdict: number;
  drop_reason?: number;
  drop_reason_desc?: number;
  auth_type?: number;
  ethernet?: EthernetObject;
  IP?: IPObject;
  l4?: Layer4Object;
  tunnel?: TunnelObject;
  source?: EndpointObject;
  destination?: EndpointObject;
  Type: number;
  node_name: string;
  node_labels?: string[];
  source_names?: string[];
  destination_names?: string[];
  l7?: Layer7Object;
  reply?: boolean;
  event_type: CiliumEventTypeObject;
  source_service?: ServiceObject;
  destination_service?: ServiceObject;
  traffic_direction?: number;
  policy_match_type?: number;
  trace_observation_point?: number;
  trace_reason?: number;
  file?: FileInfoObject;
  is_reply?: BoolValueObject;
  interface?: NetworkInterfaceObject;
  proxy_port?: number;
  sock_xlate_point?: number;
  socket_cookie?: number;
  cgroup_id?: number;
  Summary: string;
}

export interface LostEventObject {
  source: number; num_events_lost: number; cpu?: Int32ValueObject; first?: TimestampObject; last?: TimestampObject;
}
export interface NodeStatusEventObject { state_change: number; node_names: string[]; message?: string }

export interface EventTypeFilterObject { type?: number; match_sub_type?: boolean; sub_type?: number }
/** flow.FlowFilter; enum fields take numbers or names (filters.ts). */
export interface FlowFilterObject {
  uuid?: string[];
  source_ip?: string[]; source_ip_xlated?: string[]; source_pod?: string[]; source_fqdn?: string[]; source_label?: string[];
  source_service?: string[]; source_workload?: WorkloadObject[]; source_cluster_name?: string[];
  destination_ip?: string[]; destination_pod?: string[]; destination_fqdn?: string[]; destination_label?: string[];
  destination_service?: string[]; destination_workload?: WorkloadObject[]; destination_cluster_name?: string[];
  traffic_direction?: number[]; verdict?: number[]; drop_reason_desc?: number[]; interface?: NetworkInterfaceObject[];
  event_type?: EventTypeFilterObject[]; http_status_code?: string[]; protocol?: string[];
  source_port?: string[]; destination_port?: string[]; reply?: boolean[]; dns_query?: string[];
  source_identity?: number[]; destination_identity?: number[];
  http_method?: string[]; http_path?: string[]; http_url?: string[]; http_header?: Array<{ key: string; value: string }>;
  tcp_flags?: TCPFlagsObject[]; node_name?: string[]; node_labels?: string[]; ip_version?: number[];
  trace_id?: string[]; ip_trace_id?: number[]; encrypted?: boolean[];
  experimental?: { cel_expression?: string[] };
}

/** observer.GetFlowsRequest. `number` (uint64) may be a number, bigint, decimal string or Long (service.ts uint64). */
export interface GetFlowsRequestObject {
  number?: number | bigint | { low: number; high: number; unsigned?: boolean };
  first?: boolean;
  follow?: boolean;
  blacklist?: FlowFilterObject[];
  whitelist?: FlowFilterObject[];
  since?: TimestampObject;
  until?: TimestampObject;
  field_mask?: { paths?: string[] };
}

/** observer.GetFlowsResponse: one of flow / node_status / lost_events. */
export interface GetFlowsResponseObject {
  flow?: FlowObject;
  node_status?: NodeStatusEventObject;
  lost_events?: LostEventObject;
  node_name: string;
  time: TimestampObject;
}

export interface ServerStatusResponseObject {
  num_flows: number; max_flows: number; seen_flows: number; uptime_ns: number;
  num_connected_nodes?: UInt32ValueObject; num_unavailable_nodes?: UInt32ValueObject; unavailable_nodes?: string[];
  version: string; flows_rate: number;
}
export interface NodeObject {
  name: string; version: string; address: string; state: number; tls?: { enabled: boolean; server_name?: string };
  uptime_ns: number; num_flows: number; max_flows: number; seen_flows: number;
}
export interface GetNodesResponseObject { nodes: NodeObject[] }
export interface NamespaceObject { cluster: string; namespace: string }
export interface GetNamespacesResponseObject { namespaces: NamespaceObject[] }
