// One node's Cilium agent: host devices, host/netdev/overlay programs, endpoints
// (regenerated after cilium-cni plumbs a pod, see cni.ts), local map state, and
// the read models the CLI prints.

import type { NetDevice, Netns } from '../kernel/api.ts';
import type { Rng } from '../sim/sim.ts';
import { inPrefix, u32ToIp } from '../wire/addr.ts';
import { createNodeMaps, type NodeMaps } from '../../maps/index.ts';
import { EndpointKey, EndpointInfo } from '../../maps/cilium_lxc.ts';
import { ipcacheKeyBytes, remoteEndpointInfoBytes } from './codec.ts';
import type { DatapathEnv, EpConfig, NodeConfig } from '../../programs/lib/common.ts';
import { CILIUM_CALL_IPV4_FROM_LXC, CILIUM_CALL_IPV4_CT_EGRESS } from '../../programs/lib/common.ts';
import { cilFromContainer } from '../../programs/cil_from_container.ts';
import { cilToContainer } from '../../programs/cil_to_container.ts';
import { tailHandleIpv4 } from '../../programs/tail_handle_ipv4.ts';
import { tailIpv4CtEgress } from '../../programs/tail_ipv4_ct_egress.ts';
import { cilLxcPolicy } from '../../programs/cil_lxc_policy.ts';
import { cilToHost } from '../../programs/cil_to_host.ts';
import { cilFromHost } from '../../programs/cil_from_host.ts';
import { cilFromNetdev } from '../../programs/cil_from_netdev.ts';
import { cilToNetdev } from '../../programs/cil_to_netdev.ts';
import { cilFromOverlay } from '../../programs/cil_from_overlay.ts';
import { cilToOverlay } from '../../programs/cil_to_overlay.ts';
import { cilSock4Connect } from '../../programs/cil_sock4_connect.ts';
import { cilSock4Sendmsg } from '../../programs/cil_sock4_sendmsg.ts';
import { cilSock4Recvmsg } from '../../programs/cil_sock4_recvmsg.ts';
import { cilSock4Getpeername } from '../../programs/cil_sock4_getpeername.ts';
import type { CiliumConfig, NodeInfo } from './api.ts';
import { BPF_LXC_HEALTH_OBJECT, BPF_LXC_OBJECT, bpfHostObject, Loader, type LoaderKernel } from './loader.ts';
import { connectPod, type PodLink } from './cni.ts';

const MAX_ENDPOINT_ID = 4095;

/** A Cilium endpoint as `cilium-dbg endpoint list` shows it. */
export interface EndpointModel {
  id: number; identity: number; labels: string[]; ipv4: number; ifindex: number; ifname: string;
  mac: string; nodeMac: string; state: 'ready'; podName?: string; namespace?: string; netns?: Netns;
}

/** Upper-case hex of each byte value (macStr runs twice per endpoint: 10k pods are 20k MACs). */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0').toUpperCase());
const macStr = (m: Uint8Array) => `${HEX[m[0]!]}:${HEX[m[1]!]}:${HEX[m[2]!]}:${HEX[m[3]!]}:${HEX[m[4]!]}:${HEX[m[5]!]}`;

export class NodeAgent {
  readonly maps: NodeMaps;
  readonly loader: Loader;
  readonly env: DatapathEnv;
  readonly endpoints = new Map<number, EndpointModel>();
  /** ip -> owner, for `status --verbose` Allocated addresses. */
  readonly allocations = new Map<number, string>();
  readonly routerIp: number;
  readonly healthIp: number;
  readonly hostEpId: number;
  ciliumHost!: NetDevice;
  netdev: NetDevice | undefined;
  vxlan: NetDevice | undefined;
  private readonly usedEpIds = new Set<number>();

