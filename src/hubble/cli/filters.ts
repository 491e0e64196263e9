// Filter flags -> whitelist / blacklist FlowFilters, built as the hubble CLI
// builds them (cmd/observe/flows_filter.go, 0.11.6): a "left" filter for the
// source side and a "right" one for the destination side; bidirectional flags
// (--pod, --ip, --port, ...) write one side each, the others both; the two
// become one filter when they are equal. --not sends the next flag to the
// blacklist.

import type { EventTypeFilterObject, FlowFilterObject, TCPFlagsObject } from '../proto.ts';
import { Verdict } from '../proto.ts';
import { RESERVED_IDENTITIES, reservedIdentity } from '../printer/names.ts';

/** A bad filter value: the text hubble puts after `invalid argument "V" for "--flag" flag: `. */
export class FilterError extends Error {}

type Side = (f: FlowFilterObject) => void;
type ListKey = { [K in keyof FlowFilterObject]-?: NonNullable<FlowFilterObject[K]> extends unknown[] ? K : never }[keyof FlowFilterObject];

function push<K extends ListKey>(key: K, value: NonNullable<FlowFilterObject[K]>[number]): Side {
  return (f) => { ((f[key] ??= [] as never) as unknown[]).push(value); };
}

/** flows_filter.go's conflict groups: two flags of one group cannot be given together (in one list). */
const CONFLICTS: readonly (readonly string[])[] = [
  ['from-fqdn', 'from-ip', 'from-namespace', 'from-pod', 'fqdn', 'ip', 'namespace', 'pod'],
  ['to-fqdn', 'to-ip', 'to-namespace', 'to-pod', 'fqdn', 'ip', 'namespace', 'pod'],
  ['label', 'from-label'], ['label', 'to-label'], ['service', 'from-service'], ['service', 'to-service'],
  ['verdict'], ['type'], ['http-status'], ['http-method'], ['http-path'], ['protocol'],
  ['port', 'to-port'], ['port', 'from-port'], ['identity', 'to-identity'], ['identity', 'from-identity'],
  ['workload', 'to-workload'], ['workload', 'from-workload'], ['node-name'], ['tcp-flags'],
];

/** Deep equality of two filters (proto.Equal on plain objects built the same way). */
function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** One list (whitelist or blacklist) being built. */
class FilterTracker {
  left: FlowFilterObject | undefined;
  right: FlowFilterObject | undefined;
  readonly changed: string[] = [];

  /** Records a flag's first use; true when it is the first. */
  add(name: string): boolean {
    if (this.changed.includes(name)) return false;
    this.changed.push(name);
    return true;
  }

  applyLeft(fn: Side): void { fn(this.left ??= {}); }
  applyRight(fn: Side): void { fn(this.right ??= {}); }
  apply(fn: Side): void { this.applyLeft(fn); this.applyRight(fn); }
  both(left: Side, right: Side): void { this.applyLeft(left); this.applyRight(right); }

  filters(): FlowFilterObject[] {
    if (!this.left && !this.right) return [];
    if (equal(this.left, this.right)) return [this.left!];
    return [this.left, this.right].filter((f): f is FlowFilterObject => f !== undefined);
  }

  conflict(): string | undefined {
    for (const group of CONFLICTS) {
      for (const flag of group) {
        if (!this.changed.includes(flag)) continue;
        const other = group.find((c) => c !== flag && this.changed.includes(c));
        if (other) return `filters --${flag} and --${other} cannot be combined`;
      }
    }
    return undefined;
  }
}

const TCP_FLAGS = ['SYN', 'FIN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'] as const;

function parseTcpFlags(val: string): TCPFlagsObject {
  const flags: TCPFlagsObject = {};
  for (const f of val.split(',')) {
    const up = f.toUpperCase() as (typeof TCP_FLAGS)[number];
    if (!TCP_FLAGS.includes(up)) throw new FilterError(`unknown tcp flag: ${f}`);
    flags[up] = true;
  }
  return flags;
}

function ipVersion(v: string): number {
  switch (v.toLowerCase()) {
    case '4': case 'v4': case 'ipv4': case 'ip4': return 1;
    case '6': case 'v6': case 'ipv6': case 'ip6': return 2;
    default: return 0;
  }
}

