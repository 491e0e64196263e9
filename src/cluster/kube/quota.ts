// dplab's quotas: what one request and the whole cluster may hold, so that
// no request can make the server build objects without bound. The README
// lists them ("Admission, quotas and capacity").

import { ClusterError } from '../facade.ts';
import { tableSize, type KubeState } from './state.ts';
import type { KObject } from './types.ts';

/** Documents one request may carry, and pods one replica set may create in one request. */
export const MAX_DOCUMENTS = 20000;

/** Pod objects the cluster holds at most, running or Pending (a quota on count/pods, as a ResourceQuota would set). */
export const MAX_PODS = 100000;

/**
 * Pods without an address the controllers leave at most (kube-controller-manager's
 * burstReplicas): a replica set creates pods up to the free pod addresses plus
 * this many, so `replicas: 1000000000` makes a bounded number of Pending pods.
 */
export const MAX_UNSCHEDULED_PODS = 500;

export function podCount(s: KubeState): number {
  const table = s.objects.Pod;
  return table ? tableSize(table) : 0;
}

/** A new pod beyond MAX_PODS is refused as a ResourceQuota refuses it. */
export function checkPodQuota(s: KubeState, obj: KObject): void {
  const used = podCount(s);
  if (obj.kind !== 'Pod' || used < MAX_PODS) return;
  throw new ClusterError(`Error from server (Forbidden): pods "${obj.metadata.name}" is forbidden: exceeded quota: dplab, requested: pods=1, used: pods=${used}, limited: pods=${MAX_PODS}`, 403, 'metadata.name');
}
