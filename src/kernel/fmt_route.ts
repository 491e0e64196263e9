// Routing table output: iproute2's `ip route` and net-tools' `route -n`.

import { ipToU32, isIpv4, prefixMask, u32ToIp } from '../wire/addr.ts';
import type { Route } from './api.ts';
import { pathMtu, pmtuOf } from './ip.ts';
import type { NetnsImpl } from './netns.ts';

/** FIB trie order: by destination, then shorter prefix first. */
function ordered(ns: NetnsImpl): Route[] {
  return [...ns.routes].sort((a, b) => a.dst - b.dst || a.prefixLen - b.prefixLen || a.metric - b.metric);
}

function devName(ns: NetnsImpl, ifindex: number): string { return ns.byIndex.get(ifindex)?.name ?? `if${ifindex}`; }

/** One `ip route` line: dst [via gw] dev D [proto P] [scope S] [src A] [metric M] [onlink] [mtu N]. */
export function formatRouteLine(ns: NetnsImpl, r: Route): string {
  let s = r.prefixLen === 0 ? 'default' : r.prefixLen === 32 ? u32ToIp(r.dst) : `${u32ToIp(r.dst)}/${r.prefixLen}`;
  if (r.type === 'blackhole') s = `blackhole ${s}`;
  if (r.gateway) s += ` via ${u32ToIp(r.gateway)}`;
  if (r.type !== 'blackhole') s += ` dev ${devName(ns, r.ifindex)}`;
  if (r.proto && r.proto !== 'boot') s += ` proto ${r.proto}`;
  if (r.scope !== 'global') s += ` scope ${r.scope}`;
  if (r.src) s += ` src ${u32ToIp(r.src)}`;
  if (r.metric) s += ` metric ${r.metric}`;
  if (r.onlink) s += ' onlink';
  if (r.mtu) s += ` mtu ${r.mtu}`;
  return s;
}

export function formatIpRoute(ns: NetnsImpl): string {
  const rs = ordered(ns);
  return rs.length ? rs.map((r) => formatRouteLine(ns, r)).join('\n') + '\n' : '';
}

const pad = (s: string, n: number): string => s.padEnd(n);

/** net-tools `route -n` (printf "%-15s %-15s %-15s %-5s %-6d %-3d %6d %s"). */
export function formatRouteN(ns: NetnsImpl): string {
  const lines = ['Kernel IP routing table', 'Destination     Gateway         Genmask         Flags Metric Ref    Use Iface'];
  for (const r of ordered(ns)) {
    const fl = 'U' + (r.gateway ? 'G' : '') + (r.prefixLen === 32 ? 'H' : '');
    lines.push(`${pad(u32ToIp(r.dst), 15)} ${pad(u32ToIp(r.gateway), 15)} ${pad(u32ToIp(prefixMask(r.prefixLen)), 15)} ${pad(fl, 5)} ${pad(String(r.metric), 6)} ${pad('0', 3)} ${'0'.padStart(6)} ${r.type === 'blackhole' ? '*' : devName(ns, r.ifindex)}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * `ip route get [to] ADDRESS`: the route the kernel picks, printed as
 * iproute2's print_route prints a cloned route: `uid 0` (a pod's shell is
 * root), then the cache line with a learnt PMTU's remaining life and the
 * route's metrics (`mtu`). Other selectors (from, iif, oif, mark) are not
 * emulated: they are refused rather than ignored.
 */
export function ipRouteGet(ns: NetnsImpl, args: string[]): { stdout: string; stderr: string; exitCode: number } {
  const fail = (msg: string, exitCode: number) => ({ stdout: '', stderr: `${msg}\n`, exitCode });
  const words = args[0] === 'to' ? args.slice(1) : args;
  if (words.length === 0) return fail('need at least a destination address', 1);
  if (words.length > 1) return fail(`dplab: ip route get takes one destination address here, not "${words.slice(1).join(' ')}"`, 1);
  const arg = words[0]!.replace(/\/32$/, '');
  if (!isIpv4(arg)) return fail(`Error: any valid prefix is expected rather than "${words[0]}".`, 1);
  const dst = ipToU32(arg);
  if (ns.isLocal(dst)) return { stdout: `local ${arg} dev lo src ${arg} uid 0 \n    cache <local> \n`, stderr: '', exitCode: 0 };
  const r = ns.lookupRoute(dst);
  const dev = r ? ns.byIndex.get(r.ifindex) : undefined;
  if (!r || !dev) return fail('RTNETLINK answers: Network is unreachable', 2);
  let s = `${arg} `;
  if (r.gateway) s += `via ${u32ToIp(r.gateway)} `;
  s += `dev ${dev.name} src ${u32ToIp(ns.selectSource(dev, r))} uid 0 \n    cache `;
  // A PMTU learnt from "fragmentation needed" (a nexthop exception) replaces the mtu metric while it lives.
  const mtu = pathMtu(ns, dst, r, dev);
  if (mtu < (r.mtu ?? dev.mtu)) s += `expires ${pmtuOf(ns).expiresInS(dst, ns.node.sim.now())}sec mtu ${mtu} `;
  else if (r.mtu) s += `mtu ${r.mtu} `;
  return { stdout: `${s}\n`, stderr: '', exitCode: 0 };
}
