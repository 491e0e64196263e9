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
}

export interface StepReport {
  pod: string; namespace: string; command: string; repeat: number;
  /** The service the command targets (by name or ClusterIP in its arguments), with its backends. */
  service?: { name: string; clusterIP: string; sessionAffinity: string; backends: string[] };
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
  for (const n of lab.nodes()) names.set(ipOfNode(lab, n), `node ${n}`);
  for (const ns of ['default', 'kube-system']) {
    for (const p of lab.pods(ns)) if (!names.has(p.ip)) names.set(p.ip, `pod ${p.name}`);
    for (const s of lab.services(ns)) if (s.clusterIP && s.clusterIP !== 'None') names.set(s.clusterIP, `ClusterIP ${s.name}`);
  }
  return (ip) => names.get(ip) ?? ip;
}

function ipOfNode(lab: Lab, node: string): string {
  const n = lab.cluster.spec.nodes.find((x) => x.name === node)!;
  return [24, 16, 8, 0].map((s) => (n.ip >>> s) & 255).join('.');
}

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

/** The service a command line names (host of a URL, name, name.ns..., or ClusterIP). */
function targetService(argv: string[], services: ServiceInfo[]): ServiceInfo | undefined {
  const hosts = argv.slice(1).filter((a) => !a.startsWith('-')).map((a) => a.replace(/^\w+:\/\//, '').split(/[:/]/)[0]!);
  return services.find((s) => hosts.some((h) => h === s.clusterIP || h === s.name || h.startsWith(`${s.name}.`)));
}

function whoami(stdout: string): { backend?: string; remoteAddr?: string } {
  const host = /^Hostname: (\S+)$/m.exec(stdout)?.[1];
  const remote = /^RemoteAddr: (\S+)$/m.exec(stdout)?.[1];
  return { ...(host ? { backend: host } : {}), ...(remote ? { remoteAddr: remote } : {}) };
}

async function runStep(lab: Lab, label: string, step: TrafficStep, name: (ip: string) => string): Promise<StepResult> {
  const client: PodInfo = lab.pod(step.pod, step.namespace);
  const netdev = lab.cluster.spec.netdev;
  const requests: RequestResult[] = [];
  for (let i = 0; i < step.repeat; i++) {
    const eth0 = lab.capture({ pod: step.pod, namespace: step.namespace });
    const veth = lab.capture({ pod: step.pod, namespace: step.namespace, hostSide: true });
    const dev = lab.capture({ node: client.node, ifname: netdev });
    const r = await lab.exec(step.pod, step.argv, step.namespace);
    eth0.stop(); veth.stop(); dev.stop();
    requests.push({
      exitCode: r.exitCode, ...whoami(r.stdout),
      clientEth0: { device: `${step.pod} eth0`, destinations: destinations(eth0.packets(), name) },
      // Leaving the pod is arriving on its host side: what the node receives there.
      hostVeth: { device: `${client.node} ${hostIfname(lab, step)}`, destinations: destinations(veth.packets().map((p) => ({ ...p, dir: p.dir === 'in' ? 'out' : 'in' })), name) },
      nodeNetdev: { device: `${client.node} ${netdev}`, destinations: destinations(dev.packets(), name) },
    });
  }
  const distribution: Record<string, number> = {};
  for (const q of requests) if (q.backend) distribution[q.backend] = (distribution[q.backend] ?? 0) + 1;
  const union = (f: (q: RequestResult) => string[]) => [...new Set(requests.flatMap(f))];
  return {
    variant: label, requests, answered: requests.filter((q) => q.exitCode === 0).length,
    distribution: Object.fromEntries(Object.entries(distribution).sort(([a], [b]) => a.localeCompare(b))),
    clientAddrs: union((q) => (q.remoteAddr ? [q.remoteAddr.replace(/:\d+$/, '')] : [])),
    clientEth0: union((q) => q.clientEth0.destinations), hostVeth: union((q) => q.hostVeth.destinations), nodeNetdev: union((q) => q.nodeNetdev.destinations),
  };
}

function hostIfname(lab: Lab, step: TrafficStep): string {
  return lab.cluster.podContext(step.namespace, step.pod).netns.device('eth0')?.peer?.name ?? 'veth';
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
          const svc = targetService(step.argv, services);
          steps[i] = {
            pod: step.pod, namespace: step.namespace, command: step.argv.join(' '), repeat: step.repeat, results: [],
            ...(svc ? { service: { name: svc.name, clusterIP: svc.clusterIP, sessionAffinity: svc.sessionAffinity, backends: lab.backends(svc.name, svc.namespace).map((p) => p.name) } } : {}),
          };
        }
        steps[i]!.results.push(res);
      }
      infos.push({ label: v.label, ...lab.datapath, state: await stateOf(lab) });
    } finally { lab.close(); }
  }
  return { seed, variants: infos, steps };
}