  constructor(readonly kernel: LoaderKernel, readonly node: NodeInfo, readonly cfg: CiliumConfig, readonly rng: Rng,
    pinned: { routerIp?: number; healthIp?: number } = {}) {
    this.loader = new Loader(kernel);
    this.maps = createNodeMaps(this.loader.ids);
    for (const m of this.maps.list()) kernel.registerMap?.(m);
    this.routerIp = pinned.routerIp ?? this.allocIp();
    this.allocations.set(this.routerIp, 'router');
    this.healthIp = pinned.healthIp ?? this.allocIp();
    this.allocations.set(this.healthIp, 'health');
    this.hostEpId = this.allocEpId();
    this.netdev = kernel.netdev ?? kernel.hostNs.device(cfg.netdev);
    const node2: NodeConfig = {
      tunnel: cfg.routing === 'tunnel', socketLB: cfg.socketLB, aggregation: cfg.monitorAggregation === 'none' ? 0 : 3,
      nodeIp: node.ip, routerIp: this.routerIp, clusterCidr: cfg.clusterCIDR.ip, clusterCidrLen: cfg.clusterCIDR.prefixLen,
      encapIfindex: 0, netdevIfindex: this.netdev?.ifindex ?? 0, hostIfindex: 0, hostMac: new Uint8Array(6),
      hostEpId: this.hostEpId, masquerade: true,
      // "BPF host routing requires kube-proxy replacement": without it the agent falls back to legacy routing.
      hostRouting: cfg.kubeProxyReplacement !== false,
    };
    this.env = { maps: this.maps, node: node2 };
  }

  /** Pick a free address in the pod CIDR (not network, broadcast or taken). */
  allocIp(): number {
    const { ip, prefixLen } = this.node.podCIDR;
    const size = 2 ** (32 - prefixLen);
    for (;;) {
      const a = (ip + 1 + this.rng.below(size - 2)) >>> 0;
      if (!this.allocations.has(a)) return a;
    }
  }
  /** Endpoint ids are random in 1..4095, as Cilium's idpool hands them out. */
  allocEpId(): number {
    // Cilium's endpoint ids are 1..4095 (MaxEndpointID): a full node must fail, not draw forever.
    if (this.usedEpIds.size >= MAX_ENDPOINT_ID) throw new Error('no more endpoint IDs available');
    for (;;) { const id = 1 + this.rng.below(MAX_ENDPOINT_ID); if (!this.usedEpIds.has(id)) { this.usedEpIds.add(id); return id; } }
  }

