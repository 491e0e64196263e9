// The Cluster document (dplab.dev/v1alpha1) and kind configs, parsed into
// one resolved ClusterSpec with every default filled in.

import type { Cidr, NodeInfo, PluginConfig } from '../datapath/contract.ts';
import type { DatapathChoice, DatapathProblem, DatapathRegistry } from '../datapath/registry.ts';
import { inPrefix, ipToU32, parseCidr, prefixMask, u32ToIp } from '../wire/addr.ts';
import type { Inet6Addr } from '../kernel/device.ts';
import { DATAPATHS } from './datapaths.ts';
import { ClusterError } from './facade.ts';

export type { Cidr } from '../datapath/contract.ts';

/** A node of the cluster file: what the datapath's NodeInfo holds (the pins are the seed's values where given). */
export type NodeSpec = NodeInfo;

export interface ClusterSpec {
  name: string;
  /** CNI and service proxy by registered name (`datapath:` expanded). */
  cni: string;
  serviceProxy: string;
  /** One of the CNI's routing modes (Cilium: tunnel, native). */
  routing: string;
  /** The CNI's and the service proxy's own settings (`cniConfig:`, `serviceProxyConfig:`), checked by each. */
  cniConfig: PluginConfig;
  serviceProxyConfig: PluginConfig;
  netdev: string;
  mtu: number;
  socketLB: boolean;
  podCIDR: Cidr;
  serviceCIDR: Cidr;
  loadBalancerIPs: Cidr;
  /** The nodes' L2 segment; its .1 is the emulated internet gateway. */
  underlay: Cidr;
  gateway: number;
  nodes: NodeSpec[];
  /** The nodes' /etc/resolv.conf search list; kubelet appends it to a ClusterFirst pod's (EC2: <region>.compute.internal). */
  dnsSearch: string[];
  /** `docker`: the nodes are kind's node containers (eth0 a veth on docker's `kind` network, docker's embedded DNS); absent: VMs with a NIC. */
  provider?: 'docker';
}

type Doc = Record<string, unknown>;

function fail(field: string, msg: string): never { throw new ClusterError(`${field}: ${msg}`, 400, field); }

