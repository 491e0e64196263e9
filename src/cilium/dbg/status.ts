// `cilium-dbg status [--verbose]`: pkg/client FormatStatusResponse (1.16) over one agent's state,
// printed through one tabwriter (minwidth 2, padding 3) as cilium-dbg/cmd/status.go does.

import { u32ToIp } from '../../wire/addr.ts';
import { tabwrite } from '../../../maps/tabwriter.ts';
import type { CiliumCluster } from '../control.ts';

export const CILIUM_VERSION = '1.16.3', CILIUM_COMMIT = 'f2217191';
const K8S_VERSION = 'v1.30.4';
const K8S_APIS = ['EndpointSliceOrEndpoint', 'cilium/v2::CiliumClusterwideNetworkPolicy', 'cilium/v2::CiliumEndpoint',
  'cilium/v2::CiliumNetworkPolicy', 'cilium/v2::CiliumNode', 'cilium/v2alpha1::CiliumCIDRGroup', 'core/v1::Namespace',
  'core/v1::Pods', 'core/v1::Service', 'networking.k8s.io/v1::NetworkPolicy'];
/** The seed's nodes have 2 CPUs (`Listening for events on 2 CPUs`). */
export const NODE_CPUS = 2;
const CONTROLLERS = 29, MODULES = 45;

export interface StatusOptions { verbose: boolean; wallMs: number; uptimeNs: number }

/** fe80:: link-local address from a MAC (EUI-64), as the kernel configures it. */
export function linkLocal(mac: Uint8Array): string {
  const b = [mac[0]! ^ 2, mac[1]!, mac[2]!, 0xff, 0xfe, mac[3]!, mac[4]!, mac[5]!];
  const groups = [0, 2, 4, 6].map((i) => ((b[i]! << 8) | b[i + 1]!).toString(16));
  while (groups.length > 1 && groups[0] === '0') groups.shift();
  return `fe80::${groups.join(':')}`;
}