/** Go's strconv.ParseUint(s, 0, bits) error text, or the value. */
export function parseUintGo(s: string, bits: 32 | 64): bigint {
  const fail = (why: string): never => { throw new FilterError(`strconv.ParseUint: parsing ${JSON.stringify(s)}: ${why}`); };
  const body = s.replace(/_/g, '');
  const m = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$/.exec(body);
  if (!m || (s.includes('_') && !/^(0[xXbBoO]_?)?[0-9a-fA-F]+(_[0-9a-fA-F]+)*$/.test(s))) fail('invalid syntax');
  const text = /^0[0-7]+$/.test(body) ? `0o${body.slice(1)}` : body;
  const v = BigInt(text);
  if (v >= 1n << BigInt(bits)) fail('value out of range');
  return v;
}

/** pkg/monitor/api MessageTypeNames (what --type takes by name). */
const MESSAGE_TYPES: Readonly<Record<string, number>> = {
  drop: 1, debug: 2, capture: 3, trace: 4, 'policy-verdict': 5, recorder: 6, 'trace-sock': 7, l7: 129, agent: 130,
};
const TRACE_POINT_NAMES = ['to-endpoint', 'to-proxy', 'to-host', 'to-stack', 'to-overlay', 'from-endpoint', 'from-proxy',
  'from-host', 'from-stack', 'from-overlay', 'from-network', 'to-network'];
const AGENT_SUBTYPES: Readonly<Record<string, number>> = {
  unspecified: 0, message: 1, 'agent-started': 2, 'policy-updated': 3, 'policy-deleted': 4, 'endpoint-regenerate-success': 5,
  'endpoint-regenerate-failure': 6, 'endpoint-created': 7, 'endpoint-deleted': 8, 'ipcache-upserted': 9, 'ipcache-deleted': 10,
  'service-upserted': 11, 'service-deleted': 12,
};

function parseType(val: string): EventTypeFilterObject {
  const [name, sub] = [val.slice(0, val.includes(':') ? val.indexOf(':') : val.length), val.includes(':') ? val.slice(val.indexOf(':') + 1) : undefined];
  const tf: EventTypeFilterObject = {};
  let t = MESSAGE_TYPES[name];
  if (t === undefined) {
    try { t = Number(parseUintGo(name, 32)); } catch (e) {
      throw new FilterError(`unable to parse type '${name}', not a known type name and unable to parse as numeric value: ${(e as Error).message}`);
    }
  }
  tf.type = t;
  if (sub !== undefined) {
    const known = t === 4 ? TRACE_POINT_NAMES.indexOf(sub) : t === 130 ? (AGENT_SUBTYPES[sub] ?? -1) : -1;
    if (known >= 0) { tf.match_sub_type = true; tf.sub_type = known; } else {
      try { tf.sub_type = Number(parseUintGo(sub, 32)) | 0; } catch (e) {
        throw new FilterError(`unable to parse event sub-type '${sub}', not a known sub-type name and unable to parse as numeric value: ${(e as Error).message}`);
      }
      tf.match_sub_type = true;
    }
  }
  return tf;
}

function parseIdentity(val: string): number {
  const r = reservedIdentity(val);
  if (r !== undefined) return r;
  try { return Number(parseUintGo(val, 32)); } catch {
    throw new FilterError(`invalid security identity, expected one of [${RESERVED_IDENTITIES.slice(1).join(' ')}] or a numeric value`);
  }
}

/** workload.go parseWorkload: "kind/name" or "name". */
function parseWorkload(val: string): { name: string; kind: string } {
  const i = val.indexOf('/');
  return i < 0 ? { name: val, kind: '' } : { kind: val.slice(0, i), name: val.slice(i + 1) };
}

/** The filter flags hubble observe takes (long names), in its help order. */
export const FILTER_FLAGS = [
  'not', 'node-name', 'protocol', 'tcp-flags', 'type', 'verdict', 'http-status', 'http-method', 'http-path', 'trace-id',
  'from-fqdn', 'fqdn', 'to-fqdn', 'from-ip', 'ip', 'to-ip', 'ipv4', 'ipv6', 'ip-version', 'from-pod', 'pod', 'to-pod',
  'from-namespace', 'namespace', 'to-namespace', 'from-label', 'label', 'to-label', 'from-service', 'service', 'to-service',
  'from-port', 'port', 'to-port', 'from-workload', 'workload', 'to-workload', 'from-identity', 'identity', 'to-identity',
] as const;

