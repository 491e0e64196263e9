// One node's Hubble observer (pkg/hubble/observer, LocalObserverServer): it
// reads the agent's cilium_events, parses each sample into a flow, keeps the
// last `capacity` flows in a ring, and answers GetFlows, ServerStatus and
// GetNamespaces for that node, as `hubble` inside the agent pod sees it.

import type { Sim } from '../sim/sim.ts';
import { HubbleError } from './errors.ts';
import { Notifier } from './notifier.ts';
import type { FlowObject, GetFlowsRequestObject, GetFlowsResponseObject, GetNamespacesResponseObject, GetNodesResponseObject,
  NamespaceObject, ServerStatusResponseObject, TimestampObject } from './proto.ts';
import { compileQuery, deliver, FlowReader, type FlowQuery, type RingSource } from './reader.ts';
import { DEFAULT_CAPACITY, Ring } from './ring.ts';
import { storedHistory, type FlowHistory, type FlowStore } from './flow_store.ts';
import type { HubbleService } from './service.ts';
import { tsBefore } from './service.ts';

/** The perf ring the observer reads (the agent's cilium_events map). */
export interface EventSource {
  subscribe(cb: (data: Uint8Array, cpu: number) => void): () => void;
  /** Samples the kernel dropped for want of a reader. */
  readonly lost: number;
}

/** What turns samples into flows (the Parser; tests may hand in their own). */
export interface FlowDecoder {
  /** node_name of the flows (`cluster/node`). */
  readonly nodeName: string;
  decode(data: Uint8Array, time: TimestampObject): FlowObject | null;
}

export interface ObserverOptions {
  /** Ring capacity (2^n-1, at most 65535); Hubble's default 4095. */
  capacity?: number;
  /** Version string ServerStatus reports. */
  version?: string;
  /** Also woken on every write (the relay's). */
  notifiers?: Notifier[];
  /** Keeps the flows the ring overwrites (beyond Hubble). */
  store?: FlowStore;
}

/** Namespaces stay listed this long after their last flow (Hubble's namespace manager keeps them an hour). */
const NAMESPACE_TTL_S = 3600;

/** A Sim's current time as a Timestamp (the clock that follows the wall clock in `serve`). */
export function simTimestamp(sim: Pick<Sim, 'epochMs' | 'now'>): TimestampObject {
  const epochSec = Math.floor(sim.epochMs / 1000);
  const total = Math.round((sim.epochMs - epochSec * 1000) * 1e6) + Math.floor(sim.now());
  return { seconds: epochSec + Math.floor(total / 1e9), nanos: total % 1e9 };
}

export class NodeObserver implements HubbleService, RingSource {
  readonly ring: Ring<GetFlowsResponseObject>;
  /** What readers read: the ring, with the flow store behind it when there is one. */
  readonly history: FlowHistory;
  readonly store: FlowStore | undefined;
  readonly notifier = new Notifier();
  private readonly notifiers: Notifier[];
  private readonly startNs: number;
  private readonly namespaces = new Map<string, number>();
  private readonly listeners: Array<(f: FlowObject) => void> = [];
  private unsubscribe: (() => void) | undefined;
  private events: EventSource | undefined;
  /** Samples that gave no flow (unknown type, undecodable packet, unknown cgroup). */
  skipped = 0;
  /** Events readers lost because the ring overtook them. */
  lostToReaders = 0;
  readonly version: string;

  constructor(readonly parser: FlowDecoder, private readonly sim: Pick<Sim, 'epochMs' | 'now'>, opts: ObserverOptions = {}) {
    this.ring = new Ring(opts.capacity ?? DEFAULT_CAPACITY);
    this.store = opts.store;
    if (opts.store) { const st = opts.store; this.ring.onEvict = (seq, r) => st.keep(seq, r); }
    this.history = opts.store ? storedHistory(this.ring, opts.store) : this.ring;
    this.version = opts.version ?? '';
    this.notifiers = [this.notifier, ...(opts.notifiers ?? [])];
    this.startNs = sim.now();
  }

