// The controllers that run after every request, on the request's copy of the
// state: deployment -> replicaset -> pods, scheduling + IPAM + kubelet status,
// endpoints and endpointslices (with named targetPorts resolved per pod).

import { u32ToIp } from '../../wire/addr.ts';
import { daemonSetStatus, reconcileDaemonSets } from './daemonsets.ts';
import { isUnschedulable, pendingStatus, placePod, rejectedStatus, reservedIps, runningStatus } from './pods.ts';
import { delObj, fnv32a, getObj, keysOf, listObjs, objsByKeys, putObj, randSuffix, safeEncode, type KubeEnv, type KubeState } from './state.ts';
import { MAX_DOCUMENTS, MAX_PODS, MAX_UNSCHEDULED_PODS, podCount } from './quota.ts';
import { trackerIfAny, trackerOf, type EndpointModel, type Tracker } from './tracker.ts';
import { clone, objKey, type Any, type KObject } from './types.ts';
import { matchesSelector } from './validate.ts';

/**
 * One controller pass. The first pass on a state visits everything; later
 * passes (the next documents of the same request) visit only what the
 * tracker saw change, in the same order, which gives the same objects, names,
 * IPs and resourceVersions as a full pass (that one would find the rest
 * unchanged).
 *
 * `deferEndpoints` (a request's passes, one per document): the endpoints
 * controller creates and deletes Endpoints and EndpointSlice objects when it
 * would (so names, uids and every later random draw stay the same), but
 * writes their content (one address per selected pod) once, in
 * settleEndpoints at the end of the request: N pods under a Service cost
 * O(N) per request, not O(N) per document.
 */
export function reconcile(s: KubeState, env: KubeEnv, deferEndpoints = false): void {
  const t = trackerOf(s);
  const full = t.beginPass();
  // Deletes seen before this pass; those made during it are for the next pass's GC.
  const gone = t.deletedUids;
  t.deletedUids = [];
  const serviceDeleted = t.serviceDeleted;
  t.serviceDeleted = false;
  garbageCollect(s, t, full, gone);
  const allDeployments = full || t.allDeployments;
  const dirtyDeps = new Set(t.dirtyDeployments);
  t.allDeployments = false; t.dirtyDeployments.clear();
  t.phase = 'deployments';
  try {
    // The deployment pass adds and deletes no deployments: walk the sorted keys as they are.
    const table = s.objects.Deployment ?? {};
    for (const key of keysOf(table)) {
      if (allDeployments || dirtyDeps.has(key) || !bumpReplicaSet(s, t, key)) reconcileDeployment(s, env, table[key]!, t);
    }
  } finally { t.phase = ''; }
  const rsKeys = full ? null : [...t.dirtyReplicaSets];
  t.dirtyReplicaSets.clear();
  for (const rs of rsKeys ? objsByKeys(s, 'ReplicaSet', rsKeys) : listObjs(s, 'ReplicaSet')) reconcileReplicaSet(s, env, rs, t);
  // The daemon set controller runs when a DaemonSet, a Node or a daemon's pod changed (else it would find nothing to do).
  const daemons = full || t.daemonsDirty;
  t.daemonsDirty = false;
  if (daemons) reconcileDaemonSets(s, env);
  // Pods the scheduler could not place are tried again only when room may have appeared: a pod address was freed (or a new request).
  const retry = full || t.ipsFreed.size > 0;
  t.ipsFreed.clear();
  // Without a retry, the pods tried before stay as they are: only those stored since the last pass are visited.
  const tryNow = full ? listObjs(s, 'Pod') : objsByKeys(s, 'Pod', retry ? t.pending : t.freshPending);
  t.freshPending.clear();
  for (const p of tryNow) if (!p.status?.podIP) startPod(s, env, p, t, retry);
  if (t.pending.size > 0) countReady(s, t);
  if (daemons || t.daemonsDirty) daemonSetStatus(s);
  const svcKeys = full ? null : [...t.dirtyServices];
  t.dirtyServices.clear();
  t.phase = 'services';
  try {
    for (const svc of svcKeys ? objsByKeys(s, 'Service', svcKeys) : listObjs(s, 'Service')) {
      if (deferEndpoints) shapeEndpoints(s, env, svc, t); else t.owedEndpoints.add(objKey(svc.metadata.namespace, svc.metadata.name));
    }
    // A client wrote an Endpoints object: its service's controller output is due now (kubectl reports it configured or unchanged).
    const now = deferEndpoints ? [...t.endpointsWritten].filter((k) => t.owedEndpoints.has(k)) : [...t.owedEndpoints];
    t.endpointsWritten.clear();
    writeOwedEndpoints(s, env, t, now);
  } finally { t.phase = ''; }
  // Slices outlive their service only after a delete.
  if (full || serviceDeleted || t.serviceDeleted) {
    for (const sl of listObjs(s, 'EndpointSlice')) {
      const svcName = sl.metadata.labels?.['kubernetes.io/service-name'];
      if (svcName && !getObj(s, 'Service', sl.metadata.namespace, svcName)) delObj(s, 'EndpointSlice', sl.metadata.namespace, sl.metadata.name);
    }
  }
}