  /** Devices, host programs, routes and host map entries (what the agent does at start-up). */
  start(): void {
    const k = this.kernel, ns = k.hostNs, n = this.env.node;
    ns.ipForward = true; // Cilium's sysctl: net.ipv4.ip_forward=1
    // The agent creates veth "cilium_host" with peer "cilium_net"; veth_newlink
    // registers the peer first, so cilium_net gets the lower ifindex (seed: 3, 4).
    const [host, net] = k.createVeth('cilium_host', ns, 'cilium_net', { mtu: this.cfg.mtu });
    this.ciliumHost = host;
    ns.addAddress(host, this.routerIp, 32);
    n.hostIfindex = host.ifindex; n.hostMac = host.mac;
    if (this.cfg.routing === 'tunnel' && k.createVxlan) {
      this.vxlan = k.createVxlan('cilium_vxlan', { mtu: this.cfg.mtu });
      n.encapIfindex = this.vxlan.ifindex;
    }
    // Feature probes (HaveTCX, HaveProgramHelper...) load and free throwaway
    // programs before the datapath; five of them line the ids up with the seed.
    for (let i = 0; i < 5; i++) this.loader.ids.nextProgId();
    // One bpf_host.o load per device, host endpoint first, then the native device (seed order).
    const hostObj = this.loader.loadObject(bpfHostObject('cil_to_host', 'cil_from_host'), [cilToHost(this.env), cilFromHost(this.env)]);
    this.loader.attachLoaded(host, 'ingress', hostObj.get('cil_to_host')!);
    this.loader.attachLoaded(host, 'egress', hostObj.get('cil_from_host')!);
    const netObj = this.loader.loadObject(bpfHostObject('cil_from_host', 'cil_to_host'), [cilToHost(this.env)]);
    this.loader.attachLoaded(net, 'ingress', netObj.get('cil_to_host')!);
    if (this.netdev) {
      const devObj = this.loader.loadObject(bpfHostObject('cil_from_netdev', 'cil_to_netdev'), [cilFromNetdev(this.env), cilToNetdev(this.env)]);
      this.loader.attachLoaded(this.netdev, 'ingress', devObj.get('cil_from_netdev')!);
      this.loader.attachLoaded(this.netdev, 'egress', devObj.get('cil_to_netdev')!);
    }
    if (this.vxlan) {
      this.loader.attach(this.vxlan, 'ingress', cilFromOverlay(this.env));
      this.loader.attach(this.vxlan, 'egress', cilToOverlay(this.env));
    }
    this.replayRestart();
    if (this.cfg.socketLB) {
      this.loader.attachCgroup('connect4', cilSock4Connect(this.env));
      this.loader.attachCgroup('sendmsg4', cilSock4Sendmsg(this.env));
      this.loader.attachCgroup('recvmsg4', cilSock4Recvmsg(this.env));
      this.loader.attachCgroup('getpeername4', cilSock4Getpeername(this.env));
    }
    const { ip, prefixLen } = this.node.podCIDR;
    ns.addRoute({ dst: ip, prefixLen, gateway: this.routerIp, ifindex: host.ifindex, src: this.routerIp, mtu: this.podMtu() });
    for (const a of [this.node.ip, this.routerIp]) this.maps.lxc.update(new EndpointKey(a).encode(), EndpointInfo.host().encode());
  }

  /**
   * The seed's agents had restarted (endpoints show `[restored]`). The first
   * agent run created cilium_host/cilium_net and the host links (kept across
   * the restart: the new agent updates pinned links in place, so links 13-17
   * stay) plus the health endpoint: veth eth0/lxc_health (ifindex 5/6) and
   * links 18-20. A restarted agent removes the old health endpoint and makes a
   * new one, so the live one is 7/8 with links 21/22. We replay what is still
   * visible of that first run: the ifindexes and link ids it took. Its programs
   * had ids below the kernel's start id and are gone.
   */
  private replayRestart(): void {
    const k = this.kernel;
    const old = k.createNetns('cilium-health');
    k.createVeth('lxc_health', old, 'eth0', { mtu: this.podMtu() });
    for (let i = 0; i < 3; i++) this.loader.ids.nextLinkId();
    k.deleteNetns('cilium-health');
  }

  podMtu(): number { return this.cfg.routing === 'tunnel' ? this.cfg.mtu - 50 : this.cfg.mtu; }

  /** Route to another node's pod CIDR: via its node IP (native) or via cilium_host (tunnel). */
  addRemoteNode(other: NodeInfo): void {
    const ns = this.kernel.hostNs, { ip, prefixLen } = other.podCIDR;
    if (this.cfg.routing === 'tunnel') ns.addRoute({ dst: ip, prefixLen, gateway: this.routerIp, ifindex: this.ciliumHost.ifindex, src: this.routerIp, mtu: this.podMtu() });
    else if (this.netdev) ns.addRoute({ dst: ip, prefixLen, gateway: other.ip, ifindex: this.netdev.ifindex });
  }

  /** Write one ipcache entry. */
  upsertIpcache(ip: number, prefixLen: number, identity: number, tunnelEndpoint: number): void {
    this.maps.ipcache.update(ipcacheKeyBytes(ip, prefixLen), remoteEndpointInfoBytes(identity, tunnelEndpoint, 0, 0));
  }
  deleteIpcache(ip: number, prefixLen: number): void { this.maps.ipcache.delete(ipcacheKeyBytes(ip, prefixLen)); }

