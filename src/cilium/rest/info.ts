// GET /v1/healthz, /v1/config, /v1/cluster/nodes, /v1/policy: the agent's
// status, configuration, node list and policy repository, from its state.

import { u32ToIp } from '../../wire/addr.ts';
import type { CiliumCluster } from '../control.ts';
import { CILIUM_COMMIT, CILIUM_VERSION, NODE_CPUS } from '../dbg/status.ts';
import type { ClusterNodeStatus, NodeAddressing, NodeElement, Policy } from './models.ts';

const cidrOf = (c: { ip: number; prefixLen: number }) => `${u32ToIp(c.ip)}/${c.prefixLen}`;

/** GET /v1/cluster/nodes: every node the agent knows, itself `local`, the others from CiliumNode objects. */
export function clusterNodes(ctl: CiliumCluster, node: string): ClusterNodeStatus {
  const cluster = ctl.agent(node).cfg.clusterName;
  const nodes: NodeElement[] = ctl.nodeNames().map((n) => {
    const a = ctl.agent(n);
    const v6off = { enabled: false };
    const primary: NodeAddressing = { ipv4: { enabled: true, ip: u32ToIp(a.node.ip), 'alloc-range': cidrOf(a.node.podCIDR) }, ipv6: v6off };
    return {
      name: `${cluster}/${n}`, 'primary-address': primary,
      'secondary-addresses': [{ enabled: true, ip: u32ToIp(a.node.ip), 'address-type': 'InternalIP' }, { enabled: true, ip: u32ToIp(a.routerIp), 'address-type': 'CiliumInternalIP' }],
      'health-endpoint-address': { ipv4: { enabled: true, ip: u32ToIp(a.healthIp) }, ipv6: v6off },
      source: n === node ? 'local' : 'custom-resource',
    };
  });
  return { self: `${cluster}/${node}`, nodes, 'client-id': 0 };
}

/** GET /v1/policy: the repository holds no CiliumNetworkPolicy rules in dplab. */
export function policyModel(): Policy { return { revision: 1, policy: 'null' }; }

/** GET /v1/config (models.DaemonConfiguration): what a 1.16 agent with this lab's settings reports. */
export function configModel(ctl: CiliumCluster, node: string): unknown {
  const a = ctl.agent(node), cfg = a.cfg;
  const options = { Conntrack: 'Enabled', ConntrackAccounting: 'Enabled', Debug: 'Disabled', DropNotification: 'Enabled',
    MonitorAggregationLevel: 'Medium', PolicyAuditMode: 'Disabled', PolicyTracing: 'Disabled', PolicyVerdictNotification: 'Enabled', TraceNotification: 'Enabled' };
  const spec = { options, 'policy-enforcement': 'default' };
  return {
    spec,
    status: {
      addressing: { ipv4: { enabled: true, ip: u32ToIp(a.routerIp), 'alloc-range': cidrOf(a.node.podCIDR) }, ipv6: { enabled: false } },
      datapathMode: 'veth', deviceMTU: a.podMtu(), routeMTU: a.podMtu(), 'ipam-mode': 'cluster-pool',
      masquerade: true, masqueradeProtocols: { ipv4: true, ipv6: false },
      nodeMonitor: { cpus: NODE_CPUS, npages: 64, pagesize: 4096, lost: 0, unknown: 0 },
      realized: spec, immutable: {}, kvstoreConfiguration: {}, 'k8s-configuration': '', 'k8s-endpoint': '',
      daemonConfigurationMap: {
        RoutingMode: cfg.routing, TunnelProtocol: cfg.routing === 'tunnel' ? 'vxlan' : '', EnableBPFMasquerade: true,
        KubeProxyReplacement: 'true', EnableSocketLB: cfg.socketLB, ClusterName: cfg.clusterName, IPv4NativeRoutingCIDR: cidrOf(cfg.clusterCIDR),
        EnableIPv4: true, EnableIPv6: false, DevicesMTU: cfg.mtu,
      },
    },
  };
}

