// Hubble's flow filters (pkg/hubble/filters): one FlowFilter is the AND of
// its set fields, each field the OR of its values; a request keeps a flow
// when any whitelist filter matches (or there is none) and no blacklist
// filter does. Filters are compiled once per request; bad values are
// INVALID_ARGUMENT errors, as Hubble answers them.

import { ipToU32, parseCidr } from '../wire/addr.ts';
import { invalid } from './errors.ts';
import { parseLabelSelector } from './labels.ts';
import { DropReason, IPVersion, TrafficDirection, Verdict, type EndpointObject, type FlowFilterObject, type FlowObject,
  type ServiceObject, type TCPFlagsObject } from './proto.ts';

export type FlowPredicate = (f: FlowObject) => boolean;

/** Bounds on what one request may carry. */
export const MAX_FILTERS = 256, MAX_VALUES = 1024, MAX_PATTERN = 1024;

const DNS = 'dns', HTTP = 'http', KAFKA = 'kafka';
const PROTOCOLS = new Set(['tcp', 'udp', 'icmp', 'icmpv4', 'icmpv6', 'sctp', 'vrrp', 'igmp', DNS, HTTP, KAFKA]);
const TCP_FLAG_KEYS: Array<keyof TCPFlagsObject> = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'];

function list<T>(v: T[] | undefined, what: string): T[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(`${what}: expected a list`);
  if (v.length > MAX_VALUES) throw invalid(`${what}: more than ${MAX_VALUES} values`);
  return v;
}

/** An enum value given as its number or its name. */
function enumValues(v: unknown[] | undefined, table: Readonly<Record<string, number>>, what: string): Set<number> {
  const out = new Set<number>();
  for (const x of list(v, what)) {
    const n = typeof x === 'number' ? x : typeof x === 'string' ? table[x] : undefined;
    if (n === undefined || !Number.isInteger(n)) throw invalid(`${what}: unknown value ${JSON.stringify(x)}`);
    out.add(n);
  }
  return out;
}

// ---- addresses ----

function ipMatcher(values: string[], what: string): (ip: string | undefined) => boolean {
  const exact = new Set<number>(), cidrs: Array<{ ip: number; mask: number }> = [];
  for (const v of values) {
    try {
      if (v.includes('/')) {
        const c = parseCidr(v);
        const mask = c.prefixLen === 0 ? 0 : (0xffffffff << (32 - c.prefixLen)) >>> 0;
        cidrs.push({ ip: (c.ip & mask) >>> 0, mask });
      } else exact.add(ipToU32(v));
    } catch { throw invalid(`invalid ${what} filter: ${JSON.stringify(v)} is not an IP address or CIDR`); }
  }
  return (s) => {
    if (!s) return false;
    let ip: number;
    try { ip = ipToU32(s); } catch { return false; }
    if (exact.has(ip)) return true;
    for (const c of cidrs) if (((ip & c.mask) >>> 0) === c.ip) return true;
    return false;
  };
}

// ---- pods and services: [namespace/][prefix] ----

interface NameFilter { ns: string | null; prefix: string }
/** `netpod` -> default/netpod*, `kube-system/` -> any pod of kube-system, `/web` -> web* in any namespace. */
function parseNamespaced(v: string, what: string): NameFilter {
  const s = v.trim(), i = s.indexOf('/');
  if (s === '' || s === '/') throw invalid(`invalid ${what} filter, must be [namespace/][<name>], got ${JSON.stringify(v)}`);
  if (i < 0) return { ns: 'default', prefix: s };
  return { ns: i === 0 ? null : s.slice(0, i), prefix: s.slice(i + 1) };
}
function podMatcher(values: string[], what: string, get: (f: FlowObject) => EndpointObject | undefined): FlowPredicate {
  const fs = values.map((v) => parseNamespaced(v, what));
  return (f) => {
    const ep = get(f);
    if (!ep) return false;
    return fs.some((x) => (x.ns === null || ep.namespace === x.ns) && (x.prefix === '' || (ep.pod_name ?? '').startsWith(x.prefix)));
  };
}
function serviceMatcher(values: string[], what: string, get: (f: FlowObject) => ServiceObject | undefined): FlowPredicate {
  const fs = values.map((v) => parseNamespaced(v, what));
  return (f) => {
    const s = get(f);
    if (!s) return false;
    return fs.some((x) => (x.ns === null || s.namespace === x.ns) && s.name.startsWith(x.prefix));
  };
}