/**
 * What reconcileDeployment does for a deployment nothing touched: it stores
 * its replica set again, identical but for the status the replica-set pass
 * re-derives, which bumps the resourceVersion. False if that set is unknown.
 */
function bumpReplicaSet(s: KubeState, t: Tracker, depKey: string): boolean {
  const rsKey = t.rsOfDeployment.get(depKey);
  const rs = rsKey === undefined ? undefined : s.objects.ReplicaSet?.[rsKey];
  if (!rs) return false;
  rs.metadata.resourceVersion = String(++s.resourceVersion);
  return true;
}

function isOrphan(s: KubeState, o: KObject): boolean {
  const owner = o.metadata.ownerReferences?.find((r) => r.controller);
  if (!owner) return false;
  const live = getObj(s, owner.kind, o.metadata.namespace, owner.name);
  return !live || live.metadata.uid !== owner.uid;
}

/**
 * Delete objects whose controller owner is gone (deployment -> rs -> pods),
 * replica sets first, each kind in key order. Only objects put since the last
 * pass and those owned by an object deleted before this pass (`gone`, uids)
 * can be orphans, so only they are checked, plus the pods of a replica set
 * this pass deletes; the first pass on a state checks everything.
 */
function garbageCollect(s: KubeState, t: Tracker, full: boolean, gone: string[]): void {
  const puts = t.ownedPuts.splice(0);
  if (full) {
    for (const kind of ['ReplicaSet', 'Pod']) {
      for (const o of listObjs(s, kind)) if (isOrphan(s, o)) delObj(s, kind, o.metadata.namespace, o.metadata.name);
    }
    return;
  }
  const rsKeys = new Set<string>(), podKeys = new Set<string>();
  for (const o of puts) {
    const key = objKey(o.metadata.namespace, o.metadata.name);
    if (s.objects[o.kind]?.[key] !== o) continue;
    if (o.kind === 'ReplicaSet') rsKeys.add(key); else if (o.kind === 'Pod') podKeys.add(key);
  }
  for (const uid of gone) {
    for (const k of t.rsByOwner.get(uid) ?? []) rsKeys.add(k);
    for (const k of t.podsByOwner.get(uid) ?? []) podKeys.add(k);
  }
  for (const rs of objsByKeys(s, 'ReplicaSet', rsKeys)) {
    if (!isOrphan(s, rs)) continue;
    for (const k of t.podsByOwner.get(rs.metadata.uid!) ?? []) podKeys.add(k);
    delObj(s, 'ReplicaSet', rs.metadata.namespace, rs.metadata.name);
  }
  for (const p of objsByKeys(s, 'Pod', podKeys)) if (isOrphan(s, p)) delObj(s, 'Pod', p.metadata.namespace, p.metadata.name);
}

function ownerRef(o: KObject): Any {
  return { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, uid: o.metadata.uid, controller: true, blockOwnerDeletion: true };
}

function ownedBy(s: KubeState, kind: string, owner: KObject, t?: Tracker): KObject[] {
  const mine = (o: KObject) => o.metadata.namespace === owner.metadata.namespace && o.metadata.ownerReferences?.some((r) => r.uid === owner.metadata.uid && r.controller);
  if (kind === 'Pod' && t) return objsByKeys(s, 'Pod', t.podsByOwner.get(owner.metadata.uid!) ?? []).filter(mine);
  if (kind === 'ReplicaSet' && t) return objsByKeys(s, 'ReplicaSet', t.rsByOwner.get(owner.metadata.uid!) ?? []).filter(mine);
  return listObjs(s, kind, owner.metadata.namespace).filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === owner.metadata.uid && r.controller));
}

