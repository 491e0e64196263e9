// cilium-cni's part of CNI ADD/DEL (plugins/cilium-cni, pkg/datapath/connector
// veth): the pod netns, the lxc veth pair with eth0 inside, the pod address and
// its two routes. The agent then turns the link into an endpoint (programs,
// maps); the health endpoint is plumbed the same way by the agent itself.

import type { KernelNode, NetDevice, Netns } from '../kernel/api.ts';
import type { Rng } from '../sim/sim.ts';

/** Deterministic locally administered MAC. */
export function randomMac(rng: Rng): Uint8Array {
  const m = new Uint8Array(6);
  for (let i = 0; i < 6; i++) m[i] = rng.below(256);
  m[0] = (m[0]! & 0xfe) | 0x02;
  return m;
}

/** A plumbed pod: its netns and both veth ends. `nodeMac` is the host end's (the pod's next hop). */
export interface PodLink { netns: Netns; hostDev: NetDevice; podDev: NetDevice; mac: Uint8Array; nodeMac: Uint8Array }

export interface PodLinkSpec {
  netnsName: string;
  /** lxc<12 hex> for pods, lxc_health for the health endpoint. */
  hostIfName: string;
  ip: number;
  /** cilium_host's address: the pod's only gateway. */
  routerIp: number;
  mtu: number;
}

/**
 * Create the netns and veth pair, then configure eth0 as cilium-cni does:
 * `ip addr add IP/32`, `ip route add ROUTER dev eth0 scope link`,
 * `ip route add default via ROUTER mtu MTU`.
 */
export function connectPod(kernel: KernelNode, rng: Rng, s: PodLinkSpec): PodLink {
  const netns = kernel.createNetns(s.netnsName);
  const nodeMac = randomMac(rng), mac = randomMac(rng);
  const [hostDev, podDev] = kernel.createVeth(s.hostIfName, netns, 'eth0', { mtu: s.mtu, hostMac: nodeMac, peerMac: mac });
  netns.addAddress(podDev, s.ip, 32);
  netns.addRoute({ dst: s.routerIp, prefixLen: 32, gateway: 0, ifindex: podDev.ifindex, scope: 'link' });
  netns.addRoute({ dst: 0, prefixLen: 0, gateway: s.routerIp, ifindex: podDev.ifindex, mtu: s.mtu });
  return { netns, hostDev, podDev, mac, nodeMac };
}

/** CNI DEL: removing the netns takes the veth pair with it. */
export function disconnectPod(kernel: KernelNode, netns: Netns): void {
  kernel.deleteNetns(netns.name);
}
