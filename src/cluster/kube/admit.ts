// Admission: per-kind validation and defaulting of one incoming object
// against the request's copy of the state.

import { ClusterError } from '../facade.ts';
import { admitDaemonSet } from './daemonsets.ts';
import { admitNetworkPolicy } from './netpol.ts';
import { admitSelectorAndTemplate, normalizePodSpec, qualifyImage } from './pods.ts';
import { admitService } from './services.ts';
import { getObj, type KubeEnv, type KubeState } from './state.ts';
import { kindInfo, POD_IP_ANNOTATION, type Any, type KObject } from './types.ts';
import { asArray, badValue, checkAnnotations, checkIp, checkLabels, checkName, checkNonSpecialIp, checkPort, checkProtocol, invalid } from './validate.ts';

/** Normalize obj (in place) for storage; `old` is the stored object on update. */
export function admit(s: KubeState, env: KubeEnv, obj: KObject, old?: KObject): void {
  const info = kindInfo(obj.kind)!;
  checkName(obj, obj.kind === 'Namespace' ? 'dns1123label' : obj.kind === 'Service' ? 'dns1035' : 'subdomain');
  obj.apiVersion = info.apiVersion;
  obj.metadata.labels = checkLabels(obj, 'metadata.labels', obj.metadata.labels);
  if (Object.keys(obj.metadata.labels).length === 0) delete obj.metadata.labels;
  if (obj.metadata.annotations !== undefined) obj.metadata.annotations = checkAnnotations(obj, 'metadata.annotations', obj.metadata.annotations);
  if (info.namespaced) {
    const ns = (obj.metadata.namespace ??= 'default');
    if (!getObj(s, 'Namespace', undefined, ns)) throw new ClusterError(`Error from server (NotFound): namespaces "${ns}" not found`, 404, 'metadata.namespace');
  } else delete obj.metadata.namespace;
  switch (obj.kind) {
    case 'Namespace':
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
      obj.spec = { finalizers: ['kubernetes'] }; obj.status = { phase: 'Active' };
      return;
    case 'Node': return admitNode(obj, old);
    case 'Pod': return admitPod(obj, old);
    case 'Service': return admitService(s, env, obj, old);
    case 'Endpoints': return admitEndpoints(obj);
    case 'Deployment': case 'ReplicaSet': return admitWorkload(obj);
    case 'DaemonSet': return admitDaemonSet(obj);
    case 'NetworkPolicy': return admitNetworkPolicy(obj);
    case 'EndpointSlice': case 'CiliumEndpoint':
      throw new ClusterError(`${info.resource} are managed by the cluster's controllers and cannot be written`, 400, 'kind');
    default: return; // policies: stored as given
  }
}

function admitNode(obj: KObject, old?: KObject): void {
  if (!old) throw new ClusterError(`nodes "${obj.metadata.name}" not found: nodes come from the Cluster document and cannot be added later`, 404, 'metadata.name');
  // Only labels/annotations are writable; the rest stays as the cluster built it.
  obj.spec = old.spec; obj.status = old.status;
  obj.metadata.labels = { ...(obj.metadata.labels ?? {}) };
}

function admitPod(obj: KObject, old?: KObject): void {
  normalizePodSpec(obj, 'spec', obj.spec);
  const pin = obj.metadata.annotations?.[POD_IP_ANNOTATION];
  if (pin !== undefined) checkIp(obj, `metadata.annotations[${POD_IP_ANNOTATION}]`, pin);
  if (obj.spec.nodeSelector !== undefined) obj.spec.nodeSelector = checkLabels(obj, 'spec.nodeSelector', obj.spec.nodeSelector);
  if (old) {
    const keep = { ...old.spec }; const next = { ...obj.spec };
    if (!next.nodeName) next.nodeName = keep.nodeName;
    // The API server lets an update change container images (kubelet restarts the container), nothing else here.
    if (JSON.stringify(sortKeys(withoutImages(keep))) !== JSON.stringify(sortKeys(withoutImages(next)))) {
      invalid(obj, 'spec', 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)');
    }
    if (pin !== old.metadata.annotations?.[POD_IP_ANNOTATION]) invalid(obj, `metadata.annotations[${POD_IP_ANNOTATION}]`, 'Forbidden: the pod IP cannot change on a running pod');
    const images = (obj.spec.containers as Any[]).map((c) => c.image);
    obj.spec = { ...old.spec, containers: old.spec.containers.map((c: Any, i: number) => ({ ...c, image: images[i] })) };
    obj.status = restartedFor(old, images);
  } else delete obj.status;
}

function withoutImages(spec: Any): Any {
  return { ...spec, containers: (spec.containers ?? []).map((c: Any) => ({ ...c, image: '', imagePullPolicy: '' })) };
}

/** kubelet's status after an image change: the changed containers restarted once. */
function restartedFor(old: KObject, images: string[]): Any {
  if (!old.status?.containerStatuses) return old.status;
  return {
    ...old.status,
    containerStatuses: old.status.containerStatuses.map((cs: Any, i: number) => {
      const was = old.spec.containers[i]?.image;
      return was === images[i] || images[i] === undefined ? cs : { ...cs, image: qualifyImage(images[i]!), restartCount: (cs.restartCount ?? 0) + 1 };
    }),
  };
}

function sortKeys(v: Any): Any {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

function admitWorkload(obj: KObject): void {
  const spec: Any = (obj.spec ??= {});
  const r = spec.replicas ?? 1;
  // replicas is an int32: larger numbers fail to decode.
  if (typeof r === 'number' && Number.isInteger(r) && r > 2 ** 31 - 1) throw new ClusterError(`Error from server (BadRequest): ${obj.kind} in version "v1" cannot be handled as a ${obj.kind}: json: cannot unmarshal number ${r} into Go struct field ${obj.kind}Spec.spec.replicas of type int32`, 400, 'spec.replicas');
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 0) badValue(obj, 'spec.replicas', r, 'must be greater than or equal to 0');
  spec.replicas = r;
  admitSelectorAndTemplate(obj, spec);
  if (obj.kind === 'Deployment') {
    spec.progressDeadlineSeconds ??= 600; spec.revisionHistoryLimit ??= 10;
    spec.strategy ??= { rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' }, type: 'RollingUpdate' };
    obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), 'deployment.kubernetes.io/revision': '1' };
  }
  delete obj.status;
}

function admitEndpoints(obj: KObject): void {
  obj.subsets = asArray(obj, 'subsets', obj.subsets).map((sub: Any, i) => {
    const f = `subsets[${i}]`;
    const addrs = (k: string) => asArray(obj, `${f}.${k}`, sub?.[k]).map((a: Any, j) => { checkNonSpecialIp(obj, `${f}.${k}[${j}].ip`, a?.ip); return a; });
    const ports = asArray(obj, `${f}.ports`, sub?.ports).map((p: Any, j) => ({ ...p, port: checkPort(obj, `${f}.ports[${j}].port`, p?.port), protocol: checkProtocol(obj, `${f}.ports[${j}].protocol`, p?.protocol) }));
    const a = addrs('addresses'), n = addrs('notReadyAddresses');
    return { ...(a.length ? { addresses: a } : {}), ...(n.length ? { notReadyAddresses: n } : {}), ports };
  });
}
