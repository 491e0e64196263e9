// Pods: spec normalization (also for workload templates), scheduling onto a
// node, pod IPAM from the node's podCIDR, and the Running status kubelet writes.

import { inPrefix, u32ToIp } from '../../wire/addr.ts';
import type { NodeSpec } from '../spec.ts';
import { draw, listObjs, type KubeEnv, type KubeState } from './state.ts';
import type { Tracker } from './tracker.ts';
import { POD_IP_ANNOTATION, type Any, type KObject } from './types.ts';
import { asArray, badValue, checkAnnotations, checkIp, checkLabels, checkPort, checkPortName, checkProtocol, invalid, matchesSelector } from './validate.ts';

/**
 * A workload's `spec.selector` and `spec.template` validated and defaulted as
 * the API server does for ReplicaSets, Deployments and DaemonSets; returns the
 * template's normalised pod spec.
 */
export function admitSelectorAndTemplate(obj: KObject, spec: Any): Any {
  if (spec.selector !== undefined && (spec.selector === null || typeof spec.selector !== 'object' || Array.isArray(spec.selector))) badValue(obj, 'spec.selector', spec.selector, 'must be a label selector');
  const sel = spec.selector?.matchLabels === undefined ? undefined : checkLabels(obj, 'spec.selector.matchLabels', spec.selector.matchLabels);
  if (!sel || Object.keys(sel).length === 0) invalid(obj, 'spec.selector', 'Required value');
  spec.selector.matchLabels = sel;
  if (!spec.template || typeof spec.template !== 'object' || Array.isArray(spec.template)) invalid(obj, 'spec.template', 'Required value');
  spec.template.metadata ??= {};
  if (typeof spec.template.metadata !== 'object' || Array.isArray(spec.template.metadata)) badValue(obj, 'spec.template.metadata', spec.template.metadata, 'must be an object');
  if (spec.template.metadata.annotations !== undefined) spec.template.metadata.annotations = checkAnnotations(obj, 'spec.template.metadata.annotations', spec.template.metadata.annotations);
  spec.template.metadata.labels = checkLabels(obj, 'spec.template.metadata.labels', spec.template.metadata.labels);
  if (!matchesSelector(spec.template.metadata.labels, sel)) badValue(obj, 'spec.template.metadata.labels', spec.template.metadata.labels, '`selector` does not match template `labels`');
  return normalizePodSpec(obj, 'spec.template.spec', spec.template.spec);
}

