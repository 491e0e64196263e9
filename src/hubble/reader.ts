// One GetFlows request over one node's ring (pkg/hubble/observer: newRingReader
// + eventsReader): where to start (the first flow, the last N matching, or
// the next write), the since/until window, the filters, the count, and a
// LostEvent when the writer overtook the reader.

import { compileFieldMask, type FlowMask } from './fieldmask.ts';
import { compileFilters, type FlowPredicate } from './filters.ts';
import { invalid } from './errors.ts';
import { LostEventSource, type GetFlowsRequestObject, type GetFlowsResponseObject, type TimestampObject } from './proto.ts';
import type { FlowHistory } from './flow_store.ts';
import { timestamp, tsBefore, uint64 } from './service.ts';

/** A request checked and compiled once (a relay shares it between its nodes' readers). */
export interface FlowQuery {
  number: number;
  first: boolean;
  follow: boolean;
  since?: TimestampObject;
  until?: TimestampObject;
  match: FlowPredicate;
  mask?: FlowMask;
}

/** Check and compile a GetFlowsRequest; throws HubbleError INVALID_ARGUMENT. */
export function compileQuery(req: GetFlowsRequestObject): FlowQuery {
  if (req === null || typeof req !== 'object') throw invalid('GetFlowsRequest must be an object');
  const first = Boolean(req.first), follow = Boolean(req.follow);
  if (first && follow) throw invalid('first cannot be specified with follow');
  const since = timestamp(req.since), until = timestamp(req.until);
  if (since && until && tsBefore(until, since)) throw invalid('until must be after since');
  return { number: uint64(req.number), first, follow, since, until, match: compileFilters(req.whitelist, req.blacklist),
    mask: compileFieldMask(req.field_mask) };
}

/** Where a node's events are: its ring (and flow store), its name, the clock for lost-event times. */
export interface RingSource {
  readonly history: FlowHistory;
  readonly nodeName: string;
  now(): TimestampObject;
  /** Called with the number of events a reader lost (HUBBLE_RING_BUFFER). */
  countLost(n: number): void;
}

export class FlowReader {
  private cursor: number;
  private sent = 0;
  /** No more responses will come (non-follow end, count reached, past until). */
  done = false;

  constructor(private readonly src: RingSource, private readonly q: FlowQuery) {
    this.cursor = this.start();
  }

  private inWindow(r: GetFlowsResponseObject): boolean {
    const t = r.flow!.time;
    return !(this.q.since && tsBefore(t, this.q.since)) && !(this.q.until && tsBefore(this.q.until, t));
  }

  /** First sequence number to read. */
  private start(): number {
    const ring = this.src.history, q = this.q;
    if (q.first || q.since) return ring.oldest;
    if (q.follow && q.number === 0) return ring.next;
    if (q.number === 0 || q.number === Infinity) return ring.oldest;
    // Rewind from the newest until `number` matching flows are behind us.
    let count = 0;
    for (let s = ring.next - 1; s >= ring.oldest; s--) {
      const r = ring.at(s);
      if (r?.flow && this.inWindow(r) && this.q.match(r.flow) && ++count === q.number) return s;
    }
    return ring.oldest;
  }

  /** The next response available now, or null (none yet, or done). */
  next(): GetFlowsResponseObject | null {
    const ring = this.src.history, q = this.q;
    while (!this.done) {
      if (this.cursor < ring.oldest) {
        const lost = ring.oldest - this.cursor;
        this.cursor = ring.oldest;
        this.src.countLost(lost);
        const time = this.src.now();
        return { lost_events: { source: LostEventSource.HUBBLE_RING_BUFFER!, num_events_lost: lost }, node_name: this.src.nodeName, time };
      }
      if (this.cursor >= ring.next) {
        if (!q.follow) this.done = true;
        return null;
      }
      const r = ring.at(this.cursor++);
      const f = r?.flow;
      if (!r || !f) continue; // a stored segment that could not be read back
      if (q.since && tsBefore(f.time, q.since)) continue;
      if (q.until && tsBefore(q.until, f.time)) { this.done = true; return null; }
      if (!q.match(f)) continue;
      this.sent++;
      if (!q.follow && q.number > 0 && this.sent >= q.number) this.done = true;
      return q.mask ? { flow: q.mask(f), node_name: r.node_name, time: r.time } : r;
    }
    return null;
  }
}

/**
 * Calls send; when it returns a promise (the transport's backpressure) waits
 * for it, or for the abort, so a stalled client never holds the stream open.
 */
export function deliver(send: (r: GetFlowsResponseObject) => void, r: GetFlowsResponseObject, signal: AbortSignal): Promise<void> | undefined {
  const p = send(r) as unknown as PromiseLike<void> | undefined;
  if (!p || typeof p.then !== 'function') return undefined;
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) { resolve(); return; }
    const onAbort = (): void => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(() => { signal.removeEventListener('abort', onAbort); resolve(); }, (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); });
  });
}