function reconcileDeployment(s: KubeState, env: KubeEnv, d: KObject, t: Tracker): void {
  const owned = ownedBy(s, 'ReplicaSet', d, t);
  // An owned replica set whose template matches is kept whatever its hash (bootstrap pins seed names).
  const same = owned.find((rs) => JSON.stringify(withoutHash(rs.spec.template)) === JSON.stringify(d.spec.template));
  const hash = same?.metadata.labels?.['pod-template-hash'] ?? safeEncode(fnv32a(JSON.stringify(d.spec.template))).slice(0, 10);
  const name = same?.metadata.name ?? `${d.metadata.name}-${hash}`;
  // Rolling update collapsed to one step: older replica sets scale to zero at once.
  for (const rs of owned) if (rs.metadata.name !== name) delObj(s, 'ReplicaSet', rs.metadata.namespace, rs.metadata.name);
  const existing = getObj(s, 'ReplicaSet', d.metadata.namespace, name);
  const template = clone(d.spec.template);
  template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash } };
  const rs: KObject = {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: {
      name, namespace: d.metadata.namespace, labels: template.metadata.labels,
      annotations: { 'deployment.kubernetes.io/desired-replicas': String(d.spec.replicas), 'deployment.kubernetes.io/max-replicas': String(d.spec.replicas + 1), 'deployment.kubernetes.io/revision': '1' },
      ownerReferences: [ownerRef(d)], ...(existing ? { uid: existing.metadata.uid, creationTimestamp: existing.metadata.creationTimestamp } : {}),
    },
    spec: { replicas: d.spec.replicas, selector: { matchLabels: { ...d.spec.selector.matchLabels, 'pod-template-hash': hash } }, template },
  };
  putObj(s, env, rs);
  t.rsOfDeployment.set(objKey(d.metadata.namespace, d.metadata.name), objKey(rs.metadata.namespace, name));
  const n = d.spec.replicas;
  d.status = n === 0 ? { observedGeneration: 1 } : { availableReplicas: n, observedGeneration: 1, readyReplicas: n, replicas: n, updatedReplicas: n, conditions: [
    { lastTransitionTime: d.metadata.creationTimestamp, lastUpdateTime: d.metadata.creationTimestamp, message: 'Deployment has minimum availability.', reason: 'MinimumReplicasAvailable', status: 'True', type: 'Available' },
    { lastTransitionTime: d.metadata.creationTimestamp, lastUpdateTime: d.metadata.creationTimestamp, message: `ReplicaSet "${name}" has successfully progressed.`, reason: 'NewReplicaSetAvailable', status: 'True', type: 'Progressing' },
  ] };
}

function withoutHash(t: Any): Any {
  const c = clone(t);
  if (c.metadata?.labels) delete c.metadata.labels['pod-template-hash'];
  return c;
}

/** Pod addresses still free in every node's podCIDR (network, broadcast and the agents' reserved ones excluded). */
function freePodIps(env: KubeEnv, t: Tracker): number {
  let total = 0;
  for (const n of env.spec.nodes) total += 2 ** (32 - n.podCIDR.prefixLen) - 2 - reservedIps(env, t, n.name).size;
  return Math.max(0, total - t.usedIps.size);
}

