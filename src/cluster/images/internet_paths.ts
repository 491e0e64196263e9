// Which addresses the emulated internet answers for, and how far away they
// are. Upstream routers drop bogons (RFC 1918, CGNAT, link-local, loopback,
// documentation and reserved blocks) and nothing on the internet owns a
// cluster's pod or service addresses, so the internet never answers for them:
// a ping to a ClusterIP that leaves by the default route is lost, as on a
// real Cilium 1.16 node. Public addresses answer after a path delay: the
// seed lab's measured ones (8.8.8.8 ~33 ms, wttr.in ~293 ms from Seoul),
// else a stable per-address 25-55 ms.

import type { Jitter, Wan } from '../../kernel/underlay.ts';
import { inPrefix, ipToU32, parseCidr } from '../../wire/addr.ts';

export interface Cidr { ip: number; prefixLen: number }

/** IANA special-purpose blocks (RFC 6890) that are not globally reachable, plus multicast and 240/4: the bogons routers filter. */
export const NON_PUBLIC: readonly Cidr[] = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24',
  '192.0.2.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4',
].map(parseCidr);

/** True when the internet may own `ip`: not a bogon and not in one of the cluster's own ranges. */
export function isPublicAddress(ip: number, cluster: readonly Cidr[] = []): boolean {
  for (const c of NON_PUBLIC) if (inPrefix(ip, c.ip, c.prefixLen)) return false;
  for (const c of cluster) if (inPrefix(ip, c.ip, c.prefixLen)) return false;
  return true;
}

/** Round trips the seed lab measured from its pods (ping 8.8.8.8; hubble's SYN -> SYN-ACK to wttr.in). */
const MEASURED_RTT_MS: Record<string, number> = { '8.8.8.8': 32.8, '5.9.243.187': 293.0 };
const MEASURED = new Map(Object.entries(MEASURED_RTT_MS).map(([ip, ms]) => [ipToU32(ip), ms * 1e6]));

/** Round trip between the gateway and a public address: measured, else 25-55 ms from a hash of the address (the same in every run). */
export function pathRttNs(ip: number): number {
  const m = MEASURED.get(ip);
  if (m !== undefined) return m;
  let h = Math.imul(ip ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return 25e6 + (((h ^ (h >>> 16)) >>> 0) % 30_000) * 1000;
}

/** Wide-area jitter: about 1% of the one-way delay (0.17 ms mean towards 8.8.8.8), at most 10 times that. */
export function pathJitter(oneWayNs: number): Jitter {
  const meanNs = Math.max(20_000, Math.round(oneWayNs / 100));
  return { meanNs, maxNs: 10 * meanNs };
}

/** The internet as a WAN behind the gateway port: public addresses, one way, half their round trip. */
export function internetWan(cluster: readonly Cidr[]): Wan {
  return {
    oneWayNs: (ip) => (isPublicAddress(ip, cluster) ? Math.round(pathRttNs(ip) / 2) : 0),
    jitter: pathJitter,
  };
}

/** The cluster's own ranges as the cluster hands them to the internet container ("a.b.c.d/n,..." in DPLAB_CLUSTER_CIDRS). */
export function clusterCidrs(env: Record<string, string>): Cidr[] {
  return (env.DPLAB_CLUSTER_CIDRS ?? '').split(',').filter(Boolean).map((s) => parseCidr(s.trim()));
}
