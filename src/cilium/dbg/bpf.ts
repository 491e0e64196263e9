// cilium-dbg `bpf ...` commands: they read the pinned maps directly, as the
// real ones do (no agent API), each printed as its cilium-dbg/cmd/bpf_*.go.

import type { BpfMap } from '../../bpf/map.ts';
import { tabwrite } from '../../../maps/tabwriter.ts';
import { tablePrinter } from '../../../maps/format.ts';
import { endpointKeyString, EndpointInfo } from '../../../maps/cilium_lxc.ts';
import { ipcacheKeyString, ipcacheLookupKey, RemoteEndpointInfo } from '../../../maps/cilium_ipcache.ts';
import { CtEntry, CtKey4Global } from '../../../maps/cilium_ct4_global.ts';
import { formatNatList } from '../../../maps/cilium_snat_v4_external.ts';
import { MetricsKey, MetricsValue } from '../../../maps/cilium_metrics.ts';
import { Service4Key, Service4Value, serviceFlagsString, LB4_SERVICES_FORMAT } from '../../../maps/cilium_lb4_services_v2.ts';
import { Backend4KeyV3, Backend4Value, LB4_BACKENDS_FORMAT } from '../../../maps/cilium_lb4_backends_v3.ts';
import { LB4_REVNAT_FORMAT } from '../../../maps/cilium_lb4_reverse_nat.ts';
import { TUNNEL_FORMAT } from '../../../maps/cilium_tunnel_map.ts';
import { PolicyEntry, PolicyKey } from '../../../maps/cilium_policy.ts';
import { dropReasonText, sourceFileName as fileName } from '../../../maps/monitor_api.ts';
import type { NodeAgent } from '../agent.ts';
import { goJson } from './client.ts';

/** A command's printed result. */
export interface Out { stdout: string; stderr: string; exitCode?: number }
/** Per-entry notes (--explain), by the key string the list prints. */
export type Explain = Map<string, string> | undefined;

type Rows = Array<[string, string[]]>;
const withNote = (v: string, key: string, ex: Explain): string => (ex?.has(key) ? `${v}   # ${ex.get(key)}` : v);

/**
 * TablePrinter output of a dump (Go's map[string][]string): `No entries found.`
 * on stderr when empty; `-o json` prints the map, keys sorted as encoding/json does.
 */
function printTable(first: string, second: string, rows: Rows, json: boolean): Out {
  if (json) {
    const o: Record<string, string[]> = {};
    for (const [k, v] of [...rows].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) o[k] = [...(o[k] ?? []), ...v];
    return { stdout: goJson(o), stderr: '' };
  }
  if (rows.length === 0) return { stdout: '', stderr: 'No entries found.\n' };
  return { stdout: tablePrinter(first, second, rows), stderr: '' };
}

/** `bpf endpoint list`. */
export function bpfEndpointList(map: BpfMap, json: boolean, ex: Explain): Out {
  return printTable('IP ADDRESS', 'LOCAL ENDPOINT INFO', map.entries().map(([k, v]) => {
    const key = endpointKeyString(k);
    return [key, [withNote(EndpointInfo.decode(v).toString(), key, ex)]];
  }), json);
}

/** `bpf ipcache list`. */
export function bpfIpcacheList(map: BpfMap, json: boolean, ex: Explain): Out {
  return printTable('IP PREFIX/ADDRESS', 'IDENTITY', map.entries().map(([k, v]) => {
    const key = ipcacheKeyString(k);
    return [key, [withNote(RemoteEndpointInfo.decode(v).toString(), key, ex)]];
  }), json);
}

/** `bpf ipcache get IP`: the longest prefix holding IP (bpf_ipcache_get.go). */
export function bpfIpcacheGet(map: BpfMap, arg: string, ip: number | undefined): Out {
  if (ip === undefined) return { stdout: '', stderr: `Error: Unable to parse IP '${arg}'\n`, exitCode: 1 };
  const v = map.lookup(ipcacheLookupKey(new Uint8Array(map.spec.keySize), ip));
  if (!v) return { stdout: `${arg} does not map to any identity\n`, stderr: '', exitCode: 1 };
  return { stdout: `${arg} maps to identity ${RemoteEndpointInfo.decode(v).toString()}\n`, stderr: '' };
}

export type LbView = 'services' | 'backends' | 'frontends' | 'revnat';

/** `bpf lb list [--backends|--frontends|--revnat]` (bpf_lb_list.go). */
export function bpfLbList(a: NodeAgent, view: LbView, json: boolean, ex: Explain): Out {
  const m = a.maps;
  if (view === 'revnat') return printTable('ID', 'SERVICE ADDRESS', m.lbRevNat.entries().map(([k, v]) => [LB4_REVNAT_FORMAT.key(k), [withNote(LB4_REVNAT_FORMAT.value(v), LB4_REVNAT_FORMAT.key(k), ex)]]), json);
  if (view === 'backends') return printTable('ID', 'BACKEND ADDRESS', m.lbBackends.entries().map(([k, v]) => [LB4_BACKENDS_FORMAT.key(k), [withNote(LB4_BACKENDS_FORMAT.value(v), LB4_BACKENDS_FORMAT.key(k), ex)]]), json);
  if (view === 'frontends') return printTable('SERVICE ADDRESS', 'BACKEND ID', m.lbServices.entries().map(([k, v]) => [LB4_SERVICES_FORMAT.key(k), [withNote(LB4_SERVICES_FORMAT.value(v), LB4_SERVICES_FORMAT.key(k), ex)]]), json);
  const rows = new Map<string, string[]>();
  for (const [kb, vb] of m.lbServices.entries()) {
    const k = Service4Key.decode(kb), v = Service4Value.decode(vb);
    const key = k.toString();
    let entry: string;
    if (k.backendSlot === 0) entry = `0.0.0.0:0 (${v.revNat}) (0) [${serviceFlagsString(v.flags | (v.flags2 << 8))}] `;
    else {
      const b = m.lbBackends.lookup(new Backend4KeyV3(v.backendId).encode());
      entry = b ? `${Backend4Value.decode(b).addrString()} (${v.revNat}) (${k.backendSlot})` : `backend ${v.backendId} not found`;
    }
    (rows.get(key) ?? rows.set(key, []).get(key)!).push(withNote(entry, key, ex));
  }
  return printTable('SERVICE ADDRESS', 'BACKEND ADDRESS (REVNAT_ID) (SLOT)', [...rows], json);
}