function reconcileReplicaSet(s: KubeState, env: KubeEnv, rs: KObject, tr: Tracker): void {
  const pods = ownedBy(s, 'Pod', rs, tr);
  const want = rs.spec.replicas as number;
  for (const p of pods.slice(want).reverse()) delObj(s, 'Pod', p.metadata.namespace, p.metadata.name);
  // Bounded by the addresses left (plus a few Pending), by what one request may create, and by the cluster's pod quota.
  const room = pods.length < want ? Math.min(freePodIps(env, tr) + MAX_UNSCHEDULED_PODS - tr.pending.size, MAX_DOCUMENTS, MAX_PODS - podCount(s)) : 0;
  const create = Math.max(0, Math.min(want - pods.length, room));
  for (let i = 0; i < create; i++) {
    let name: string;
    do name = `${rs.metadata.name}-${randSuffix(s)}`; while (getObj(s, 'Pod', rs.metadata.namespace, name));
    const t = rs.spec.template;
    putObj(s, env, {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name, generateName: `${rs.metadata.name}-`, namespace: rs.metadata.namespace, labels: { ...(t.metadata?.labels ?? {}) }, ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}), ownerReferences: [{ ...ownerRef(rs), apiVersion: 'apps/v1', kind: 'ReplicaSet' }] },
      spec: clone(t.spec),
    });
  }
  const owned = ownedBy(s, 'Pod', rs, tr);
  const n = Math.min(want, owned.length);
  rs.status = n === 0 ? { observedGeneration: 1, replicas: 0 } : { availableReplicas: n, fullyLabeledReplicas: n, observedGeneration: 1, readyReplicas: n, replicas: n };
}

/** Ready counts once the pods started: a replica set with pods left Pending, and its deployment, count only pods that run. */
function countReady(s: KubeState, tr: Tracker): void {
  const owners = new Set<string>();
  for (const p of objsByKeys(s, 'Pod', tr.pending)) for (const r of p.metadata.ownerReferences ?? []) if (r.controller && r.kind === 'ReplicaSet') owners.add(r.uid);
  for (const uid of owners) {
    const key = tr.rsByUid.get(uid);
    const rs = key === undefined ? undefined : s.objects.ReplicaSet?.[key];
    if (!rs?.status?.replicas) continue;
    const ready = ownedBy(s, 'Pod', rs, tr).filter((p) => p.status?.podIP).length;
    rs.status = { ...rs.status, availableReplicas: ready, readyReplicas: ready };
    const owner = rs.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'Deployment');
    const d = owner && getObj(s, 'Deployment', rs.metadata.namespace, owner.name);
    if (d?.status?.readyReplicas !== undefined) d.status = { ...d.status, availableReplicas: ready, readyReplicas: ready, replicas: rs.status.replicas, updatedReplicas: rs.status.replicas };
  }
}

/** Scheduler, IPAM and kubelet in one step: the pod is Running with its IP, or Pending with the scheduler's reason. */
function startPod(s: KubeState, env: KubeEnv, p: KObject, t: Tracker, retry: boolean): void {
  if (p.status?.phase === 'Failed' || (!retry && isUnschedulable(p))) return;
  // A retry of a pod stored Pending: a new status is a change of the object (a new resourceVersion, which the store keys on).
  const wasPending = isUnschedulable(p);
  const placed = placePod(s, env, p, t);
  if ('unschedulable' in placed) {
    if (wasPending && p.status.conditions?.[0]?.message === placed.unschedulable) return;
    p.status = pendingStatus(placed.unschedulable, env.nowIso());
  } else if ('rejected' in placed) p.status = rejectedStatus(env.nowIso());
  else {
    t.onPodStarting(p);
    p.spec.nodeName = placed.node.name;
    p.status = runningStatus(p, placed.node, placed.ip, env.nowIso());
    t.onPodStarted(p);
  }
  if (wasPending) p.metadata.resourceVersion = String(++s.resourceVersion);
}

interface Backend { pod: KObject; ip: string; ready: boolean }
interface PortRes { name?: string; port: number; protocol: string }

/** Resolve a service port's targetPort on a pod (by number, or by container port name). */
export function resolveTargetPort(svcPort: Any, pod: KObject | undefined): number | undefined {
  const tp = svcPort.targetPort ?? svcPort.port;
  if (typeof tp === 'number') return tp;
  for (const c of pod?.spec.containers ?? []) for (const cp of c.ports ?? []) if (cp.name === tp && cp.protocol === svcPort.protocol) return cp.containerPort;
  return undefined;
}

/** The port group of a pod for a service (the key reconcileEndpoints groups by), or undefined when the service does not take the pod as an endpoint. */
function groupOf(svc: KObject, sel: Record<string, string>, pod: KObject | undefined): string | undefined {
  if (!pod || pod.metadata.namespace !== svc.metadata.namespace || !pod.status?.podIP || !matchesSelector(pod.metadata.labels, sel)) return undefined;
  const ports: PortRes[] = [];
  for (const sp of svc.spec.ports ?? []) {
    const port = resolveTargetPort(sp, pod);
    if (port !== undefined) ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol });
  }
  return JSON.stringify(ports);
}

