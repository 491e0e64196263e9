// Proxy ARP (net.ipv4.conf.DEV.proxy_arp=1), as Calico sets it on every
// cali* interface: the pod's default gateway 169.254.1.1 exists nowhere, and
// the host answers the pod's ARP for it with the cali interface's own MAC
// (ee:ee:ee:ee:ee:ee), so the pod sends everything to the host.

import type { Device } from './device.ts';
import type { NetnsImpl } from './netns.ts';

/**
 * arp_process's proxy branch: forwarding on, proxy_arp on the receiving
 * device, and a unicast route to the target through another device
 * (arp_fwd_proxy). True when the host should answer for `tip`.
 */
export function proxyArpAnswers(ns: NetnsImpl, dev: Device, sip: number, tip: number): boolean {
  if (dev.proxyArp !== true || !ns.ipForward || sip === 0) return false;
  const r = ns.lookupRoute(tip);
  return r !== undefined && r.type !== 'blackhole' && r.ifindex !== dev.ifindex && ns.byIndex.has(r.ifindex);
}
