// `dplab cilium map get NAME` read through the agent API, as cilium-dbg does:
// GET /nodes/NODE/v1/map/NAME, printed here from the BPFMap model
// (cilium-dbg/cmd/map_get.go printMapEntries). A 100k-entry CT map is ~25 MB
// of text, more than one exec's output budget, so it does not go through exec.

import type { DplabClient } from './client.ts';
import { CliError } from './errors.ts';

interface MapEntry { key?: string; value?: string; 'desired-action'?: string; 'last-error'?: string; explain?: string }
interface BPFMap { path: string; cache: MapEntry[] | null }

/**
 * printMapEntries through Go's text/tabwriter (minwidth 5, padding 3): every
 * line has the same cells, so each column but the last is the widest cell + 3.
 * With explain (beyond Cilium) an Explain column. Written in one pass per
 * column set, no row arrays (100k-entry dumps).
 */
export function formatMapEntries(m: BPFMap, explain: boolean): string {
  if (m.cache === null) return 'Cache is disabled\n\n';
  if (m.cache.length === 0) return 'Cache is empty\n\n';
  let wk = 6, wv = 8, ws = 8, we = 8; // 'Key' 'Value' 'State' 'Error' + 3
  for (const e of m.cache) {
    wk = Math.max(wk, (e.key ?? '').length + 3); wv = Math.max(wv, (e.value ?? '').length + 3);
    ws = Math.max(ws, (e['desired-action'] ?? '').length + 3); if (explain) we = Math.max(we, (e['last-error'] ?? '').length + 3);
  }
  const line = (k: string, v: string, st: string, er: string, ex: string): string =>
    k.padEnd(wk) + v.padEnd(wv) + (explain ? st.padEnd(ws) + er.padEnd(we) + ex : st.padEnd(ws) + er) + '\n';
  const out = [line('Key', 'Value', 'State', 'Error', 'Explain')];
  for (const e of m.cache) out.push(line(e.key ?? '', e.value ?? '', e['desired-action'] ?? '', e['last-error'] ?? '', e.explain ?? ''));
  return out.join('');
}

/** The args of a `map get` this path serves (NAME, --explain, -o json), or undefined for exec. */
export function mapGetArgs(args: string[]): { name: string; explain: boolean; json: boolean } | undefined {
  if (args[0] !== 'map' || args[1] !== 'get') return undefined;
  const rest = args.slice(2), names = rest.filter((a, i) => !a.startsWith('-') && rest[i - 1] !== '-o');
  const flags = rest.filter((a) => a.startsWith('-'));
  const json = rest.join(' ').includes('-o json') || rest.includes('-o=json') || rest.includes('--output=json');
  if (names.length !== 1 || flags.some((f) => !['--explain', '-o', '-o=json', '--output=json'].includes(f))) return undefined;
  return { name: names[0]!, explain: flags.includes('--explain'), json };
}

/** Prints the map; a missing map as cilium-dbg reports the 404. Returns the exit code. */
export async function mapGetOverApi(client: DplabClient, node: string, a: { name: string; explain: boolean; json: boolean }): Promise<number> {
  let m: BPFMap;
  try {
    m = await client.request<BPFMap>('GET', `/nodes/${encodeURIComponent(node)}/v1/map/${encodeURIComponent(a.name)}${a.explain ? '?explain=true' : ''}`);
  } catch (e) {
    if (e instanceof CliError && e.message === 'Map not found') {
      process.stderr.write('Error: [GET /map/{name}][404] getMapNameNotFound \n');
      return 1;
    }
    throw e;
  }
  const text = a.json ? JSON.stringify(m, null, 2).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`) + '\n' : formatMapEntries(m, a.explain);
  await new Promise<void>((res) => { if (process.stdout.write(text)) res(); else process.stdout.once('drain', () => res()); });
  return 0;
}
