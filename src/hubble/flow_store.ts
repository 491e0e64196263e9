// Beyond Hubble: a node's flows kept on disk after they leave the ring, so
// `--since` / `--first` reach back further than the last 4,095 flows, and a
// slow reader loses nothing while the store still holds its place. Flows go
// to segment files as length-prefixed GetFlowsResponse protobufs, written off
// the packet path (batched, after the current run of events); the oldest
// segments are deleted once the store passes its size bound. A store starts
// empty: the files a previous run left are removed.

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetFlowsResponse, type FlowObject, type GetFlowsResponseObject } from './proto.ts';

export interface FlowStoreOptions {
  /** Directory of this node's segments (created). */
  dir: string;
  /** Bound on the segments' total size; the oldest go first. Default 256 MiB. */
  maxBytes?: number;
  /** Size at which a segment is closed and the next one begun. Default 4 MiB. */
  segmentBytes?: number;
}

/** Events by sequence number: a node's ring, or the store in front of it. */
export interface FlowHistory {
  /** Sequence number of the oldest flow still held. */
  readonly oldest: number;
  /** Sequence number the next flow gets. */
  readonly next: number;
  at(seq: number): GetFlowsResponseObject | undefined;
}

interface Segment { first: number; last: number; path: string; bytes: number }

const SUFFIX = '.flows';
const BATCH = 1024;

/** toObject omits proto3 defaults; put back the ones readers rely on (is_reply false, sub_type 0, ICMP type 0...). */
function normalize(o: Record<string, unknown>): GetFlowsResponseObject {
  const f = o.flow as FlowObject & Record<string, unknown>;
  if (f) {
    f.time = { seconds: Number(f.time?.seconds ?? 0), nanos: f.time?.nanos ?? 0 };
    f.event_type = { type: f.event_type?.type ?? 0, sub_type: f.event_type?.sub_type ?? 0 };
    f.verdict ??= 0; f.Type ??= 0; f.uuid ??= ''; f.node_name ??= ''; f.Summary ??= '';
    if (f.is_reply) f.is_reply = { value: f.is_reply.value ?? false };
    const l4 = f.l4;
    for (const p of [l4?.TCP, l4?.UDP, l4?.SCTP]) if (p) { p.source_port ??= 0; p.destination_port ??= 0; }
    for (const i of [l4?.ICMPv4, l4?.ICMPv6]) if (i) { i.type ??= 0; i.code ??= 0; }
    if (f.IP) f.IP.ipVersion ??= 0;
  }
  const r = o as unknown as GetFlowsResponseObject;
  r.node_name ??= f?.node_name ?? '';
  r.time = f ? f.time : { seconds: Number((r.time as { seconds?: unknown } | undefined)?.seconds ?? 0), nanos: r.time?.nanos ?? 0 };
  return r;
}

export class FlowStore {
  private readonly segments: Segment[] = [];
  /** Flows handed over but not yet written: seq pendingFirst + i. */
  private pending: GetFlowsResponseObject[] = [];
  private pendingFirst = 0;
  private scheduled = false;
  private total = 0;
  /** The last segment read back, decoded. */
  private cache: { seg: Segment; flows: GetFlowsResponseObject[] } | undefined;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private closed = false;

  constructor(private readonly opts: FlowStoreOptions) {
    this.maxBytes = opts.maxBytes ?? 256 << 20;
    this.segmentBytes = Math.min(opts.segmentBytes ?? 4 << 20, this.maxBytes);
    mkdirSync(opts.dir, { recursive: true });
    for (const f of readdirSync(opts.dir)) if (f.endsWith(SUFFIX)) rmSync(join(opts.dir, f), { force: true });
  }

  /** Sequence number of the oldest flow kept (or `fallback` when none). */
  oldest(fallback: number): number {
    return this.segments[0]?.first ?? (this.pending.length ? this.pendingFirst : fallback);
  }

