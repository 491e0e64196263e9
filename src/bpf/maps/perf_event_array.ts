// BPF_MAP_TYPE_PERF_EVENT_ARRAY: bpf_perf_event_output pushes samples to readers (one ring per CPU).

import { EINVAL, type BpfMap, type MapSpec } from '../map.ts';
import { arrayMemlock, DEFAULT_NCPUS } from './base.ts';

/** Receives one sample: the bytes the program emitted and the CPU's ring it went to. */
export type PerfReader = (data: Uint8Array, cpu: number) => void;

/**
 * Samples go straight to subscribers, synchronously, in emit order; nothing is
 * buffered. With no reader a sample is lost and counted, like a perf ring
 * nobody drains. Readers must copy `data` if they keep it.
 */
export class PerfEventArrayMap implements BpfMap {
  readonly id: number;
  readonly spec: MapSpec;
  private readers: PerfReader[] = [];
  /** Samples emitted with no reader attached. */
  lost = 0;
  /** Samples delivered. */
  delivered = 0;

  constructor(spec: MapSpec, id: number) {
    this.spec = spec; this.id = id;
  }

  get size(): number { return 0; }
  get memlock(): number { return arrayMemlock(this.spec, false, DEFAULT_NCPUS); }

  /** Emit a sample on CPU `cpu` (default 0). */
  output(data: Uint8Array, cpu = 0): void {
    const rs = this.readers;
    if (rs.length === 0) { this.lost++; return; }
    this.delivered++;
    for (let i = 0; i < rs.length; i++) rs[i]!(data, cpu);
  }

  /** Attach a reader; returns the function that detaches it. */
  subscribe(cb: PerfReader): () => void {
    this.readers = [...this.readers, cb];
    return () => { this.readers = this.readers.filter((r) => r !== cb); };
  }

  lookup(_key: Uint8Array): Uint8Array | undefined { return undefined; }
  update(_key: Uint8Array, _value: Uint8Array, _flags?: number): number { return -EINVAL; }
  delete(_key: Uint8Array): number { return -EINVAL; }
  entries(): Array<[Uint8Array, Uint8Array]> { return []; }
}
