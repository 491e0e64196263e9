// struct net_device: one interface with its tcx hooks, counters and taps.

import type { DeviceKind, IfAddr, NetDevice, TcxLink } from './api.ts';
import type { NetnsImpl } from './netns.ts';
import type { Rng } from '../sim/sim.ts';
import type { Underlay } from './underlay.ts';

export type CaptureCb = (frame: Uint8Array, dir: 'in' | 'out', tsNs: number) => void;

/**
 * A one-way link into a device (an underlay port, a WAN path): its seeded base
 * latency and jitter, and the delay frames take while it is busy (FIFO).
 */
export interface Link { baseNs: number; jitter: { meanNs: number; maxNs: number }; delayNs: number; busyUntil: number }

/**
 * The far end of an uplink that is one end of a veth rather than a NIC: a kind
 * node's eth0, whose peer is docker's bridge port in the docker host's netns
 * (outside the emulated node, which the node's netns knows as nsid 0).
 */
export interface HostPeer { ifindex: number; netnsid: number }

/** An IPv6 address beside the link-local one (`ip addr` prints it first, with its flags). */
export interface Inet6Addr { ip: string; plen: number; flags: string }

/** Kind-specific state of a vxlan device (Linux vxlan with `external`, as Cilium creates it). */
export interface VxlanInfo { port: number }

const NO_CAPTURES: readonly CaptureCb[] = Object.freeze([]);

export class Device implements NetDevice {
  mtu: number;
  up = true;
  /** tx_queue_len (`qlen` in ip's output, not printed when 0). */
  txqlen = 1000;
  peer?: Device;
  readonly addrs: IfAddr[] = [];
  readonly tcx: Record<'ingress' | 'egress', TcxLink[]> = { ingress: [], egress: [] };
  stats = { rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0, rxDropped: 0, txDropped: 0 };
  /** Packet-socket taps; empty in the common case so the hot path only checks length. Replaced, never mutated (devices share the empty list). */
  captures: readonly CaptureCb[] = NO_CAPTURES;
  vxlan?: VxlanInfo;
  /** net.ipv4.conf.<dev>.proxy_arp (Calico's cali* interfaces). */
  proxyArp?: boolean;
  /** vxlan: the last tunnel endpoint's underlay route, valid while fibVersion matches and out is up. */
  vxlanRoute?: { ver: number; remote: number; out: Device; nextHop: number; src: number };
  /** The underlay's memo of this port's last unicast forward (valid while the segment's FDB generation matches). */
  fdbMemo?: { gen: number; src: number; dst: number; to: Device };
  /** Set when the device is plugged into an underlay segment. */
  underlay?: Underlay;
  /** The underlay link into this port, drawn at its first frame. */
  link?: Link;
  /** Set when this uplink is a veth whose peer lives outside the node (docker's bridge port). */
  hostPeer?: HostPeer;
  /** Global IPv6 addresses (kind's docker network gives each node one in its ULA /64). */
  inet6: Inet6Addr[] = [];

  constructor(
    readonly ifindex: number,
    public name: string,
    readonly kind: DeviceKind,
    readonly mac: Uint8Array,
    public netns: NetnsImpl,
    mtu: number,
  ) { this.mtu = mtu; }
}

/** Locally administered unicast MAC from the node's Rng (as the kernel's eth_random_addr). */
export function randomMac(rng: Rng): Uint8Array {
  const m = new Uint8Array(6);
  const a = rng.u32(), b = rng.u32();
  m[0] = ((a >>> 24) & 0xfe) | 0x02; m[1] = (a >>> 16) & 255; m[2] = (a >>> 8) & 255; m[3] = a & 255;
  m[4] = (b >>> 8) & 255; m[5] = b & 255;
  return m;
}

/** Docker's MAC for a container address: 02:42 then the IPv4 address (libnetwork's GenerateMACFromIP). */
export function dockerMac(ip: number): Uint8Array {
  return Uint8Array.of(0x02, 0x42, ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255);
}

/** MAC as a number (48 bits fit in a double), for Map keys without strings. */
export function macKey(m: Uint8Array, o = 0): number {
  return (m[o]! * 0x10000 + (m[o + 1]! << 8 | m[o + 2]!)) * 0x1000000 + ((m[o + 3]! << 16) | (m[o + 4]! << 8) | m[o + 5]!);
}
