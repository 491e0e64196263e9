// The agent's per-map event buffers (pkg/bpf events buffer, 1.16 defaults of
// BPFEventBufferConfigs): the last N updates and deletes of cilium_lxc (128),
// cilium_ipcache (1024) and the LB maps (128 each), read by
// `GET /v1/map/{name}/events` and `cilium-dbg map events`. Raw bytes are
// copied into reused slots; strings are made only when read.
// lxc and ipcache record from the agent's start. The LB maps record from the
// first time their events are asked for: dplab rewrites them whole on every
// service change, and copies them between nodes in bulk, which a recording
// buffer would turn into an insert per entry on every node.

import type { BpfMap, MapChange } from '../../bpf/map.ts';
import type { EntryFormat } from '../../../maps/format.ts';
import { formatFor } from '../../../maps/all.ts';
import type { MapEvent } from './models.ts';

/** Event buffer sizes of the maps Cilium 1.16 enables one for. */
export const EVENT_BUFFER_SIZES: Record<string, number> = {
  cilium_lxc: 128, cilium_ipcache: 1024, cilium_lb4_services_v2: 128, cilium_lb4_backends_v3: 128,
  cilium_lb4_reverse_nat: 128, cilium_lb_affinity_match: 128,
};

/** One change as the buffer keeps it: copies of the bytes and the wall-clock time. */
export interface RawEvent { change: MapChange; key: Uint8Array; value: Uint8Array | undefined; wallMs: number }

/** go-openapi strfmt.DateTime (RFC 3339 with milliseconds, UTC as in the agent's container). */
export function dateTime(wallMs: number): string { return new Date(wallMs).toISOString(); }

/** A map change as a MapEvent (desired action `sync`: the emulated kernel never refuses the agent). */
export function mapEvent(f: EntryFormat, e: RawEvent): MapEvent {
  return { action: e.change, 'desired-action': 'sync', key: f.key(e.key), value: e.value ? f.value(e.value) : '', timestamp: dateTime(e.wallMs) };
}

/** A ring of the last `size` changes of one map plus live followers. */
export class MapEventBuffer {
  private readonly ring: RawEvent[] = [];
  private next = 0;
  private followers: Array<(e: RawEvent) => void> = [];
  readonly format: EntryFormat;

  constructor(readonly map: BpfMap, readonly size: number, private readonly wallMs: () => number) {
    this.format = formatFor(map.spec.name)!;
    map.watch?.((change, key, value) => this.record(change, key, value));
  }

  private record(change: MapChange, key: Uint8Array, value: Uint8Array | undefined): void {
    // Entries the agent writes around its cache (lxc host entries) make no events either.
    if (this.format.cached && value && !this.format.cached(key, value)) return;
    let e = this.ring[this.next];
    if (e === undefined) { e = { change, key: key.slice(), value: value?.slice(), wallMs: this.wallMs() }; this.ring[this.next] = e; }
    else { e.change = change; e.key = copyInto(e.key, key); e.value = value ? copyInto(e.value, value) : undefined; e.wallMs = this.wallMs(); }
    this.next = (this.next + 1) % this.size;
    const fs = this.followers;
    for (let i = 0; i < fs.length; i++) fs[i]!({ ...e, key: e.key.slice(), value: e.value?.slice() });
  }

  /** Buffered events, oldest first. */
  events(): MapEvent[] {
    const n = this.ring.length, out: MapEvent[] = [];
    const start = n < this.size ? 0 : this.next;
    for (let i = 0; i < n; i++) out.push(mapEvent(this.format, this.ring[(start + i) % n]!));
    return out;
  }

  /** Follow new events; returns the function that stops. */
  follow(fn: (e: RawEvent) => void): () => void {
    this.followers = [...this.followers, fn];
    return () => { this.followers = this.followers.filter((f) => f !== fn); };
  }
}

/** Reuses dst when it has src's length (slots are overwritten in place). */
function copyInto(dst: Uint8Array | undefined, src: Uint8Array): Uint8Array {
  if (dst === undefined || dst.length !== src.length) return src.slice();
  dst.set(src);
  return dst;
}

/** Maps whose buffer records from the agent's start. */
const EAGER = ['cilium_lxc', 'cilium_ipcache'];

interface AgentBuffers { wallMs: () => number; buffers: Map<string, MapEventBuffer> }
const agents = new WeakMap<object, AgentBuffers>();

/** Starts an agent's eager event buffers (at agent start, as Cilium opens its maps). */
export function startMapEventBuffers(owner: object, maps: Iterable<BpfMap>, wallMs: () => number): void {
  const a: AgentBuffers = { wallMs, buffers: new Map() };
  agents.set(owner, a);
  for (const map of maps) if (EAGER.includes(map.spec.name)) a.buffers.set(map.spec.name, new MapEventBuffer(map, EVENT_BUFFER_SIZES[map.spec.name]!, wallMs));
}

/** The event buffer of an agent's map (started now for an LB map), or undefined when Cilium keeps none for it. */
export function mapEventBuffer(owner: object, map: BpfMap): MapEventBuffer | undefined {
  const a = agents.get(owner);
  const size = EVENT_BUFFER_SIZES[map.spec.name];
  if (!a || size === undefined || !formatFor(map.spec.name)) return undefined;
  let b = a.buffers.get(map.spec.name);
  if (!b) { b = new MapEventBuffer(map, size, a.wallMs); a.buffers.set(map.spec.name, b); }
  return b;
}