/** Builds the whitelist and blacklist from filter flags given in command-line order. */
export class FlowFilterBuilder {
  private white: FilterTracker | undefined;
  private black: FilterTracker | undefined;
  private blacklisting = false;

  /** One filter flag (long name, no dashes) with its value; throws FilterError with hubble's text. */
  set(name: string, val: string): void {
    if (name === 'not') {
      if (this.blacklisting) throw new FilterError('consecutive --not statements');
      this.blacklisting = true;
      return;
    }
    let t: FilterTracker;
    if (this.blacklisting) { this.blacklisting = false; t = this.black ??= new FilterTracker(); } else t = this.white ??= new FilterTracker();
    const wipe = t.add(name);
    const c = t.conflict();
    if (c) throw new FilterError(c);
    apply(t, name, val, wipe);
  }

  /** A --not with no flag after it. */
  get trailingNot(): boolean { return this.blacklisting; }

  whitelist(): FlowFilterObject[] { return this.white?.filters() ?? []; }
  blacklist(): FlowFilterObject[] { return this.black?.filters() ?? []; }
}

function apply(t: FilterTracker, name: string, val: string, wipe: boolean): void {
  switch (name) {
    case 'fqdn': return t.both(push('source_fqdn', val), push('destination_fqdn', val));
    case 'from-fqdn': return t.apply(push('source_fqdn', val));
    case 'to-fqdn': return t.apply(push('destination_fqdn', val));
    case 'pod': return t.both(push('source_pod', val), push('destination_pod', val));
    case 'from-pod': return t.apply(push('source_pod', val));
    case 'to-pod': return t.apply(push('destination_pod', val));
    case 'ip': return t.both(push('source_ip', val), push('destination_ip', val));
    case 'from-ip': return t.apply(push('source_ip', val));
    case 'to-ip': return t.apply(push('destination_ip', val));
    case 'ipv4': return t.apply(push('ip_version', 1));
    case 'ipv6': return t.apply(push('ip_version', 2));
    case 'ip-version': return t.apply(push('ip_version', ipVersion(val)));
    case 'label': return t.both(push('source_label', val), push('destination_label', val));
    case 'from-label': return t.apply(push('source_label', val));
    case 'to-label': return t.apply(push('destination_label', val));
    case 'namespace': return t.both(push('source_pod', `${val}/`), push('destination_pod', `${val}/`));
    case 'from-namespace': return t.apply(push('source_pod', `${val}/`));
    case 'to-namespace': return t.apply(push('destination_pod', `${val}/`));
    case 'service': return t.both(push('source_service', val), push('destination_service', val));
    case 'from-service': return t.apply(push('source_service', val));
    case 'to-service': return t.apply(push('destination_service', val));
    case 'port': return t.both(push('source_port', val), push('destination_port', val));
    case 'from-port': return t.apply(push('source_port', val));
    case 'to-port': return t.apply(push('destination_port', val));
    case 'trace-id': return t.apply(push('trace_id', val));
    case 'verdict': {
      if (wipe) t.apply((f) => { delete f.verdict; });
      const v = Verdict[val];
      if (v === undefined) throw new FilterError(`invalid --verdict value: ${val}`);
      return t.apply(push('verdict', v));
    }
    case 'http-status': return t.apply(push('http_status_code', val));
    case 'http-method': return t.apply(push('http_method', val));
    case 'http-path': return t.apply(push('http_path', val));
    case 'type': {
      if (wipe) t.apply((f) => { delete f.event_type; });
      const tf = parseType(val);
      return t.apply(push('event_type', tf));
    }
    case 'protocol': return t.apply(push('protocol', val));
    case 'workload': { const w = parseWorkload(val); return t.both(push('source_workload', w), push('destination_workload', w)); }
    case 'from-workload': return t.applyLeft(push('source_workload', parseWorkload(val)));
    case 'to-workload': return t.applyRight(push('destination_workload', parseWorkload(val)));
    case 'identity': { const id = parseIdentity(val); return t.both(push('source_identity', id), push('destination_identity', id)); }
    case 'from-identity': return t.applyLeft(push('source_identity', parseIdentity(val)));
    case 'to-identity': return t.applyRight(push('destination_identity', parseIdentity(val)));
    case 'node-name': return t.apply(push('node_name', val));
    case 'tcp-flags': { const fl = parseTcpFlags(val); return t.apply(push('tcp_flags', fl)); }
    default: throw new FilterError(`unknown filter ${name}`);
  }
}
