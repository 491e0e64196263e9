// One emulated Linux kernel per Kubernetes node: netnses, the ifindex space,
// tcx/cgroup attach points, the BPF runtime and the per-hop scheduler.

import type { SkBuff } from '../wire/skb.ts';
import { newSkb } from '../wire/skb.ts';
import { IdAllocator } from '../bpf/ids.ts';
import type { BpfMap } from '../bpf/map.ts';
import type { BpfProgram, KernelHelpers, Runtime, SockAddrCtx } from '../bpf/program.ts';
import { ipToU32 } from '../wire/addr.ts';
import type { CgroupHook, KernelNode, Netns, NetDevice, TcxDirection, TcxLink } from './api.ts';
import { Device, dockerMac, randomMac, type CaptureCb, type Inet6Addr } from './device.ts';
import { makeHelpers } from './helpers.ts';
import { BpfRuntime } from '../bpf/runtime.ts';
import { NetnsImpl } from './netns.ts';
import { Netfilter } from '../netfilter/netfilter.ts';
import { devReceive } from './path.ts';
import type { Rng, Sim } from '../sim/sim.ts';
import type { Underlay } from './underlay.ts';

export interface NodeOptions {
  /** Plug a netdev (ifindex 2) into this segment. */
  underlay?: Underlay;
  /** Name of the netdev (default eth0; the seed's EC2 nodes use ens5). */
  netdevName?: string;
  /** Node IP on the netdev, with prefixLen (default 24) and optional default gateway. */
  nodeIp?: number | string;
  prefixLen?: number;
  gateway?: number | string;
  /** MTU of the netdev (default 1500; the seed's nodes use 9001). */
  mtu?: number;
  /** One-way latency of a veth crossing (default 1µs). */
  vethLatencyNs?: number;
  /**
   * AppArmor with Ubuntu's socket mediation (Ubuntu's 6.8+ kernels, on by default): a confined task's first
   * read(2) and first write(2) on a socket look up its peer (tcp.ts fileAccess). Default off.
   */
  appArmor?: boolean;
  /** Build the node's BPF runtime; the engine's BpfRuntime by default. */
  runtime?: (helpers: KernelHelpers) => Runtime;
  /** Shared id allocator for link ids (and prog/map ids if the loader uses it). */
  ids?: IdAllocator;
  /**
   * The uplink is a container's veth (a kind node on docker's network), not a NIC: its ifindex (given by the docker
   * host, where docker created it) and its peer's there, its global IPv6 addresses; docker's MAC from the node IP, no tx queue.
   */
  dockerVeth?: { ifindex: number; peerIfindex: number; inet6: Inet6Addr[] };
  /** Deliver hops synchronously through a FIFO without advancing the clock (benchmarks). */
  syncHops?: boolean;
}

export class LinuxNode implements KernelNode {
  readonly rng: Rng;
  readonly hostNs: NetnsImpl;
  readonly netnses = new Map<string, Netns>();
  readonly runtime: Runtime;
  /** The engine runtime when runtime is one (its run() resets redirect/tail-call state and records). */
  readonly bpf: BpfRuntime | null;
  readonly helpers: KernelHelpers;
  readonly ids: IdAllocator;
  readonly latency: { vethNs: number };
  /** NodeOptions.appArmor. */
  readonly appArmor: boolean;
  /** cgroup sock_addr programs, node-wide (Cilium attaches them at the cgroup v2 root). */
  readonly cgroup: Record<CgroupHook, BpfProgram<SockAddrCtx>[]> = { connect4: [], sendmsg4: [], recvmsg4: [], getpeername4: [] };
  /** Programs and maps known to this kernel, for bpftool and tail calls. */
  readonly progs = new Map<number, BpfProgram<unknown>>();
  readonly maps = new Map<number, BpfMap>();
  netdev?: Device;
  /**
   * Rules the node's image installs at boot (kind's entrypoint: docker's embedded-DNS rules), applied when a
   * datapath first enables netfilter, so they precede the datapath's own as on a booted node.
   */
  bootNetfilter?: (nf: Netfilter) => void;
  private readonly devs = new Map<number, Device>();
  private nextIfindex = 1;
  private nextCookie = 1;
  private nextSockCookie = 4096;
  private readonly syncHops: boolean;
  private readonly q: Array<Device | SkBuff> = [];
  private qHead = 0;
  private draining = false;