function str(v: unknown, field: string, def: string): string {
  if (v === undefined || v === null) return def;
  if (typeof v !== 'string' || v === '') fail(field, `must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}
function bool(v: unknown, field: string, def: boolean): boolean {
  if (v === undefined || v === null) return def;
  if (typeof v !== 'boolean') fail(field, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}
function ip(v: unknown, field: string): number {
  if (typeof v !== 'string') fail(field, `invalid IP address ${JSON.stringify(v)}`);
  try { return ipToU32(v); } catch { return fail(field, `invalid IP address "${v}"`); }
}
function cidr(v: unknown, field: string, def: string): Cidr {
  const s = v ?? def;
  if (typeof s !== 'string') fail(field, `invalid CIDR ${JSON.stringify(s)}`);
  try { return parseCidr(s); } catch { return fail(field, `invalid CIDR "${s}"`); }
}
export function cidrString(c: Cidr): string { return `${u32ToIp(c.ip)}/${c.prefixLen}`; }

const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

interface RawNode { name?: unknown; ip?: unknown; podCIDR?: unknown; controlPlane?: unknown; labels?: unknown; routerIP?: unknown; healthIP?: unknown }

/**
 * `datapath:` (short form) expanded, then `cni:` / `serviceProxy:` override
 * their half; every name checked against the registry.
 */
function datapathChoice(spec: Doc, datapaths: DatapathRegistry): DatapathChoice & { routing: string; cniConfig: PluginConfig; serviceProxyConfig: PluginConfig } {
  const given = (v: unknown) => v !== undefined && v !== null;
  // The short form (default cilium) fills what `cni` / `serviceProxy` leave out.
  let short: DatapathChoice | DatapathProblem = { cni: '', serviceProxy: '' };
  if (given(spec.datapath) || !given(spec.cni) || !given(spec.serviceProxy)) short = datapaths.expand(str(spec.datapath, 'spec.datapath', 'cilium'));
  if ('field' in short) failOn(short, 'spec.');
  const choice = { cni: str(spec.cni, 'spec.cni', short.cni), serviceProxy: str(spec.serviceProxy, 'spec.serviceProxy', short.serviceProxy) };
  const routing = str(spec.routing, 'spec.routing', datapaths.routings(choice.cni)?.[0] ?? '');
  const settings = { routing, cniConfig: configMap(spec.cniConfig, 'spec.cniConfig'), serviceProxyConfig: configMap(spec.serviceProxyConfig, 'spec.serviceProxyConfig') };
  const p = datapaths.problem(choice, settings);
  if (p) failOn(p, 'spec.');
  return { ...choice, ...settings };
}

function configMap(v: unknown, field: string): PluginConfig {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) fail(field, `must be a map, got ${JSON.stringify(v)}`);
  return v as PluginConfig;
}

function failOn(p: DatapathProblem, prefix: string): never { return fail(prefix + p.field, p.message); }

/** Resolve a dplab Cluster document (or its defaults when doc is undefined) against the known datapaths. */
export function parseClusterDoc(doc: Doc | undefined, datapaths: DatapathRegistry = DATAPATHS): ClusterSpec {
  const meta = (doc?.metadata ?? {}) as Doc;
  const spec = (doc?.spec ?? {}) as Doc;
  const name = str(meta.name, 'metadata.name', 'kind');
  const { cni, serviceProxy, routing, cniConfig, serviceProxyConfig } = datapathChoice(spec, datapaths);
  const mtu = spec.mtu ?? 1500;
  if (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < 1280 || mtu > 65535) fail('spec.mtu', `must be an integer in 1280..65535, got ${JSON.stringify(mtu)}`);
  const podCIDR = cidr(spec.podCIDR, 'spec.podCIDR', '10.244.0.0/16');
  const serviceCIDR = cidr(spec.serviceCIDR, 'spec.serviceCIDR', '10.96.0.0/12');
  const rawNodes = spec.nodes ?? [{ controlPlane: true }, {}, {}];
  if (!Array.isArray(rawNodes) || rawNodes.length === 0) fail('spec.nodes', 'must be a non-empty list');
  const firstIp = (rawNodes[0] as RawNode | undefined)?.ip;
  const underlay = cidr(spec.underlay, 'spec.underlay', firstIp === undefined ? '172.18.0.0/16' : `${u32ToIp(ip(firstIp, 'spec.nodes[0].ip'))}/24`);
  // Like the kind docs' MetalLB pool: x.y.255.200/29 on a /16, .200/29 on a /24.
  const lbDefault = `${u32ToIp((underlay.ip | (underlay.prefixLen <= 16 ? 0xffc8 : 0xc8)) >>> 0)}/29`;
  const loadBalancerIPs = cidr(spec.loadBalancerIPs, 'spec.loadBalancerIPs', lbDefault);
  const gateway = (underlay.ip + 1) >>> 0;
  const hasCp = rawNodes.some((n) => (n as RawNode).controlPlane === true);
  let workers = 0;
  const nodes = rawNodes.map((raw, i): NodeSpec => {
    const f = `spec.nodes[${i}]`;
    const n = (raw ?? {}) as RawNode;
    const controlPlane = bool(n.controlPlane, `${f}.controlPlane`, !hasCp && i === 0);
    const defName = controlPlane ? `${name}-control-plane` : `${name}-worker${workers++ === 0 ? '' : workers}`;
    const nodeName = str(n.name, `${f}.name`, defName);
    if (!NAME_RE.test(nodeName)) fail(`${f}.name`, `invalid node name "${nodeName}"`);
    const nodeIp = n.ip === undefined ? (underlay.ip + 2 + i) >>> 0 : ip(n.ip, `${f}.ip`);
    if (!inPrefix(nodeIp, underlay.ip, underlay.prefixLen)) fail(`${f}.ip`, `${u32ToIp(nodeIp)} is outside the underlay ${cidrString(underlay)}`);
    if (nodeIp === gateway) fail(`${f}.ip`, `${u32ToIp(nodeIp)} is the underlay gateway`);
    const pc = n.podCIDR === undefined ? splitCidr(podCIDR, i, f) : cidr(n.podCIDR, `${f}.podCIDR`, '');
    if (pc.prefixLen < podCIDR.prefixLen || !inPrefix(pc.ip, podCIDR.ip, podCIDR.prefixLen)) fail(`${f}.podCIDR`, `${cidrString(pc)} is outside spec.podCIDR ${cidrString(podCIDR)}`);
    const labels: Record<string, string> = {
      'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux',
      ...(controlPlane ? { 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' } : {}),
      ...labelMap(n.labels, `${f}.labels`),
    };
    const pinned = (v: unknown, field: string): number | undefined => {
      if (v === undefined) return undefined;
      const a = ip(v, `${f}.${field}`);
      if (!inPrefix(a, pc.ip, pc.prefixLen)) fail(`${f}.${field}`, `${u32ToIp(a)} is outside the node's podCIDR ${cidrString(pc)}`);
      return a;
    };
    const routerIP = pinned(n.routerIP, 'routerIP');
    const healthIP = pinned(n.healthIP, 'healthIP');
    if (routerIP !== undefined && routerIP === healthIP) fail(`${f}.healthIP`, 'must differ from routerIP');
    return { name: nodeName, ip: nodeIp, podCIDR: pc, controlPlane, labels, ...(routerIP !== undefined ? { routerIP } : {}), ...(healthIP !== undefined ? { healthIP } : {}) };
  });
  for (let i = 0; i < nodes.length; i++) {
    for (let j = 0; j < i; j++) {
      if (nodes[i]!.name === nodes[j]!.name) fail(`spec.nodes[${i}].name`, `duplicate node name "${nodes[i]!.name}"`);
      if (nodes[i]!.ip === nodes[j]!.ip) fail(`spec.nodes[${i}].ip`, `duplicate node IP ${u32ToIp(nodes[i]!.ip)}`);
      if (overlaps(nodes[i]!.podCIDR, nodes[j]!.podCIDR)) fail(`spec.nodes[${i}].podCIDR`, `${cidrString(nodes[i]!.podCIDR)} overlaps ${nodes[j]!.name}'s ${cidrString(nodes[j]!.podCIDR)}`);
    }
  }
  if (overlaps(podCIDR, serviceCIDR)) fail('spec.serviceCIDR', `${cidrString(serviceCIDR)} overlaps spec.podCIDR`);
  return {
    name, cni, serviceProxy, routing, cniConfig, serviceProxyConfig, netdev: str(spec.netdev, 'spec.netdev', 'eth0'), mtu,
    socketLB: bool(spec.socketLB, 'spec.socketLB', true), podCIDR, serviceCIDR, loadBalancerIPs, underlay, gateway, nodes,
    dnsSearch: dnsSearch(spec.dnsSearch), ...provider(spec.provider),
  };
}