/** A selector service's endpoint model, built from its selected pods or brought up to date with the pods changed since. */
function endpointModel(s: KubeState, svc: KObject, sel: Record<string, string>, t: Tracker): EndpointModel {
  const key = objKey(svc.metadata.namespace, svc.metadata.name);
  let m = t.endpointModels.get(key);
  const table = s.objects.Pod ?? {};
  const enter = (podKey: string) => {
    const g = groupOf(svc, sel, table[podKey]);
    if (g === undefined) return;
    m!.members.set(podKey, g);
    m!.groups.set(g, (m!.groups.get(g) ?? 0) + 1);
  };
  if (!m) {
    m = { members: new Map(), groups: new Map() };
    t.work.modelBuilds++;
    for (const podKey of t.podsSelectedBy(svc.metadata.namespace, sel)) enter(podKey);
    t.endpointModels.set(key, m);
  } else {
    for (const podKey of t.podsChangedFor.get(key) ?? []) {
      t.work.modelPodUpdates++;
      const was = m.members.get(podKey);
      if (was !== undefined) {
        m.members.delete(podKey);
        const n = m.groups.get(was)! - 1;
        if (n > 0) m.groups.set(was, n); else m.groups.delete(was);
      }
      enter(podKey);
    }
  }
  t.podsChangedFor.delete(key);
  return m;
}

/**
 * What reconcileEndpoints would create or delete for svc, without the
 * content: the Endpoints object (selector services) if absent, one
 * EndpointSlice per port group (at least one), extra slices deleted, in
 * reconcileEndpoints' order, so the same names and uids are drawn; the
 * content is owed to the end of the request (settleEndpoints).
 */
function shapeEndpoints(s: KubeState, env: KubeEnv, svc: KObject, t: Tracker): void {
  const ns = svc.metadata.namespace;
  const name = svc.metadata.name;
  const sel = svc.spec.selector as Record<string, string> | undefined;
  if (svc.spec.type === 'ExternalName') return;
  if (name === 'kubernetes' && ns === 'default') return writeKubernetesEndpoints(s, env, svc);
  let groups: number;
  let managedBy = 'endpointslice-controller.k8s.io';
  if (sel && Object.keys(sel).length > 0) {
    groups = endpointModel(s, svc, sel, t).groups.size;
    if (!getObj(s, 'Endpoints', ns, name)) {
      putObj(s, env, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns, labels: { ...(svc.metadata.labels ?? {}) } } });
    }
  } else {
    managedBy = 'endpointslicemirroring-controller.k8s.io';
    groups = (getObj(s, 'Endpoints', ns, name)?.subsets ?? []).length;
  }
  const mine = slicesOf(s, svc, t);
  const want = Math.max(1, groups);
  for (let i = mine.length; i < want; i++) {
    putObj(s, env, {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: {
        name: `${name}-${randSuffix(s)}`, namespace: ns, generateName: `${name}-`,
        ...sliceOwnership(svc, managedBy),
      },
      endpoints: null, ports: null,
    });
  }
  for (const extra of mine.slice(want)) delObj(s, 'EndpointSlice', ns, extra.metadata.name);
  t.owedEndpoints.add(objKey(ns, name));
}

/** The EndpointSlices labelled for svc, by name. */
function slicesOf(s: KubeState, svc: KObject, t: Tracker): KObject[] {
  return objsByKeys(s, 'EndpointSlice', t.slicesOf.get(`${svc.metadata.namespace}\0${svc.metadata.name}`) ?? []);
}

/** reconcileEndpoints for the given service keys (those still there), in key order. */
function writeOwedEndpoints(s: KubeState, env: KubeEnv, t: Tracker, keys: string[]): void {
  if (keys.length === 0) return;
  for (const k of keys) t.owedEndpoints.delete(k);
  for (const svc of objsByKeys(s, 'Service', keys)) { t.work.endpointWrites++; reconcileEndpoints(s, env, svc, t); }
}