  constructor(readonly name: string, readonly sim: Sim, opts: NodeOptions = {}) {
    this.rng = sim.rng.fork();
    this.ids = opts.ids ?? new IdAllocator();
    this.latency = { vethNs: opts.vethLatencyNs ?? 1000 };
    this.appArmor = opts.appArmor ?? false;
    this.syncHops = opts.syncHops ?? false;
    this.helpers = makeHelpers(this);
    this.runtime = opts.runtime ? opts.runtime(this.helpers) : new BpfRuntime(this.helpers);
    this.bpf = this.runtime instanceof BpfRuntime ? this.runtime : null;
    this.hostNs = this.createNetnsInternal('');
    if (opts.underlay || opts.nodeIp !== undefined) {
      // The NIC's random MAC is drawn even when docker's rule gives it, so a lab's random streams do not depend on its uplink.
      const nicMac = randomMac(this.rng);
      const docker = opts.dockerVeth && opts.nodeIp !== undefined ? opts.dockerVeth : undefined;
      const dev = docker
        ? this.createDevice(this.hostNs, opts.netdevName ?? 'eth0', 'netdev', { mtu: opts.mtu ?? 1500, mac: dockerMac(toIp(opts.nodeIp!)), ifindex: docker.ifindex, movedIn: true })
        : this.createDevice(this.hostNs, opts.netdevName ?? 'eth0', 'netdev', { mtu: opts.mtu ?? 1500, mac: nicMac });
      if (docker) { dev.hostPeer = { ifindex: docker.peerIfindex, netnsid: 0 }; dev.inet6.push(...docker.inet6); dev.txqlen = 0; }
      this.netdev = dev;
      opts.underlay?.attach(dev);
      if (opts.nodeIp !== undefined) this.hostNs.addAddress(dev, toIp(opts.nodeIp), opts.prefixLen ?? 24);
      if (opts.gateway !== undefined) this.hostNs.addRoute({ dst: 0, prefixLen: 0, gateway: toIp(opts.gateway), ifindex: dev.ifindex });
    }
  }

  deviceByIndex(ifindex: number): NetDevice | undefined { return this.devs.get(ifindex); }
  /** Same as deviceByIndex, typed for kernel internals. */
  deviceByIndexInternal(ifindex: number): Device | undefined { return this.devs.get(ifindex); }

  private createNetnsInternal(name: string): NetnsImpl {
    const ns = new NetnsImpl(name, this, this.nextCookie++);
    this.netnses.set(name, ns);
    const lo = new Device(1, 'lo', 'loopback', new Uint8Array(6), ns, 65536);
    ns.addDevice(lo);
    ns.addAddress(lo, ipToU32('127.0.0.1'), 8, 'host');
    if (name === '') { this.devs.set(1, lo); this.nextIfindex = 2; }
    return ns;
  }

  createNetns(name: string): Netns {
    if (this.netnses.has(name)) throw new Error(`Cannot create namespace file "/var/run/netns/${name}": File exists`);
    const ns = this.createNetnsInternal(name);
    // The pod sees the host netns as nsid 0; the host knows the pod netns by name.
    ns.nsids.set(this.hostNs, 0);
    return ns;
  }

  deleteNetns(name: string): void {
    const ns = this.netnses.get(name) as NetnsImpl | undefined;
    if (!ns || ns === this.hostNs) return;
    for (const d of [...ns.byIndex.values()]) this.deleteDevice(d);
    this.netnses.delete(name);
  }

  /** Remove a device (and its veth peer, as the kernel does). */
  deleteDevice(d: Device): void {
    d.netns.removeDevice(d);
    if (d.kind !== 'loopback' || d.netns === this.hostNs) this.devs.delete(d.ifindex);
    d.underlay?.detach(d);
    const p = d.peer;
    if (p) { d.peer = undefined; p.peer = undefined; this.deleteDevice(p); }
  }

  /**
   * Allocate the next free ifindex (or take an explicit one). A device moved in from another netns keeps its
   * index without moving the counter (dev_change_net_namespace), so later devices still count up from it.
   */
  allocIfindex(explicit?: number, movedIn = false): number {
    if (explicit !== undefined) {
      if (this.devs.has(explicit)) throw new Error(`ifindex ${explicit} in use`);
      if (explicit >= this.nextIfindex && !movedIn) this.nextIfindex = explicit + 1;
      return explicit;
    }
    while (this.devs.has(this.nextIfindex)) this.nextIfindex++;
    return this.nextIfindex++;
  }

  createDevice(ns: Netns, name: string, kind: Device['kind'], opts: { ifindex?: number; mac?: Uint8Array; mtu?: number; movedIn?: boolean } = {}): Device {
    const n = ns as NetnsImpl;
    if (n.devices.has(name)) throw new Error('RTNETLINK answers: File exists');
    const d = new Device(this.allocIfindex(opts.ifindex, opts.movedIn), name, kind, opts.mac?.slice(0, 6) ?? randomMac(this.rng), n, opts.mtu ?? 1500);
    n.addDevice(d);
    this.devs.set(d.ifindex, d);
    return d;
  }

