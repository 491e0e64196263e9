// Indexes and change tracking for one KubeState, so that the controllers'
// reconcile after each document of a big request only revisits what the
// document (or the previous pass) touched, in the same order and with the same
// results as a full pass. A state without a tracker (fresh, or a request's
// clone) gets a full pass first; putObj/delObj and startPod keep it current.

import { IpBitmap } from './ip_bitmap.ts';
import type { KObject } from './types.ts';
import { objKey } from './types.ts';

/** What changed since the last reconcile pass, plus lookup indexes over pods/services. */
export class Tracker {
  /** The next pass must visit everything (fresh tracker). */
  full = true;
  /** A ReplicaSet changed outside the deployment controller: every deployment is dirty. */
  allDeployments = false;
  readonly dirtyDeployments = new Set<string>();
  readonly dirtyReplicaSets = new Set<string>();
  readonly dirtyServices = new Set<string>();
  /** Objects put since the last GC that have a controller owner (GC checks only them). */
  readonly ownedPuts: KObject[] = [];
  /** Pod keys without status.podIP. */
  readonly pending = new Set<string>();
  /** Pending pods stored since the last pass (not yet tried: the only ones a pass without a retry must visit). */
  readonly freshPending = new Set<string>();
  /** Controller owner uid -> keys of the pods it owns. */
  readonly podsByOwner = new Map<string, Set<string>>();
  /** Node name -> pods with that spec.nodeName. */
  readonly podsOnNode = new Map<string, number>();
  /** Pod IP (status.podIP, host-network pods excluded) -> pods holding it. */
  readonly usedIps = new Map<string, number>();
  /** The same addresses as a bitmap, for IPAM's next-free lookups. */
  readonly ipBits = new IpBitmap();
  /** Addresses freed since Pending pods were last retried (and not taken again): only then can a retry place one. */
  readonly ipsFreed = new Set<string>();
  /** The agents' reserved pod-CIDR addresses per node, asked once per request (a scan of the node's devices). */
  readonly reservedByNode = new Map<string, Set<number>>();
  /** `ns\0label\0value` -> pod keys. */
  readonly podsByLabel = new Map<string, Set<string>>();
  /** `ns\0label\0value` -> keys of services selecting on that pair; `ns\0` -> selector-less services. */
  readonly svcBySelector = new Map<string, Set<string>>();
  /** uid -> ReplicaSet key. */
  readonly rsByUid = new Map<string, string>();
  /** Controller owner uid -> keys of the replica sets it owns. */
  readonly rsByOwner = new Map<string, Set<string>>();
  /** Deployment key -> the ReplicaSet key its last reconcile put. */
  readonly rsOfDeployment = new Map<string, string>();
  /** A DaemonSet, a Node or a daemon's pod changed: the daemon set controller has work (else its pass is skipped). */
  daemonsDirty = false;
  /** Set while a controller phase writes objects it owns (their writes do not dirty the phase again). */
  phase: '' | 'deployments' | 'services' = '';
  /** uids of objects deleted since the last GC: what they owned may be orphaned (GC checks only that). */
  deletedUids: string[] = [];
  /** A Service was deleted since the last pass: its EndpointSlices are orphans. */
  serviceDeleted = false;
  /** `ns\0service-name` -> keys of the EndpointSlices labelled for it. */
  readonly slicesOf = new Map<string, Set<string>>();
  /** Selector service key -> keys of pods changed since its endpoint model was last brought up to date. */
  readonly podsChangedFor = new Map<string, Set<string>>();
  /** Selector service key -> which of its selected pods (with an IP) fall in which port group; see controllers' endpoint models. */
  readonly endpointModels = new Map<string, EndpointModel>();
  /** Services whose Endpoints/EndpointSlices content is owed (written once, when the request settles). */
  readonly owedEndpoints = new Set<string>();
  /** Services whose Endpoints object a client wrote: the controller rewrites it in the same pass. */
  readonly endpointsWritten = new Set<string>();
  /** Work counters (tests count the work per request): endpoint models built, pod updates applied to them, Endpoints/slices contents computed. */
  readonly work = { modelBuilds: 0, modelPodUpdates: 0, endpointWrites: 0 };

  constructor(private readonly objects: Record<string, Record<string, KObject>>) {
    for (const kind of ['Pod', 'Service', 'ReplicaSet', 'EndpointSlice']) for (const o of Object.values(objects[kind] ?? {})) this.add(o);
  }