function provider(v: unknown): { provider?: 'docker' } {
  if (v === undefined || v === null) return {};
  if (v !== 'docker') fail('spec.provider', `must be docker, got ${JSON.stringify(v)}`);
  return { provider: v };
}

/** kind's docker network `kind` has IPv6 on, in the ULA /64 kind derives from the network's name. */
const KIND_ULA = 'fc00:f853:ccd:e793::';

/**
 * A kind node's eth0 as docker plugs it, or undefined when the nodes are not
 * docker's. Docker hands out a network's addresses in order (.2, .3, ... and
 * ::2, ::3, ...) and creates each container's veth pair in the host netns as
 * it goes (the container's end first, so it has the lower index), then moves
 * that end into the container as eth0, where it keeps its index: seed 000's
 * host numbered the pair of the node at .N 2N+2 and 2N+3 (8: eth0@if9 at .3,
 * 10: eth0@if11 at .4, 12: eth0@if13 at .5).
 */
export function dockerUplink(spec: ClusterSpec, n: NodeSpec): { ifindex: number; peerIfindex: number; inet6: Inet6Addr[] } | undefined {
  if (spec.provider !== 'docker') return undefined;
  const off = (n.ip - spec.underlay.ip) >>> 0;
  const host = off > 0xffff ? `${(off >>> 16).toString(16)}:${(off & 0xffff).toString(16)}` : off.toString(16);
  return { ifindex: 2 * off + 2, peerIfindex: 2 * off + 3, inet6: [{ ip: `${KIND_ULA}${host}`, plen: 64, flags: 'nodad' }] };
}

/** glibc's MAXDNSRCH: resolv.conf keeps at most 6 search domains. */
const MAX_DNS_SEARCH = 6;
function dnsSearch(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > MAX_DNS_SEARCH) fail('spec.dnsSearch', `must be a list of at most ${MAX_DNS_SEARCH} domains`);
  return v.map((d, i) => {
    if (typeof d !== 'string' || d.length > 253 || !NAME_RE.test(d)) fail(`spec.dnsSearch[${i}]`, `invalid domain ${JSON.stringify(d)}`);
    return d;
  });
}

