// Prometheus metrics as a Cilium node exposes them: Hubble's flow metrics
// (pkg/hubble/metrics: flow, drop, tcp, icmp and port-distribution handlers,
// and the lost-events counter)
// counted from every flow an observer records, and the agent's datapath
// counters (cilium_drop_* / cilium_forward_*) read from cilium_metrics at
// scrape time. Text format by prom-client; label names sorted, as Go's client
// prints them. Per-flow work is one map update per metric; prom-client only
// runs at scrape.

import { Counter, Registry } from 'prom-client';
import type { NodeAgent } from '../cilium/agent.ts';
import { dropReasonText } from '../../maps/monitor_api.ts';
import { METRICS_KEY_OFF_DIR, METRICS_KEY_OFF_REASON, METRICS_VALUE } from '../../maps/cilium_metrics.ts';
import type { NodeObserver } from './observer.ts';
import { icmpv4TypeCode } from './parser/icmp.ts';
import { enumName, type FlowObject } from './proto.ts';

type Labels = Record<string, string>;

/** Counts by label set, keyed by the values joined. */
class Tally {
  private readonly m = new Map<string, { labels: Labels; value: number }>();
  add(labels: Labels, n = 1): void {
    const k = Object.values(labels).join('\u0000');
    const e = this.m.get(k);
    if (e) e.value += n; else this.m.set(k, { labels, value: n });
  }
  entries(): Iterable<{ labels: Labels; value: number }> { return this.m.values(); }
}

const MSG_DROP = 1, MSG_TRACE = 4, MSG_POLICY_VERDICT = 5, MSG_CAPTURE = 3, MSG_L7 = 129;
const TRACE_POINTS = ['to-endpoint', 'to-proxy', 'to-host', 'to-stack', 'to-overlay', 'from-endpoint', 'from-proxy', 'from-host', 'from-stack',
  'from-overlay', 'from-network', 'to-network', 'from-crypto', 'to-crypto'];

/** v1.FlowProtocol: the L7 protocol of an access-log flow, else the L4 one. */
export function flowProtocol(f: FlowObject): string {
  const t = f.event_type.type;
  if (t === MSG_L7) return f.l7?.dns ? 'DNS' : f.l7?.http ? 'HTTP' : 'Unknown L7';
  if (t === MSG_DROP || t === MSG_TRACE || t === MSG_POLICY_VERDICT || t === MSG_CAPTURE) {
    const l4 = f.l4;
    return l4?.TCP ? 'TCP' : l4?.UDP ? 'UDP' : l4?.ICMPv4 ? 'ICMPv4' : l4?.ICMPv6 ? 'ICMPv6' : l4?.SCTP ? 'SCTP' : 'Unknown L4';
  }
  return 'Unknown flow';
}

/** The flow handler's type and subtype labels. */
function typeLabels(f: FlowObject): [string, string] {
  switch (f.event_type.type) {
    case MSG_L7: return ['L7', f.l7?.dns ? 'DNS' : f.l7?.http ? 'HTTP' : ''];
    case MSG_DROP: return ['Drop', ''];
    case MSG_CAPTURE: return ['Capture', ''];
    case MSG_TRACE: return ['Trace', TRACE_POINTS[f.event_type.sub_type] ?? ''];
    case MSG_POLICY_VERDICT: return ['PolicyVerdict', ''];
    default: return ['Unknown', String(f.event_type.type)];
  }
}

/** Hubble's counts for one scope (a node, or the whole cluster). */
export class FlowTallies {
  readonly flows = new Tally();
  readonly drops = new Tally();
  readonly tcpFlags = new Tally();
  readonly icmp = new Tally();
  readonly ports = new Tally();

  count(f: FlowObject): void {
    const protocol = flowProtocol(f), [type, subtype] = typeLabels(f);
    this.flows.add({ protocol, subtype, type, verdict: enumName('flow.Verdict', f.verdict) ?? String(f.verdict) });
    if (f.verdict === 2) this.drops.add({ protocol, reason: enumName('flow.DropReason', f.drop_reason_desc ?? 0) ?? String(f.drop_reason_desc) });
    const l4 = f.l4;
    if (l4?.ICMPv4) this.icmp.add({ family: 'IPv4', type: icmpv4TypeCode(l4.ICMPv4.type, l4.ICMPv4.code) });
    // port-distribution: forwarded (or redirected) packets known not to be replies, by destination port.
    if ((f.verdict === 1 || f.verdict === 5) && l4 && f.is_reply?.value === false) {
      const p = l4.TCP ? ['TCP', l4.TCP.destination_port] : l4.UDP ? ['UDP', l4.UDP.destination_port] : l4.SCTP ? ['SCTP', l4.SCTP.destination_port]
        : l4.ICMPv4 ? ['ICMPv4', 0] : l4.ICMPv6 ? ['ICMPv6', 0] : undefined;
      if (p) this.ports.add({ port: String(p[1]), protocol: String(p[0]) });
    }
    const fl = f.verdict === 1 && f.IP ? l4?.TCP?.flags : undefined;
    if (fl) {
      const family = enumName('flow.IPVersion', f.IP?.ipVersion ?? 0) ?? '';
      if (fl.FIN) this.tcpFlags.add({ family, flag: 'FIN' });
      if (fl.SYN) this.tcpFlags.add({ family, flag: fl.ACK ? 'SYN-ACK' : 'SYN' });
      if (fl.RST) this.tcpFlags.add({ family, flag: 'RST' });
    }
  }
}

