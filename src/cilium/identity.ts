// Cluster-wide security identity allocation (pkg/identity/cache): one numeric
// identity per distinct label set, drawn deterministically from 256..65535.

import type { Rng } from '../sim/sim.ts';
import type { PodInfo } from './api.ts';

export const MIN_IDENTITY = 256, MAX_IDENTITY = 65535;

/** Reserved identities and their labels (pkg/identity/numericidentity.go). */
export const RESERVED_IDENTITIES: Array<[number, string[]]> = [
  [1, ['reserved:host']], [2, ['reserved:world']], [3, ['reserved:unmanaged']], [4, ['reserved:health']],
  [5, ['reserved:init']], [6, ['reserved:remote-node']], [7, ['reserved:kube-apiserver', 'reserved:remote-node']],
  [8, ['reserved:ingress']], [9, ['reserved:world-ipv4']], [10, ['reserved:world-ipv6']],
];

/**
 * pkg/labelsfilter defaults: label keys that never enter an identity
 * (prefix matches, so app.kubernetes.io/name stays while kubernetes.io/... goes).
 */
const EXCLUDED_KEY = /^(io\.kubernetes|kubernetes\.io|.*beta\.kubernetes\.io|k8s\.io|pod-template-generation|pod-template-hash|controller-revision-hash|annotation\.|etcd_node|statefulset\.kubernetes\.io\/pod-name|batch\.kubernetes\.io\/job-completion-index)/;

/** The security-relevant labels Cilium derives for a pod (sorted, `source:key=value`). */
export function podSecurityLabels(pod: PodInfo, clusterName: string): string[] {
  const l = Object.entries(pod.labels).filter(([k]) => !EXCLUDED_KEY.test(k)).map(([k, v]) => `k8s:${k}=${v}`);
  for (const [k, v] of Object.entries(pod.namespaceLabels)) l.push(`k8s:io.cilium.k8s.namespace.labels.${k}=${v}`);
  l.push(`k8s:io.cilium.k8s.policy.cluster=${clusterName}`);
  l.push(`k8s:io.cilium.k8s.policy.serviceaccount=${pod.serviceAccount}`);
  l.push(`k8s:io.kubernetes.pod.namespace=${pod.namespace}`);
  return [...new Set(l)].sort();
}

export interface SavedIdentities { ids: Array<{ id: number; labels: string[] }>; rng: number[] }

/** Allocates identities by label set; reference counted so unused ones are released. */
export class IdentityAllocator {
  private readonly byKey = new Map<string, { id: number; labels: string[]; refs: number }>();
  private readonly used = new Set<number>();
  constructor(private readonly rng: Rng) {}

  /** Identity for labels, allocating on first use. */
  acquire(labels: string[]): number {
    const key = labels.join(';');
    const e = this.byKey.get(key);
    if (e) { e.refs++; return e.id; }
    let id = 0;
    do { id = MIN_IDENTITY + this.rng.below(MAX_IDENTITY - MIN_IDENTITY + 1); } while (this.used.has(id));
    this.used.add(id);
    this.byKey.set(key, { id, labels: [...labels], refs: 1 });
    return id;
  }

  release(labels: string[]): void {
    const key = labels.join(';');
    const e = this.byKey.get(key);
    if (!e || --e.refs > 0) return;
    this.byKey.delete(key); this.used.delete(e.id);
  }

  /** All identities (reserved first), sorted by id: `cilium-dbg identity list`. */
  list(): Array<{ id: number; labels: string[] }> {
    const out = RESERVED_IDENTITIES.map(([id, labels]) => ({ id, labels }));
    for (const e of this.byKey.values()) out.push({ id: e.id, labels: e.labels });
    return out.sort((a, b) => a.id - b.id);
  }

  /**
   * What a real cluster keeps in etcd (CiliumIdentity objects): every label
   * set's identity, plus where the draws stand, so that a restart hands out
   * the same numbers as a run that never stopped.
   */
  save(): SavedIdentities {
    return { ids: [...this.byKey.values()].map((e) => ({ id: e.id, labels: e.labels })), rng: this.rng.save() };
  }

  /** Before any acquire: label sets get their saved identity back when their pods come back. */
  restore(saved: unknown): void {
    const s = saved as SavedIdentities;
    if (!s || !Array.isArray(s.ids) || !Array.isArray(s.rng)) throw new Error('saved identities: not {ids, rng}');
    for (const e of s.ids) {
      if (!Number.isInteger(e?.id) || e.id < MIN_IDENTITY || e.id > MAX_IDENTITY || !Array.isArray(e.labels)) throw new Error(`saved identities: bad entry ${JSON.stringify(e)}`);
      this.byKey.set(e.labels.join(';'), { id: e.id, labels: [...e.labels], refs: 0 });
      this.used.add(e.id);
    }
    this.rng.restore(s.rng);
  }

  labelsOf(id: number): string[] | undefined {
    const r = RESERVED_IDENTITIES.find(([i]) => i === id);
    if (r) return r[1];
    for (const e of this.byKey.values()) if (e.id === id) return e.labels;
    return undefined;
  }
}