/** GET /v1/healthz (models.StatusResponse): the fields `cilium-dbg status` prints. */
export function statusModel(ctl: CiliumCluster, node: string, wallMs: number): unknown {
  const a = ctl.agent(node), cfg = a.cfg;
  const dev = a.netdev?.name ?? cfg.netdev;
  const pod = a.node.podCIDR;
  const size = 2 ** (32 - pod.prefixLen) - 2;
  const nodes = ctl.nodeNames().length;
  const allocations = Object.fromEntries([...a.allocations].map(([ip, o]) => [u32ToIp(ip), o]).sort());
  return {
    cilium: { state: 'Ok', msg: `${CILIUM_VERSION} (v${CILIUM_VERSION}-${CILIUM_COMMIT})` },
    kvstore: { state: 'Ok', msg: 'Disabled' },
    kubernetes: { state: 'Ok', msg: '1.30 (v1.30.4) [linux/amd64]', 'k8s-api-versions': ['EndpointSliceOrEndpoint', 'cilium/v2::CiliumEndpoint', 'cilium/v2::CiliumNode', 'core/v1::Namespace', 'core/v1::Pods', 'core/v1::Service'] },
    'kube-proxy-replacement': {
      mode: 'True', devices: [{ name: dev, ips: [u32ToIp(a.node.ip)], 'direct-routing': true }], 'direct-routing-device': dev,
      features: { socketLB: { enabled: cfg.socketLB }, nodePort: { enabled: true, mode: 'SNAT', algorithm: 'Random', portMin: 30000, portMax: 32767 } },
    },
    'host-firewall': { mode: 'Disabled' },
    srv6: { enabled: false },
    'cni-chaining': { mode: 'none' },
    'cni-file': { state: 'Ok', msg: 'successfully wrote CNI configuration file to /host/etc/cni/net.d/05-cilium.conflist' },
    nodeMonitor: { cpus: NODE_CPUS, npages: 64, pagesize: 4096, lost: 0, unknown: 0 },
    ipam: { allocations, ipv4: Object.keys(allocations), status: `${a.allocations.size}/${size} allocated from ${cidrOf(pod)}` },
    'ipv4-big-tcp': { enabled: false }, 'ipv6-big-tcp': { enabled: false },
    'bandwidth-manager': { enabled: false },
    routing: { 'intra-host-routing-mode': 'BPF', 'inter-host-routing-mode': cfg.routing === 'tunnel' ? 'Tunnel' : 'Native', 'tunnel-protocol': cfg.routing === 'tunnel' ? 'vxlan' : '' },
    'attach-mode': 'tcx', 'datapath-mode': 'veth',
    masquerading: { enabled: true, mode: 'BPF', 'ip-masq-agent': false, 'snat-exclusion-cidr-v4': cidrOf(cfg.clusterCIDR), enabledProtocols: { ipv4: true, ipv6: false } },
    proxy: { ip: u32ToIp(a.routerIp), 'port-range': '10000-20000', 'envoy-deployment-mode': 'external', 'total-redirects': 0, 'total-ports': 0 },
    'identity-range': { 'min-identity': 256, 'max-identity': 65535 },
    hubble: { state: 'Disabled' },
    encryption: { mode: 'Disabled' },
    cluster: { 'ciliumHealth': { state: 'Ok' }, nodes: ctl.nodeNames().map((n) => ({ name: `${cfg.clusterName}/${n}`, 'primary-address': { ipv4: { enabled: true, ip: u32ToIp(ctl.agent(n).node.ip) } } })), self: `${cfg.clusterName}/${node}` },
    'clock-source': { mode: 'ktime' },
    stale: {},
    'client-id': 0,
    'cluster-health': { total: nodes, reachable: nodes, timestamp: new Date(Math.floor(wallMs / 1000) * 1000).toISOString().replace('.000Z', 'Z') },
  };
}
