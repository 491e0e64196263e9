// struct net: a network namespace with its devices, addresses, FIB and neighbours.

import { inPrefix, prefixMask } from '../wire/addr.ts';
import type { IfAddr, Netns, NetDevice, Route, SocketApi } from './api.ts';
import type { Device } from './device.ts';
import type { LinuxNode } from './node.ts';
import type { Netfilter } from '../netfilter/netfilter.ts';
import { NeighTable } from './neigh.ts';
import { Sockets } from './sockets.ts';

export class NetnsImpl implements Netns {
  readonly devices = new Map<string, NetDevice>();
  /** ifindex -> device, for this netns only (loopback is 1 in every netns). */
  readonly byIndex = new Map<number, Device>();
  readonly routes: Route[] = [];
  ipForward = false;
  acceptAnyDestination = false;
  refuseDestination?: (daddr: number) => boolean;
  defaultTtl = 64;
  epId = 0;
  /** This netns's netfilter, built only when a datapath asks (LinuxNode.enableNetfilter): null = no hooks run. */
  netfilter: Netfilter | null = null;
  /** Local addresses -> owning device (the local routing table). */
  readonly local = new Map<number, Device>();
  /** vxlan devices here, checked by UDP input for encapsulated traffic. */
  readonly vxlanDevs: Device[] = [];
  private neighTable: NeighTable | null = null;
  private socks: Sockets | null = null;
  /** Bumped on every route/address change so sockets can cache their route. */
  fibVersion = 0;
  /** `ip netns` id of other netnses as seen from here (link-netnsid). */
  readonly nsids = new Map<NetnsImpl, number>();
  private ipId: number;

  constructor(readonly name: string, readonly node: LinuxNode, readonly cookie: number) {
    this.ipId = node.rng.u32() & 0xffff;
  }

  /** The neighbour table and socket layer are built on first use: most of 10k pod netnses never ARP or ping. */
  get neigh(): NeighTable { return this.neighTable ??= new NeighTable(this); }
  get sock(): Sockets { return this.socks ??= new Sockets(this); }
  get sockets(): SocketApi { return this.sock; }

  device(name: string): NetDevice | undefined { return this.devices.get(name); }

  addDevice(d: Device): void {
    this.devices.set(d.name, d); this.byIndex.set(d.ifindex, d);
    if (d.kind === 'vxlan') this.vxlanDevs.push(d);
  }
  removeDevice(d: Device): void {
    this.devices.delete(d.name); this.byIndex.delete(d.ifindex);
    const vi = this.vxlanDevs.indexOf(d); if (vi >= 0) this.vxlanDevs.splice(vi, 1);
    for (let i = this.routes.length - 1; i >= 0; i--) if (this.routes[i]!.ifindex === d.ifindex) this.routes.splice(i, 1);
    for (const a of d.addrs) {
      if (this.local.get(a.ip) !== d) continue;
      this.local.delete(a.ip);
      // The local route stays while another device holds the address (kindnet's gateway /32 on every pod veth).
      for (const o of this.byIndex.values()) if (o.addrs.some((x) => x.ip === a.ip)) { this.local.set(a.ip, o); break; }
    }
    this.fibVersion++;
  }

  addAddress(dev: NetDevice, ip: number, prefixLen: number, scope: IfAddr['scope'] = ip >>> 24 === 127 ? 'host' : 'global'): void {
    dev.addrs.push({ ip: ip >>> 0, prefixLen, scope });
    this.local.set(ip >>> 0, dev as Device);
    // Like the kernel, a non-/32 address brings its connected route (proto kernel scope link src ip).
    if (prefixLen < 32 && dev.kind !== 'loopback') {
      this.addRoute({ dst: (ip & prefixMask(prefixLen)) >>> 0, prefixLen, gateway: 0, ifindex: dev.ifindex, src: ip >>> 0, scope: 'link', proto: 'kernel' });
    }
    this.fibVersion++;
  }

  addRoute(r: Omit<Route, 'metric' | 'src' | 'scope'> & Partial<Route>): void {
    const route: Route = {
      dst: (r.dst & prefixMask(r.prefixLen)) >>> 0, prefixLen: r.prefixLen, gateway: r.gateway >>> 0, ifindex: r.ifindex,
      src: r.src ?? 0, metric: r.metric ?? 0, scope: r.scope ?? (r.gateway ? 'global' : 'link'),
    };
    if (r.proto !== undefined) route.proto = r.proto;
    if (r.mtu !== undefined) route.mtu = r.mtu;
    if (r.onlink) route.onlink = true;
    if (r.type !== undefined) route.type = r.type;
    this.routes.push(route);
    this.fibVersion++;
  }

  delRoute(dst: number, prefixLen: number): boolean {
    const i = this.routes.findIndex((r) => r.dst === dst >>> 0 && r.prefixLen === prefixLen);
    if (i < 0) return false;
    this.routes.splice(i, 1); this.fibVersion++;
    return true;
  }

  /** Longest prefix match in the main table (lowest metric among equals). */
  lookupRoute(dst: number): Route | undefined {
    let best: Route | undefined;
    const rs = this.routes;
    for (let i = 0; i < rs.length; i++) {
      const r = rs[i]!;
      if (!inPrefix(dst, r.dst, r.prefixLen)) continue;
      if (!best || r.prefixLen > best.prefixLen || (r.prefixLen === best.prefixLen && r.metric < best.metric)) best = r;
    }
    if (best && best.type === 'blackhole') return best; // no device: callers find none and discard
    if (best) { const d = this.byIndex.get(best.ifindex); if (!d || !d.up) return undefined; }
    return best;
  }

  /** True if dst is one of this netns' addresses (the local table), 127/8 included. */
  isLocal(dst: number): boolean { return this.local.has(dst) || dst >>> 24 === 127; }

  /** Source address for traffic leaving on dev towards dst (inet_select_addr). */
  selectSource(dev: Device, route: Route | undefined): number {
    if (route && route.src) return route.src;
    for (const a of dev.addrs) if (a.scope !== 'host') return a.ip;
    for (const d of this.byIndex.values()) for (const a of d.addrs) if (a.scope === 'global') return a.ip;
    return 0;
  }

  nextIpId(): number { this.ipId = (this.ipId + 1) & 0xffff; return this.ipId; }
}