/** End of a request whose passes deferred the endpoints' content: write it, once per affected service. */
export function settleEndpoints(s: KubeState, env: KubeEnv): void {
  const t = trackerIfAny(s);
  if (!t || t.owedEndpoints.size === 0) return;
  t.phase = 'services';
  try { writeOwedEndpoints(s, env, t, [...t.owedEndpoints]); } finally { t.phase = ''; }
}

function reconcileEndpoints(s: KubeState, env: KubeEnv, svc: KObject, t: Tracker): void {
  const ns = svc.metadata.namespace;
  const name = svc.metadata.name;
  const sel = svc.spec.selector as Record<string, string> | undefined;
  if (svc.spec.type === 'ExternalName') return;
  if (name === 'kubernetes' && ns === 'default') return writeKubernetesEndpoints(s, env, svc);
  let groups: Map<string, { ports: PortRes[]; backends: Backend[] }>;
  let managedBy = 'endpointslice-controller.k8s.io';
  if (sel && Object.keys(sel).length > 0) {
    const pods = objsByKeys(s, 'Pod', t.podsSelectedBy(ns, sel)).filter((p) => p.metadata.namespace === ns && p.status?.podIP && matchesSelector(p.metadata.labels, sel));
    groups = new Map();
    for (const pod of pods) {
      const ports: PortRes[] = [];
      for (const sp of svc.spec.ports ?? []) {
        const port = resolveTargetPort(sp, pod);
        if (port !== undefined) ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol });
      }
      const k = JSON.stringify(ports);
      const g = groups.get(k) ?? { ports, backends: [] };
      g.backends.push({ pod, ip: pod.status.podIP, ready: pod.status.conditions?.some((c: Any) => c.type === 'Ready' && c.status === 'True') ?? false });
      groups.set(k, g);
    }
    writeEndpoints(s, env, svc, [...groups.values()]);
  } else {
    managedBy = 'endpointslicemirroring-controller.k8s.io';
    const ep = getObj(s, 'Endpoints', ns, name);
    groups = new Map();
    (ep?.subsets ?? []).forEach((sub: Any, i: number) => {
      const ports: PortRes[] = (sub.ports ?? []).map((p: Any) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol ?? 'TCP' }));
      const backends: Backend[] = [
        ...(sub.addresses ?? []).map((a: Any) => ({ pod: podRef(s, a), ip: a.ip, ready: true })),
        ...(sub.notReadyAddresses ?? []).map((a: Any) => ({ pod: podRef(s, a), ip: a.ip, ready: false })),
      ];
      groups.set(String(i), { ports, backends });
    });
  }
  writeSlices(s, env, svc, [...groups.values()], managedBy);
}

function podRef(s: KubeState, a: Any): KObject {
  const p = a.targetRef?.kind === 'Pod' ? getObj(s, 'Pod', a.targetRef.namespace, a.targetRef.name) : undefined;
  return p ?? ({ kind: 'External', apiVersion: 'v1', metadata: { name: '' }, spec: { nodeName: a.nodeName } } as KObject);
}

/** Backends in address order (each address parsed once, not once per comparison). */
function sortedByIp(bs: Backend[]): Backend[] {
  return bs.map((b) => ({ b, n: ipNum(b.ip) })).sort((x, y) => x.n - y.n).map((x) => x.b);
}
function ipNum(ip: string): number { return ip.split('.').reduce((v, o) => v * 256 + Number(o), 0); }

function writeEndpoints(s: KubeState, env: KubeEnv, svc: KObject, groups: Array<{ ports: PortRes[]; backends: Backend[] }>): void {
  const addr = (b: Backend) => ({ ip: b.ip, nodeName: b.pod.spec.nodeName, targetRef: { kind: 'Pod', name: b.pod.metadata.name, namespace: b.pod.metadata.namespace, uid: b.pod.metadata.uid } });
  const subsets = groups.filter((g) => g.backends.length > 0).map((g) => {
    const ready = sortedByIp(g.backends.filter((b) => b.ready)).map(addr);
    const notReady = sortedByIp(g.backends.filter((b) => !b.ready)).map(addr);
    return { ...(ready.length ? { addresses: ready } : {}), ...(notReady.length ? { notReadyAddresses: notReady } : {}), ports: g.ports };
  });
  const old = getObj(s, 'Endpoints', svc.metadata.namespace, svc.metadata.name);
  const next: KObject = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace, labels: { ...(svc.metadata.labels ?? {}) }, ...(old ? { uid: old.metadata.uid, creationTimestamp: old.metadata.creationTimestamp } : {}) }, ...(subsets.length ? { subsets } : {}) };
  if (old && JSON.stringify(old.subsets ?? []) === JSON.stringify(next.subsets ?? []) && JSON.stringify(old.metadata.labels) === JSON.stringify(next.metadata.labels)) return;
  // The subsets or labels differ: a change (putObj need not compare the megabyte again).
  putObj(s, env, next, true);
}

