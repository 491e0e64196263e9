// Kubernetes objects as plain JSON (what `kubectl get -o json` prints), and
// the kinds the emulated API server knows.

/** Manifest objects are free-form JSON; admission checks the fields we use. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Any = any;

export interface OwnerRef { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  generateName?: string;
  ownerReferences?: OwnerRef[];
}

export interface KObject { apiVersion: string; kind: string; metadata: ObjectMeta; spec?: Any; status?: Any; [k: string]: Any }

export interface KindInfo {
  kind: string;
  apiVersion: string;
  /** Plural resource name (pods). */
  resource: string;
  aliases: string[];
  namespaced: boolean;
}

export const KINDS: KindInfo[] = [
  { kind: 'Namespace', apiVersion: 'v1', resource: 'namespaces', aliases: ['namespace', 'ns'], namespaced: false },
  { kind: 'Node', apiVersion: 'v1', resource: 'nodes', aliases: ['node', 'no'], namespaced: false },
  { kind: 'Pod', apiVersion: 'v1', resource: 'pods', aliases: ['pod', 'po'], namespaced: true },
  { kind: 'Service', apiVersion: 'v1', resource: 'services', aliases: ['service', 'svc'], namespaced: true },
  { kind: 'Endpoints', apiVersion: 'v1', resource: 'endpoints', aliases: ['ep'], namespaced: true },
  { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', resource: 'endpointslices', aliases: ['endpointslice'], namespaced: true },
  { kind: 'ReplicaSet', apiVersion: 'apps/v1', resource: 'replicasets', aliases: ['replicaset', 'rs'], namespaced: true },
  { kind: 'Deployment', apiVersion: 'apps/v1', resource: 'deployments', aliases: ['deployment', 'deploy'], namespaced: true },
  { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1', resource: 'networkpolicies', aliases: ['networkpolicy', 'netpol'], namespaced: true },
  { kind: 'CiliumNetworkPolicy', apiVersion: 'cilium.io/v2', resource: 'ciliumnetworkpolicies', aliases: ['ciliumnetworkpolicy', 'cnp'], namespaced: true },
  { kind: 'CiliumEndpoint', apiVersion: 'cilium.io/v2', resource: 'ciliumendpoints', aliases: ['ciliumendpoint', 'cep'], namespaced: true },
];

/** Kind info by kind name (Pod) or any resource alias (pods, po, svc...). */
export function kindInfo(nameOrAlias: string): KindInfo | undefined {
  const k = nameOrAlias.toLowerCase().replace(/\..*$/, '');
  return KINDS.find((i) => i.kind.toLowerCase() === k || i.resource === k || i.aliases.includes(k));
}

export const POD_IP_ANNOTATION = 'dplab.dev/pod-ip';

/** Object key inside a kind's table. */
export function objKey(namespace: string | undefined, name: string): string { return `${namespace ?? ''}/${name}`; }

export function clone<T>(v: T): T { return structuredClone(v); }
