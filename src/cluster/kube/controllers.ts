// The controllers that run after every request, on the request's copy of the
// state: deployment -> replicaset -> pods, scheduling + IPAM + kubelet status,
// endpoints and endpointslices (with named targetPorts resolved per pod).

import { u32ToIp } from '../../wire/addr.ts';
import { allocatePodIp, runningStatus, schedulePod } from './pods.ts';
import { delObj, fnv32a, getObj, listObjs, putObj, randSuffix, safeEncode, type KubeEnv, type KubeState } from './state.ts';
import { clone, type Any, type KObject } from './types.ts';
import { matchesSelector } from './validate.ts';

export function reconcile(s: KubeState, env: KubeEnv): void {
  garbageCollect(s);
  for (const d of listObjs(s, 'Deployment')) reconcileDeployment(s, env, d);
  for (const rs of listObjs(s, 'ReplicaSet')) reconcileReplicaSet(s, env, rs);
  for (const p of listObjs(s, 'Pod')) if (!p.status?.podIP) startPod(s, env, p);
  for (const svc of listObjs(s, 'Service')) reconcileEndpoints(s, env, svc);
  for (const sl of listObjs(s, 'EndpointSlice')) {
    const svcName = sl.metadata.labels?.['kubernetes.io/service-name'];
    if (svcName && !getObj(s, 'Service', sl.metadata.namespace, svcName)) delObj(s, 'EndpointSlice', sl.metadata.namespace, sl.metadata.name);
  }
}

/** Delete objects whose controller owner is gone (deployment -> rs -> pods). */
function garbageCollect(s: KubeState): void {
  for (const kind of ['ReplicaSet', 'Pod']) {
    for (const o of listObjs(s, kind)) {
      const owner = o.metadata.ownerReferences?.find((r) => r.controller);
      if (!owner) continue;
      const live = getObj(s, owner.kind, o.metadata.namespace, owner.name);
      if (!live || live.metadata.uid !== owner.uid) delObj(s, kind, o.metadata.namespace, o.metadata.name);
    }
  }
}

function ownerRef(o: KObject): Any {
  return { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, uid: o.metadata.uid, controller: true, blockOwnerDeletion: true };
}

function ownedBy(s: KubeState, kind: string, owner: KObject): KObject[] {
  return listObjs(s, kind, owner.metadata.namespace).filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === owner.metadata.uid && r.controller));
}

function reconcileDeployment(s: KubeState, env: KubeEnv, d: KObject): void {
  const owned = ownedBy(s, 'ReplicaSet', d);
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

function reconcileReplicaSet(s: KubeState, env: KubeEnv, rs: KObject): void {
  const pods = ownedBy(s, 'Pod', rs);
  const want = rs.spec.replicas as number;
  for (const p of pods.slice(want).reverse()) delObj(s, 'Pod', p.metadata.namespace, p.metadata.name);
  for (let i = pods.length; i < want; i++) {
    let name: string;
    do name = `${rs.metadata.name}-${randSuffix(s)}`; while (getObj(s, 'Pod', rs.metadata.namespace, name));
    const t = rs.spec.template;
    putObj(s, env, {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name, generateName: `${rs.metadata.name}-`, namespace: rs.metadata.namespace, labels: { ...(t.metadata?.labels ?? {}) }, ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}), ownerReferences: [{ ...ownerRef(rs), apiVersion: 'apps/v1', kind: 'ReplicaSet' }] },
      spec: clone(t.spec),
    });
  }
  const n = Math.min(want, ownedBy(s, 'Pod', rs).length);
  rs.status = n === 0 ? { observedGeneration: 1, replicas: 0 } : { availableReplicas: n, fullyLabeledReplicas: n, observedGeneration: 1, readyReplicas: n, replicas: n };
}

