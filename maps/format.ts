// How a Cilium map's entries print (key/value strings), and the `cilium-dbg map get` table.

import type { BpfMap } from '../src/bpf/map.ts';
import { tabwrite } from './tabwriter.ts';

/** Per-map printing: Go String() of key and value, and whether the agent caches the entry. */
export interface EntryFormat {
  key(k: Uint8Array): string;
  value(v: Uint8Array): string;
  /** Entries the agent writes without its cache (e.g. lxc host entries) are left out of `map get`. */
  cached?(k: Uint8Array, v: Uint8Array): boolean;
}

/** One row of the agent's map cache (GET /v1/map/{name}). */
export interface MapCacheRow { key: string; value: string; desiredAction: string; lastError: string }

/** Cache rows for a map, all in state `sync`. */
export function mapCacheRows(map: BpfMap, f: EntryFormat): MapCacheRow[] {
  const rows: MapCacheRow[] = [];
  for (const [k, v] of map.entries()) {
    if (f.cached && !f.cached(k, v)) continue;
    rows.push({ key: f.key(k), value: f.value(v), desiredAction: 'sync', lastError: '' });
  }
  return rows;
}

/** cilium-dbg/cmd/map_get.go printMapEntries over cache rows (null = cache disabled). */
export function formatMapRows(rows: MapCacheRow[] | null): string {
  if (rows === null) return 'Cache is disabled\n\n';
  if (rows.length === 0) return 'Cache is empty\n\n';
  let s = 'Key\tValue\tState\tError\n';
  for (const r of rows) s += `${r.key}\t${r.value}\t${r.desiredAction}\t${r.lastError}\n`;
  return tabwrite(s, 5, 3);
}

/** cilium-dbg/cmd/helpers.go TablePrinter: two titled columns, rows `key\tvalue\t`. */
export function tablePrinter(first: string, second: string, rows: Array<[string, string[]]>): string {
  let s = `${first}\t${second}\t\n`;
  for (const [k, vs] of rows) vs.forEach((v, i) => { s += `${i === 0 ? k : ''}\t${v}\t\n`; });
  return tabwrite(s, 5, 3);
}
