// Hubble Relay (pkg/hubble/relay): one API over every node's observer. GetFlows
// asks each node the same question and merges the answers in time order, after a
// NodeStatusEvent naming the nodes it reads from. `number` applies per node and
// is not cut again: relay/observer/server.go forwards the request unchanged to
// every peer and sorts through a queue of number x peers, so `--last 20` on three
// nodes prints up to 60 flows (the seed's `--pod netpod` is 20 + 17 + 12).

import type { Sim } from '../sim/sim.ts';
import { simTimestamp, type NodeObserver } from './observer.ts';
import { NodeState, type GetFlowsRequestObject, type GetFlowsResponseObject, type GetNamespacesResponseObject, type GetNodesResponseObject,
  type ServerStatusResponseObject, type TimestampObject } from './proto.ts';
import { compileQuery, deliver } from './reader.ts';
import type { HubbleService } from './service.ts';

/** Hubble's peer port on every node (hubble-listen-address). */
export const HUBBLE_PEER_PORT = 4244;
/** node_name of the relay's own responses (node status). */
export const RELAY_NAME = 'hubble-relay';

export interface RelayPeer { observer: NodeObserver; address: string }

const byTime = (a: GetFlowsResponseObject, b: GetFlowsResponseObject): number => {
  const x: TimestampObject = a.time, y: TimestampObject = b.time;
  return x.seconds - y.seconds || x.nanos - y.nanos;
};

/** Resolves after the next write on any node (or on abort); the other waits are withdrawn. */
async function waitAny(peers: RelayPeer[], signal: AbortSignal): Promise<void> {
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  signal.addEventListener('abort', stop, { once: true });
  try {
    await Promise.race(peers.map((p) => p.observer.notifier.wait(ac.signal)));
  } finally {
    signal.removeEventListener('abort', stop);
    ac.abort();
  }
}

export class Relay implements HubbleService {
  private readonly startNs: number;

  constructor(private readonly peers: () => RelayPeer[], private readonly sim: Pick<Sim, 'epochMs' | 'now'>, readonly version: string) {
    this.startNs = sim.now();
  }

  async getFlows(req: GetFlowsRequestObject, send: (resp: GetFlowsResponseObject) => void, signal: AbortSignal): Promise<void> {
    const q = compileQuery(req);
    const peers = this.peers();
    const out = async (r: GetFlowsResponseObject): Promise<void> => { const p = deliver(send, r, signal); if (p) await p; };
    await out({ node_status: { state_change: NodeState.NODE_CONNECTED!, node_names: peers.map((p) => p.observer.nodeName) },
      node_name: RELAY_NAME, time: simTimestamp(this.sim) });
    const readers = peers.map((p) => p.observer.reader(q));
    while (!signal.aborted) {
      const batch: GetFlowsResponseObject[] = [];
      for (const r of readers) for (let x = r.next(); x; x = r.next()) batch.push(x);
      batch.sort(byTime);
      for (const r of batch) {
        if (signal.aborted) return;
        await out(r);
      }
      if (readers.every((r) => r.done)) return;
      if (batch.length === 0) await waitAny(peers, signal);
    }
  }

  serverStatus(): ServerStatusResponseObject {
    const peers = this.peers();
    let num = 0, max = 0, seen = 0, rate = 0;
    for (const { observer: o } of peers) { num += o.ring.length; max += o.ring.capacity; seen += o.ring.written; rate += o.flowsRate(); }
    return { num_flows: num, max_flows: max, seen_flows: seen, uptime_ns: Math.max(0, Math.floor(this.sim.now() - this.startNs)),
      num_connected_nodes: { value: peers.length }, num_unavailable_nodes: { value: 0 }, version: this.version, flows_rate: rate };
  }

  getNodes(): GetNodesResponseObject {
    const nodes = this.peers().map(({ observer: o, address }) => ({
      name: o.nodeName, version: o.version, address, state: NodeState.NODE_CONNECTED!, tls: { enabled: false },
      uptime_ns: o.uptimeNs(), num_flows: o.ring.length, max_flows: o.ring.capacity, seen_flows: o.ring.written,
    }));
    return { nodes: nodes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
  }

  getNamespaces(): GetNamespacesResponseObject {
    const seen = new Set<string>();
    for (const { observer: o } of this.peers()) for (const n of o.namespaceList()) seen.add(n.namespace);
    return { namespaces: [...seen].sort().map((namespace) => ({ cluster: '', namespace })) };
  }
}
