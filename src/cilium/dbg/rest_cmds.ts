// cilium-dbg 1.16 commands that read the agent API (cilium-dbg/cmd/*.go),
// printed from the REST models as the real client prints them.

import { tabwrite } from '../../../maps/tabwriter.ts';
import type { BPFMap, BPFMapList, ClusterNodeStatus, Endpoint, Identity, IPListEntry, MapEvent, Service } from '../rest/models.ts';
import type { DbgClient } from './client.ts';

/** endpoint_list.go policy columns from `policy-enabled`. */
function policyWords(mode: string | undefined): [string, string] {
  switch (mode) {
    case 'none': return ['Disabled', 'Disabled'];
    case 'ingress': return ['Enabled', 'Disabled'];
    case 'egress': return ['Disabled', 'Enabled'];
    case 'both': return ['Enabled', 'Enabled'];
    case 'audit-ingress': case 'audit-egress': case 'audit-both': return ['Disabled (Audit)', 'Disabled (Audit)'];
    default: return ['Unknown', 'Unknown'];
  }
}

/** `endpoint list`: sorted by id, labels one per line, two-line header. */
export function formatEndpointList(eps: Endpoint[], noHeaders = false): string {
  let s = noHeaders ? '' : 'ENDPOINT\tPOLICY (ingress)\tPOLICY (egress)\tIDENTITY\tLABELS (source:key[=value])\tIPv6\tIPv4\tSTATUS\t\n' +
    '\tENFORCEMENT\tENFORCEMENT\t\t\t\t\t\n';
  for (const ep of [...eps].sort((x, y) => x.id - y.id)) {
    const st = ep.status;
    const [pin, peg] = policyWords(st.policy?.realized?.['policy-enabled']);
    const id = st.identity ? String(st.identity.id) : '<no label id>';
    const labels = st.labels?.['security-relevant']?.length ? [...st.labels['security-relevant']].sort() : ['no labels'];
    const addr = st.networking?.addressing?.[0];
    const v6 = addr ? addr.ipv6 ?? '' : 'No address', v4 = addr ? addr.ipv4 ?? '' : 'No address';
    labels.forEach((l, i) => { s += i === 0 ? `${ep.id}\t${pin}\t${peg}\t${id}\t${l}\t${v6}\t${v4}\t${st.state}\t\n` : `\t\t\t\t${l}\t\t\t\t\n`; });
  }
  return tabwrite(s, 5, 3);
}

/** identity_list.go printIdentities: `ID\tLABELS`, one label per line (minwidth 2). */
export function formatIdentities(ids: Identity[]): string {
  let s = 'ID\tLABELS\n';
  for (const { id, labels } of [...ids].sort((a, b) => a.id - b.id)) {
    const ls = labels.length ? labels : [''];
    ls.forEach((l, i) => { s += i === 0 ? `${id}\t${l}\n` : `\t${l}\n`; });
  }
  return tabwrite(s, 2, 3);
}

/** ip_list.go: identities as their labels (GET /identity/{id}), or numbers with -n; SOURCE from metadata. */
export function formatIpList(rows: IPListEntry[], labelsOf: (id: number) => string[] | undefined, numeric: boolean): string {
  let s = 'IP\tIDENTITY\tSOURCE\n';
  for (const r of rows) {
    const src = r.metadata?.source ?? '';
    const ids = numeric ? [String(r.identity)] : labelsOf(r.identity) ?? [String(r.identity)];
    ids.forEach((l, i) => { s += i === 0 ? `${r.cidr}\t${l}\t${src}\n` : `\t${l}\t\n`; });
  }
  return tabwrite(s, 5, 3);
}

const l3n4 = (a: { ip: string; port: number; protocol?: string }, scope?: string) =>
  `${a.ip}:${a.port}/${(a.protocol ?? 'ANY').toUpperCase()}${scope === 'internal' ? '/i' : ''}`;

/** service_list.go (1.16, with the ID column): sorted by id, extra backends on continuation rows. */
export function formatServiceList(svcs: Service[]): string {
  let s = 'ID\tFrontend\tService Type\tBackend\t\n';
  for (const svc of [...svcs].sort((a, b) => a.spec.id - b.spec.id)) {
    const r = svc.status.realized;
    const bes = r['backend-addresses'].map((b, i) => `${i + 1} => ${l3n4(b)} (${b.state})`);
    s += `${r.id}\t${l3n4(r['frontend-address'], r['frontend-address'].scope)}\t${r.flags.type}\t${bes[0] ?? ''}\t\n`;
    for (const b of bes.slice(1)) s += `\t\t\t${b}\t\n`;
  }
  return tabwrite(s, 5, 3);
}

/** node_list.go: `Name IPv4 Address Endpoint CIDR IPv6 Address Endpoint CIDR Source`, sorted by name. */
export function formatNodeList(st: ClusterNodeStatus): string {
  let s = 'Name\tIPv4 Address\tEndpoint CIDR\tIPv6 Address\tEndpoint CIDR\tSource\n';
  for (const n of [...st.nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const v4 = n['primary-address'].ipv4, v6 = n['primary-address'].ipv6;
    s += `${n.name}\t${v4.ip ?? ''}\t${v4['alloc-range'] ?? ''}\t${v6.ip ?? ''}\t${v6['alloc-range'] ?? ''}\t${n.source}\n`;
  }
  return tabwrite(s, 5, 3);
}

const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** map_get.go printMapEntries; with explain (beyond Cilium) an Explain column. */
export function formatMapEntries(m: BPFMap & { cache: Array<{ explain?: string }> | null }, explain = false): string {
  if (m.cache === null) return 'Cache is disabled\n\n';
  if (m.cache.length === 0) return 'Cache is empty\n\n';
  let s = `Key\tValue\tState\tError${explain ? '\tExplain' : ''}\n`;
  for (const e of m.cache as Array<{ key?: string; value?: string; 'desired-action'?: string; 'last-error'?: string; explain?: string }>) {
    s += `${e.key ?? ''}\t${e.value ?? ''}\t${e['desired-action'] ?? ''}\t${e['last-error'] ?? ''}${explain ? `\t${e.explain ?? ''}` : ''}\n`;
  }
  return tabwrite(s, 5, 3);
}

/** map_list.go: counts and errors of each map's cache; --verbose prints each map's entries. */
export function formatMapList(l: BPFMapList, verbose: boolean): string {
  if (verbose) return l.maps.map((m) => `## Map: ${base(m.path)}\n${formatMapEntries(m)}\n`).join('');
  let s = 'Name\tNum entries\tNum errors\tCache enabled\n';
  for (const m of l.maps) {
    const errors = (m.cache ?? []).filter((e) => e['last-error']).length;
    s += `${base(m.path)}\t${m.cache === null ? 0 : m.cache.length}\t${errors}\t${m.cache !== null}\n`;
  }
  return tabwrite(s, 5, 3);
}

/** map_event_list.go: one line per MapEvent. */
export function formatMapEvent(e: MapEvent): string {
  return `key=${JSON.stringify(e.key)} value=${JSON.stringify(e.value)} time=${e.timestamp} action=${e.action} desiredState=${e['desired-action']} lastError=${JSON.stringify(e['last-error'] ?? '')}\n`;
}

/** Labels of an identity as GET /identity/{id} gives them (undefined when the agent does not know it). */
export function identityLabels(c: DbgClient, id: number): string[] | undefined {
  try { return c.get<Identity>(`/identity/${id}`).labels; } catch { return undefined; }
}
