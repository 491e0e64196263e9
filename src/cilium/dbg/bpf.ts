// cilium-dbg commands that read pinned BPF maps (`bpf ...`) or the agent's map registry (`map list|get`).

import type { BpfMap } from '../../bpf/map.ts';
import { tabwrite } from '../../../maps/tabwriter.ts';
import { tablePrinter } from '../../../maps/format.ts';
import { formatMapGet, mapCache } from '../../../maps/all.ts';
import { formatBpfEndpointList } from '../../../maps/cilium_lxc.ts';
import { ipcacheKeyString, RemoteEndpointInfo } from '../../../maps/cilium_ipcache.ts';
import { formatCtList } from '../../../maps/cilium_ct4_global.ts';
import { formatNatList } from '../../../maps/cilium_snat_v4_external.ts';
import { MetricsKey, MetricsValue } from '../../../maps/cilium_metrics.ts';
import { Service4Key, Service4Value, serviceFlagsString } from '../../../maps/cilium_lb4_services_v2.ts';
import { Backend4KeyV3, Backend4Value } from '../../../maps/cilium_lb4_backends_v3.ts';
import type { NodeAgent } from '../agent.ts';
import { dropReasonText, sourceFileName as fileName } from '../../../maps/monitor_api.ts';

export { formatBpfEndpointList };

/** `bpf ipcache list`: TablePrinter over cilium_ipcache; an empty map says so on stderr. */
export function formatBpfIpcacheList(map: BpfMap): { stdout: string; stderr: string } {
  const e = map.entries();
  if (e.length === 0) return { stdout: '', stderr: 'No entries found.\n' };
  return { stdout: tablePrinter('IP PREFIX/ADDRESS', 'IDENTITY', e.map(([k, v]) => [ipcacheKeyString(k), [RemoteEndpointInfo.decode(v).toString()]])), stderr: '' };
}

/** `bpf lb list`: one row per services-map slot; master slots show the service flags. */
export function formatBpfLbList(a: NodeAgent): { stdout: string; stderr: string } {
  const m = a.maps;
  const rows = new Map<string, string[]>();
  for (const [kb, vb] of m.lbServices.entries()) {
    const k = Service4Key.decode(kb), v = Service4Value.decode(vb);
    let entry: string;
    if (k.backendSlot === 0) entry = `0.0.0.0:0 (${v.revNat}) (0) [${serviceFlagsString(v.flags | (v.flags2 << 8))}] `;
    else {
      const b = m.lbBackends.lookup(new Backend4KeyV3(v.backendId).encode());
      entry = b ? `${Backend4Value.decode(b).addrString()} (${v.revNat}) (${k.backendSlot})` : `backend ${v.backendId} not found`;
    }
    const key = k.toString();
    (rows.get(key) ?? rows.set(key, []).get(key)!).push(entry);
  }
  if (rows.size === 0) return { stdout: '', stderr: 'No entries found.\n' };
  return { stdout: tablePrinter('SERVICE ADDRESS', 'BACKEND ADDRESS (REVNAT_ID) (SLOT)', [...rows]), stderr: '' };
}

/** `bpf ct list global`: both IPv4 CT maps, each dump followed by Println's newline. */
export function formatBpfCtList(a: NodeAgent): string {
  return formatCtList(a.maps.ct4.entries()) + '\n' + formatCtList(a.maps.ctAny4.entries()) + '\n';
}

/** `bpf nat list`; nowSec is bpf_ktime in seconds (Created=Nsec ago). */
export function formatBpfNatList(a: NodeAgent, nowSec: number): string {
  return formatNatList(a.maps.snat4.entries(), nowSec) + '\n';
}

/**
 * `bpf metrics list`: one row per cilium_metrics key, per-CPU counters summed,
 * rows sorted column by column as strings (cilium-dbg/cmd/bpf_metrics_list.go).
 */
export function formatBpfMetricsList(a: NodeAgent): { stdout: string; stderr: string } {
  const rows = a.maps.metrics.entries().map(([kb, vb]) => {
    const k = MetricsKey.decode(kb), v = MetricsValue.decode(vb);
    return [dropReasonText(k.reason), k.direction(), String(v.count), String(v.bytes), String(k.line), fileName(k.file)];
  });
  if (rows.length === 0) return { stdout: '', stderr: 'No entries found.\n' };
  rows.sort((x, y) => { for (let i = 0; i < x.length; i++) { if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1; } return 0; });
  const text = ['REASON\tDIRECTION\tPACKETS\tBYTES\tLINE\tFILE', ...rows.map((r) => r.join('\t'))].join('\n') + '\n';
  return { stdout: tabwrite(text, 5, 3), stderr: '' };
}

/** `map list [--verbose]`: the agent's open maps; entries count only what the agent caches. */
export function formatMapList(a: NodeAgent, verbose: boolean): string {
  const maps = a.maps.list().filter((m) => m.spec.name !== 'cilium_events');
  // --verbose: `## Map: <name>`, the `map get` output, then a blank line after a table.
  if (verbose) return maps.map((m) => `## Map: ${m.spec.name}\n${formatMapGet(m)}${mapCache(m)?.length ? '\n' : ''}`).join('');
  let s = 'Name\tNum entries\tNum errors\tCache enabled\n';
  for (const m of maps) {
    const c = mapCache(m);
    s += `${m.spec.name}\t${c?.length ?? 0}\t0\t${c !== null}\n`;
  }
  return tabwrite(s, 5, 3);
}

export { formatMapGet };
