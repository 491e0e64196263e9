// dplab compare: the same cluster file built once per datapath, the same
// traffic run on each, and what each request and the datapath's state looked
// like, side by side. Each request is captured on the client pod's eth0 and on
// its node's netdev, and every address on the wire is named (ClusterIP of a
// service, pod, node), so "the ClusterIP never leaves the socket" or "DNAT
// happens on the node" is read from the bytes, not assumed.

import { withDatapath, type DatapathOverride } from './datapath_doc.ts';
import { Lab, type PodInfo, type ServiceInfo } from './lab.ts';
import type { Packet } from './packets.ts';
import type { TrafficStep } from './traffic.ts';
import { startWork, type DatapathWork } from './work.ts';

/** One datapath to compare: a short form and, for Cilium, socket LB on/off. */
export interface Variant { label: string; datapath: string; socketLB?: boolean }

/** What one capture saw during one request: the destinations of the packets leaving, named. */
export interface WireView { device: string; destinations: string[] }

export interface RequestResult {
  exitCode: number;
  /** whoami's Hostname: the backend pod that answered. */
  backend?: string;
  /** whoami's RemoteAddr: the client address the backend saw (ip:port). */
  remoteAddr?: string;
  clientEth0: WireView;
  /** The host side of the client's veth (lxc... with Cilium, veth... with kindnet). */
  hostVeth: WireView;
  nodeNetdev: WireView;
}

export interface StepResult {
  variant: string;
  requests: RequestResult[];
  answered: number;
  /** Backend -> requests it answered. */
  distribution: Record<string, number>;
  /** Client IPs the backends saw. */
  clientAddrs: string[];
  /** Union over the requests of what each capture carried. */
  clientEth0: string[];
  hostVeth: string[];
  nodeNetdev: string[];
  /** Datapath work per packet during the step, on all nodes: iptables rules walked, Cilium map operations and programs. */
  work: DatapathWork;
}

export interface StepReport {
  /** Where the command ran: a pod (with its namespace) or a node. */
  pod?: string; node?: string; namespace: string; command: string; repeat: number;
  /** The service the command targets (by name or ClusterIP in its arguments), with its backends. */
  service?: { name: string; type: string; clusterIP: string; sessionAffinity: string; externalTrafficPolicy?: string; backends: string[] };
  results: StepResult[];
}

export interface NodeState {
  node: string; conntrack: number; conntrackToClusterIP: number; ciliumCt: number; ciliumNat: number;
  /** The entries as the node's tools print them (conntrack -L, bpf ct list global, bpf nat list), the first STATE_LINES. */
  lines: string[];
}

/** Entry lines a report keeps per node. */
export const STATE_LINES = 50;
export interface VariantInfo { label: string; cni: string; serviceProxy: string; routing: string; socketLB: boolean; state: NodeState[] }

export interface CompareReport { seed: number; variants: VariantInfo[]; steps: StepReport[] }

/** Addresses named for the report. */
function namer(lab: Lab): (ip: string) => string {
  const names = new Map<string, string>();
  names.set(u32(lab.cluster.spec.gateway), 'internet');
  for (const n of lab.nodes()) names.set(ipOfNode(lab, n), `node ${n}`);
  for (const ns of ['default', 'kube-system']) {
    for (const p of lab.pods(ns)) if (!names.has(p.ip)) names.set(p.ip, `pod ${p.name}`);
    for (const s of lab.services(ns)) if (s.clusterIP && s.clusterIP !== 'None') names.set(s.clusterIP, `ClusterIP ${s.name}`);
  }
  return (ip) => names.get(ip) ?? ip;
}

function u32(ip: number): string { return [24, 16, 8, 0].map((s) => (ip >>> s) & 255).join('.'); }
function ipOfNode(lab: Lab, node: string): string { return u32(lab.cluster.spec.nodes.find((x) => x.name === node)!.ip); }

/**
 * Named destinations of the flows a request opens through a device (the inner
 * packet of VXLAN), in order of first sight: TCP SYNs, UDP, ICMP; a previous
 * connection's closing segments, sent meanwhile, are not this request's.
 */
function destinations(pkts: Packet[], name: (ip: string) => string): string[] {
  const out: string[] = [];
  for (const outer of pkts) {
    const p = outer.inner ?? outer;
    if (outer.dir !== 'out' || (p.proto === 'tcp' && p.tcpFlags !== 0x02)) continue;
    const d = name(p.dst);
    if (!out.includes(d)) out.push(d);
  }
  return out;
}