/** One map's `bpf ct list` dump: `<key dump><value>` per entry, `-d` adds the time left; Println's newline after. */
function ctDump(map: BpfMap, nowSec: number | undefined, ex: Explain): string {
  let s = '';
  for (const [k, v] of map.entries()) {
    const key = CtKey4Global.decode(k).toString();
    if (!key) continue;
    const e = CtEntry.decode(v);
    const left = nowSec === undefined ? undefined : e.lifetime > nowSec ? `remaining: ${e.lifetime - nowSec} sec(s)` : `expired ${nowSec - e.lifetime} sec(s) ago`;
    s += withNote(key + e.toString(left), key, ex) + '\n';
  }
  return s + '\n';
}

/** `bpf ct list global [-d]`: the TCP then the non-TCP IPv4 table. */
export function bpfCtList(a: NodeAgent, nowSec: number, timeDiff: boolean, ex: Explain): string {
  const t = timeDiff ? nowSec : undefined;
  return ctDump(a.maps.ct4, t, ex) + ctDump(a.maps.ctAny4, t, ex);
}

/** `bpf nat list`; nowSec is bpf_ktime in seconds (Created=Nsec ago). */
export function bpfNatList(a: NodeAgent, nowSec: number): string {
  return formatNatList(a.maps.snat4.entries(), nowSec) + '\n';
}

/** `bpf tunnel list` (TUNNEL | VALUE): 1.16 keeps tunnel endpoints in the ipcache, so this map stays empty. */
export function bpfTunnelList(a: NodeAgent, json: boolean): Out {
  return printTable('TUNNEL', 'VALUE', a.maps.tunnel.entries().map(([k, v]) => [TUNNEL_FORMAT.key(k), [TUNNEL_FORMAT.value(v)]]), json);
}

/**
 * `bpf metrics list`: one row per cilium_metrics key, per-CPU counters summed,
 * rows sorted column by column as strings (bpf_metrics_list.go).
 */
export function bpfMetricsList(a: NodeAgent, json: boolean): Out {
  const rows = a.maps.metrics.entries().map(([kb, vb]) => {
    const k = MetricsKey.decode(kb), v = MetricsValue.decode(vb);
    return { reason: dropReasonText(k.reason), direction: k.direction(), packets: v.count, bytes: v.bytes, line: k.line, file: fileName(k.file) };
  });
  if (json) return { stdout: goJson(rows), stderr: '' };
  if (rows.length === 0) return { stdout: '', stderr: 'No entries found.\n' };
  const cells = rows.map((r) => [r.reason, r.direction, String(r.packets), String(r.bytes), String(r.line), r.file]);
  cells.sort((x, y) => { for (let i = 0; i < x.length; i++) { if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1; } return 0; });
  const text = ['REASON\tDIRECTION\tPACKETS\tBYTES\tLINE\tFILE', ...cells.map((r) => r.join('\t'))].join('\n') + '\n';
  return { stdout: tabwrite(text, 5, 3), stderr: '' };
}

/**
 * `bpf policy get ID` over an endpoint's cilium_policy_<05d> (bpf_policy_get.go):
 * Deny before Allow, Ingress before Egress, then identity. Labels of each
 * identity one per line; `-n` prints the number.
 */
export function bpfPolicyTable(map: BpfMap | undefined, labelsOf: (id: number) => string[] | undefined, numeric: boolean): string {
  const rows = (map?.entries() ?? []).map(([k, v]) => ({ k: PolicyKey.decode(k), v: PolicyEntry.decode(v), plen: k[0]! }));
  if (rows.length === 0) return 'Policy stats empty. Perhaps the policy enforcement is disabled?\n';
  rows.sort((x, y) => Number(y.v.isDeny()) - Number(x.v.isDeny()) || x.k.egress - y.k.egress || x.k.identity - y.k.identity);
  let s = `POLICY\tDIRECTION\t${numeric ? 'IDENTITY' : 'LABELS (source:key[=value])'}\tPORT/PROTO\tPROXY PORT\tAUTH TYPE\tBYTES\tPACKETS\tPREFIX\t\n`;
  for (const { k, v, plen } of rows) {
    const labels = numeric ? [String(k.identity)] : k.identity === 0 ? ['reserved:unknown'] : labelsOf(k.identity) ?? [String(k.identity)];
    s += `${v.isDeny() ? 'Deny' : 'Allow'}\t${k.egress ? 'Egress' : 'Ingress'}\t${labels[0]}\t${k.portProtoString()}\t${v.proxyPort || 'NONE'}\t` +
      `${v.authType ? 'spire' : 'disabled'}\t${v.bytes}\t${v.packets}\t${Math.max(0, plen - 40)}\t\n`;
    for (const l of labels.slice(1)) s += `\t\t${l}\t\t\t\t\t\t\t\n`;
  }
  return tabwrite(s, 5, 3);
}
