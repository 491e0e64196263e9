// The API every Hubble server in dplab offers (a node's observer, the relay),
// as Hubble's observer.Observer service: the gRPC server, the WebSocket
// stream and the CLI inside agent pods all call these.

import type { GetFlowsRequestObject, GetFlowsResponseObject, GetNamespacesResponseObject, GetNodesResponseObject,
  ServerStatusResponseObject, TimestampObject } from './proto.ts';
import { invalid } from './errors.ts';

export interface HubbleService {
  /**
   * Streams GetFlowsResponse plain objects; resolves when done (non-follow)
   * or when signal aborts. Rejects with a HubbleError (INVALID_ARGUMENT) on a
   * bad request, before sending anything. If `send` returns a promise, the
   * next response waits for it (backpressure); a reader that falls more than
   * the ring's capacity behind gets a LostEvent (HUBBLE_RING_BUFFER), as on
   * Hubble. Responses and the flows in them are shared: read-only.
   */
  getFlows(req: GetFlowsRequestObject, send: (resp: GetFlowsResponseObject) => void, signal: AbortSignal): Promise<void>;
  serverStatus(): ServerStatusResponseObject;
  /** The relay's peers; a node's own observer throws HubbleError UNIMPLEMENTED, as Hubble's local server does. */
  getNodes(): GetNodesResponseObject;
  getNamespaces(): GetNamespacesResponseObject;
}

/** uint64 as protobufjs may hand it (number, Long, bigint, string) -> a JS number (2^64-1 -> Infinity). */
export function uint64(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v >= 2 ** 64 - 2048 ? Infinity : v;
  if (typeof v === 'bigint') return v >= 2n ** 53n ? Infinity : Number(v);
  if (typeof v === 'string') { if (!/^\d+$/.test(v)) throw invalid(`not an unsigned integer: ${JSON.stringify(v)}`); return uint64(BigInt(v)); }
  if (typeof v === 'object' && 'low' in v && 'high' in v) {
    const { low, high } = v as { low: number; high: number };
    const h = high >>> 0, l = low >>> 0;
    return h >= 0x200000 ? Infinity : h * 2 ** 32 + l;
  }
  throw invalid(`not an unsigned integer: ${JSON.stringify(v)}`);
}

/** A Timestamp's seconds as a number (Long/string/bigint accepted). */
function seconds(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' || typeof v === 'string') return Number(v);
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) { const { low, high } = v as { low: number; high: number }; return high * 2 ** 32 + (low >>> 0); }
  return 0;
}
/** A request Timestamp normalised to {seconds, nanos} numbers; undefined when absent. */
export function timestamp(t: unknown): TimestampObject | undefined {
  if (t === undefined || t === null) return undefined;
  if (typeof t !== 'object') throw invalid('a timestamp must be {seconds, nanos}');
  const o = t as { seconds?: unknown; nanos?: unknown };
  const s = seconds(o.seconds ?? 0), n = Number(o.nanos ?? 0);
  if (!Number.isFinite(s) || !Number.isInteger(n) || n < 0 || n > 999999999) throw invalid('invalid timestamp');
  return { seconds: s, nanos: n };
}
/** a < b */
export function tsBefore(a: TimestampObject, b: TimestampObject): boolean {
  return a.seconds < b.seconds || (a.seconds === b.seconds && a.nanos < b.nanos);
}
