// Which pod and container `kubectl exec` runs in: POD, pod/POD, or a
// workload (ds/, deploy/, rs/, svc/) whose pods are sorted as kubectl's
// attachablePodForObject sorts them (sort.Reverse(podutils.ActivePods)), and
// the container picked as podcmd.FindOrDefaultContainerByName picks it.

import { ClusterError } from '../facade.ts';
import type { KubeApi } from '../kube/api.ts';
import { kindInfo, type Any, type KObject } from '../kube/types.ts';
import { matchesSelector } from '../kube/validate.ts';

/** Kinds `kubectl exec TYPE/NAME` accepts beside pods, with the group kubectl names in NotFound errors. */
const WORKLOADS: Record<string, string> = { DaemonSet: 'daemonsets.apps', Deployment: 'deployments.apps', ReplicaSet: 'replicasets.apps', Service: 'services' };

/**
 * The pod `ref` names in ns: a pod (undefined if there is none: the exec
 * itself reports it), or the first pod of a workload; ClusterError otherwise.
 */
export function execPod(api: KubeApi, ns: string, ref: string): { name: string; pod?: KObject } {
  const slash = ref.indexOf('/');
  if (slash < 0 || /^(pods?|po)$/i.test(ref.slice(0, slash))) {
    const name = slash < 0 ? ref : ref.slice(slash + 1);
    return { name, pod: api.get('Pod', ns, name) };
  }
  const type = ref.slice(0, slash), name = ref.slice(slash + 1);
  const info = kindInfo(type);
  if (!info) throw new ClusterError(`error: the server doesn't have a resource type "${type}"`, 404, 'resource');
  const group = WORKLOADS[info.kind];
  if (!group) throw new ClusterError(`error: cannot attach to *v1.${info.kind}: selector for *v1.${info.kind} not implemented`, 400, 'resource');
  const obj = api.get(info.kind, ns, name);
  if (!obj) throw new ClusterError(`Error from server (NotFound): ${group} "${name}" not found`, 404, 'name');
  const sel: Record<string, string> | undefined = info.kind === 'Service' ? obj.spec.selector : obj.spec.selector?.matchLabels;
  if (!sel || Object.keys(sel).length === 0) throw new ClusterError(`error: cannot attach to *v1.Service: invalid service '${name}': Service is defined without a selector`, 400, 'resource');
  const pods = api.list('Pod', ns).filter((p) => matchesSelector(p.metadata.labels, sel));
  // kubectl watches for a pod for --pod-running-timeout (1m), then gives up.
  if (pods.length === 0) throw new ClusterError('error: timed out waiting for the condition', 504, 'pod');
  const first = firstPod(pods);
  return { name: first.metadata.name, pod: first };
}

const readyCond = (p: KObject): Any => (p.status?.conditions ?? []).find((c: Any) => c.type === 'Ready');
const isReady = (p: KObject): boolean => readyCond(p)?.status === 'True';
const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
const restarts = (p: KObject): number => Math.max(0, ...(p.status?.containerStatuses ?? []).map((c: Any) => c.restartCount ?? 0));
const time = (t: string | undefined): number => (t ? Date.parse(t) : 0);

/** podutils.ActivePods' Less: true when a is "less active" than b. */
function lessActive(a: KObject, b: KObject): boolean {
  const na = a.spec.nodeName ?? '', nb = b.spec.nodeName ?? '';
  if (na !== nb && (na === '' || nb === '')) return na === '';
  const pa = PHASE_RANK[a.status?.phase] ?? 0, pb = PHASE_RANK[b.status?.phase] ?? 0;
  if (pa !== pb) return pa < pb;
  if (isReady(a) !== isReady(b)) return !isReady(a);
  // Ready longer is more active; a zero time counts as the latest.
  const ra = time(readyCond(a)?.lastTransitionTime), rb = time(readyCond(b)?.lastTransitionTime);
  if (isReady(a) && ra !== rb) return ra === 0 || (rb !== 0 && ra > rb);
  if (restarts(a) !== restarts(b)) return restarts(a) > restarts(b);
  const ca = time(a.metadata.creationTimestamp), cb = time(b.metadata.creationTimestamp);
  if (ca !== cb) return ca === 0 || (cb !== 0 && ca > cb);
  return false;
}

/** The most active pod; ties keep the API server's order (name), as Go's insertion sort does for the few pods of a lab. */
export function firstPod(pods: KObject[]): KObject {
  let best = pods[0]!;
  for (const p of pods.slice(1)) if (lessActive(best, p)) best = p;
  return best;
}

/**
 * The container an exec without -c runs in: the kubectl.kubernetes.io/default-container
 * annotation's, else the first, with kubectl's notice when there was a choice.
 */
export function defaultContainer(pod: KObject, quiet: boolean): { name: string; notice: string } {
  const containers: Any[] = pod.spec.containers ?? [], inits: Any[] = pod.spec.initContainers ?? [];
  const annotated = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  if (annotated && containers.some((c) => c.name === annotated)) return { name: annotated, notice: '' };
  const name = containers[0]?.name ?? '';
  const all = [...containers.map((c) => c.name), ...inits.map((c) => `${c.name} (init)`)].join(', ');
  return { name, notice: !quiet && (containers.length > 1 || inits.length > 0) ? `Defaulted container "${name}" out of: ${all}\n` : '' };
}
