// What kube-proxy watches, as plain data: Services and EndpointSlices reduced
// to the fields the proxiers read (pkg/proxy/serviceport.go, endpoint.go),
// plus the node and the proxier's configuration. Nothing here knows the
// cluster's object types; src/kubeproxy/adapter.ts fills these from
// Kubernetes JSON.

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServicePortSpec {
  /** `spec.ports[].name`; '' for an unnamed port (then the chain hash has no `:name`). */
  name: string;
  protocol: Protocol;
  port: number;
  /** 0 when the Service has no node port. */
  nodePort: number;
}

export interface ServiceSpec {
  namespace: string;
  name: string;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** `spec.clusterIP`; services without one (headless, ExternalName) get no rules. */
  clusterIP: string;
  ports: ServicePortSpec[];
  externalIPs: string[];
  /** `status.loadBalancer.ingress[].ip` whose ipMode is VIP (or unset). */
  loadBalancerIPs: string[];
  loadBalancerSourceRanges: string[];
  sessionAffinity: 'None' | 'ClientIP';
  /** `sessionAffinityConfig.clientIP.timeoutSeconds` (API default 10800). */
  stickyMaxAgeSeconds: number;
  /** `Local` only counts for externally reachable services (NodePort, LoadBalancer, externalIPs). */
  externalTrafficPolicy: 'Cluster' | 'Local';
  internalTrafficPolicy: 'Cluster' | 'Local';
  /** `spec.healthCheckNodePort`, 0 when none. */
  healthCheckNodePort: number;
}

export interface EndpointSpec {
  /** `addresses[0]`: kube-proxy uses only the first address of an endpoint. */
  ip: string;
  /** `conditions.ready` (unset means ready). */
  ready: boolean;
  /** `conditions.serving` (unset means serving, as endpointslicecache.go reads it). */
  serving: boolean;
  terminating: boolean;
  nodeName?: string;
}

export interface EndpointSlicePort {
  name: string;
  protocol: Protocol;
  port: number;
}

export interface EndpointSliceSpec {
  namespace: string;
  /** The `kubernetes.io/service-name` label: slices are joined to services by it. */
  serviceName: string;
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  ports: EndpointSlicePort[];
  endpoints: EndpointSpec[];
}

/** Order of the service ports in KUBE-SERVICES, KUBE-NODEPORTS and the filter chains (real kube-proxy: random per sync). */
export type ServiceOrder = 'clusterIP' | 'given';

export interface ProxyConfig {
  /** `--hostname-override`: endpoints with this nodeName are local. */
  nodeName: string;
  /** The node's primary IPv4 address (LB source ranges that contain it allow the LB IPs as sources). */
  nodeIP: string;
  /**
   * Every IPv4 address of the node outside kube-ipvs0, loopback included
   * (`--nodeport-addresses` picks among them; IPVS mode makes NodePort virtual servers on them).
   * Default: [nodeIP, '127.0.0.1'].
   */
  nodeAddresses?: string[];
  /** `clusterCIDR`: the local-traffic detector (`! -s CIDR` / `-s CIDR`); unset = no detector. */
  clusterCIDR?: string;
  /**
   * `detectLocalMode` other than ClusterCIDR (pkg/proxy/util/localdetector.go): NodeCIDR (`-s` the
   * node's pod CIDR), BridgeInterface (`-i br`), InterfaceNamePrefix (`-i prefix+`). Wins over clusterCIDR.
   */
  detectLocal?: { mode: 'NodeCIDR'; cidr: string } | { mode: 'BridgeInterface'; bridge: string } | { mode: 'InterfaceNamePrefix'; prefix: string };
  /** `--masquerade-all`. Default false. */
  masqueradeAll?: boolean;
  /** `--iptables-masquerade-bit`. Default 14 (mark 0x00004000). */
  masqueradeBit?: number;
  /** `--nodeport-addresses` CIDRs; empty = all local addresses. */
  nodePortAddresses?: string[];
  /** `--iptables-localhost-nodeports`. Default true. */
  localhostNodePorts?: boolean;
  /** The node's `net.netfilter.nf_conntrack_tcp_be_liberal` is set: no INVALID drop rule. Default false. */
  conntrackTCPBeLiberal?: boolean;
  /**
   * nfacct counters exist (kube-proxy v1.31+ on a kernel with nfacct): the INVALID drop and an extra
   * 127.0.0.0/8 rule per node port count into `ct_state_invalid_dropped_pkts` / `localhost_nps_accepted_pkts`.
   * Default false (v1.30).
   */
  nfacct?: boolean;
  /** Kubelet ran first (its KUBE-FIREWALL jumps and canary chains exist). Default true. */
  kubelet?: boolean;
  /** Default 'clusterIP': by cluster IP (numeric), then by the port's place in `spec.ports`. */
  serviceOrder?: ServiceOrder;
  /** IPVS mode: `--ipvs-scheduler`. Default 'rr'. */
  ipvsScheduler?: string;
}

export interface ProxyState {
  services: ServiceSpec[];
  endpointSlices: EndpointSliceSpec[];
}
