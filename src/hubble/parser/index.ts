// Mirrors pkg/hubble/parser: one monitor event from cilium_events -> one
// flow.Flow (plain object, see ../proto.ts), by message type: trace, drop and
// policy verdict (threefour), socket translation (sock). Other types, and
// events Hubble would fail to decode, give null.

import { NOTIFY_OFF_TYPE } from '../../../maps/notify.ts';
import { notifyType } from '../../../maps/monitor_api.ts';
import type { FlowObject, TimestampObject } from '../proto.ts';
import type { NodeGetters } from './getters.ts';
import { decodeDrop, decodePolicyVerdict, decodeTrace, MSG_DROP, MSG_POLICY_VERDICT, MSG_TRACE } from './threefour.ts';
import { decodeTraceSock } from './sock.ts';

const MSG_TRACE_SOCK = notifyType('CILIUM_NOTIFY_TRACE_SOCK');

/** Random source for uuids (the cluster's seeded one keeps runs reproducible). */
export interface UuidSource { u32(): number }

const hex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const h8 = (w: number) => hex[w >>> 24]! + hex[(w >>> 16) & 255]! + hex[(w >>> 8) & 255]! + hex[w & 255]!;
/** A version 4 UUID, as uuid.New() makes for every flow. */
export function uuid4(rng: UuidSource): string {
  const a = rng.u32(), b = ((rng.u32() & 0xffff0fff) | 0x4000) >>> 0, c = ((rng.u32() & 0x3fffffff) | 0x80000000) >>> 0, d = rng.u32();
  const bs = h8(b), cs = h8(c);
  return `${h8(a)}-${bs.slice(0, 4)}-${bs.slice(4)}-${cs.slice(0, 4)}-${cs.slice(4)}${h8(d)}`;
}

/** A node's parser: its getters, its name and labels stamped on every flow. */
export class Parser {
  private readonly nodeLabels: string[];

  /** nodeName: what flows carry as node_name (Hubble's absolute name, `cluster/node`). */
  constructor(readonly getters: NodeGetters, private readonly rng: UuidSource, readonly nodeName: string) {
    const labels = getters.agent.node.labels ?? {};
    this.nodeLabels = Object.freeze(Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort()) as string[];
  }

  /** Decode one sample read at `time`; null when Hubble would not make a flow of it. */
  decode(data: Uint8Array, time: TimestampObject): FlowObject | null {
    if (data.length === 0) return null;
    const f: FlowObject = {
      time, uuid: '', verdict: 0, Type: 0, node_name: this.nodeName, event_type: { type: 0, sub_type: 0 }, Summary: '',
    };
    let ok: boolean;
    switch (data[NOTIFY_OFF_TYPE]) {
      case MSG_TRACE: ok = decodeTrace(data, f, this.getters); break;
      case MSG_DROP: ok = decodeDrop(data, f, this.getters); break;
      case MSG_POLICY_VERDICT: ok = decodePolicyVerdict(data, f, this.getters); break;
      case MSG_TRACE_SOCK: ok = decodeTraceSock(data, f, this.getters); break;
      default: return null;
    }
    if (!ok) return null;
    f.uuid = uuid4(this.rng);
    if (this.nodeLabels.length) f.node_labels = this.nodeLabels;
    return f;
  }
}