function labelMap(v: unknown, field: string): Record<string, string> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, 'must be a map of strings');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) out[k] = String(val);
  return out;
}

function overlaps(a: Cidr, b: Cidr): boolean {
  const len = Math.min(a.prefixLen, b.prefixLen);
  return ((a.ip & prefixMask(len)) >>> 0) === ((b.ip & prefixMask(len)) >>> 0);
}

/** The i-th /24 (or next size down) of a pool, as kube-controller-manager's range allocator does. */
function splitCidr(pool: Cidr, i: number, field: string): Cidr {
  const len = Math.max(24, pool.prefixLen);
  const count = 2 ** (len - pool.prefixLen);
  if (i >= count) fail(`${field}.podCIDR`, `spec.podCIDR ${cidrString(pool)} has no room for node ${i + 1}`);
  return { ip: (pool.ip + i * 2 ** (32 - len)) >>> 0, prefixLen: len };
}

/**
 * kind's networking -> CNI and service proxy. kubeProxyMode iptables/ipvs runs
 * kube-proxy beside kind's kindnet, or beside Cilium when disableDefaultCNI
 * leaves room for it; none (or unset: dplab is a Cilium lab first) is Cilium
 * with kube-proxy replacement.
 */
function kindDatapath(net: Doc, datapaths: DatapathRegistry): DatapathChoice {
  const mode = net.kubeProxyMode;
  if (mode !== undefined && mode !== 'none' && mode !== 'iptables' && mode !== 'ipvs') fail('networking.kubeProxyMode', `unknown kubeProxyMode ${JSON.stringify(mode)} (want iptables, ipvs or none)`);
  const kubeProxy = mode === 'iptables' || mode === 'ipvs';
  const choice = kubeProxy ? { cni: net.disableDefaultCNI === true ? 'cilium' : 'kindnet', serviceProxy: mode } : { cni: 'cilium', serviceProxy: 'cilium' };
  const p = datapaths.problem(choice);
  if (p) fail('networking.kubeProxyMode', `kubeProxyMode "${mode ?? 'none'}" needs CNI ${choice.cni} and service proxy ${choice.serviceProxy}: ${p.message}`);
  return choice;
}

/** Map a kind config (kind.x-k8s.io/v1alpha4) onto a dplab Cluster document. */
export function kindToClusterDoc(doc: Doc, datapaths: DatapathRegistry = DATAPATHS): Doc {
  const net = (doc.networking ?? {}) as Doc;
  const { cni, serviceProxy } = kindDatapath(net, datapaths);
  const name = str(doc.name, 'name', 'kind');
  const raw = (doc.nodes ?? [{ role: 'control-plane' }]) as unknown;
  if (!Array.isArray(raw)) fail('nodes', 'must be a list');
  let cps = 0, workers = 0;
  const nodes = raw.map((n: Doc, i) => {
    const role = n?.role ?? 'control-plane';
    if (role !== 'control-plane' && role !== 'worker') fail(`nodes[${i}].role`, `must be control-plane or worker, got ${JSON.stringify(role)}`);
    const cp = role === 'control-plane';
    const k = cp ? cps++ : workers++;
    const base = cp ? `${name}-control-plane` : `${name}-worker`;
    return { name: k === 0 ? base : `${base}${k + 1}`, controlPlane: cp, labels: n?.labels };
  });
  return {
    apiVersion: 'dplab.dev/v1alpha1', kind: 'Cluster', metadata: { name },
    spec: { cni, serviceProxy, podCIDR: net.podSubnet, serviceCIDR: net.serviceSubnet, nodes, provider: 'docker' },
  };
}

/** True if a YAML document is a cluster description (dplab or kind). */
export function isClusterDoc(doc: Doc): boolean {
  return doc.kind === 'Cluster' && typeof doc.apiVersion === 'string' && (doc.apiVersion.startsWith('dplab.dev/') || doc.apiVersion.startsWith('kind.x-k8s.io/'));
}

/** Resolve either flavour of Cluster document. */
export function resolveClusterDoc(doc: Doc | undefined, datapaths: DatapathRegistry = DATAPATHS): ClusterSpec {
  if (doc && typeof doc.apiVersion === 'string' && doc.apiVersion.startsWith('kind.x-k8s.io/')) return parseClusterDoc(kindToClusterDoc(doc, datapaths), datapaths);
  return parseClusterDoc(doc, datapaths);
}