  createVeth(hostName: string, ns: Netns, peerName: string, opts: { mtu?: number; hostMac?: Uint8Array; peerMac?: Uint8Array; peerIfindex?: number; hostIfindex?: number } = {}): [NetDevice, NetDevice] {
    // veth_newlink registers the peer first, so it gets the lower ifindex (seed: eth0 9, lxc 10).
    const peerMac = opts.peerMac ?? randomMac(this.rng);
    const hostMac = opts.hostMac ?? randomMac(this.rng);
    const peer = this.createDevice(ns, peerName, 'veth', { ifindex: opts.peerIfindex, mac: peerMac, mtu: opts.mtu });
    const host = this.createDevice(this.hostNs, hostName, 'veth', { ifindex: opts.hostIfindex, mac: hostMac, mtu: opts.mtu });
    host.peer = peer; peer.peer = host;
    return [host, peer];
  }

  /** A vxlan device in external (collect_md) mode, like cilium_vxlan. */
  createVxlan(name: string, opts: { port?: number; mtu?: number; ifindex?: number; mac?: Uint8Array } = {}): Device {
    const d = this.createDevice(this.hostNs, name, 'vxlan', { ifindex: opts.ifindex, mac: opts.mac, mtu: opts.mtu ?? 1500 });
    d.vxlan = { port: opts.port ?? 8472 };
    this.hostNs.vxlanDevs.includes(d) || this.hostNs.vxlanDevs.push(d);
    return d;
  }

  attachTcx(dev: NetDevice, dir: TcxDirection, prog: BpfProgram): TcxLink {
    const link: TcxLink = { prog, linkId: this.ids.nextLinkId() };
    dev.tcx[dir].push(link);
    this.progs.set(prog.id, prog as BpfProgram<unknown>);
    return link;
  }

  detachTcx(dev: NetDevice, dir: TcxDirection, link: TcxLink): void {
    const i = dev.tcx[dir].indexOf(link);
    if (i >= 0) dev.tcx[dir].splice(i, 1);
  }

  attachCgroup(hook: CgroupHook, prog: BpfProgram<SockAddrCtx>): void {
    this.cgroup[hook].push(prog);
    this.progs.set(prog.id, prog as BpfProgram<unknown>);
  }

  /** Make a program known to bpftool / tail calls without attaching it. */
  registerProg(prog: BpfProgram<unknown>): void { this.progs.set(prog.id, prog); }
  registerMap(map: BpfMap): void { this.maps.set(map.id, map); }

  capture(dev: NetDevice, cb: CaptureCb): () => void {
    const d = dev as Device;
    d.captures = [...d.captures, cb];
    return () => { const i = d.captures.indexOf(cb); if (i >= 0) d.captures = d.captures.filter((_, j) => j !== i); };
  }

  nextSocketCookie(): number { return this.nextSockCookie++; }

  enableNetfilter(): Netfilter {
    const ns = this.hostNs;
    if (ns.netfilter) return ns.netfilter;
    ns.netfilter = new Netfilter({
      now: () => this.sim.now(), rng: this.rng.fork(), isLocal: (a) => ns.isLocal(a),
      // MASQUERADE: the out device's first global address (inet_select_addr).
      deviceAddr: (name) => { const d = ns.devices.get(name); return d?.addrs.find((a) => a.scope !== 'host')?.ip; },
    });
    this.bootNetfilter?.(ns.netfilter);
    return ns.netfilter;
  }

  /** Inject a whole frame into dev's receive path (tests, extra hosts). */
  inject(dev: NetDevice, frame: Uint8Array): void { this.hop(dev as Device, newSkb(frame, frame.length, dev.ifindex), 0); }

  /** Schedule skb's arrival at dev's receive path after delayNs: one event per hop. */
  hop(dev: Device, skb: SkBuff, delayNs: number): void {
    if (!this.syncHops) { this.sim.schedule2(delayNs, devReceive, dev, skb); return; }
    this.q.push(dev, skb);
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.qHead < this.q.length) {
        const d = this.q[this.qHead] as Device, s = this.q[this.qHead + 1] as SkBuff;
        this.q[this.qHead] = this.q[this.qHead + 1] = undefined as never;
        this.qHead += 2;
        devReceive(d, s);
      }
    } finally { this.q.length = 0; this.qHead = 0; this.draining = false; }
  }
}

function toIp(v: number | string): number { return typeof v === 'number' ? v >>> 0 : ipToU32(v); }

/** Create a node: host netns with lo (ifindex 1) and, with an underlay or nodeIp, a netdev (ifindex 2). */
export function createNode(name: string, sim: Sim, opts: NodeOptions = {}): LinuxNode {
  return new LinuxNode(name, sim, opts);
}
