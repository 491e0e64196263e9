// Calico in IP-in-IP mode, as a kubeadm cluster runs it (seed 001): the CNI
// plugin plumbs each pod with a cali<11 hex> veth whose host side has the
// MAC ee:ee:ee:ee:ee:ee and proxy ARP on, the pod holds its address as a /32
// with `default via 169.254.1.1`; Felix routes the pod (`IP dev caliX scope
// link`) and BIRD routes every other node's IPAM block through tunl0
// (`BLOCK via NODE dev tunl0 proto bird onlink`), the node's own block being a
// blackhole. Each node's block is its podCIDR from the Cluster spec. The
// cluster's podCIDR is the one IPPool; with its natOutgoing (default true,
// as calico-node creates the default pool) Felix masquerades pod traffic
// leaving every pool (nat_outgoing.ts).

import { createHash } from 'node:crypto';
import type { Cni, DatapathConfig, NodeInfo, NodeTool, PodInfo, PodNetwork } from '../../datapath/contract.ts';
import type { KernelNode, Netns, NetDevice } from '../../kernel/api.ts';
import { PodNetnsRegistry } from '../pod_netns.ts';
import { createIpipTunnel } from '../../kernel/ipip.ts';
import { IPIP_HLEN } from '../../wire/ipip.ts';
import { ipToU32, u32ToIp } from '../../wire/addr.ts';
import { felixJumpsFirst, programNatOutgoing } from './nat_outgoing.ts';
import { ipsetTool } from '../../netfilter/ipset.ts';
import type { Netfilter } from '../../netfilter/netfilter.ts';

/** The pods' default gateway: a link-local address no one holds, answered by proxy ARP. */
export const CALICO_GATEWAY = ipToU32('169.254.1.1');
/** The MAC Calico gives every host-side cali interface. */
export const CALI_MAC = new Uint8Array([0xee, 0xee, 0xee, 0xee, 0xee, 0xee]);

interface Joined { kernel: KernelNode; info: NodeInfo; tunl0: NetDevice; nf: Netfilter }

/** Calico's VethNameForWorkload: "cali" + the first 11 hex digits of sha1("<namespace>.<pod>"). */
export function caliName(namespace: string, pod: string): string {
  return `cali${createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11)}`;
}

/** The runtime's sandbox netns name (containerd: cni-<uuid>), derived from the pod's uid. */
function netnsName(pod: PodInfo): string {
  const h = createHash('sha256').update(pod.uid || `${pod.namespace}/${pod.name}`).digest('hex');
  return `cni-${h.slice(8, 16)}-${h.slice(16, 20)}-${h.slice(20, 24)}-${h.slice(24, 28)}-${h.slice(28, 40)}`;
}

/** BIRD's route on `from` to `to`'s block: via its node IP, through tunl0, onlink (the node IP is not a tunl0 neighbour). */
function routeBlock(from: Joined, to: Joined): void {
  from.kernel.hostNs.addRoute({
    dst: to.info.podCIDR.ip, prefixLen: to.info.podCIDR.prefixLen, gateway: to.info.ip,
    ifindex: from.tunl0.ifindex, proto: 'bird', onlink: true,
  });
}

export function createCalico(config: DatapathConfig): Cni {
  const nodes = new Map<string, Joined>();
  const pods = new PodNetnsRegistry();
  // Calico's MTU auto-detection: the underlay's MTU minus the IP-in-IP header, for tunl0 and every veth.
  const mtu = config.mtu - IPIP_HLEN;
  const pool = `${u32ToIp(config.podCIDR.ip)}/${config.podCIDR.prefixLen}`;
  const natOutgoing = config.cniConfig.natOutgoing !== false;
  return {
    name: 'calico',
    addNode(kernel, info) {
      const host = kernel.hostNs;
      (host as { ipForward: boolean }).ipForward = true;
      const tunl0 = createIpipTunnel(kernel, { mtu });
      // calico-node's tunnel address: the first address of the node's block, as a /32.
      host.addAddress(tunl0, info.podCIDR.ip, 32);
      host.addRoute({ dst: info.podCIDR.ip, prefixLen: info.podCIDR.prefixLen, gateway: 0, ifindex: 0, proto: 'bird', scope: 'global', type: 'blackhole' });
      const nf = kernel.enableNetfilter();
      programNatOutgoing(nf, [pool], natOutgoing ? [pool] : []);
      // calico-node starts after kube-proxy (which inserts its jumps as the node joins): Felix then puts its own back on top.
      queueMicrotask(() => felixJumpsFirst(nf));
      const me: Joined = { kernel, info, tunl0, nf };
      for (const other of nodes.values()) { routeBlock(me, other); routeBlock(other, me); }
      nodes.set(info.name, me);
    },
    addPod(pod: PodInfo): PodNetwork {
      const node = nodes.get(pod.nodeName);
      if (!node) throw new Error(`calico: node ${pod.nodeName} has not joined`);
      const kernel = node.kernel, host = kernel.hostNs;
      const veth = caliName(pod.namespace, pod.name);
      const netns = kernel.createNetns(netnsName(pod));
      const [hostDev, podDev] = kernel.createVeth(veth, netns, 'eth0', { mtu, hostMac: CALI_MAC });
      // The pod: its address as a /32, the gateway on-link, everything else via the gateway.
      netns.addAddress(podDev, pod.ip, 32);
      netns.addRoute({ dst: CALICO_GATEWAY, prefixLen: 32, gateway: 0, ifindex: podDev.ifindex, scope: 'link' });
      netns.addRoute({ dst: 0, prefixLen: 0, gateway: CALICO_GATEWAY, ifindex: podDev.ifindex });
      // The host: proxy ARP on the cali side, Felix's route to the pod and its static ARP entry.
      (hostDev as { proxyArp?: boolean }).proxyArp = true;
      host.addRoute({ dst: pod.ip, prefixLen: 32, gateway: 0, ifindex: hostDev.ifindex, scope: 'link' });
      staticArp(host, hostDev, pod.ip, podDev.mac);
      // A workload update is a Felix dataplane sync: its jumps back on top of kube-proxy's.
      felixJumpsFirst(node.nf);
      pods.add(pod.namespace, pod.name, kernel, netns);
      return { netns, hostIfName: veth };
    },
    deletePod: (namespace, name) => pods.delete(namespace, name),
    nodeTools: (name): Record<string, NodeTool> => {
      const n = nodes.get(name);
      if (!n) return {};
      return { ipset: async (argv) => { const r = ipsetTool(n.nf.ipsets, argv.map((a, i) => (i === 0 ? IPSET_SHORT[a] ?? a : a))); return { stdout: r.stdout, stderr: r.stderr, exitCode: r.code }; } };
    },
    eventStreams: () => ({}),
  };
}

/** ipset's short command forms as the long ones the engine takes. */
const IPSET_SHORT: Record<string, string> = { '-L': 'list', '-S': 'save', '-F': 'flush', '-X': 'destroy', '-T': 'test', '-A': 'add', '-D': 'del', '-N': 'create' };

/** Felix's permanent neighbour entry for a workload (`IP dev caliX lladdr MAC PERMANENT`). */
function staticArp(host: Netns, dev: NetDevice, ip: number, mac: Uint8Array): void {
  (host as unknown as { neigh: { addPermanent(d: NetDevice, ip: number, mac: Uint8Array): void } }).neigh.addPermanent(dev, ip, mac);
}
