// GET /v1/map and /v1/map/{name} (pkg/bpf GetModel, 1.16): maps with an agent
// cache list their cache (desired action, last error); since 1.16 (cilium#31620)
// the others are dumped from the kernel, key and value only.

import type { BpfMap } from '../../bpf/map.ts';
import { CACHED_MAPS, formatFor } from '../../../maps/all.ts';
import type { EntryFormat } from '../../../maps/format.ts';
import type { NodeAgent } from '../agent.ts';
import type { BPFMap, BPFMapEntry, BPFMapList } from './models.ts';
import { FAST_CT_FORMAT } from './ct_format.ts';

/** The print format of a map; CT maps read their bytes directly (100k-entry dumps). */
export function formatOf(name: string): EntryFormat | undefined {
  return name === 'cilium_ct4_global' || name === 'cilium_ct_any4_global' ? FAST_CT_FORMAT : formatFor(name);
}

/** Where Cilium pins its global maps (bpf.TCGlobalsPath()). */
export const TC_GLOBALS = '/sys/fs/bpf/tc/globals';

/** Maps the agent has open through pkg/bpf (the perf ring is opened elsewhere). */
export function agentMaps(a: NodeAgent): BpfMap[] {
  return a.maps.list().filter((m) => m.spec.name !== 'cilium_events' && formatFor(m.spec.name) !== undefined);
}

/** A map the agent has open, by name. */
export function agentMap(a: NodeAgent, name: string): BpfMap | undefined {
  const m = a.maps.byName(name);
  return m && m.spec.name !== 'cilium_events' && formatFor(name) ? m : undefined;
}

/** models.BPFMap of one map. */
export function mapModel(m: BpfMap): BPFMap {
  const f = formatOf(m.spec.name)!;
  const cached = CACHED_MAPS.has(m.spec.name);
  const cache: BPFMapEntry[] = [];
  const add = (k: Uint8Array, v: Uint8Array): void => {
    if (cached) {
      if (f.cached && !f.cached(k, v)) return;
      cache.push({ key: f.key(k), value: f.value(v), 'desired-action': 'sync' });
    } else cache.push({ key: f.key(k), value: f.value(v) });
  };
  // Hash maps are visited in place: a copy per entry is an ArrayBuffer per entry for the GC (100k-entry CT dumps).
  if (m.forEach) m.forEach(add); else for (const [k, v] of m.entries()) add(k, v);
  return { path: `${TC_GLOBALS}/${m.spec.name}`, cache };
}

/** models.BPFMapList of an agent. */
export function mapListModel(a: NodeAgent): BPFMapList {
  return { maps: agentMaps(a).map(mapModel) };
}

/**
 * JSON.stringify(mapModel(m)), written as text: a 100k-entry dump as objects
 * then stringified costs twice the CPU (and the GC of 100k objects).
 */
export function mapModelJson(m: BpfMap): string {
  const f = formatOf(m.spec.name)!;
  const cached = CACHED_MAPS.has(m.spec.name);
  const parts: string[] = [];
  const q = JSON.stringify;
  const add = (k: Uint8Array, v: Uint8Array): void => {
    if (cached) {
      if (f.cached && !f.cached(k, v)) return;
      parts.push(`{"key":${q(f.key(k))},"value":${q(f.value(v))},"desired-action":"sync"}`);
    } else parts.push(`{"key":${q(f.key(k))},"value":${q(f.value(v))}}`);
  };
  if (m.forEach) m.forEach(add); else for (const [k, v] of m.entries()) add(k, v);
  return `{"path":${q(`${TC_GLOBALS}/${m.spec.name}`)},"cache":[${parts.join(',')}]}`;
}
