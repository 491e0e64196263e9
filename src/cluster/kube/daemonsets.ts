// DaemonSets: admission, and the controller that keeps one pod on every node
// the template's nodeSelector and tolerations allow (kube-controller-manager's
// daemon controller, with its placement folded in: the pod is bound to its
// node at creation). Status counts as `kubectl get ds` prints them.

import { Rng } from '../../sim/sim.ts';
import { admitSelectorAndTemplate } from './pods.ts';
import { delObj, fnv32a, listObjs, objsByKeys, putObj, randSuffix, safeEncode, type KubeEnv, type KubeState } from './state.ts';
import { trackerOf } from './tracker.ts';
import { clone, type Any, type KObject } from './types.ts';
import { badValue, checkLabels, matchesSelector } from './validate.ts';

/** Validate and default a DaemonSet as the API server does (no replicas: one pod per eligible node). */
export function admitDaemonSet(obj: KObject): void {
  const spec: Any = (obj.spec ??= {});
  const pod = admitSelectorAndTemplate(obj, spec);
  if (pod.nodeSelector !== undefined) pod.nodeSelector = checkLabels(obj, 'spec.template.spec.nodeSelector', pod.nodeSelector);
  if (pod.restartPolicy !== 'Always') badValue(obj, 'spec.template.spec.restartPolicy', pod.restartPolicy, 'supported values: "Always"');
  spec.revisionHistoryLimit ??= 10;
  spec.updateStrategy ??= { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 }, type: 'RollingUpdate' };
  obj.metadata.annotations = { 'deprecated.daemonset.template.generation': '1', ...(obj.metadata.annotations ?? {}) };
  delete obj.status;
}

interface Taint { key: string; value?: string; effect: string }

/** Whether a toleration list tolerates a taint (v1helper.TolerationsTolerateTaint). */
function tolerated(tolerations: Any[] | undefined, t: Taint): boolean {
  return (tolerations ?? []).some((tol: Any) => (!tol?.effect || tol.effect === t.effect)
    && (tol?.operator === 'Exists' ? (!tol.key || tol.key === t.key) : tol?.key === t.key && (tol.value ?? '') === (t.value ?? '')));
}

/** Nodes the daemon's pods belong on: nodeSelector matches the Node's labels, every NoSchedule/NoExecute taint tolerated. */
export function eligibleNodes(s: KubeState, ds: KObject): KObject[] {
  const pod = ds.spec.template.spec;
  return listObjs(s, 'Node').filter((n) => {
    if (pod.nodeSelector && !matchesSelector(n.metadata.labels, pod.nodeSelector)) return false;
    return ((n.spec?.taints ?? []) as Taint[]).every((t) => t.effect === 'PreferNoSchedule' || tolerated(pod.tolerations, t));
  });
}

/** Tolerations the daemon controller adds to every pod it makes (util.AddOrUpdateDaemonPodTolerations). */
function daemonTolerations(hostNetwork: boolean): Any[] {
  const t = (key: string, effect: string) => ({ key, operator: 'Exists', effect });
  return [
    t('node.kubernetes.io/not-ready', 'NoExecute'), t('node.kubernetes.io/unreachable', 'NoExecute'), t('node.kubernetes.io/disk-pressure', 'NoSchedule'),
    t('node.kubernetes.io/memory-pressure', 'NoSchedule'), t('node.kubernetes.io/pid-pressure', 'NoSchedule'), t('node.kubernetes.io/unschedulable', 'NoSchedule'),
    ...(hostNetwork ? [t('node.kubernetes.io/network-unavailable', 'NoSchedule')] : []),
  ];
}

/** controller-revision-hash of the template (stands in for the ControllerRevision's hash). */
export function revisionHash(ds: KObject): string { return safeEncode(fnv32a(JSON.stringify(ds.spec.template))).slice(0, 10); }

