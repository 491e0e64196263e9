// compare's report for a terminal: per step a side-by-side summary (answers,
// backends, client address seen, what the client's eth0 and its node's netdev
// carried), then each request, then the state each datapath kept.

import type { CompareReport, StepResult } from './run.ts';
import type { PerClass } from './work.ts';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function dist(r: StepResult): string {
  const e = Object.entries(r.distribution);
  return e.length ? e.map(([b, n]) => `${b} ${n}`).join(', ') : '-';
}

const fc = (p: PerClass | undefined): string => (p === undefined ? '-' : `${p.first} / ${p.later}`);
/** kube-proxy's per-service chains (KUBE-SVC-<hash>, KUBE-SEP-<hash>...) as one row per kind. */
const family = (chain: string): string => chain.replace(/^(KUBE-[A-Z]+)-[A-Z0-9]{16}$/, '$1-*');
const sumOf = (ps: PerClass[]): PerClass | undefined => (ps.length === 0 ? undefined
  : { first: Math.round(ps.reduce((a, p) => a + p.first, 0) * 100) / 100, later: Math.round(ps.reduce((a, p) => a + p.later, 0) * 100) / 100 });

/**
 * What each datapath did per packet during a step (all nodes; a packet crossing
 * two nodes counts on each): rows for every table/hook walked and every map
 * looked up in any variant, "first / later" packets in each cell.
 */
function workTable(results: StepResult[], labels: string[]): string {
  const rows: string[][] = [['per packet: first / later', ...labels]];
  const nf = results.map((r) => r.work.iptables), bpf = results.map((r) => r.work.cilium);
  if (nf.some((w) => w)) {
    rows.push(['packets through netfilter', ...nf.map((w) => (w ? `${w.packets.first} / ${w.packets.later}` : '-'))]);
    rows.push(['iptables rules walked', ...nf.map((w) => fc(w?.perPacket))]);
    const keys = [...new Set(nf.flatMap((w) => w?.tables.map((t) => `${t.table} ${t.hook}`) ?? []))];
    for (const k of keys) {
      const at = nf.map((w) => w?.tables.find((t) => `${t.table} ${t.hook}` === k));
      rows.push([`  ${k}`, ...at.map((t) => fc(t?.perPacket))]);
      // Its chains (not when the built-in one is all), kube-proxy's per-service chains summed per kind.
      const chains = [...new Set(at.flatMap((t) => t?.chains.map((c) => family(c.chain)) ?? []))];
      if (chains.length > 1) for (const ch of chains) rows.push([`    ${ch}`, ...at.map((t) => (t ? fc(sumOf(t.chains.filter((c) => family(c.chain) === ch).map((c) => c.perPacket))) : '-'))]);
    }
  }
  if (bpf.some((w) => w)) {
    rows.push(['packets through tc programs', ...bpf.map((w) => (w ? `${w.packets.first} / ${w.packets.later}` : '-'))]);
    rows.push(['bpf map lookups', ...bpf.map((w) => fc(w?.perPacket.lookups))]);
    const maps = [...new Set(bpf.flatMap((w) => w?.maps.filter((m) => m.lookups.first + m.lookups.later > 0).map((m) => m.map) ?? []))].sort();
    for (const m of maps) rows.push([`  ${m}`, ...bpf.map((w) => fc(w?.maps.find((x) => x.map === m)?.lookupsPerPacket))]);
    rows.push(['bpf map updates', ...bpf.map((w) => fc(w?.perPacket.updates))]);
    rows.push(['programs run at hooks', ...bpf.map((w) => fc(w?.perPacket.programs))]);
    rows.push(['tail calls', ...bpf.map((w) => fc(w?.perPacket.tailCalls))]);
  }
  return rows.length > 1 ? table(rows) : '';
}

/** The report as text tables. */
export function formatReport(rep: CompareReport): string {
  const labels = rep.variants.map((v) => v.label);
  const out: string[] = [];
  out.push(table([['datapath', ...labels],
    ['cni / service proxy', ...rep.variants.map((v) => `${v.cni} / ${v.serviceProxy}`)],
    ['routing', ...rep.variants.map((v) => v.routing)],
    ['socket LB', ...rep.variants.map((v) => (v.cni === 'cilium' && v.serviceProxy === 'cilium' ? (v.socketLB ? 'on' : 'off') : '-'))]]));
  for (const [i, s] of rep.steps.entries()) {
    const v = s.service;
    const svc = v ? `  service ${v.name} ${v.clusterIP}${v.type === 'ClusterIP' ? '' : ` (${v.type})`}, sessionAffinity ${v.sessionAffinity}${v.externalTrafficPolicy ? `, externalTrafficPolicy ${v.externalTrafficPolicy}` : ''}, backends ${v.backends.join(' ')}` : '';
    out.push(`step ${i + 1}: ${s.pod ?? s.node}$ ${s.command}  (x${s.repeat})${svc ? `\n${svc}` : ''}`);
    const f = s.results[0]!.requests[0];
    out.push(table([['', ...labels],
      ['answered', ...s.results.map((r) => `${r.answered}/${r.requests.length}`)],
      ['backends', ...s.results.map(dist)],
      ['client address seen', ...s.results.map((r) => r.clientAddrs.join(', ') || '-')],
      ...(s.pod === undefined ? [] : [
        [`${f?.clientEth0.device ?? 'client eth0'} sent to`, ...s.results.map((r) => r.clientEth0.join(', ') || '-')],
        [`${s.pod}'s host-side veth got`, ...s.results.map((r) => r.hostVeth.join(', ') || '-')]]),
      [`${f?.nodeNetdev.device ?? 'node netdev'} sent to`, ...s.results.map((r) => r.nodeNetdev.join(', ') || '-')],
      ['one backend for all', ...s.results.map((r) => (Object.keys(r.distribution).length === 0 ? '-' : Object.keys(r.distribution).length === 1 && r.answered === r.requests.length ? 'yes' : 'no'))]]));
    const work = workTable(s.results, labels);
    if (work) out.push(work);
    const rows = [['#', ...labels]];
    for (let q = 0; q < s.repeat; q++) {
      rows.push([String(q + 1), ...s.results.map((r) => {
        const x = r.requests[q]!;
        return x.backend ? `${x.backend} saw ${x.remoteAddr ?? '?'}` : `exit ${x.exitCode}`;
      })]);
    }
    out.push(table(rows));
  }
  out.push('state after the traffic (all nodes)');
  const sum = (k: 'conntrack' | 'conntrackToClusterIP' | 'ciliumCt' | 'ciliumNat') => rep.variants.map((v) => String(v.state.reduce((a, n) => a + n[k], 0)));
  out.push(table([['', ...labels], ['nf_conntrack entries', ...sum('conntrack')], ['  to a ClusterIP', ...sum('conntrackToClusterIP')],
    ['cilium CT entries', ...sum('ciliumCt')], ['cilium NAT entries', ...sum('ciliumNat')]]));
  return out.join('\n');
}
