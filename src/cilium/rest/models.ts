// The agent REST API's JSON shapes (Cilium 1.16 api/v1/openapi.yaml, go-swagger
// models): keys exactly as Cilium writes them, optional where the Go field is
// omitempty. Only what dplab fills is declared.

/** models.BPFMapEntry: every field omitempty. */
export interface BPFMapEntry { key?: string; value?: string; 'desired-action'?: string; 'last-error'?: string }
/** models.BPFMap: `cache` has no omitempty, null = the agent keeps no cache. */
export interface BPFMap { path: string; cache: BPFMapEntry[] | null }
export interface BPFMapList { maps: BPFMap[] }
/** models.MapEvent, one per update/delete of a map with an event buffer. */
export interface MapEvent { action: 'update' | 'delete'; 'desired-action': string; key: string; value: string; 'last-error'?: string; timestamp: string }

export interface Identity { id: number; labels: string[]; labelsSHA256: string }

export interface AddressPair { ipv4?: string; ipv6?: string }
export interface EndpointNetworking { addressing: AddressPair[]; 'host-mac'?: string; 'interface-index'?: number; 'interface-name'?: string; mac?: string }
export interface EndpointIdentifiers { 'container-id'?: string; 'k8s-namespace'?: string; 'k8s-pod-name'?: string; 'pod-name'?: string }
export interface EndpointHealth { bpf: string; policy: string; connected: boolean; overallHealth: string }
export interface LabelConfigurationStatus { realized: { user?: string[] }; 'security-relevant': string[]; derived?: string[]; disabled?: string[] }
export interface EndpointPolicy {
  id: number; build: number; 'policy-revision': number; 'policy-enabled': 'none' | 'ingress' | 'egress' | 'both';
  'allowed-ingress-identities'?: number[]; 'allowed-egress-identities'?: number[];
}
export interface EndpointStatus {
  'external-identifiers'?: EndpointIdentifiers; health: EndpointHealth; identity: Identity; labels: LabelConfigurationStatus;
  networking: EndpointNetworking; policy: { realized: EndpointPolicy; spec: EndpointPolicy }; state: string;
}
export interface Endpoint { id: number; spec: { options: Record<string, string>; 'label-configuration': { user?: string[] } }; status: EndpointStatus }

export interface IPListEntry { cidr: string; identity: number; hostIP?: string; encryptKey?: number; metadata?: { source: string; namespace?: string; name?: string } }

export interface FrontendAddress { ip: string; port: number; protocol: string; scope: 'external' | 'internal' }
export interface BackendAddress { ip: string; port: number; protocol: string; nodeName?: string; state: string; preferred?: boolean; weight?: number }
export interface ServiceSpec {
  id: number; 'frontend-address': FrontendAddress; 'backend-addresses': BackendAddress[];
  flags: { type: string; name?: string; namespace?: string; extTrafficPolicy: string; intTrafficPolicy: string; natPolicy?: string };
}
export interface Service { spec: ServiceSpec; status: { realized: ServiceSpec } }

export interface NodeAddressingElement { enabled: boolean; ip?: string; 'alloc-range'?: string; 'address-type'?: string }
export interface NodeAddressing { ipv4: NodeAddressingElement; ipv6: NodeAddressingElement }
export interface NodeElement {
  name: string; 'primary-address': NodeAddressing; 'secondary-addresses': NodeAddressingElement[];
  'health-endpoint-address': NodeAddressing; source: string;
}
export interface ClusterNodeStatus { self: string; nodes: NodeElement[]; 'client-id': number }

export interface Policy { revision: number; policy: string }

/** models.Status: `{state, msg}`. */
export interface Status { state: 'Ok' | 'Warning' | 'Failure' | 'Disabled'; msg?: string }