/** The pod the controller makes for one node, bound to it (node affinity on metadata.name, as the controller writes it). */
export function daemonPod(ds: KObject, node: string, name: string, uid?: string): KObject {
  const t = ds.spec.template;
  const spec = clone(t.spec);
  const added = daemonTolerations(!!spec.hostNetwork).filter((x) => !(spec.tolerations ?? []).some((y: Any) => y?.key === x.key && y?.effect === x.effect));
  spec.tolerations = [...(spec.tolerations ?? []), ...added];
  spec.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }] } } };
  spec.nodeName = node;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, generateName: `${ds.metadata.name}-`, namespace: ds.metadata.namespace, ...(uid ? { uid } : {}),
      labels: { ...(t.metadata?.labels ?? {}), 'controller-revision-hash': revisionHash(ds), 'pod-template-generation': '1' },
      ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata.name, uid: ds.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec,
  };
}

/** Pods whose controller is ds, by node. */
function podsByNode(s: KubeState, ds: KObject): Map<string, KObject[]> {
  const out = new Map<string, KObject[]>();
  const keys = trackerOf(s).podsByOwner.get(ds.metadata.uid!) ?? [];
  for (const p of objsByKeys(s, 'Pod', keys)) {
    if (!p.metadata.ownerReferences?.some((r) => r.controller && r.uid === ds.metadata.uid)) continue;
    const n = p.spec.nodeName ?? '';
    out.set(n, [...(out.get(n) ?? []), p]);
  }
  return out;
}

/**
 * One pass of the daemon controller over every DaemonSet: a pod for each
 * eligible node that has none (named as the controller names them, with the
 * state's random stream), none on a node that no longer qualifies, one where
 * there are several, a new one for a pod of an older template. A handful of
 * daemons times the nodes: cheap every pass.
 */
export function reconcileDaemonSets(s: KubeState, env: KubeEnv): void {
  for (const ds of listObjs(s, 'DaemonSet')) {
    const want = new Set(eligibleNodes(s, ds).map((n) => n.metadata.name));
    const have = podsByNode(s, ds);
    const rev = revisionHash(ds);
    for (const [node, pods] of have) {
      // A changed template replaces every old pod at once (the lab's rollouts are instant).
      const extra = want.has(node) ? [...pods.slice(1), ...pods.slice(0, 1).filter((p) => p.metadata.labels?.['controller-revision-hash'] !== rev)] : pods;
      for (const p of extra) delObj(s, 'Pod', p.metadata.namespace, p.metadata.name);
      if (extra.length === pods.length) have.delete(node);
    }
    for (const node of want) {
      if (have.get(node)?.length) continue;
      let name: string;
      do name = `${ds.metadata.name}-${randSuffix(s)}`; while (s.objects.Pod?.[`${ds.metadata.namespace}/${name}`]);
      putObj(s, env, daemonPod(ds, node, name));
    }
  }
}

/** Status after the pass started the pods: scheduled, ready (running with an address), up to date. */
export function daemonSetStatus(s: KubeState): void {
  for (const ds of listObjs(s, 'DaemonSet')) {
    const want = new Set(eligibleNodes(s, ds).map((n) => n.metadata.name));
    const pods = [...podsByNode(s, ds).entries()].filter(([n]) => want.has(n)).map(([, p]) => p[0]!);
    const ready = pods.filter((p) => p.status?.phase === 'Running' && p.status?.podIP).length;
    ds.status = {
      currentNumberScheduled: pods.length, desiredNumberScheduled: want.size, numberAvailable: ready, numberMisscheduled: 0,
      numberReady: ready, observedGeneration: 1, updatedNumberScheduled: pods.length,
      ...(want.size > ready ? { numberUnavailable: want.size - ready } : {}),
    };
  }
}

/** Kubernetes' rand.String alphabet, for names drawn from a pinned stream. */
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * Names and uids for objects a datapath's installation made before the lab
 * starts: drawn from a stream keyed by the state's seed and the object, not
 * from the state's own stream, so adding them leaves every later name as it was.
 */
export function pinnedStream(s: KubeState, key: string): { suffix(n?: number): string; uid(): string } {
  const rng = new Rng(fnv32a(`${s.seed}/${key}`));
  const hex = (n: number) => rng.u32().toString(16).padStart(8, '0').slice(0, n);
  return {
    suffix: (n = 5) => Array.from({ length: n }, () => SAFE[rng.u32() % SAFE.length]).join(''),
    uid: () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[rng.u32() % 4]}${hex(3)}-${hex(8)}${hex(4)}`,
  };
}
