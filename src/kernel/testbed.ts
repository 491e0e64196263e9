// A small static-routed cluster (no BPF) shaped like the seed lab: nodes on
// one underlay, a router address per node, pods behind veth pairs. Used by
// kernel tests and benchmarks; the Cilium agent builds its own topology.

import { ipToU32 } from '../wire/addr.ts';
import type { Netns, NetDevice } from './api.ts';
import type { Device } from './device.ts';
import { createNode, type LinuxNode, type NodeOptions } from './node.ts';
import type { Sim } from '../sim/sim.ts';
import { Underlay } from './underlay.ts';

export interface TestPod { name: string; ns: Netns; ip: number; eth0: NetDevice; lxc: NetDevice }
export interface TestNode { node: LinuxNode; ip: number; routerIp: number; podCidr: number; pods: TestPod[] }

export interface TestbedSpec {
  nodes: Array<{ name: string; ip: string; routerIp: string; podCidr: string; pods: Array<{ name: string; ip: string }> }>;
  mtu?: number;
  underlayLatencyNs?: number;
  nodeOpts?: NodeOptions;
}

/** The seed's three-node lab, trimmed to what kernel tests need. */
export const SEED_SPEC: TestbedSpec = {
  mtu: 9001,
  nodes: [
    { name: 'k8s-s', ip: '192.168.10.10', routerIp: '172.16.0.12', podCidr: '172.16.0.0', pods: [{ name: 'netpod', ip: '172.16.0.230' }] },
    { name: 'k8s-w1', ip: '192.168.10.101', routerIp: '172.16.1.198', podCidr: '172.16.1.0', pods: [{ name: 'webpod1', ip: '172.16.1.111' }] },
  ],
};

/** Add a pod netns behind a veth pair, routed like Cilium does it (router IP as /32 gateway). */
export function addPod(node: LinuxNode, routerIp: number, name: string, ip: number, mtu: number, lxcName?: string): TestPod {
  const ns = node.createNetns(name);
  const [lxc, eth0] = node.createVeth(lxcName ?? `lxc${name.slice(0, 12)}`, ns, 'eth0', { mtu });
  ns.addAddress(eth0, ip, 32);
  ns.addRoute({ dst: routerIp, prefixLen: 32, gateway: 0, ifindex: eth0.ifindex, scope: 'link' });
  ns.addRoute({ dst: 0, prefixLen: 0, gateway: routerIp, ifindex: eth0.ifindex, mtu });
  node.hostNs.addRoute({ dst: ip, prefixLen: 32, gateway: 0, ifindex: lxc.ifindex, scope: 'link' });
  return { name, ns, ip, eth0, lxc };
}

export function buildTestbed(sim: Sim, spec: TestbedSpec = SEED_SPEC): { underlay: Underlay; nodes: TestNode[] } {
  const underlay = new Underlay({ latencyNs: spec.underlayLatencyNs });
  const mtu = spec.mtu ?? 1500;
  const nodes: TestNode[] = spec.nodes.map((n) => {
    const node = createNode(n.name, sim, { ...spec.nodeOpts, underlay, netdevName: 'ens5', nodeIp: n.ip, prefixLen: 24, mtu });
    node.hostNs.ipForward = true;
    // The router IP sits on a host-side device, as Cilium puts it on cilium_host.
    const host = node.createDevice(node.hostNs, 'cilium_host', 'dummy', { mtu }) as Device;
    const routerIp = ipToU32(n.routerIp);
    node.hostNs.addAddress(host, routerIp, 32);
    const pods = n.pods.map((p) => addPod(node, routerIp, p.name, ipToU32(p.ip), mtu));
    return { node, ip: ipToU32(n.ip), routerIp, podCidr: ipToU32(n.podCidr), pods };
  });
  for (const a of nodes) for (const b of nodes) {
    if (a === b) continue;
    a.node.hostNs.addRoute({ dst: b.podCidr, prefixLen: 24, gateway: b.ip, ifindex: a.node.netdev!.ifindex, proto: 'kernel' });
  }
  return { underlay, nodes };
}