function writeKubernetesEndpoints(s: KubeState, env: KubeEnv, svc: KObject): void {
  const cps = env.spec.nodes.filter((n) => n.controlPlane);
  const ports: PortRes[] = [{ name: 'https', port: 6443, protocol: 'TCP' }];
  const fake = (ip: number): Backend => ({ pod: { kind: 'Node', apiVersion: 'v1', metadata: { name: '' }, spec: {} } as KObject, ip: u32ToIp(ip), ready: true });
  if (!getObj(s, 'Endpoints', 'default', 'kubernetes')) {
    putObj(s, env, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets: [{ addresses: cps.map((n) => ({ ip: u32ToIp(n.ip) })), ports }] });
  }
  writeSlices(s, env, svc, [{ ports, backends: cps.map((n) => fake(n.ip)) }], 'endpointslice-controller.k8s.io', 'kubernetes');
}

/** An EndpointSlice's labels and owner reference: the service's labels, who manages it, the service it serves. */
function sliceOwnership(svc: KObject, managedBy: string): Pick<KObject['metadata'], 'labels' | 'ownerReferences'> {
  const name = svc.metadata.name;
  return {
    labels: { ...(svc.metadata.labels ?? {}), 'endpointslice.kubernetes.io/managed-by': managedBy, 'kubernetes.io/service-name': name },
    ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true }],
  };
}

function writeSlices(s: KubeState, env: KubeEnv, svc: KObject, groups: Array<{ ports: PortRes[]; backends: Backend[] }>, managedBy: string, fixedName?: string): void {
  const ns = svc.metadata.namespace;
  const t = trackerIfAny(s);
  const mine = t ? slicesOf(s, svc, t) : listObjs(s, 'EndpointSlice', ns).filter((sl) => sl.metadata.labels?.['kubernetes.io/service-name'] === svc.metadata.name);
  if (groups.length === 0) groups = [{ ports: [], backends: [] }];
  groups.forEach((g, i) => {
    const old = mine[i];
    const name = fixedName ?? old?.metadata.name ?? `${svc.metadata.name}-${randSuffix(s)}`;
    const endpoints = sortedByIp(g.backends).map((b) => ({
      addresses: [b.ip], conditions: { ready: b.ready, serving: b.ready, terminating: false },
      ...(b.pod.spec?.nodeName ? { nodeName: b.pod.spec.nodeName } : {}),
      ...(b.pod.kind === 'Pod' ? { targetRef: { kind: 'Pod', name: b.pod.metadata.name, namespace: b.pod.metadata.namespace, uid: b.pod.metadata.uid } } : {}),
    }));
    const next: KObject = {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: {
        name, namespace: ns, ...(fixedName || old ? {} : { generateName: `${svc.metadata.name}-` }),
        ...sliceOwnership(svc, managedBy),
        ...(old ? { uid: old.metadata.uid, creationTimestamp: old.metadata.creationTimestamp, generateName: old.metadata.generateName } : {}),
      },
      endpoints: endpoints.length ? endpoints : null,
      ports: g.ports.length ? g.ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol })) : null,
    };
    if (!old || JSON.stringify({ ...old, metadata: null }) !== JSON.stringify({ ...next, metadata: null }) || JSON.stringify(old.metadata.labels) !== JSON.stringify(next.metadata.labels)) putObj(s, env, next, !!old);
  });
  for (const extra of mine.slice(groups.length)) delObj(s, 'EndpointSlice', ns, extra.metadata.name);
}