/** Scheduler, IPAM and kubelet in one step: the pod is Running with its IP. */
function startPod(s: KubeState, env: KubeEnv, p: KObject): void {
  const node = schedulePod(s, env, p);
  p.spec.nodeName = node.name;
  const ip = allocatePodIp(s, env, p, node);
  p.status = runningStatus(p, node, ip, env.nowIso());
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

function reconcileEndpoints(s: KubeState, env: KubeEnv, svc: KObject): void {
  const ns = svc.metadata.namespace;
  const name = svc.metadata.name;
  const sel = svc.spec.selector as Record<string, string> | undefined;
  if (svc.spec.type === 'ExternalName') return;
  if (name === 'kubernetes' && ns === 'default') return writeKubernetesEndpoints(s, env, svc);
  let groups: Map<string, { ports: PortRes[]; backends: Backend[] }>;
  let managedBy = 'endpointslice-controller.k8s.io';
  if (sel && Object.keys(sel).length > 0) {
    const pods = listObjs(s, 'Pod', ns).filter((p) => p.status?.podIP && matchesSelector(p.metadata.labels, sel));
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

const byIp = (a: Backend, b: Backend) => ipNum(a.ip) - ipNum(b.ip);
function ipNum(ip: string): number { return ip.split('.').reduce((v, o) => v * 256 + Number(o), 0); }

function writeEndpoints(s: KubeState, env: KubeEnv, svc: KObject, groups: Array<{ ports: PortRes[]; backends: Backend[] }>): void {
  const addr = (b: Backend) => ({ ip: b.ip, nodeName: b.pod.spec.nodeName, targetRef: { kind: 'Pod', name: b.pod.metadata.name, namespace: b.pod.metadata.namespace, uid: b.pod.metadata.uid } });
  const subsets = groups.filter((g) => g.backends.length > 0).map((g) => {
    const ready = g.backends.filter((b) => b.ready).sort(byIp).map(addr);
    const notReady = g.backends.filter((b) => !b.ready).sort(byIp).map(addr);
    return { ...(ready.length ? { addresses: ready } : {}), ...(notReady.length ? { notReadyAddresses: notReady } : {}), ports: g.ports };
  });
  const old = getObj(s, 'Endpoints', svc.metadata.namespace, svc.metadata.name);
  const next: KObject = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace, labels: { ...(svc.metadata.labels ?? {}) }, ...(old ? { uid: old.metadata.uid, creationTimestamp: old.metadata.creationTimestamp } : {}) }, ...(subsets.length ? { subsets } : {}) };
  if (old && JSON.stringify(old.subsets ?? []) === JSON.stringify(next.subsets ?? []) && JSON.stringify(old.metadata.labels) === JSON.stringify(next.metadata.labels)) return;
  putObj(s, env, next);
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

function writeSlices(s: KubeState, env: KubeEnv, svc: KObject, groups: Array<{ ports: PortRes[]; backends: Backend[] }>, managedBy: string, fixedName?: string): void {
  const ns = svc.metadata.namespace;
  const mine = listObjs(s, 'EndpointSlice', ns).filter((sl) => sl.metadata.labels?.['kubernetes.io/service-name'] === svc.metadata.name);
  if (groups.length === 0) groups = [{ ports: [], backends: [] }];
  groups.forEach((g, i) => {
    const old = mine[i];
    const name = fixedName ?? old?.metadata.name ?? `${svc.metadata.name}-${randSuffix(s)}`;
    const endpoints = [...g.backends].sort(byIp).map((b) => ({
      addresses: [b.ip], conditions: { ready: b.ready, serving: b.ready, terminating: false },
      ...(b.pod.spec?.nodeName ? { nodeName: b.pod.spec.nodeName } : {}),
      ...(b.pod.kind === 'Pod' ? { targetRef: { kind: 'Pod', name: b.pod.metadata.name, namespace: b.pod.metadata.namespace, uid: b.pod.metadata.uid } } : {}),
    }));
    const next: KObject = {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: {
        name, namespace: ns, ...(fixedName || old ? {} : { generateName: `${svc.metadata.name}-` }),
        labels: { ...(svc.metadata.labels ?? {}), 'endpointslice.kubernetes.io/managed-by': managedBy, 'kubernetes.io/service-name': svc.metadata.name },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata.name, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true }],
        ...(old ? { uid: old.metadata.uid, creationTimestamp: old.metadata.creationTimestamp, generateName: old.metadata.generateName } : {}),
      },
      endpoints: endpoints.length ? endpoints : null,
      ports: g.ports.length ? g.ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol })) : null,
    };
    if (!old || JSON.stringify({ ...old, metadata: null }) !== JSON.stringify({ ...next, metadata: null }) || JSON.stringify(old.metadata.labels) !== JSON.stringify(next.metadata.labels)) putObj(s, env, next);
  });
  for (const extra of mine.slice(groups.length)) delObj(s, 'EndpointSlice', ns, extra.metadata.name);
}
