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
  { kind: 'DaemonSet', apiVersion: 'apps/v1', resource: 'daemonsets', aliases: ['daemonset', 'ds'], namespaced: true },
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

/** Keys that reach JavaScript's prototype chain when written or walked through. */
export const PROTO_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** o[k] only if o itself holds k (never an inherited member such as `constructor`). */
export function ownGet(o: unknown, k: string): Any {
  return o !== null && typeof o === 'object' && Object.hasOwn(o, k) ? (o as Record<string, unknown>)[k] : undefined;
}

/** o[k] = v as a plain own data property: `__proto__` stays a key and never swaps the prototype. */
export function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** Maps whose keys are user data (validated as label keys, copied as own properties), not field names. */
const FREE_MAPS = new Set(['labels', 'annotations', 'selector', 'matchLabels', 'nodeSelector']);

/** Deepest nesting a manifest or patch may have: dplab's limit (go-yaml's is 10,000; the yaml library recurses per level and fails near 800). */
export const MAX_DEPTH = 512;

/**
 * The first field path holding a prototype key where a field name belongs, or
 * a depth over MAX_DEPTH; walked with an explicit stack (no recursion limit).
 */
export function protoKeyPath(root: unknown): { path: string; depth?: boolean } | undefined {
  const stack: Array<{ v: unknown; path: string; depth: number; free: boolean }> = [{ v: root, path: '', depth: 0, free: false }];
  while (stack.length > 0) {
    const { v, path, depth, free } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_DEPTH) return { path, depth: true };
    if (Array.isArray(v)) { v.forEach((x, i) => stack.push({ v: x, path: `${path}[${i}]`, depth: depth + 1, free: false })); continue; }
    for (const k of Object.keys(v)) {
      const p = path ? `${path}.${k}` : k;
      if (PROTO_KEYS.has(k) && !free) return { path: p };
      stack.push({ v: (v as Record<string, unknown>)[k], path: p, depth: depth + 1, free: FREE_MAPS.has(k) });
    }
  }
  return undefined;
}