  get nodeName(): string { return this.parser.nodeName; }

  /** Start reading a perf ring; returns this. */
  attach(events: EventSource): this {
    this.events = events;
    this.unsubscribe = events.subscribe((data) => this.onSample(data));
    return this;
  }

  /** Stop reading (the store writes what it holds). */
  close(): void { this.unsubscribe?.(); this.unsubscribe = undefined; this.store?.close(); }

  now(): TimestampObject { return simTimestamp(this.sim); }
  countLost(n: number): void { this.lostToReaders += n; }

  /** Every flow as it is recorded (metrics); returns the function that stops it. */
  onFlow(cb: (f: FlowObject) => void): () => void {
    this.listeners.push(cb);
    return () => { const i = this.listeners.indexOf(cb); if (i >= 0) this.listeners.splice(i, 1); };
  }

  /** One sample from the perf ring. */
  onSample(data: Uint8Array): void {
    const time = this.now();
    let f: FlowObject | null;
    // The sample arrives inside a BPF program's perf output: a parser fault must not break the packet's path.
    try { f = this.parser.decode(data, time); } catch { f = null; }
    if (!f) { this.skipped++; return; }
    this.record(f);
  }

  /** Keep a flow (the parser's, or one a test or benchmark made). */
  record(f: FlowObject): void {
    this.ring.write({ flow: f, node_name: f.node_name, time: f.time });
    if (f.source?.namespace) this.namespaces.set(f.source.namespace, f.time.seconds);
    if (f.destination?.namespace) this.namespaces.set(f.destination.namespace, f.time.seconds);
    for (const l of this.listeners) l(f);
    for (const n of this.notifiers) n.notify();
  }

  /** A reader for a compiled query (the relay makes one per node). */
  reader(q: FlowQuery): FlowReader { return new FlowReader(this, q); }

  async getFlows(req: GetFlowsRequestObject, send: (resp: GetFlowsResponseObject) => void, signal: AbortSignal): Promise<void> {
    const reader = this.reader(compileQuery(req));
    while (!signal.aborted) {
      const r = reader.next();
      if (r) {
        const p = deliver(send, r, signal);
        if (p) await p;
        continue;
      }
      if (reader.done) return;
      await this.notifier.wait(signal);
    }
  }

  /** Flows per second over the last minute, or since the oldest flow held if that is younger (getFlowRate). */
  flowsRate(): number {
    const now = this.now(), since = { seconds: now.seconds - 60, nanos: now.nanos };
    let count = 0, oldest: TimestampObject | undefined;
    for (let s = this.ring.next - 1; s >= this.ring.oldest; s--) {
      const t = this.ring.at(s)!.flow!.time;
      if (tsBefore(t, since)) { oldest = since; break; }
      count++; oldest = t;
    }
    if (!oldest || count === 0) return 0;
    const span = now.seconds - oldest.seconds + (now.nanos - oldest.nanos) / 1e9;
    return span > 0 ? count / span : 0;
  }

  uptimeNs(): number { return Math.max(0, Math.floor(this.sim.now() - this.startNs)); }

  serverStatus(): ServerStatusResponseObject {
    return { num_flows: this.ring.length, max_flows: this.ring.capacity, seen_flows: this.ring.written, uptime_ns: this.uptimeNs(),
      version: this.version, flows_rate: this.flowsRate() };
  }

  getNodes(): GetNodesResponseObject {
    throw new HubbleError('UNIMPLEMENTED', 'GetNodes not implemented');
  }

  /** Namespaces of the flows of the last hour, sorted. */
  namespaceList(): NamespaceObject[] {
    const cutoff = this.now().seconds - NAMESPACE_TTL_S;
    return [...this.namespaces].filter(([, t]) => t >= cutoff).map(([namespace]) => ({ cluster: '', namespace }))
      .sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0));
  }

  getNamespaces(): GetNamespacesResponseObject { return { namespaces: this.namespaceList() }; }

  /** Samples the perf ring lost before anyone read them. */
  get perfLost(): number { return this.events?.lost ?? 0; }
}