  /** Index obj (just stored). */
  private add(o: KObject): void {
    const key = objKey(o.metadata.namespace, o.metadata.name);
    if (o.kind === 'Pod') {
      if (!o.status?.podIP) { this.pending.add(key); this.freshPending.add(key); }
      for (const r of o.metadata.ownerReferences ?? []) if (r.controller) setAdd(this.podsByOwner, r.uid, key);
      this.nodeOf(o, 1);
      this.ipOf(o, 1);
      for (const [k, v] of Object.entries(o.metadata.labels ?? {})) setAdd(this.podsByLabel, `${o.metadata.namespace}\0${k}\0${v}`, key);
    } else if (o.kind === 'Service') {
      for (const sk of selectorKeys(o)) setAdd(this.svcBySelector, sk, key);
    } else if (o.kind === 'ReplicaSet') {
      if (o.metadata.uid) this.rsByUid.set(o.metadata.uid, key);
      for (const r of o.metadata.ownerReferences ?? []) if (r.controller) setAdd(this.rsByOwner, r.uid, key);
    } else if (o.kind === 'EndpointSlice') {
      const svc = o.metadata.labels?.['kubernetes.io/service-name'];
      if (svc !== undefined) setAdd(this.slicesOf, `${o.metadata.namespace}\0${svc}`, key);
    }
  }

  /** Drop obj (about to be replaced or deleted) from the indexes. */
  private remove(o: KObject): void {
    const key = objKey(o.metadata.namespace, o.metadata.name);
    if (o.kind === 'Pod') {
      this.pending.delete(key);
      this.freshPending.delete(key);
      for (const r of o.metadata.ownerReferences ?? []) if (r.controller) setDel(this.podsByOwner, r.uid, key);
      this.nodeOf(o, -1);
      this.ipOf(o, -1);
      for (const [k, v] of Object.entries(o.metadata.labels ?? {})) setDel(this.podsByLabel, `${o.metadata.namespace}\0${k}\0${v}`, key);
    } else if (o.kind === 'Service') {
      for (const sk of selectorKeys(o)) setDel(this.svcBySelector, sk, key);
    } else if (o.kind === 'ReplicaSet') {
      if (o.metadata.uid && this.rsByUid.get(o.metadata.uid) === key) this.rsByUid.delete(o.metadata.uid);
      for (const r of o.metadata.ownerReferences ?? []) if (r.controller) setDel(this.rsByOwner, r.uid, key);
    } else if (o.kind === 'EndpointSlice') {
      const svc = o.metadata.labels?.['kubernetes.io/service-name'];
      if (svc !== undefined) setDel(this.slicesOf, `${o.metadata.namespace}\0${svc}`, key);
    }
  }

  private nodeOf(p: KObject, d: number): void {
    const n = p.spec?.nodeName;
    if (n) this.podsOnNode.set(n, (this.podsOnNode.get(n) ?? 0) + d);
  }
  private ipOf(p: KObject, d: number): void {
    const ip = p.status?.podIP;
    if (!ip || p.spec?.hostNetwork) return;
    const c = (this.usedIps.get(ip) ?? 0) + d;
    if (c > 0) this.usedIps.set(ip, c); else this.usedIps.delete(ip);
    if (c === 1 && d > 0) { this.ipBits.add(ipNumber(ip)); this.ipsFreed.delete(ip); }
    if (c === 0) { this.ipBits.delete(ipNumber(ip)); this.ipsFreed.add(ip); }
  }

  /** putObj stored obj (replacing old, if any). */
  onPut(obj: KObject, old: KObject | undefined): void {
    if (old) this.remove(old);
    this.add(obj);
    const key = objKey(obj.metadata.namespace, obj.metadata.name);
    if (obj.metadata.ownerReferences?.some((r) => r.controller)) this.ownedPuts.push(obj);
    switch (obj.kind) {
      case 'Deployment': this.dirtyDeployments.add(key); break;
      case 'ReplicaSet':
        this.dirtyReplicaSets.add(key);
        if (this.phase !== 'deployments') this.allDeployments = true;
        break;
      case 'Pod': this.podChanged(old); this.podChanged(obj); break;
      case 'Service': this.dirtyServices.add(key); this.endpointModels.delete(key); this.podsChangedFor.delete(key); break;
      case 'DaemonSet': case 'Node': this.daemonsDirty = true; break;
      case 'Endpoints': if (this.phase !== 'services') { this.dirtyServices.add(key); this.endpointsWritten.add(key); } break;
      default: break;
    }
  }

  /** delObj removed obj. */
  onDelete(obj: KObject): void {
    this.remove(obj);
    if (obj.metadata.uid) this.deletedUids.push(obj.metadata.uid);
    const key = objKey(obj.metadata.namespace, obj.metadata.name);
    if (obj.kind === 'Service') { this.serviceDeleted = true; this.endpointModels.delete(key); this.podsChangedFor.delete(key); this.owedEndpoints.delete(key); }
    if (obj.kind === 'ReplicaSet') this.allDeployments = true;
    if (obj.kind === 'DaemonSet' || obj.kind === 'Node') this.daemonsDirty = true;
    if (obj.kind === 'Pod') this.podChanged(obj);
    if (obj.kind === 'Endpoints' && this.phase !== 'services') this.dirtyServices.add(key);
  }

