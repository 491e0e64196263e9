// Mirrors Cilium's cilium_metrics map (bpf/lib/metrics.h struct metrics_key / metrics_value, pkg/maps/metricsmap).

import type { MapSpec } from '../src/bpf/map.ts';
import type { EntryFormat } from './format.ts';
import { defineStruct } from './struct.ts';
import { dv } from './util.ts';

/** struct metrics_key: reason (0 = forwarded, else drop reason), dir:2 (+ reserved bits), line, file, reserved[3]. */
export const METRICS_KEY = defineStruct('metrics_key', { reason: 'u8', dir: 'u8', line: 'u16', file: 'u8', reserved: ['u8', 3] });
/** struct metrics_value (one per CPU). */
export const METRICS_VALUE = defineStruct('metrics_value', { count: 'u64', bytes: 'u64' });

/** PERCPU_HASH (BPF_F_NO_PREALLOC), 8-byte key -> 16-byte value per CPU, 1024 entries (seed: flags 0x1). */
export const CILIUM_METRICS: MapSpec = { name: 'cilium_metrics', type: 'percpu_hash', keySize: METRICS_KEY.size, valueSize: METRICS_VALUE.size, maxEntries: 1024, flags: 1 };
export const METRICS_KEY_OFF_REASON = METRICS_KEY.off.reason, METRICS_KEY_OFF_DIR = METRICS_KEY.off.dir, METRICS_KEY_OFF_LINE = METRICS_KEY.off.line,
  METRICS_KEY_OFF_FILE = METRICS_KEY.off.file;
export const METRICS_VAL_OFF_COUNT = METRICS_VALUE.off.count, METRICS_VAL_OFF_BYTES = METRICS_VALUE.off.bytes;
export const METRIC_DIR_UNKNOWN = 0, METRIC_INGRESS = 1, METRIC_EGRESS = 2, METRIC_SERVICE = 3;
const DIRS = ['UNKNOWN', 'INGRESS', 'EGRESS', 'SERVICE'];

export class MetricsKey {
  constructor(public reason: number, public dir: number, public line = 0, public file = 0) {}
  encode(): Uint8Array {
    const b = new Uint8Array(METRICS_KEY.size);
    b[METRICS_KEY_OFF_REASON] = this.reason; b[METRICS_KEY_OFF_DIR] = this.dir; dv(b).setUint16(METRICS_KEY_OFF_LINE, this.line, true); b[METRICS_KEY_OFF_FILE] = this.file;
    return b;
  }
  static decode(b: Uint8Array): MetricsKey {
    return new MetricsKey(b[METRICS_KEY_OFF_REASON]!, b[METRICS_KEY_OFF_DIR]! & 3, dv(b).getUint16(METRICS_KEY_OFF_LINE, true), b[METRICS_KEY_OFF_FILE]!);
  }
  /** Direction name as `bpf metrics list` prints it. */
  direction(): string { return DIRS[this.dir] ?? 'UNKNOWN'; }
  toString(): string { return `reason=${this.reason} dir=${this.direction()} line=${this.line} file=${this.file}`; }
}

export class MetricsValue {
  constructor(public count: number, public bytes: number) {}
  encode(): Uint8Array {
    const b = new Uint8Array(METRICS_VALUE.size), d = dv(b);
    d.setBigUint64(METRICS_VAL_OFF_COUNT, BigInt(this.count), true); d.setBigUint64(METRICS_VAL_OFF_BYTES, BigInt(this.bytes), true);
    return b;
  }
  /** Decodes one CPU's value, or sums all CPUs when b holds several back to back (entries() of a per-CPU map). */
  static decode(b: Uint8Array): MetricsValue {
    const d = dv(b);
    let count = 0, bytes = 0;
    const n = METRICS_VALUE.size;
    for (let o = 0; o + n <= b.length; o += n) {
      count += Number(d.getBigUint64(o + METRICS_VAL_OFF_COUNT, true)); bytes += Number(d.getBigUint64(o + METRICS_VAL_OFF_BYTES, true));
    }
    return new MetricsValue(count, bytes);
  }
  toString(): string { return `count=${this.count} bytes=${this.bytes}`; }
}

export const METRICS_FORMAT: EntryFormat = {
  key: (k) => MetricsKey.decode(k).toString(),
  value: (v) => MetricsValue.decode(v).toString(),
};