/** The service a command line names (host of a URL: name, name.ns..., ClusterIP, or a node IP with a node port). */
function targetService(argv: string[], services: ServiceInfo[], nodeIps: Set<string>): ServiceInfo | undefined {
  const targets = argv.slice(1).filter((a) => !a.startsWith('-')).map((a) => {
    const [host, port] = a.replace(/^\w+:\/\//, '').split('/')[0]!.split(':');
    return { host: host!, port: Number(port) };
  });
  return services.find((s) => targets.some(({ host, port }) => host === s.clusterIP || host === s.name || host.startsWith(`${s.name}.`)
    || (nodeIps.has(host) && s.ports.some((p) => p.nodePort === port))));
}

function whoami(stdout: string): { backend?: string; remoteAddr?: string } {
  const host = /^Hostname: (\S+)$/m.exec(stdout)?.[1];
  const remote = /^RemoteAddr: (\S+)$/m.exec(stdout)?.[1];
  return { ...(host ? { backend: host } : {}), ...(remote ? { remoteAddr: remote } : {}) };
}

const NONE: WireView = { device: '-', destinations: [] };

/** One command of a step, captured where its packets go: the pod's eth0, its veth's host side, its node's netdev; a node step's own netdev. */
async function runOnce(lab: Lab, step: TrafficStep, name: (ip: string) => string): Promise<RequestResult> {
  if (step.node !== undefined) {
    const ifname = step.node === 'internet' ? 'eth0' : lab.cluster.spec.netdev;
    const dev = lab.capture({ node: step.node, ifname });
    const r = await lab.nodeExec(step.node, step.argv);
    dev.stop();
    return { exitCode: r.exitCode, ...whoami(r.stdout), clientEth0: NONE, hostVeth: NONE, nodeNetdev: { device: `${step.node} ${ifname}`, destinations: destinations(dev.packets(), name) } };
  }
  const pod = step.pod!;
  const client: PodInfo = lab.pod(pod, step.namespace);
  const netdev = lab.cluster.spec.netdev;
  const eth0 = lab.capture({ pod, namespace: step.namespace });
  const veth = lab.capture({ pod, namespace: step.namespace, hostSide: true });
  const dev = lab.capture({ node: client.node, ifname: netdev });
  const r = await lab.exec(pod, step.argv, step.namespace);
  eth0.stop(); veth.stop(); dev.stop();
  return {
    exitCode: r.exitCode, ...whoami(r.stdout),
    clientEth0: { device: `${pod} eth0`, destinations: destinations(eth0.packets(), name) },
    // Leaving the pod is arriving on its host side: what the node receives there.
    hostVeth: { device: `${client.node} ${hostIfname(lab, step)}`, destinations: destinations(veth.packets().map((p) => ({ ...p, dir: p.dir === 'in' ? 'out' : 'in' })), name) },
    nodeNetdev: { device: `${client.node} ${netdev}`, destinations: destinations(dev.packets(), name) },
  };
}

async function runStep(lab: Lab, label: string, step: TrafficStep, name: (ip: string) => string): Promise<StepResult> {
  const requests: RequestResult[] = [];
  const stop = startWork(lab);
  let work: DatapathWork;
  try {
    for (let i = 0; i < step.repeat; i++) requests.push(await runOnce(lab, step, name));
  } finally { work = stop(); }
  const distribution: Record<string, number> = {};
  for (const q of requests) if (q.backend) distribution[q.backend] = (distribution[q.backend] ?? 0) + 1;
  const union = (f: (q: RequestResult) => string[]) => [...new Set(requests.flatMap(f))];
  return {
    variant: label, requests, answered: requests.filter((q) => q.exitCode === 0).length,
    distribution: Object.fromEntries(Object.entries(distribution).sort(([a], [b]) => a.localeCompare(b))),
    clientAddrs: union((q) => (q.remoteAddr ? [q.remoteAddr.replace(/:\d+$/, '')] : [])),
    clientEth0: union((q) => q.clientEth0.destinations), hostVeth: union((q) => q.hostVeth.destinations), nodeNetdev: union((q) => q.nodeNetdev.destinations),
    work,
  };
}

function hostIfname(lab: Lab, step: TrafficStep): string {
  return lab.cluster.podContext(step.namespace, step.pod!).netns.device('eth0')?.peer?.name ?? 'veth';
}

async function stateOf(lab: Lab): Promise<NodeState[]> {
  const cips = new Set(lab.services('default').concat(lab.services('kube-system')).map((s) => s.clusterIP));
  const [ct, cct, nat] = await Promise.all([lab.conntrack(), lab.ciliumCt(), lab.ciliumNat()]);
  return lab.nodes().map((node) => ({
    node, conntrack: ct.filter((e) => e.node === node).length, conntrackToClusterIP: ct.filter((e) => e.node === node && cips.has(e.orig.dst)).length,
    ciliumCt: cct.filter((e) => e.node === node).length, ciliumNat: nat.filter((e) => e.node === node).length,
    lines: [...ct, ...cct, ...nat].filter((e) => e.node === node).slice(0, STATE_LINES).map((e) => e.line),
  }));
}

/** The default traffic: 10 curls to each service of the default namespace (but `kubernetes`) from a pod no service selects. */
export function defaultTraffic(lab: Lab): TrafficStep[] {
  const services = lab.services('default').filter((s) => s.name !== 'kubernetes' && Object.keys(s.selector).length > 0 && s.ports.some((p) => p.protocol === 'TCP'));
  const backends = new Set(services.flatMap((s) => lab.backends(s.name).map((p) => p.name)));
  const pods = lab.pods('default');
  const client = pods.find((p) => !backends.has(p.name)) ?? pods[0];
  if (!client) return [];
  return services.map((s) => ({ pod: client.name, namespace: 'default', argv: ['curl', '-s', '--connect-timeout', '2', `${s.name}:${s.ports.find((p) => p.protocol === 'TCP')!.port}`], repeat: 10 }));
}

/** Parse `--datapaths a,b`: each a short form, `cilium:socketLB=false` for Cilium without socket LB. */
export function parseVariants(text: string): Variant[] {
  const out = text.split(',').map((s) => s.trim()).filter((s) => s).map((label): Variant => {
    const [datapath, opt] = label.split(':', 2) as [string, string | undefined];
    if (opt === undefined) return { label, datapath };
    const m = /^socketLB=(true|false)$/.exec(opt);
    if (!m) throw new Error(`--datapaths: "${label}": the one option is socketLB=true|false`);
    return { label, datapath, socketLB: m[1] === 'true' };
  });
  if (out.length < 2 || out.length > 4) throw new Error('--datapaths: want 2 to 4 datapaths, comma-separated');
  return out;
}

export interface CompareOptions {
  variants?: Variant[];
  /** Steps to run; default: defaultTraffic of the first variant's cluster. */
  traffic?: TrafficStep[];
  seed?: number;
}

function overrideOf(v: Variant): DatapathOverride {
  return { datapath: v.datapath, ...(v.socketLB !== undefined ? { socketLB: v.socketLB } : {}) };
}

export const DEFAULT_VARIANTS: Variant[] = [{ label: 'cilium', datapath: 'cilium' }, { label: 'iptables', datapath: 'iptables' }];

/** Build the cluster once per variant, run the traffic on each, collect the report. Throws ClusterError on bad input. */
export async function compare(clusterYaml: string, opts: CompareOptions = {}): Promise<CompareReport> {
  const variants = opts.variants ?? DEFAULT_VARIANTS;
  const seed = opts.seed ?? 1;
  const infos: VariantInfo[] = [];
  const steps: StepReport[] = [];
  let traffic = opts.traffic;
  // Every variant's datapath checked before the first cluster is built.
  for (const v of variants) withDatapath(clusterYaml, overrideOf(v));
  for (const v of variants) {
    const lab = Lab.fromYaml(clusterYaml, { ...overrideOf(v), seed });
    try {
      traffic ??= defaultTraffic(lab);
      const name = namer(lab);
      const services = [...lab.services('default'), ...lab.services('kube-system')];
      for (const [i, step] of traffic.entries()) {
        const res = await runStep(lab, v.label, step, name);
        if (!steps[i]) {
          const svc = targetService(step.argv, services, new Set(lab.nodes().map((n) => ipOfNode(lab, n))));
          steps[i] = {
            ...(step.node !== undefined ? { node: step.node } : { pod: step.pod }), namespace: step.namespace, command: step.argv.join(' '), repeat: step.repeat, results: [],
            ...(svc ? { service: { name: svc.name, type: svc.type, clusterIP: svc.clusterIP, sessionAffinity: svc.sessionAffinity, ...(svc.externalTrafficPolicy ? { externalTrafficPolicy: svc.externalTrafficPolicy } : {}), backends: lab.backends(svc.name, svc.namespace).map((p) => p.name) } } : {}),
          };
        }
        steps[i]!.results.push(res);
      }
      infos.push({ label: v.label, ...lab.datapath, state: await stateOf(lab) });
    } finally { lab.close(); }
  }
  return { seed, variants: infos, steps };
}
