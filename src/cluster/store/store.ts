// What the API server keeps across a restart (what etcd holds on a real
// cluster): every object, the resourceVersion and draw counters, and what the
// datapath keeps beside them (Cilium's identities). The contract only; the
// SQLite file behind it lives in sqlite.ts, loaded only by a server that keeps
// state, so the library stays in memory and never loads a native module.

import type { KubeState } from '../kube/state.ts';

/** Which cluster a store belongs to: a store written for another one is refused. */
export interface StoreOwner {
  /** `lab "cilium"` or `cluster file "x.yaml" (cluster "lab")`: how messages name it. */
  label: string;
  /** Hash of the cluster spec and its manifests. */
  fingerprint: string;
  /** --seed: the datapath's addresses (router, health) are drawn from it and pod IPs avoid them. */
  seed: number;
}

/** A committed state as the store gave it back. */
export interface Saved { state: KubeState; datapath: unknown }

export interface KubeStore {
  /** The store's file, for messages. */
  readonly path: string;
  /** The saved state, or undefined when the store holds none yet. Throws StoreError when it belongs to another cluster. */
  load(owner: StoreOwner): Saved | undefined;
  /**
   * Make `state` (and the datapath's part) durable in one transaction before
   * returning: objects that changed since the last save are written, the gone
   * ones deleted. Throws StoreError, and then nothing of it is stored.
   */
  save(state: KubeState, datapath: unknown): void;
  close(): void;
}

/** A store that cannot be used as it is; the message says why and what to do. */
export class StoreError extends Error {
  /** `inUse`: another server holds it (--reset must not delete it then). */
  constructor(message: string, readonly inUse = false) { super(message); }
}
