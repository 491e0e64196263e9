// Name -> print format for every Cilium map, and `cilium-dbg map get <name>` over a NodeMaps.

import type { BpfMap } from '../src/bpf/map.ts';
import { CALL_POLICY_FORMAT } from './cilium_call_policy.ts';
import { CALLS_FORMAT } from './cilium_calls.ts';
import { CT4_FORMAT } from './cilium_ct4_global.ts';
import { IPCACHE_FORMAT } from './cilium_ipcache.ts';
import { LB_AFFINITY_MATCH_FORMAT } from './cilium_lb_affinity_match.ts';
import { LB4_AFFINITY_FORMAT } from './cilium_lb4_affinity.ts';
import { LB4_BACKENDS_FORMAT } from './cilium_lb4_backends_v3.ts';
import { LB4_REVNAT_FORMAT } from './cilium_lb4_reverse_nat.ts';
import { LB4_REVERSE_SK_FORMAT } from './cilium_lb4_reverse_sk.ts';
import { LB4_SERVICES_FORMAT } from './cilium_lb4_services_v2.ts';
import { LXC_FORMAT } from './cilium_lxc.ts';
import { METRICS_FORMAT } from './cilium_metrics.ts';
import { POLICY_FORMAT } from './cilium_policy.ts';
import { SNAT4_FORMAT } from './cilium_snat_v4_external.ts';
import { TUNNEL_FORMAT } from './cilium_tunnel_map.ts';
import { type EntryFormat, formatMapRows, mapCacheRows, type MapCacheRow } from './format.ts';

const FORMATS: Record<string, EntryFormat> = {
  cilium_lxc: LXC_FORMAT, cilium_ipcache: IPCACHE_FORMAT, cilium_lb4_services_v2: LB4_SERVICES_FORMAT,
  cilium_lb4_backends_v3: LB4_BACKENDS_FORMAT, cilium_lb4_reverse_nat: LB4_REVNAT_FORMAT, cilium_lb4_affinity: LB4_AFFINITY_FORMAT,
  cilium_lb_affinity_match: LB_AFFINITY_MATCH_FORMAT, cilium_lb4_reverse_sk: LB4_REVERSE_SK_FORMAT, cilium_ct4_global: CT4_FORMAT,
  cilium_ct_any4_global: CT4_FORMAT, cilium_snat_v4_external: SNAT4_FORMAT, cilium_metrics: METRICS_FORMAT,
  cilium_call_policy: CALL_POLICY_FORMAT, cilium_tunnel_map: TUNNEL_FORMAT,
};

/** Maps whose agent-side cache is on by default (BPFEventBufferConfigs / WithCache); others print `Cache is disabled`. */
export const CACHED_MAPS = new Set(['cilium_lxc', 'cilium_ipcache', 'cilium_lb4_services_v2', 'cilium_lb4_backends_v3',
  'cilium_lb4_reverse_nat', 'cilium_lb_affinity_match', 'cilium_tunnel_map']);

/** Print format of a map by name (per-endpoint names resolved by prefix). */
export function formatFor(name: string): EntryFormat | undefined {
  if (FORMATS[name]) return FORMATS[name];
  if (name.startsWith('cilium_calls_')) return CALLS_FORMAT;
  if (name.startsWith('cilium_policy_')) return POLICY_FORMAT;
  return undefined;
}

/** Agent cache rows of a map (GET /v1/map/{name} `cache`), or null when the agent keeps no cache for it. */
export function mapCache(map: BpfMap): MapCacheRow[] | null {
  const f = formatFor(map.spec.name);
  return f && CACHED_MAPS.has(map.spec.name) ? mapCacheRows(map, f) : null;
}

/** `cilium-dbg map get <name>` output for a map. */
export function formatMapGet(map: BpfMap): string {
  return formatMapRows(mapCache(map));
}
