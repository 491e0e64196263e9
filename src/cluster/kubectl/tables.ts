// `kubectl get` table columns per resource, as kubectl's built-in printers
// (pkg/printers/internalversion/printers.go) print them.

import type { Any, KObject } from '../kube/types.ts';
import { humanDuration } from './format.ts';

export interface TableCtx { nowMs: number; wide: boolean; identityOf(ns: string, name: string): number | undefined }

type Printer = { head: string[]; wide?: string[]; row(o: KObject, c: TableCtx): string[]; wideRow?(o: KObject, c: TableCtx): string[] };

export function age(o: KObject, c: TableCtx): string {
  const t = Date.parse(o.metadata.creationTimestamp ?? '');
  return Number.isNaN(t) ? '<unknown>' : humanDuration(c.nowMs - t);
}

const none = (s: string | undefined) => (s === undefined || s === '' ? '<none>' : s);
const selector = (sel: Record<string, string> | undefined) => (sel && Object.keys(sel).length ? Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',') : '<none>');

function svcExternal(o: KObject): string {
  const s = o.spec;
  if (s.type === 'ExternalName') return s.externalName;
  const ips: string[] = [...(s.externalIPs ?? [])];
  if (s.type === 'LoadBalancer') {
    const ing = (o.status?.loadBalancer?.ingress ?? []).map((i: Any) => i.ip ?? i.hostname);
    if (ing.length === 0 && ips.length === 0) return '<pending>';
    ips.push(...ing);
  }
  return ips.length ? ips.join(',') : '<none>';
}