  /** The scheduler/kubelet set spec.nodeName and status on a pending pod (in place). */
  onPodStarting(p: KObject): void { this.remove(p); }
  onPodStarted(p: KObject): void { this.add(p); this.podChanged(p); }

  /** A pod appeared, vanished or changed: its owner and the services that may select it are dirty. */
  private podChanged(p: KObject | undefined): void {
    if (!p) return;
    for (const r of p.metadata.ownerReferences ?? []) {
      if (!r.controller) continue;
      if (r.kind === 'DaemonSet') this.daemonsDirty = true;
      const rs = this.rsByUid.get(r.uid);
      if (rs) this.dirtyReplicaSets.add(rs);
    }
    const ns = p.metadata.namespace;
    const podKey = objKey(ns, p.metadata.name);
    // A selector-less service's slices read only the pods its Endpoints name (targetRef): any other pod leaves them as they are.
    for (const k of this.svcBySelector.get(`${ns}\0`) ?? []) if (this.endpointsName(k, ns, p.metadata.name)) this.dirtyServices.add(k);
    for (const [k, v] of Object.entries(p.metadata.labels ?? {})) {
      for (const s of this.svcBySelector.get(`${ns}\0${k}\0${v}`) ?? []) {
        this.dirtyServices.add(s);
        if (this.endpointModels.has(s)) setAdd(this.podsChangedFor, s, podKey);
      }
    }
  }

  /** Whether the Endpoints of service key svc has an address whose targetRef is the pod ns/name. */
  private endpointsName(svc: string, ns: string | undefined, name: string): boolean {
    const ep = this.objects.Endpoints?.[svc];
    for (const sub of Array.isArray(ep?.subsets) ? ep.subsets : []) {
      for (const a of [...(Array.isArray(sub?.addresses) ? sub.addresses : []), ...(Array.isArray(sub?.notReadyAddresses) ? sub.notReadyAddresses : [])]) {
        if (a?.targetRef?.kind === 'Pod' && a.targetRef.name === name && a.targetRef.namespace === ns) return true;
      }
    }
    return false;
  }

  /** Keys of pods in ns carrying every label of sel (a superset filter; callers re-check). */
  podsSelectedBy(ns: string | undefined, sel: Record<string, string>): Set<string> {
    let best: Set<string> | undefined;
    for (const [k, v] of Object.entries(sel)) {
      const set = this.podsByLabel.get(`${ns}\0${k}\0${v}`);
      if (!set) return EMPTY;
      if (!best || set.size < best.size) best = set;
    }
    return best ?? EMPTY;
  }

  /** Start a pass: returns whether it must be full, and clears the per-pass marks it hands out. */
  beginPass(): boolean {
    const full = this.full;
    this.full = false;
    return full;
  }
}

const EMPTY: Set<string> = new Set();

/** A dotted quad as a number (no split: this runs for every pod IP taken or freed). */
function ipNumber(ip: string): number {
  let v = 0, octet = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 0x2e) { v = v * 256 + octet; octet = 0; } else octet = octet * 10 + (c - 0x30);
  }
  return v * 256 + octet;
}

/** A selector service's selected pods with an address, by port group (the JSON of the ports resolved on the pod), kept up to date pod by pod. */
export interface EndpointModel {
  /** Pod key -> its group. */
  readonly members: Map<string, string>;
  /** Group -> how many members. */
  readonly groups: Map<string, number>;
}

/** Index keys of a service: one per selector pair (selectors with pairs), or `ns\0` (none: mirrors Endpoints). */
function selectorKeys(svc: KObject): string[] {
  const ns = svc.metadata.namespace;
  const sel = svc.spec?.selector as Record<string, string> | undefined;
  if (!sel || Object.keys(sel).length === 0) return [`${ns}\0`];
  return Object.entries(sel).map(([k, v]) => `${ns}\0${k}\0${v}`);
}

function setAdd(m: Map<string, Set<string>>, k: string, v: string): void {
  let s = m.get(k);
  if (!s) { s = new Set(); m.set(k, s); }
  s.add(v);
}
function setDel(m: Map<string, Set<string>>, k: string, v: string): void {
  const s = m.get(k);
  if (s) { s.delete(v); if (s.size === 0) m.delete(k); }
}

const trackers = new WeakMap<object, Tracker>();

/** The state's tracker, if reconcile has started one. */
export function trackerIfAny(s: { objects: Record<string, Record<string, KObject>> }): Tracker | undefined { return trackers.get(s); }

/** The state's tracker, built (indexes from the stored objects, full first pass) if absent. */
export function trackerOf(s: { objects: Record<string, Record<string, KObject>> }): Tracker {
  let t = trackers.get(s);
  if (!t) { t = new Tracker(s.objects); trackers.set(s, t); }
  return t;
}
