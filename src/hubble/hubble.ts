// Hubble on a Cilium cluster: an observer in every agent (reading its
// cilium_events) and the relay over all of them, built from the agents' state.

import { join } from 'node:path';
import { Rng, type Sim } from '../sim/sim.ts';
import { u32ToIp } from '../wire/addr.ts';
import { CILIUM_COMMIT, CILIUM_VERSION } from '../cilium/dbg/status.ts';
import { FlowStore } from './flow_store.ts';
import { FlowTallies, metricsText, type MetricsText } from './metrics.ts';
import { NodeObserver } from './observer.ts';
import { ClusterState, NodeGetters, type CiliumStateSource } from './parser/getters.ts';
import { Parser } from './parser/index.ts';
import { HUBBLE_PEER_PORT, Relay } from './relay.ts';
import { DEFAULT_CAPACITY, validCapacity } from './ring.ts';

export interface HubbleOptions {
  /** Each node's ring capacity (2^n-1, at most 65535); default 4095. */
  capacity?: number;
  /** Keep flows past the ring on disk (beyond Hubble): one subdirectory per node under `dir`, `maxBytes` each (default 256 MiB). */
  flowStore?: { dir: string; maxBytes?: number };
}

/** Hubble's version string (agent and relay are the Cilium release). */
export const HUBBLE_VERSION = `${CILIUM_VERSION}+g${CILIUM_COMMIT}`;

/** A stable seed per node for flow uuids, apart from the cluster's random source (drawing from it would move every later draw). */
function nodeSeed(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h || 1;
}

export class HubbleCluster {
  readonly relay: Relay;
  private readonly observers = new Map<string, NodeObserver>();
  private readonly state: ClusterState;
  private readonly src: CiliumStateSource;
  /** Metric counts per node and for the whole cluster, kept from the first flow on. */
  private readonly tallies = new Map<string, FlowTallies>();
  private readonly clusterTallies = new FlowTallies();

  constructor(src: CiliumStateSource, sim: Sim, opts: HubbleOptions = {}) {
    const capacity = opts.capacity ?? DEFAULT_CAPACITY;
    if (!validCapacity(capacity)) throw new Error(`hubble-event-buffer-capacity must be 2^n-1 and at most 65535, got ${capacity}`);
    this.state = new ClusterState(src);
    this.src = src;
    const addresses = new Map<string, string>();
    this.relay = new Relay(() => [...this.observers].map(([n, observer]) => ({ observer, address: addresses.get(n)! })), sim, HUBBLE_VERSION);
    for (const name of src.nodeNames()) {
      const agent = src.agent(name);
      const absolute = `${agent.cfg.clusterName}/${name}`;
      const parser = new Parser(new NodeGetters(name, this.state), new Rng(nodeSeed(absolute)), absolute);
      const store = opts.flowStore ? new FlowStore({ dir: join(opts.flowStore.dir, name), maxBytes: opts.flowStore.maxBytes }) : undefined;
      const o = new NodeObserver(parser, sim, { capacity, version: HUBBLE_VERSION, store });
      const t = new FlowTallies();
      this.tallies.set(name, t);
      o.onFlow((f) => { t.count(f); this.clusterTallies.count(f); });
      o.attach(agent.maps.events);
      this.observers.set(name, o);
      addresses.set(name, `${u32ToIp(agent.node.ip)}:${HUBBLE_PEER_PORT}`);
    }
  }

  /** The observer of a node (by its Kubernetes name), as the agent pod's `hubble` sees it. */
  node(name: string): NodeObserver | undefined { return this.observers.get(name); }

  nodeNames(): string[] { return [...this.observers.keys()]; }

  /**
   * Prometheus text: one node's metrics as its agent serves them, or (no
   * node) the cluster's, every node's counts summed. undefined for an unknown node.
   */
  async metrics(node?: string): Promise<MetricsText | undefined> {
    if (node === undefined) {
      return metricsText(this.clusterTallies, [...this.observers.values()], this.nodeNames().map((n) => this.src.agent(n)));
    }
    const o = this.observers.get(node), t = this.tallies.get(node);
    return o && t ? metricsText(t, [o], [this.src.agent(node)]) : undefined;
  }

  /** Stop reading every node's events. */
  close(): void {
    for (const o of this.observers.values()) o.close();
    this.state.close();
  }
}
