// `hubble status` and `hubble list nodes` output (cmd/status, cmd/list/node.go
// and pkg/printer WriteServerStatusResponse of the 0.11.6 CLI).

import { root, ServerStatusResponse, type NodeObject, type ServerStatusResponseObject } from '../proto.ts';
import { goEnumString } from './names.ts';
import { encodeMessage, indentJson } from './protojson.ts';
import { tabwrite } from './tabwriter.ts';
import { goDuration } from './time.ts';
import { toBigInt, toNum, type Int64Like } from './values.ts';

type Loose<T> = { [K in keyof T]?: T[K] | Int64Like | string | null };

/** 1234567 -> "1,234,567" (uint64Grouping). */
export function grouped(n: bigint): string {
  return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const Node = root.lookupType('observer.Node');

/**
 * Go's %.2f. JS toFixed rounds an exact tie up where Go rounds it to even; at
 * two decimals a double is an exact tie only when it is an odd number of eighths.
 */
export function f2(x: number): string {
  if (Number.isInteger(x * 8) && !Number.isInteger(x * 4)) {
    const down = Math.floor(x * 100) / 100, cents = Math.floor(x * 100);
    return (cents % 2 === 0 ? down : (cents + 1) / 100).toFixed(2);
  }
  return x.toFixed(2);
}

/** The health line: `Healthcheck (via TARGET): Ok` or `... Unavailable: STATUS`. */
export function healthLine(target: string, status: string): string {
  return `Healthcheck (via ${target}): ${status === 'SERVING' ? 'Ok' : `Unavailable: ${status}`}\n`;
}

export type StatusOutput = 'compact' | 'dict' | 'jsonpb' | 'table';

/** WriteServerStatusResponse. */
export function serverStatusText(s: Loose<ServerStatusResponseObject>, output: StatusOutput): string {
  const num = toBigInt(s.num_flows as Int64Like), max = toBigInt(s.max_flows as Int64Like), seen = toBigInt(s.seen_flows as Int64Like);
  const uptime = toBigInt(s.uptime_ns as Int64Like);
  const conn = s.num_connected_nodes as { value?: number } | undefined | null;
  const unav = s.num_unavailable_nodes as { value?: number } | undefined | null;
  const connText = conn ? String(conn.value ?? 0) : 'N/A', unavText = unav ? String(unav.value ?? 0) : 'N/A';
  switch (output) {
    case 'jsonpb': return `${encodeMessage(ServerStatusResponse, s as Record<string, unknown>)}\n`;
    case 'table':
      return tabwrite([['NUM FLOWS', 'MAX FLOWS', 'SEEN FLOWS', 'UPTIME', 'NUM CONNECTED NODES', 'NUM UNAVAILABLE NODES', 'VERSION'],
        [grouped(num), grouped(max), grouped(seen), goDuration(uptime), connText, unavText, String(s.version ?? '')]]);
    case 'dict':
      return `          NUM FLOWS: ${grouped(num)}\n          MAX FLOWS: ${grouped(max)}\n         SEEN FLOWS: ${grouped(seen)}\n`
        + `             UPTIME: ${goDuration(uptime)}\nNUM CONNECTED NODES: ${connText}\n NUM UNAVAIL. NODES: ${unavText}\n`
        + `            VERSION: ${String(s.version ?? '')}\n`;
    case 'compact': {
      let out = `Current/Max Flows: ${grouped(num)}/${grouped(max)}${max > 0n ? ` (${f2((Number(num) / Number(max)) * 100)}%)` : ''}\n`;
      out += `Flows/s: ${uptime > 0n ? f2(Number(seen) / (Number(uptime) / 1e9)) : 'N/A'}\n`;
      if (conn) out += `Connected Nodes: ${conn.value ?? 0}${unav ? `/${(unav.value ?? 0) + (conn.value ?? 0)}` : ''}\n`;
      const u = unav?.value ?? 0;
      if (unav && u > 0) {
        const list = [...((s.unavailable_nodes as string[] | undefined) ?? [])].sort();
        if (list.length > 0) {
          if (u > list.length) list.push(`and ${u - list.length} more...`);
          out += `Unavailable Nodes: ${u}\n  - ${list.join('\n  - ')}\n`;
        } else out += `Unavailable Nodes: ${u}\n`;
      }
      return out;
    }
  }
}

export type NodesOutput = 'table' | 'wide' | 'json';

const STATES: Readonly<Record<string, string>> = { NODE_CONNECTED: 'Connected', NODE_UNAVAILABLE: 'Unavailable', NODE_GONE: 'Gone', NODE_ERROR: 'Error' };

/** `hubble list nodes`: nodes sorted by name, as a table (wide adds version, address, TLS) or indented JSON. */
export function nodesText(nodes: readonly Loose<NodeObject>[], output: NodesOutput): string {
  const sorted = [...nodes].sort((a, b) => (String(a.name ?? '') < String(b.name ?? '') ? -1 : String(a.name ?? '') > String(b.name ?? '') ? 1 : 0));
  if (output === 'json') {
    if (sorted.length === 0) return 'null\n';
    return `${indentJson(`[${sorted.map((n) => encodeMessage(Node, n as Record<string, unknown>)).join(',')}]`)}\n`;
  }
  const header = ['NAME', 'STATUS', 'AGE', 'FLOWS/S', 'CURRENT/MAX-FLOWS', ...(output === 'wide' ? ['VERSION', 'ADDRESS', 'TLS'] : [])];
  const rows = sorted.map((n) => {
    // time.Duration.Round(time.Second): halves round away from zero.
    const secs = (toBigInt(n.uptime_ns as Int64Like) + 500_000_000n) / 1_000_000_000n;
    const age = secs > 0n ? goDuration(secs * 1_000_000_000n) : 'N/A';
    const rate = secs > 0n ? f2(toNum(n.seen_flows as Int64Like) / Number(secs)) : 'N/A';
    const num = toBigInt(n.num_flows as Int64Like), max = toBigInt(n.max_flows as Int64Like);
    const ratio = max > 0n ? `${num}/${max} (${f2((Number(num) / Number(max)) * 100).padStart(6)}%)` : 'N/A';
    const row = [String(n.name ?? ''), STATES[goEnumString('relay.NodeState', n.state ?? 0)] ?? 'Unknown', age, rate, ratio];
    if (output === 'wide') {
      const tls = n.tls as { enabled?: boolean } | undefined | null;
      row.push(n.version ? String(n.version) : 'N/A', String(n.address ?? ''), tls ? (tls.enabled ? 'Enabled' : 'Disabled') : 'N/A');
    }
    return row;
  });
  return tabwrite([header, ...rows]);
}