function rfc3339(ms: number): string { return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z'); }

export function formatStatus(ctl: CiliumCluster, node: string, o: StatusOptions): string {
  const a = ctl.agent(node), cfg = a.cfg;
  const dev = a.netdev;
  const devName = dev?.name ?? cfg.netdev;
  const devIps = [u32ToIp(a.node.ip), ...(dev ? [linkLocal(dev.mac)] : [])].join(' ');
  const kpr = `[${devName}\t${devIps} (Direct Routing)]`;
  const cidr = `${u32ToIp(cfg.clusterCIDR.ip)}/${cfg.clusterCIDR.prefixLen}`;
  const pod = `${u32ToIp(a.node.podCIDR.ip)}/${a.node.podCIDR.prefixLen}`;
  const size = 2 ** (32 - a.node.podCIDR.prefixLen) - 2;
  const nodes = ctl.nodeNames().length;
  let s = 'KVStore:\tOk\tDisabled\n';
  s += `Kubernetes:\tOk\t${K8S_VERSION.slice(1).split('.').slice(0, 2).join('.')} (${K8S_VERSION}) [linux/amd64]\n`;
  s += `Kubernetes APIs:\t["${K8S_APIS.join('", "')}"]\n`;
  const kprOn = cfg.kubeProxyReplacement !== false;
  // FormatStatusResponse lists no devices when the mode is False.
  s += kprOn ? `KubeProxyReplacement:\tTrue\t${kpr}\n` : 'KubeProxyReplacement:\tFalse\t\n';
  s += 'Host firewall:\tDisabled\n';
  s += 'SRv6:\tDisabled\n';
  s += 'CNI Chaining:\tnone\n';
  s += 'CNI Config file:\tsuccessfully wrote CNI configuration file to /host/etc/cni/net.d/05-cilium.conflist\n';
  s += `Cilium:\tOk   ${CILIUM_VERSION} (v${CILIUM_VERSION}-${CILIUM_COMMIT})\n`;
  s += `NodeMonitor:\tListening for events on ${NODE_CPUS} CPUs with 64x4096 of shared memory\n`;
  s += 'Cilium health daemon:\tOk\t\n';
  s += `IPAM:\tIPv4: ${a.allocations.size}/${size} allocated from ${pod}, \n`;
  if (o.verbose) s += 'Allocated addresses:\n' + a.allocatedAddresses().map((l) => l + '\n').join('');
  s += 'IPv4 BIG TCP:\tDisabled\n';
  s += 'IPv6 BIG TCP:\tDisabled\n';
  s += 'BandwidthManager:\tDisabled\n';
  s += `Routing:\tNetwork: ${cfg.routing === 'tunnel' ? 'Tunnel [vxlan]' : 'Native'}\tHost: ${kprOn ? 'BPF' : 'Legacy'}\n`;
  s += 'Attach Mode:\tTCX\n';
  s += 'Device Mode:\tveth\n';
  s += `Masquerading:\tBPF\t[${devName}]\t${cidr} [IPv4: Enabled, IPv6: Disabled]\n`;
  if (o.verbose) s += 'Clock Source for BPF:\tktime\n';
  s += `Controller Status:\t${CONTROLLERS}/${CONTROLLERS} healthy\n`;
  s += `Proxy Status:\tOK, ip ${u32ToIp(a.routerIp)}, 0 redirects active on ports 10000-20000, Envoy: external\n`;
  s += 'Global Identity Range:\tmin 256, max 65535\n';
  // No Hubble server runs in the lab (nothing listens on 4244 or the relay port): the agent's
  // status is what Cilium reports with Hubble off (models.HubbleStatusStateDisabled), no observer, no metrics.
  s += 'Hubble:\tDisabled\n';
  if (o.verbose) s += kprOn ? kprDetails(cfg.socketLB, `${devName}\t${devIps} (Direct Routing)`) : kprOffDetails();
  s += 'Encryption:\tDisabled\t\n';
  s += `Cluster health:\t${nodes}/${nodes} reachable\t(${rfc3339(o.wallMs)})\n`;
  s += `Modules Health:\tStopped(0) Degraded(0) OK(${MODULES})\n`;
  return tabwrite(s, 2, 3);
}

/**
 * The table with kube-proxy replacement off: no devices, mode, backend selection or XDP
 * (those come with NodePort); ClusterIP stays Enabled (bpf_lxc's LB), as a real agent beside kube-proxy shows.
 */
function kprOffDetails(): string {
  const t = '  Status:\tFalse\n  Socket LB:\tDisabled\n  Socket LB Tracing:\tDisabled\n  Socket LB Coverage:\tFull\n' +
    '  Session Affinity:\tDisabled\n  Graceful Termination:\tEnabled\n  NAT46/64 Support:\tDisabled\n  Services:\n  - ClusterIP:\tEnabled\n' +
    '  - NodePort:\tDisabled \n  - LoadBalancer:\tDisabled \n  - externalIPs:\tDisabled \n  - HostPort:\tDisabled\n';
  return 'KubeProxyReplacement Details:\n' + tabwrite(t, 0, 3);
}

/** The nested `KubeProxyReplacement Details:` table (its own tabwriter, flushed as plain text). */
function kprDetails(socketLB: boolean, devices: string): string {
  const on = (b: boolean) => (b ? 'Enabled' : 'Disabled');
  const t = `  Status:\tTrue\n  Socket LB:\t${on(socketLB)}\n  Socket LB Tracing:\t${on(socketLB)}\n  Socket LB Coverage:\tFull\n` +
    `  Devices:\t${devices}\n  Mode:\tSNAT\n  Backend Selection:\tRandom\n  Session Affinity:\tEnabled\n  Graceful Termination:\tEnabled\n` +
    '  NAT46/64 Support:\tDisabled\n  XDP Acceleration:\tDisabled\n  Services:\n  - ClusterIP:\tEnabled\n' +
    '  - NodePort:\tEnabled (Range: 30000-32767) \n  - LoadBalancer:\tEnabled \n  - externalIPs:\tEnabled \n  - HostPort:\tEnabled\n';
  // Flushed text has no tabs left, so the outer writer passes it through.
  return 'KubeProxyReplacement Details:\n' + tabwrite(t, 0, 3);
}