/** The agent's forward/drop counters: cilium_metrics summed over CPUs, by reason and direction. */
function agentCounters(agents: NodeAgent[]): { drops: Tally; dropBytes: Tally; fwd: Tally; fwdBytes: Tally } {
  const out = { drops: new Tally(), dropBytes: new Tally(), fwd: new Tally(), fwdBytes: new Tally() };
  const dirs = ['UNKNOWN', 'INGRESS', 'EGRESS', 'SERVICE'];
  const n = METRICS_VALUE.size, oc = METRICS_VALUE.off.count, ob = METRICS_VALUE.off.bytes;
  for (const a of agents) {
    for (const [k, v] of a.maps.metrics.entries()) {
      const d = new DataView(v.buffer, v.byteOffset, v.byteLength);
      let count = 0, bytes = 0;
      for (let o = 0; o + n <= v.length; o += n) { count += Number(d.getBigUint64(o + oc, true)); bytes += Number(d.getBigUint64(o + ob, true)); }
      const reason = k[METRICS_KEY_OFF_REASON]!, direction = dirs[k[METRICS_KEY_OFF_DIR]! & 3]!;
      if (reason === 0) { out.fwd.add({ direction }, count); out.fwdBytes.add({ direction }, bytes); }
      else { out.drops.add({ direction, reason: dropReasonText(reason) }, count); out.dropBytes.add({ direction, reason: dropReasonText(reason) }, bytes); }
    }
  }
  return out;
}

/** One counter whose values come from a tally at scrape. */
function counter(reg: Registry, name: string, help: string, labelNames: string[], read: () => Iterable<{ labels: Labels; value: number }>): void {
  new Counter({
    name, help, labelNames, registers: [reg],
    collect() { this.reset(); for (const e of read()) this.inc(e.labels, e.value); },
  });
}

export interface MetricsText { contentType: string; text: string }

/**
 * Metrics of a set of nodes: one node as its agent pod serves them
 * (`:9962` / `:9965` on a real node), or the whole cluster summed.
 */
export async function metricsText(tallies: FlowTallies, observers: NodeObserver[], agents: NodeAgent[]): Promise<MetricsText> {
  const reg = new Registry();
  const agent = agentCounters(agents);
  counter(reg, 'cilium_drop_count_total', 'Total dropped packets, tagged by drop reason and ingress/egress direction', ['direction', 'reason'], () => agent.drops.entries());
  counter(reg, 'cilium_drop_bytes_total', 'Total dropped bytes, tagged by drop reason and ingress/egress direction', ['direction', 'reason'], () => agent.dropBytes.entries());
  counter(reg, 'cilium_forward_count_total', 'Total forwarded packets, tagged by ingress/egress direction', ['direction'], () => agent.fwd.entries());
  counter(reg, 'cilium_forward_bytes_total', 'Total forwarded bytes, tagged by ingress/egress direction', ['direction'], () => agent.fwdBytes.entries());
  counter(reg, 'hubble_flows_processed_total', 'Total number of flows processed', ['protocol', 'subtype', 'type', 'verdict'], () => tallies.flows.entries());
  counter(reg, 'hubble_drop_total', 'Number of drops', ['protocol', 'reason'], () => tallies.drops.entries());
  counter(reg, 'hubble_tcp_flags_total', 'TCP flag occurrences', ['family', 'flag'], () => tallies.tcpFlags.entries());
  counter(reg, 'hubble_icmp_total', 'Number of ICMP messages', ['family', 'type'], () => tallies.icmp.entries());
  counter(reg, 'hubble_port_distribution_total', 'Numbers of packets distributed by destination port', ['port', 'protocol'], () => tallies.ports.entries());
  counter(reg, 'hubble_lost_events_total', 'Number of lost events', ['source'], () => {
    let perf = 0, ring = 0;
    for (const o of observers) { perf += o.perfLost; ring += o.lostToReaders; }
    return [{ labels: { source: 'perf_event_ring_buffer' }, value: perf }, { labels: { source: 'hubble_ring_buffer' }, value: ring }];
  });
  return { contentType: reg.contentType, text: await reg.metrics() };
}
