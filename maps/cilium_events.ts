// Mirrors Cilium's cilium_events perf event array (bpf/lib/events.h, pkg/maps/eventsmap): datapath -> agent notifications.
// The samples' structs and decoders are in notify.ts, their enums (types, trace points, drop reasons) in monitor_api.ts.

import type { MapSpec } from '../src/bpf/map.ts';
import { DEFAULT_NCPUS } from '../src/bpf/maps/index.ts';

/** PERF_EVENT_ARRAY, u32 cpu -> u32 perf fd, one slot per possible CPU. */
export const CILIUM_EVENTS: MapSpec = { name: 'cilium_events', type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: DEFAULT_NCPUS, flags: 0 };