// ---- patterns ----

/** FQDN wildcard (`*.cilium.io`): `*` is any run of DNS name characters, case-insensitive. */
function fqdnRegex(p: string): RegExp {
  if (p.length > MAX_PATTERN || !/^[-a-zA-Z0-9_.*]+$/.test(p)) throw invalid(`invalid FQDN pattern ${JSON.stringify(p)}`);
  const body = p.replace(/\.$/, '').split('*').map((x) => x.replace(/\./g, '\\.')).join('[-a-zA-Z0-9_.]*');
  return new RegExp(`^${body}\\.?$`, 'i');
}
function regex(p: string, what: string): RegExp {
  if (p.length > MAX_PATTERN) throw invalid(`${what}: pattern longer than ${MAX_PATTERN}`);
  try { return new RegExp(p); } catch (e) { throw invalid(`${what}: invalid regular expression ${JSON.stringify(p)}: ${(e as Error).message}`); }
}
/** Node name glob, optionally `cluster/`-prefixed: `k8s-w*`, `default/k8s-s`, `default/`. */
function nodeNameMatcher(patterns: string[]): (name: string) => boolean {
  const glob = (g: string) => new RegExp(`^${g.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
  const ms = patterns.map((p) => {
    if (p.length > MAX_PATTERN || p === '') throw invalid(`invalid node name filter ${JSON.stringify(p)}`);
    const i = p.indexOf('/');
    const c = i < 0 ? null : p.slice(0, i), n = i < 0 ? p : p.slice(i + 1);
    return { c: c ? glob(c) : null, n: n ? glob(n) : null };
  });
  return (name) => {
    const i = name.indexOf('/');
    const c = i < 0 ? '' : name.slice(0, i), n = i < 0 ? name : name.slice(i + 1);
    return ms.some((m) => (!m.c || m.c.test(c)) && (!m.n || m.n.test(n)));
  };
}

function port(v: string, what: string): number {
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw invalid(`invalid ${what} filter: ${JSON.stringify(v)} is not a port number`);
  return Number(v);
}
function l4Ports(f: FlowObject): { s: number; d: number } | undefined {
  const l = f.l4?.TCP ?? f.l4?.UDP ?? f.l4?.SCTP;
  return l ? { s: l.source_port, d: l.destination_port } : undefined;
}

function httpStatus(values: string[]): FlowPredicate {
  const ms = values.map((v) => {
    if (/^[1-5]\d\d$/.test(v)) return (c: string) => c === v;
    if (/^[1-5]\+$/.test(v)) return (c: string) => c[0] === v[0];
    throw invalid(`invalid status code prefix: ${JSON.stringify(v)}`);
  });
  return (f) => {
    const code = f.l7?.http?.code;
    if (!code) return false;
    const c = String(code).padStart(3, '0');
    return ms.some((m) => m(c));
  };
}

function protocolMatcher(values: string[]): FlowPredicate {
  const ps = values.map((v) => {
    const p = v.toLowerCase();
    if (!PROTOCOLS.has(p)) throw invalid(`unknown protocol: ${JSON.stringify(v)}`);
    return p;
  });
  return (f) => ps.some((p) => {
    switch (p) {
      case 'tcp': return !!f.l4?.TCP;
      case 'udp': return !!f.l4?.UDP;
      case 'sctp': return !!f.l4?.SCTP;
      case 'icmp': return !!(f.l4?.ICMPv4 || f.l4?.ICMPv6);
      case 'icmpv4': return !!f.l4?.ICMPv4;
      case 'icmpv6': return !!f.l4?.ICMPv6;
      case DNS: return !!f.l7?.dns;
      case HTTP: return !!f.l7?.http;
      default: return false; // vrrp, igmp, kafka: never decoded here
    }
  });
}

const epOf = (side: 'source' | 'destination') => (f: FlowObject) => f[side];

/** One FlowFilter -> the AND of its fields' predicates. */
export function compileFilter(ff: FlowFilterObject): FlowPredicate {
  if (ff === null || typeof ff !== 'object') throw invalid('a flow filter must be an object');
  const ps: FlowPredicate[] = [];
  const add = <T>(v: T[] | undefined, what: string, make: (vals: T[]) => FlowPredicate) => {
    const vals = list(v, what);
    if (vals.length) ps.push(make(vals));
  };
  add(ff.uuid, 'uuid', (v) => { const s = new Set(v); return (f) => s.has(f.uuid); });
  add(ff.source_ip, 'source_ip', (v) => { const m = ipMatcher(v, 'source_ip'); return (f) => m(f.IP?.source); });
  add(ff.source_ip_xlated, 'source_ip_xlated', (v) => { const m = ipMatcher(v, 'source_ip_xlated'); return (f) => m(f.IP?.source_xlated); });
  add(ff.destination_ip, 'destination_ip', (v) => { const m = ipMatcher(v, 'destination_ip'); return (f) => m(f.IP?.destination); });
  add(ff.source_pod, 'source_pod', (v) => podMatcher(v, 'source_pod', epOf('source')));
  add(ff.destination_pod, 'destination_pod', (v) => podMatcher(v, 'destination_pod', epOf('destination')));
  add(ff.source_service, 'source_service', (v) => serviceMatcher(v, 'source_service', (f) => f.source_service));
  add(ff.destination_service, 'destination_service', (v) => serviceMatcher(v, 'destination_service', (f) => f.destination_service));
  for (const side of ['source', 'destination'] as const) {
    add(ff[`${side}_label`], `${side}_label`, (v) => {
      const sels = v.map((s) => parseLabelSelector(String(s)));
      return (f) => { const l = f[side]?.labels ?? []; return sels.some((m) => m(l)); };
    });
    add(ff[`${side}_fqdn`], `${side}_fqdn`, (v) => {
      const res = v.map((p) => fqdnRegex(String(p)));
      return (f) => (f[`${side}_names`] ?? []).some((n) => res.some((r) => r.test(n)));
    });
    add(ff[`${side}_workload`], `${side}_workload`, (v) => (f) =>
      (f[side]?.workloads ?? []).some((w) => v.some((x) => (!x?.kind || x.kind === w.kind) && (!x?.name || x.name === w.name))));
    add(ff[`${side}_cluster_name`], `${side}_cluster_name`, (v) => { const s = new Set(v); return (f) => s.has(f[side]?.cluster_name ?? ''); });
    add(ff[`${side}_identity`], `${side}_identity`, (v) => {
      const s = new Set(v.map(Number));
      return (f) => s.has(f[side]?.identity ?? 0);
    });
    add(ff[`${side}_port`], `${side}_port`, (v) => {
      const s = new Set(v.map((p) => port(String(p), `${side}_port`)));
      return (f) => { const p = l4Ports(f); return p !== undefined && s.has(side === 'source' ? p.s : p.d); };
    });
  }
  add(ff.traffic_direction, 'traffic_direction', (v) => { const s = enumValues(v, TrafficDirection, 'traffic_direction'); return (f) => s.has(f.traffic_direction ?? 0); });
  add(ff.verdict, 'verdict', (v) => { const s = enumValues(v, Verdict, 'verdict'); return (f) => s.has(f.verdict); });
  add(ff.drop_reason_desc, 'drop_reason_desc', (v) => { const s = enumValues(v, DropReason, 'drop_reason_desc'); return (f) => s.has(f.drop_reason_desc ?? 0); });
  add(ff.ip_version, 'ip_version', (v) => { const s = enumValues(v, IPVersion, 'ip_version'); return (f) => s.has(f.IP?.ipVersion ?? 0); });
  add(ff.interface, 'interface', (v) => (f) => {
    const i = f.interface;
    return !!i && v.some((x) => (!x?.index || x.index === i.index) && (!x?.name || x.name === i.name));
  });
  add(ff.event_type, 'event_type', (v) => (f) => v.some((t) =>
    (!t?.type || t.type === f.event_type.type) && (!t?.match_sub_type || (t.sub_type ?? 0) === f.event_type.sub_type)));
  add(ff.http_status_code, 'http_status_code', (v) => httpStatus(v.map(String)));
  add(ff.protocol, 'protocol', (v) => protocolMatcher(v.map(String)));
  add(ff.reply, 'reply', (v) => (f) => {
    // Hubble reads an unknown is_reply as false on drops only.
    const r = f.is_reply?.value ?? (f.verdict === Verdict.DROPPED ? false : undefined);
    return r !== undefined && v.some((x) => Boolean(x) === r);
  });
  add(ff.dns_query, 'dns_query', (v) => {
    const res = v.map((p) => regex(String(p), 'dns_query'));
    return (f) => { const q = f.l7?.dns?.query; return q !== undefined && res.some((r) => r.test(q)); };
  });
  add(ff.http_method, 'http_method', (v) => (f) => { const m = f.l7?.http?.method; return !!m && v.some((x) => String(x).toUpperCase() === m.toUpperCase()); });
  add(ff.http_path, 'http_path', (v) => {
    const res = v.map((p) => regex(String(p), 'http_path'));
    return (f) => {
      const u = f.l7?.http?.url;
      if (!u) return false;
      let path: string;
      try { path = new URL(u).pathname; } catch { return false; }
      return res.some((r) => r.test(path));
    };
  });
  add(ff.http_url, 'http_url', (v) => {
    const res = v.map((p) => regex(String(p), 'http_url'));
    return (f) => { const u = f.l7?.http?.url; return !!u && res.some((r) => r.test(u)); };
  });
  add(ff.http_header, 'http_header', (v) => (f) =>
    (f.l7?.http?.headers ?? []).some((h) => v.some((x) => x?.key === h.key && x?.value === h.value)));
  add(ff.tcp_flags, 'tcp_flags', (v) => (f) => {
    const fl = f.l4?.TCP?.flags;
    return !!fl && v.some((want) => TCP_FLAG_KEYS.every((k) => !want?.[k] || fl[k] === true));
  });
  add(ff.node_name, 'node_name', (v) => { const m = nodeNameMatcher(v.map(String)); return (f) => m(f.node_name); });
  add(ff.node_labels, 'node_labels', (v) => {
    const sels = v.map((s) => parseLabelSelector(String(s)));
    return (f) => { const l = f.node_labels ?? []; return sels.some((m) => m(l)); };
  });
  add(ff.trace_id, 'trace_id', () => () => false); // no trace context in dplab's flows
  add(ff.ip_trace_id, 'ip_trace_id', () => () => false); // no IP trace ids either
  add(ff.encrypted, 'encrypted', (v) => (f) => v.some((x) => Boolean(x) === (f.IP?.encrypted ?? false)));
  if (list(ff.experimental?.cel_expression, 'experimental.cel_expression').length) {
    throw invalid('CEL expression filters (experimental.cel_expression) are not supported by this server');
  }
  return ps.length === 0 ? () => true : ps.length === 1 ? ps[0]! : (f) => { for (const p of ps) if (!p(f)) return false; return true; };
}

/** whitelist/blacklist -> one predicate: kept when any whitelist filter matches (or none is given) and no blacklist one does. */
export function compileFilters(whitelist: FlowFilterObject[] | undefined, blacklist: FlowFilterObject[] | undefined): FlowPredicate {
  const w = list(whitelist, 'whitelist'), b = list(blacklist, 'blacklist');
  if (w.length > MAX_FILTERS || b.length > MAX_FILTERS) throw invalid(`more than ${MAX_FILTERS} filters in a list`);
  const ws = w.map(compileFilter), bs = b.map(compileFilter);
  return (f) => {
    if (ws.length && !ws.some((p) => p(f))) return false;
    return !bs.some((p) => p(f));
  };
}