function svcPorts(o: KObject): string {
  const ps = (o.spec.ports ?? []).map((p: Any) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`));
  return ps.length ? ps.join(',') : '<none>';
}

function endpointsList(o: KObject): string {
  const out: string[] = [];
  for (const sub of o.subsets ?? []) {
    // Ports outer, addresses inner, as kubectl's formatEndpoints.
    if (!sub.ports?.length) for (const a of sub.addresses ?? []) out.push(a.ip);
    for (const p of sub.ports ?? []) for (const a of sub.addresses ?? []) out.push(`${a.ip}:${p.port}`);
  }
  if (out.length === 0) return '<none>';
  return out.length > 3 ? `${out.slice(0, 3).join(',')} + ${out.length - 3} more...` : out.join(',');
}

function sliceEndpoints(o: KObject): string {
  const ips = (o.endpoints ?? []).flatMap((e: Any) => e.addresses);
  if (ips.length === 0) return '<unset>';
  return ips.length > 3 ? `${ips.slice(0, 3).join(',')} + ${ips.length - 3} more...` : ips.join(',');
}

function containersOf(spec: Any): [string, string] {
  return [spec.containers.map((c: Any) => c.name).join(','), spec.containers.map((c: Any) => c.image).join(',')];
}

const PRINTERS: Record<string, Printer> = {
  Pod: {
    head: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'], wide: ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
    row: (o, c) => {
      const cs: Any[] = o.status?.containerStatuses ?? [];
      return [o.metadata.name, `${cs.filter((x) => x.ready).length}/${o.spec.containers.length}`, o.status?.phase ?? 'Pending', String(cs.reduce((n, x) => n + (x.restartCount ?? 0), 0)), age(o, c)];
    },
    wideRow: (o) => [none(o.status?.podIP), none(o.spec.nodeName), '<none>', '<none>'],
  },
  Service: {
    head: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'], wide: ['SELECTOR'],
    row: (o, c) => [o.metadata.name, o.spec.type, o.spec.type === 'ExternalName' ? '<none>' : none(o.spec.clusterIP), svcExternal(o), svcPorts(o), age(o, c)],
    wideRow: (o) => [selector(o.spec.selector)],
  },
  Endpoints: { head: ['NAME', 'ENDPOINTS', 'AGE'], row: (o, c) => [o.metadata.name, endpointsList(o), age(o, c)] },
  EndpointSlice: {
    head: ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE'],
    row: (o, c) => [o.metadata.name, o.addressType, o.ports?.length ? o.ports.map((p: Any) => String(p.port)).join(',') : '<unset>', sliceEndpoints(o), age(o, c)],
  },
  Node: {
    head: ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'], wide: ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'],
    row: (o, c) => {
      const roles = Object.keys(o.metadata.labels ?? {}).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice(24)).sort();
      return [o.metadata.name, 'Ready', roles.length ? roles.join(',') : '<none>', age(o, c), o.status.nodeInfo.kubeletVersion];
    },
    wideRow: (o) => {
      const i = o.status.nodeInfo;
      return [o.status.addresses.find((a: Any) => a.type === 'InternalIP')?.address ?? '<none>', '<none>', i.osImage, i.kernelVersion, i.containerRuntimeVersion];
    },
  },
  Deployment: {
    head: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'], wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    row: (o, c) => [o.metadata.name, `${o.status?.readyReplicas ?? 0}/${o.spec.replicas}`, String(o.status?.updatedReplicas ?? 0), String(o.status?.availableReplicas ?? 0), age(o, c)],
    wideRow: (o) => [...containersOf(o.spec.template.spec), selector(o.spec.selector.matchLabels)],
  },
  DaemonSet: {
    head: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE'], wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    row: (o, c) => {
      const st = o.status ?? {};
      const n = (k: string) => String(st[k] ?? 0);
      const nodeSel = Object.entries(o.spec.template.spec.nodeSelector ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(',') || '<none>';
      return [o.metadata.name, n('desiredNumberScheduled'), n('currentNumberScheduled'), n('numberReady'), n('updatedNumberScheduled'), n('numberAvailable'), nodeSel, age(o, c)];
    },
    wideRow: (o) => [...containersOf(o.spec.template.spec), selector(o.spec.selector.matchLabels)],
  },
  ReplicaSet: {
    head: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'], wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    row: (o, c) => [o.metadata.name, String(o.spec.replicas), String(o.status?.replicas ?? 0), String(o.status?.readyReplicas ?? 0), age(o, c)],
    wideRow: (o) => [...containersOf(o.spec.template.spec), selector(o.spec.selector.matchLabels)],
  },
  Namespace: { head: ['NAME', 'STATUS', 'AGE'], row: (o, c) => [o.metadata.name, o.status?.phase ?? 'Active', age(o, c)] },
  NetworkPolicy: { head: ['NAME', 'POD-SELECTOR', 'AGE'], row: (o, c) => [o.metadata.name, selector(o.spec?.podSelector?.matchLabels), age(o, c)] },
  CiliumNetworkPolicy: { head: ['NAME', 'AGE', 'VALID'], row: (o, c) => [o.metadata.name, age(o, c), 'True'] },
  CiliumEndpoint: {
    head: ['NAME', 'SECURITY IDENTITY', 'ENDPOINT STATE', 'IPV4', 'IPV6'],
    row: (o) => [o.metadata.name, String(o.status?.identity?.id ?? '<none>'), o.status?.state ?? '', o.status?.networking?.addressing?.[0]?.ipv4 ?? '', ''],
  },
};

/** The table for objs of one kind; allNamespaces adds the NAMESPACE column (-A); kindPrefix names rows `pod/netpod` (several kinds asked for). */
export function printTable(kind: string, objs: KObject[], c: TableCtx, opts: { allNamespaces: boolean; noHeaders: boolean; showLabels: boolean; kindPrefix?: string }): string {
  const p = PRINTERS[kind] ?? { head: ['NAME', 'AGE'], row: (o: KObject, cx: TableCtx) => [o.metadata.name, age(o, cx)] };
  const head = [...(opts.allNamespaces ? ['NAMESPACE'] : []), ...p.head, ...(c.wide && p.wide ? p.wide : []), ...(opts.showLabels ? ['LABELS'] : [])];
  const named = (r: string[]) => (opts.kindPrefix ? [`${opts.kindPrefix}/${r[0]}`, ...r.slice(1)] : r);
  const rows = objs.map((o) => [
    ...(opts.allNamespaces ? [o.metadata.namespace ?? ''] : []), ...named(p.row(o, c)), ...(c.wide && p.wideRow ? p.wideRow(o, c) : []),
    ...(opts.showLabels ? [Object.entries(o.metadata.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>'] : []),
  ]);
  return tabwriteRows(opts.noHeaders ? rows : [head, ...rows]);
}

import { tabwrite } from './format.ts';
function tabwriteRows(rows: string[][]): string { return tabwrite(rows); }
