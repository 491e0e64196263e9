// kindnet, kind's default CNI: the ptp plugin plumbs each pod (a veth<8 hex>
// pair, the pod address on eth0, the node side holding the pod CIDR's
// gateway as a /32 and a `scope host` route to the pod) and kindnetd routes
// every other node's pod CIDR via that node's IP on the shared segment: no
// encapsulation, as seed 000's `ip route` shows on each kind node.

import { createHash } from 'node:crypto';
import type { Cni, DatapathConfig, NodeInfo, PodInfo, PodNetwork } from '../../datapath/contract.ts';
import type { KernelNode } from '../../kernel/api.ts';
import { PodNetnsRegistry } from '../pod_netns.ts';
import { ebtables } from '../../netfilter/ebtables.ts';
import { iptables } from '../../netfilter/exec.ts';
import { u32ToIp } from '../../wire/addr.ts';
import { kindnetSystemObjects } from './install.ts';
import type { Netfilter } from '../../netfilter/netfilter.ts';

interface Joined { kernel: KernelNode; info: NodeInfo }

/** The pod CIDR's first address: host-local IPAM's gateway, held by every pod's host-side veth. */
export const gatewayOf = (n: NodeInfo): number => (n.podCIDR.ip + 1) >>> 0;

/** Names the runtime and ptp give a pod's sandbox: the netns `cni-<uuid>` and the host veth `veth<8 hex>`. */
export function podNames(pod: PodInfo): { netns: string; veth: string } {
  const h = createHash('sha256').update(pod.uid || `${pod.namespace}/${pod.name}`).digest('hex');
  return { netns: `cni-${h.slice(8, 16)}-${h.slice(16, 20)}-${h.slice(20, 24)}-${h.slice(24, 28)}-${h.slice(28, 40)}`, veth: `veth${h.slice(0, 8)}` };
}

/** kindnetd's routes: on each node, every other node's pod CIDR via that node's IP. */
function routeBetween(from: Joined, to: Joined): void {
  const ns = from.kernel.hostNs;
  const onLink = ns.routes.find((r) => r.gateway === 0 && r.prefixLen > 0 && ((to.info.ip & maskOf(r.prefixLen)) >>> 0) === r.dst);
  if (!onLink) throw new Error(`kindnet: node ${to.info.name} (${to.info.ip}) is not on ${from.info.name}'s segment`);
  ns.addRoute({ dst: to.info.podCIDR.ip, prefixLen: to.info.podCIDR.prefixLen, gateway: to.info.ip, ifindex: onLink.ifindex });
}

/**
 * kindnetd's IP masquerade agent (cmd/kindnetd/masq.go): traffic leaving the
 * pod CIDR for anything but a local address or another pod is masqueraded,
 * so pods reach the outside with their node's address.
 */
function masqAgent(nf: Netfilter, podCIDR: string): void {
  const run = (...argv: string[]) => {
    const r = iptables(nf.rules, ['-t', 'nat', ...argv]);
    if (r.code !== 0) throw new Error(`kindnet: iptables -t nat ${argv.join(' ')}: ${r.stderr.trim()}`);
  };
  run('-N', 'KIND-MASQ-AGENT');
  run('-A', 'KIND-MASQ-AGENT', '-d', podCIDR, '-j', 'RETURN', '-m', 'comment', '--comment', 'kind-masq-agent: local traffic is not subject to MASQUERADE');
  run('-A', 'KIND-MASQ-AGENT', '-j', 'MASQUERADE', '-m', 'comment', '--comment', 'kind-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)');
  run('-A', 'POSTROUTING', '-m', 'addrtype', '!', '--dst-type', 'LOCAL', '-j', 'KIND-MASQ-AGENT', '-m', 'comment', '--comment',
    'kind-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom KIND-MASQ-AGENT chain');
}

const maskOf = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);

export function createKindnet(config: DatapathConfig): Cni {
  const nodes = new Map<string, Joined>();
  const pods = new PodNetnsRegistry();
  return {
    name: 'kindnet',
    // kind's kindnet DaemonSet: a host-network kindnet-cni pod per node.
    systemObjects: () => kindnetSystemObjects(`${u32ToIp(config.podCIDR.ip)}/${config.podCIDR.prefixLen}`),
    // host-local IPAM keeps the range's gateway (.1) for the host side of every veth.
    reservedPodIps: (node) => { const n = nodes.get(node); return n ? [gatewayOf(n.info)] : []; },
    addNode(kernel, info) {
      const me: Joined = { kernel, info };
      // The node forwards between pods and the segment (kind's node image sets net.ipv4.ip_forward=1).
      (kernel.hostNs as { ipForward: boolean }).ipForward = true;
      masqAgent(kernel.enableNetfilter(), `${u32ToIp(config.podCIDR.ip)}/${config.podCIDR.prefixLen}`);
      for (const other of nodes.values()) { routeBetween(me, other); routeBetween(other, me); }
      nodes.set(info.name, me);
    },
    addPod(pod: PodInfo): PodNetwork {
      const node = nodes.get(pod.nodeName);
      if (!node) throw new Error(`kindnet: node ${pod.nodeName} has not joined`);
      const { netns: nsName, veth } = podNames(pod);
      const kernel = node.kernel, gw = gatewayOf(node.info), plen = node.info.podCIDR.prefixLen;
      const netns = kernel.createNetns(nsName);
      const [hostDev, podDev] = kernel.createVeth(veth, netns, 'eth0', { mtu: config.mtu });
      // ptp's netlink.Veth leaves TxQLen 0 on both ends: `ip link` prints no qlen (seed 000).
      for (const d of [hostDev, podDev]) (d as unknown as { txqlen: number }).txqlen = 0;
      // ptp: the pod's address with the node's prefix, its subnet routed via the gateway (no on-link subnet).
      netns.addAddress(podDev, pod.ip, plen);
      const connected = netns.routes.findIndex((r) => r.ifindex === podDev.ifindex && r.proto === 'kernel');
      if (connected >= 0) netns.routes.splice(connected, 1);
      netns.addRoute({ dst: 0, prefixLen: 0, gateway: gw, ifindex: podDev.ifindex });
      netns.addRoute({ dst: node.info.podCIDR.ip, prefixLen: plen, gateway: gw, ifindex: podDev.ifindex, src: pod.ip });
      netns.addRoute({ dst: gw, prefixLen: 32, gateway: 0, ifindex: podDev.ifindex, src: pod.ip, scope: 'link' });
      // The host side: the gateway /32 on the veth, a host route to the pod.
      kernel.hostNs.addAddress(hostDev, gw, 32);
      kernel.hostNs.addRoute({ dst: pod.ip, prefixLen: 32, gateway: 0, ifindex: hostDev.ifindex, scope: 'host' });
      pods.add(pod.namespace, pod.name, kernel, netns);
      return { netns, hostIfName: veth };
    },
    deletePod: (namespace, name) => pods.delete(namespace, name),
    // The kind node image's own tools: ebtables lists the empty bridge tables (seed 000).
    nodeTools: () => ({ ebtables: async (argv) => { const r = ebtables(argv); return { stdout: r.stdout, stderr: r.stderr, exitCode: r.code }; } }),
    eventStreams: () => ({}),
  };
}
