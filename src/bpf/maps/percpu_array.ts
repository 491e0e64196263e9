// BPF_MAP_TYPE_PERCPU_ARRAY: an array with one value copy per emulated CPU; programs see CPU 0's.

import type { MapSpec } from '../map.ts';
import { ArrayMap } from './array.ts';
import { DEFAULT_NCPUS } from './base.ts';

/** Per-CPU array: entries() values hold every CPU's copy back to back (as the syscall returns them). */
export class PercpuArrayMap extends ArrayMap {
  constructor(spec: MapSpec, id: number, nCpus = DEFAULT_NCPUS) {
    super(spec, id, nCpus);
  }
}