  /** A flow leaving the ring (in sequence order). */
  keep(seq: number, r: GetFlowsResponseObject): void {
    if (this.closed) return;
    if (this.pending.length === 0) this.pendingFirst = seq;
    this.pending.push(r);
    if (this.pending.length >= BATCH) this.flush();
    else if (!this.scheduled) { this.scheduled = true; setImmediate(() => { this.scheduled = false; this.flush(); }); }
  }

  /** Why the store stopped keeping flows (a write failed: disk full...), if it did. */
  error: string | undefined;

  /** Write what is pending (a failure stops the store; it never throws into the packet's path). */
  flush(): void {
    if (this.pending.length === 0 || this.closed) return;
    try { this.write(); } catch (e) {
      this.error = (e as Error).message;
      this.closed = true;
      this.pending = [];
    }
  }

  /** Write what is pending, a new segment whenever one is full; then drop the oldest past the bound. */
  private write(): void {
    let seg = this.segments[this.segments.length - 1];
    let bufs: Uint8Array[] = [], size = 0, fresh = false;
    const write = (): void => {
      if (!seg || bufs.length === 0) return;
      const out = Buffer.concat(bufs, size);
      if (fresh) writeFileSync(seg.path, out); else appendFileSync(seg.path, out);
      seg.bytes += size; this.total += size;
      if (this.cache?.seg === seg) this.cache = undefined;
      bufs = []; size = 0; fresh = false;
    };
    this.pending.forEach((r, i) => {
      const seq = this.pendingFirst + i;
      if (!seg || seg.bytes + size >= this.segmentBytes) {
        write();
        seg = { first: seq, last: seq - 1, path: join(this.opts.dir, `${String(seq).padStart(16, '0')}${SUFFIX}`), bytes: 0 };
        this.segments.push(seg);
        fresh = true;
      }
      const b = GetFlowsResponse.encode(GetFlowsResponse.fromObject(r)).finish();
      const len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, b.length, true);
      bufs.push(len, b); size += 4 + b.length; seg.last = seq;
    });
    write();
    this.pending = [];
    while (this.total > this.maxBytes && this.segments.length > 1) {
      const old = this.segments.shift()!;
      this.total -= old.bytes;
      rmSync(old.path, { force: true });
      if (this.cache?.seg === old) this.cache = undefined;
    }
  }

  /** The flow with this sequence number, if kept. */
  at(seq: number): GetFlowsResponseObject | undefined {
    if (this.pending.length && seq >= this.pendingFirst) return this.pending[seq - this.pendingFirst];
    const seg = this.find(seq);
    if (!seg) return undefined;
    if (this.cache?.seg !== seg) this.cache = { seg, flows: this.load(seg) };
    return this.cache.flows[seq - seg.first];
  }

  private find(seq: number): Segment | undefined {
    let lo = 0, hi = this.segments.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1, s = this.segments[mid]!;
      if (seq < s.first) hi = mid - 1; else if (seq > s.last) lo = mid + 1; else return s;
    }
    return undefined;
  }

  /** A segment's flows; none when it cannot be read back (removed underneath us). */
  private load(seg: Segment): GetFlowsResponseObject[] {
    let buf: Buffer;
    try { buf = readFileSync(seg.path); } catch { return []; }
    const d = new DataView(buf.buffer, buf.byteOffset, buf.byteLength), out: GetFlowsResponseObject[] = [];
    for (let o = 0; o + 4 <= buf.length;) {
      const n = d.getUint32(o, true);
      const msg = GetFlowsResponse.decode(buf.subarray(o + 4, o + 4 + n));
      out.push(normalize(GetFlowsResponse.toObject(msg, { longs: Number }) as Record<string, unknown>));
      o += 4 + n;
    }
    return out;
  }

  /** Bytes on disk now. */
  get bytes(): number { return this.total; }

  /** Write what is pending and stop keeping flows. */
  close(): void { this.flush(); this.closed = true; }
}

/** The ring with the store behind it: one sequence of flows. */
export function storedHistory(ring: FlowHistory, store: FlowStore): FlowHistory {
  return {
    get oldest() { return store.oldest(ring.oldest); },
    get next() { return ring.next; },
    at: (seq) => (seq >= ring.oldest ? ring.at(seq) : store.at(seq)),
  };
}