/** Validate and default a pod spec in place; `at` is its field path (spec, spec.template.spec). */
export function normalizePodSpec(obj: KObject, at: string, spec: Any): Any {
  if (!spec || typeof spec !== 'object') invalid(obj, at, 'Required value');
  const containers = asArray(obj, `${at}.containers`, spec.containers);
  if (containers.length === 0) invalid(obj, `${at}.containers`, 'Required value');
  const names = new Set<string>();
  spec.containers = containers.map((c: Any, i) => {
    const f = `${at}.containers[${i}]`;
    if (!c || typeof c.name !== 'string' || c.name === '') invalid(obj, `${f}.name`, 'Required value');
    if (names.has(c.name)) invalid(obj, `${f}.name`, `Duplicate value: ${JSON.stringify(c.name)}`);
    names.add(c.name);
    if (typeof c.image !== 'string' || c.image === '') invalid(obj, `${f}.image`, 'Required value');
    for (const k of ['command', 'args'] as const) {
      if (c[k] !== undefined && (!Array.isArray(c[k]) || c[k].some((x: unknown) => typeof x !== 'string'))) badValue(obj, `${f}.${k}`, c[k], 'must be a list of strings');
    }
    const ports = asArray(obj, `${f}.ports`, c.ports).map((p: Any, j) => {
      const pf = `${f}.ports[${j}]`;
      const out: Any = { containerPort: checkPort(obj, `${pf}.containerPort`, p?.containerPort), protocol: checkProtocol(obj, `${pf}.protocol`, p?.protocol) };
      if (p?.name !== undefined) out.name = checkPortName(obj, `${pf}.name`, p.name);
      return out;
    });
    const env = asArray(obj, `${f}.env`, c.env).map((e: Any, j) => {
      if (!e || typeof e.name !== 'string' || e.name === '') invalid(obj, `${f}.env[${j}].name`, 'Required value');
      return { name: e.name, value: e.value === undefined ? '' : String(e.value) };
    });
    return {
      ...c, imagePullPolicy: c.imagePullPolicy ?? (/:(?!latest$)[^/]+$/.test(c.image) ? 'IfNotPresent' : 'Always'),
      ...(ports.length ? { ports } : {}), ...(env.length ? { env } : {}),
      resources: c.resources ?? {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
    };
  });
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.restartPolicy ??= 'Always';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
  spec.serviceAccount = spec.serviceAccountName;
  spec.terminationGracePeriodSeconds ??= 30;
  spec.enableServiceLinks ??= true;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.priority ??= 0;
  return spec;
}

const CONTROL_PLANE_TAINT = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

/** Whether one of the pod's tolerations matches the taint (value-less taints only). */
function tolerates(pod: KObject, taint: { key: string; effect: string }): boolean {
  return (pod.spec.tolerations ?? []).some((tol: Any) => (!tol?.effect || tol.effect === taint.effect)
    && (tol.operator === 'Exists' ? (!tol.key || tol.key === taint.key) : tol?.key === taint.key && !tol.value));
}

/** Nodes allowed by topologySpreadConstraints: a domain may exceed the least-used one by at most maxSkew. */
function spread(s: KubeState, pod: KObject, nodes: NodeSpec[], all: NodeSpec[]): NodeSpec[] {
  for (const c of (pod.spec.topologySpreadConstraints ?? []) as Any[]) {
    const domainOf = (n: NodeSpec | undefined) => n?.labels[c.topologyKey];
    const counts = new Map<string, number>();
    for (const n of nodes) { const d = domainOf(n); if (d !== undefined) counts.set(d, 0); }
    for (const p of listObjs(s, 'Pod')) {
      if (p === pod || p.metadata.namespace !== pod.metadata.namespace || !matchesSelector(p.metadata.labels, c.labelSelector?.matchLabels ?? {})) continue;
      const d = domainOf(all.find((n) => n.name === p.spec.nodeName));
      if (d !== undefined && counts.has(d)) counts.set(d, counts.get(d)! + 1);
    }
    const min = Math.min(...counts.values());
    const ok = nodes.filter((n) => { const d = domainOf(n); return d !== undefined && counts.get(d)! + 1 - min <= (c.maxSkew ?? 1); });
    // ScheduleAnyway only prefers; DoNotSchedule leaves no other choice.
    if (ok.length === 0 && c.whenUnsatisfiable !== 'ScheduleAnyway') invalid(pod, 'spec.topologySpreadConstraints', `0/${all.length} nodes are available: didn't match pod topology spread constraints`);
    if (ok.length > 0) nodes = ok;
  }
  return nodes;
}

/** A pod the scheduler could not place: why, per node, in kube-scheduler's words. */
export interface Unschedulable { unschedulable: string }

/** kube-scheduler's FitError text: reasons counted per node and sorted, then the preemption verdict. */
function fitError(total: number, reasons: Map<string, number>, preemption: Map<string, number>): string {
  const hist = (m: Map<string, number>) => [...m].map(([k, n]) => `${n} ${k}`).sort().join(', ');
  return `0/${total} nodes are available: ${hist(reasons)}. preemption: 0/${total} nodes are available: ${hist(preemption)}.`;
}

const TAINTED = `node(s) had untolerated taint {${CONTROL_PLANE_TAINT.key}: }`;
const FULL = 'Too many pods';

/** The node whose podCIDR holds a pinned pod IP (the pin chooses the node when spec.nodeName does not). */
function nodeOfPin(env: KubeEnv, pod: KObject): NodeSpec | undefined {
  const pinned = pod.metadata.annotations?.[POD_IP_ANNOTATION];
  if (pinned === undefined || pod.spec.nodeName) return undefined;
  const ip = checkIp(pod, `metadata.annotations[${POD_IP_ANNOTATION}]`, pinned);
  const n = env.spec.nodes.find((x) => inPrefix(ip, x.podCIDR.ip, x.podCIDR.prefixLen));
  if (!n) badValue(pod, `metadata.annotations[${POD_IP_ANNOTATION}]`, pinned, `outside every node's podCIDR (${env.spec.nodes.map((x) => `${u32ToIp(x.podCIDR.ip)}/${x.podCIDR.prefixLen}`).join(', ')})`);
  return n;
}

/**
 * Pick the node: spec.nodeName, else the node of a pinned IP, else the
 * least-loaded matching node allowed by topologySpreadConstraints (workers
 * before control planes unless the pod tolerates the control-plane taint,
 * then spec order). `full` holds nodes with no pod address left; a pod no
 * node can take gets kube-scheduler's FitError.
 */
export function schedulePod(s: KubeState, env: KubeEnv, pod: KObject, t?: Tracker, full: ReadonlySet<string> = new Set()): NodeSpec | Unschedulable {
  const nodes = env.spec.nodes;
  if (pod.spec.nodeName) {
    const n = nodes.find((x) => x.name === pod.spec.nodeName);
    if (!n) invalid(pod, 'spec.nodeName', `Not found: ${JSON.stringify(pod.spec.nodeName)}`);
    return n;
  }
  const pin = nodeOfPin(env, pod);
  const sel = pod.spec.nodeSelector as Record<string, string> | undefined;
  const fits = (pin ? [pin] : nodes).filter((n) => !sel || matchesSelector(n.labels, sel));
  if (fits.length === 0) invalid(pod, 'spec.nodeSelector', `Invalid value: ${JSON.stringify(sel)}: no node matches`);
  const tolerated = tolerates(pod, CONTROL_PLANE_TAINT);
  // A pinned IP leaves no choice of node, taint or not.
  const allowed = tolerated || pin ? fits : fits.filter((n) => !n.controlPlane);
  const open = (allowed.length ? allowed : fits).filter((n) => !full.has(n.name));
  if (open.length === 0) {
    const reasons = new Map<string, number>(), preemption = new Map<string, number>();
    const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
    for (const n of nodes) {
      if (n.controlPlane && !tolerated && !pin && allowed.length > 0) { add(reasons, TAINTED); add(preemption, 'Preemption is not helpful for scheduling'); } else if (full.has(n.name)) { add(reasons, FULL); add(preemption, 'No preemption victims found for incoming pod'); } else { add(reasons, "node(s) didn't match Pod's node affinity/selector"); add(preemption, 'Preemption is not helpful for scheduling'); }
    }
    return { unschedulable: fitError(nodes.length, reasons, preemption) };
  }
  const pool = spread(s, pod, open, nodes);
  const load = t ? (n: NodeSpec) => t.podsOnNode.get(n.name) ?? 0 : (n: NodeSpec) => listObjs(s, 'Pod').filter((p) => p.spec.nodeName === n.name).length;
  let best = pool[0]!;
  for (const n of pool) if (load(n) < load(best)) best = n;
  return best;
}

/** Pod IPs in use on any node (by status.podIP). */
function usedPodIps(s: KubeState, except?: KObject): Set<number> {
  const used = new Set<number>();
  for (const p of listObjs(s, 'Pod')) {
    if (p === except || !p.status?.podIP || p.spec.hostNetwork) continue;
    used.add(ipOf(p.status.podIP));
  }
  return used;
}

function ipOf(s: string): number {
  const [a, b, c, d] = s.split('.').map(Number);
  return ((a! << 24) | (b! << 16) | (c! << 8) | d!) >>> 0;
}

/** The node agent's reserved pod-CIDR addresses, asked once per request. */
export function reservedIps(env: KubeEnv, t: Tracker, node: string): Set<number> {
  let r = t.reservedByNode.get(node);
  if (!r) { r = env.reservedIPs(node); t.reservedByNode.set(node, r); }
  return r;
}

/** Assign the pod IP: the pinned annotation, else a random free address of the node's podCIDR (as Cilium's cluster-pool does); undefined when none is left. */
export function allocatePodIp(s: KubeState, env: KubeEnv, pod: KObject, node: NodeSpec, t?: Tracker): number | undefined {
  if (pod.spec.hostNetwork) return node.ip;
  const field = `metadata.annotations[${POD_IP_ANNOTATION}]`;
  // The tracker's index holds the same addresses (the pod being placed has none yet).
  const bits = t && !pod.status?.podIP ? t.ipBits : undefined;
  const taken = bits ?? usedPodIps(s, pod);
  const reserved = t ? reservedIps(env, t, node.name) : env.reservedIPs(node.name);
  const { ip: net, prefixLen } = node.podCIDR;
  const size = 2 ** (32 - prefixLen);
  const pinned = pod.metadata.annotations?.[POD_IP_ANNOTATION];
  if (pinned !== undefined) {
    const ip = checkIp(pod, field, pinned);
    if (!inPrefix(ip, net, prefixLen)) badValue(pod, field, pinned, `outside node ${node.name}'s podCIDR ${u32ToIp(net)}/${prefixLen}`);
    if (ip === net || (size > 2 && ip === net + size - 1)) badValue(pod, field, pinned, 'is the network or broadcast address');
    if (taken.has(ip) || reserved.has(ip)) badValue(pod, field, pinned, 'address already in use');
    return ip;
  }
  const start = draw(s) % (size - 2);
  // The first free address from a random start, wrapping: with the bitmap, whole full blocks at a time.
  if (bits) return bits.nextFree(net + 1, net + size - 2, net + 1 + start, reserved);
  for (let i = 0; i < size - 2; i++) {
    const ip = (net + 1 + ((start + i) % (size - 2))) >>> 0;
    if (!taken.has(ip) && !reserved.has(ip)) return ip;
  }
  return undefined;
}

/**
 * Scheduler and IPAM together: the node and address the pod runs with, or
 * why it stays Pending. A node whose podCIDR is exhausted counts as full
 * (kubelet's max-pods is sized to the podCIDR), and the scheduler tries the
 * next one.
 */
export function placePod(s: KubeState, env: KubeEnv, pod: KObject, t?: Tracker): { node: NodeSpec; ip: number } | Unschedulable | { rejected: string } {
  const full = new Set<string>();
  for (;;) {
    const node = schedulePod(s, env, pod, t, full);
    if ('unschedulable' in node) return node;
    const ip = allocatePodIp(s, env, pod, node, t);
    if (ip !== undefined) return { node, ip };
    // kubelet admits a pod bound to a full node only to reject it.
    if (pod.spec.nodeName) return { rejected: node.name };
    full.add(node.name);
  }
}

/** A pod no node can take: Pending with the scheduler's PodScheduled condition (its FailedScheduling event). */
export function pendingStatus(why: string, now: string): Any {
  return { conditions: [{ lastProbeTime: null, lastTransitionTime: now, message: why, reason: 'Unschedulable', status: 'False', type: 'PodScheduled' }], phase: 'Pending', qosClass: 'BestEffort' };
}

/** kubelet's answer to a pod bound to a node that has no room: Failed, OutOfpods. */
export function rejectedStatus(now: string): Any {
  return { message: "Pod was rejected: Node didn't have enough resource: pods", phase: 'Failed', reason: 'OutOfpods', startTime: now };
}

/** Whether the scheduler already found no node for this pod (it is retried when capacity frees up). */
export function isUnschedulable(p: KObject): boolean {
  return p.status?.phase === 'Failed' || (p.status?.conditions ?? []).some((c: Any) => c.type === 'PodScheduled' && c.status === 'False');
}

/** The status kubelet reports once the containers run (everything starts at once here). */
export function runningStatus(pod: KObject, node: NodeSpec, podIp: number, now: string): Any {
  const ip = u32ToIp(podIp);
  const cond = (type: string) => ({ lastProbeTime: null, lastTransitionTime: now, status: 'True', type });
  return {
    conditions: [cond('PodReadyToStartContainers'), cond('Initialized'), cond('Ready'), cond('ContainersReady'), cond('PodScheduled')],
    containerStatuses: pod.spec.containers.map((c: Any) => ({
      containerID: `containerd://${hex64(`${pod.metadata.uid}/${c.name}`)}`,
      image: qualifyImage(c.image), imageID: imageId(c.image),
      lastState: {}, name: c.name, ready: true, restartCount: 0, started: true, state: { running: { startedAt: now } },
    })),
    hostIP: u32ToIp(node.ip), hostIPs: [{ ip: u32ToIp(node.ip) }], phase: 'Running',
    podIP: ip, podIPs: [{ ip }], qosClass: 'BestEffort', startTime: now,
  };
}

/** docker.io/library/... the way containerd reports an image. */
export function qualifyImage(image: string): string {
  let ref = image;
  if (!/[:@][^/]*$/.test(ref)) ref += ':latest';
  const first = ref.split('/')[0]!;
  if (!ref.includes('/')) return `docker.io/library/${ref}`;
  if (!first.includes('.') && !first.includes(':') && first !== 'localhost') return `docker.io/${ref}`;
  return ref;
}

/** Image digests by image, remembered (every pod of a big apply runs the same few images); bounded. */
const imageIds = new Map<string, string>();
function imageId(image: string): string {
  let id = imageIds.get(image);
  if (id === undefined) {
    if (imageIds.size >= 1000) imageIds.clear();
    id = `${qualifyImage(image).replace(/:[^/:]+$/, '')}@sha256:${hex64(image)}`;
    imageIds.set(image, id);
  }
  return id;
}

function hex64(seed: string): string {
  let out = '';
  let h = 0x811c9dc5;
  for (let r = 0; out.length < 64; r++) {
    for (let i = 0; i < seed.length; i++) { h ^= seed.charCodeAt(i) + r; h = Math.imul(h, 0x01000193); }
    out += (h >>> 0).toString(16).padStart(8, '0');
  }
  return out.slice(0, 64);
}
