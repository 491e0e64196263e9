// Mirrors bpf/lib/metrics.h update_metrics(): per-CPU packet/byte counters in
// cilium_metrics keyed by (reason, direction, line, file).

import { runLocal, type Runtime } from '../../src/bpf/program.ts';
import type { DatapathEnv } from './common.ts';
import { METRICS_KEY, METRICS_VALUE } from '../../maps/cilium_metrics.ts';
import { setU16le, u64le, setU64le } from './bytes.ts';

// Offsets from the structs' one description (maps/).
const METRICS_KEY_SIZE = METRICS_KEY.size, METRICS_REASON = METRICS_KEY.off.reason, METRICS_DIR = METRICS_KEY.off.dir,
  METRICS_LINE = METRICS_KEY.off.line, METRICS_FILE = METRICS_KEY.off.file;
const METRICS_VAL_SIZE = METRICS_VALUE.size, METRICS_COUNT = METRICS_VALUE.off.count, METRICS_BYTES = METRICS_VALUE.off.bytes;

/** REASON_FORWARDED: reason 0 counts forwarded packets. */
export const REASON_FORWARDED = 0;

/** The run's metrics key and new value. */
const METRICS = runLocal(() => ({ key: new Uint8Array(METRICS_KEY_SIZE), fresh: new Uint8Array(METRICS_VAL_SIZE) }));

/** Count one packet of `bytes` for reason/dir (drops pass their file/line). */
export function updateMetrics(rt: Runtime, env: DatapathEnv, bytes: number, dir: number, reason: number, line = 0, file = 0): void {
  const { key, fresh } = rt.local(METRICS);
  key.fill(0);
  key[METRICS_REASON] = reason; key[METRICS_DIR] = dir;
  if (reason !== REASON_FORWARDED) { setU16le(key, METRICS_LINE, line); key[METRICS_FILE] = file; }
  const v = rt.mapLookup(env.maps.metrics, key);
  if (v) {
    setU64le(v, METRICS_COUNT, u64le(v, METRICS_COUNT) + 1);
    setU64le(v, METRICS_BYTES, u64le(v, METRICS_BYTES) + bytes);
    return;
  }
  fresh.fill(0);
  setU64le(fresh, METRICS_COUNT, 1); setU64le(fresh, METRICS_BYTES, bytes);
  rt.mapUpdate(env.maps.metrics, key, fresh, 0);
}
