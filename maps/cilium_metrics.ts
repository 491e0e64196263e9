// Mirrors Cilium's cilium_metrics map (bpf/lib/metrics.h struct metrics_key / metrics_value, pkg/maps/metricsmap).

import type { MapSpec } from '../src/bpf/map.ts';
import type { EntryFormat } from './format.ts';
import { dv } from './util.ts';

/** PERCPU_HASH (BPF_F_NO_PREALLOC), 8-byte key -> 16-byte value per CPU, 1024 entries (seed: flags 0x1). */
export const CILIUM_METRICS: MapSpec = { name: 'cilium_metrics', type: 'percpu_hash', keySize: 8, valueSize: 16, maxEntries: 1024, flags: 1 };
/** metrics_key offsets: reason u8 (0 = forwarded, else drop reason), dir u8, line u16, file u8. */
export const METRICS_KEY_OFF_REASON = 0, METRICS_KEY_OFF_DIR = 1, METRICS_KEY_OFF_LINE = 2, METRICS_KEY_OFF_FILE = 4;
/** metrics_value offsets: count u64, bytes u64 (host order). */
export const METRICS_VAL_OFF_COUNT = 0, METRICS_VAL_OFF_BYTES = 8;
export const METRIC_DIR_UNKNOWN = 0, METRIC_INGRESS = 1, METRIC_EGRESS = 2, METRIC_SERVICE = 3;
const DIRS = ['UNKNOWN', 'INGRESS', 'EGRESS', 'SERVICE'];

export class MetricsKey {
  constructor(public reason: number, public dir: number, public line = 0, public file = 0) {}
  encode(): Uint8Array {
    const b = new Uint8Array(8);
    b[0] = this.reason; b[1] = this.dir; dv(b).setUint16(METRICS_KEY_OFF_LINE, this.line, true); b[METRICS_KEY_OFF_FILE] = this.file;
    return b;
  }
  static decode(b: Uint8Array): MetricsKey { return new MetricsKey(b[0]!, b[1]! & 3, dv(b).getUint16(2, true), b[4]!); }
  /** Direction name as `bpf metrics list` prints it. */
  direction(): string { return DIRS[this.dir] ?? 'UNKNOWN'; }
  toString(): string { return `reason=${this.reason} dir=${this.direction()} line=${this.line} file=${this.file}`; }
}

export class MetricsValue {
  constructor(public count: number, public bytes: number) {}
  encode(): Uint8Array {
    const b = new Uint8Array(16), d = dv(b);
    d.setBigUint64(0, BigInt(this.count), true); d.setBigUint64(8, BigInt(this.bytes), true);
    return b;
  }
  /** Decodes one CPU's value, or sums all CPUs when b holds several back to back (entries() of a per-CPU map). */
  static decode(b: Uint8Array): MetricsValue {
    const d = dv(b);
    let count = 0, bytes = 0;
    for (let o = 0; o + 16 <= b.length; o += 16) { count += Number(d.getBigUint64(o, true)); bytes += Number(d.getBigUint64(o + 8, true)); }
    return new MetricsValue(count, bytes);
  }
  toString(): string { return `count=${this.count} bytes=${this.bytes}`; }
}

export const METRICS_FORMAT: EntryFormat = {
  key: (k) => MetricsKey.decode(k).toString(),
  value: (v) => MetricsValue.decode(v).toString(),
};