  /**
   * The health endpoint: the agent plumbs its netns as cilium-cni would a pod's,
   * then makes it an endpoint like any other.
   */
  createHealthEndpoint(identity: number): EndpointModel {
    const epId = this.allocEpId();
    const link = connectPod(this.kernel, this.rng, { netnsName: 'cilium-health', hostIfName: 'lxc_health', ip: this.healthIp, routerIp: this.routerIp, mtu: this.podMtu() });
    return this.createEndpoint(link, this.healthIp, identity, ['reserved:health'], 'health', epId);
  }

  /**
   * Endpoint regeneration for a plumbed pod (the agent's PUT /endpoint): bpf_lxc
   * programs on the host veth, tail-call slots, the cilium_lxc entry.
   */
  createEndpoint(link: PodLink, ip: number, identity: number, labels: string[], owner: string, epId: number): EndpointModel {
    const k = this.kernel;
    const { netns: pns, hostDev, mac, nodeMac } = link;
    pns.epId = epId;
    const calls = this.maps.callsFor(epId);
    k.registerMap?.(calls);
    const ep: EpConfig = { lxcId: epId, secLabel: identity, ipv4: ip, ifindex: hostDev.ifindex, mac, nodeMac, calls };
    // One bpf_lxc.o load per endpoint: tail calls, policy program and both entry points.
    const obj = this.loader.loadObject(ip === this.healthIp ? BPF_LXC_HEALTH_OBJECT : BPF_LXC_OBJECT, [tailHandleIpv4(this.env, ep), tailIpv4CtEgress(this.env, ep),
      cilLxcPolicy(this.env, ep), cilFromContainer(this.env, ep), cilToContainer(this.env, ep)]);
    calls.setProg(CILIUM_CALL_IPV4_FROM_LXC, obj.get('tail_handle_ipv4')!);
    calls.setProg(CILIUM_CALL_IPV4_CT_EGRESS, obj.get('tail_ipv4_ct_egress')!);
    this.maps.callPolicy.setProg(epId, obj.get('cil_lxc_policy')!);
    this.loader.attachLoaded(hostDev, 'ingress', obj.get('cil_from_container')!);
    this.loader.attachLoaded(hostDev, 'egress', obj.get('cil_to_container')!);
    const macs = macStr(mac), nodeMacs = macStr(nodeMac);
    this.maps.lxc.update(new EndpointKey(ip).encode(), new EndpointInfo({ ifIndex: hostDev.ifindex, lxcId: epId, flags: 0,
      mac: macs, nodeMac: nodeMacs, secId: identity }).encode());
    this.allocations.set(ip, owner);
    const m: EndpointModel = { id: epId, identity, labels, ipv4: ip, ifindex: hostDev.ifindex, ifname: hostDev.name,
      mac: macs, nodeMac: nodeMacs, state: 'ready', netns: pns };
    this.endpoints.set(epId, m);
    return m;
  }

  /** Forget an endpoint's programs and map entries; the CNI DEL that follows removes its netns. */
  deleteEndpoint(epId: number): void {
    const m = this.endpoints.get(epId);
    if (!m) return;
    this.maps.lxc.delete(new EndpointKey(m.ipv4).encode());
    this.maps.dropEndpoint(epId);
    this.allocations.delete(m.ipv4);
    this.endpoints.delete(epId);
    this.usedEpIds.delete(epId);
  }

  /** `cilium-dbg status --verbose` Allocated addresses lines (sorted as strings). */
  allocatedAddresses(): string[] {
    return [...this.allocations].map(([ip, o]) => `  ${u32ToIp(ip)} (${o})`).sort();
  }

  /** Interface name by ifindex (monitor output). */
  ifname(ifindex: number): string { return this.kernel.deviceByIndex(ifindex)?.name ?? String(ifindex); }

  isLocalPodIp(ip: number): boolean { return inPrefix(ip, this.node.podCIDR.ip, this.node.podCIDR.prefixLen); }
}

