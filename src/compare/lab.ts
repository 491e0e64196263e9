// The library API users' own tests build on (exported from the package as
// `Lab`): a cluster from a YAML file or string with a chosen datapath and seed,
// apply, exec, captures, connection state and counters, teardown. A thin
// wrapper over the Cluster (src/cluster): everything goes through its facade
// and the nodes' own tools, so a test reads what a user at the node would.

import { readFileSync } from 'node:fs';
import { Cluster } from '../cluster/cluster.ts';
import { ClusterError, type CapturedFrame, type ExecResult } from '../cluster/facade.ts';
import { LABS } from '../cluster/labs/index.ts';
import { pcapFile } from '../wire/pcap.ts';
import { TcpdumpFormatter } from '../wire/tcpdump.ts';
import { withDatapath } from './datapath_doc.ts';
import { decodeFrame, type Packet } from './packets.ts';
import { parseCiliumCt, parseCiliumMetrics, parseCiliumNat, parseConntrack, parseIptablesCounters, type CiliumCtEntry, type ConntrackEntry, type Counter } from './state.ts';
import { startWork, type DatapathWork } from './work.ts';

export interface LabOptions {
  /** Datapath short form replacing the file's (`cilium`, `iptables`); omitted: the file's own (default cilium). */
  datapath?: string;
  /** Cilium's socket LB on or off, replacing the file's `socketLB`. */
  socketLB?: boolean;
  /** Seed of every random choice (IPs, ports, backend picks); same seed and YAML, same run. Default 1. */
  seed?: number;
  /** Run Hubble beside a Cilium CNI (default false: lighter). */
  hubble?: boolean;
}

/** Where to capture: a node's device, or a pod's own interface (default eth0), or with `hostSide` its veth peer on the node (lxc..., veth...). */
export type CaptureTarget = { node: string; ifname: string } | { pod: string; namespace?: string; ifname?: string; hostSide?: boolean };

/** A running capture: frames as they cross the device, both directions. */
export class Capture {
  readonly frames: CapturedFrame[] = [];
  private stopFn: (() => void) | undefined;
  constructor(start: (cb: (f: CapturedFrame) => void) => () => void, private readonly max: number) {
    this.stopFn = start((f) => { if (this.frames.length < this.max) this.frames.push({ ...f, frame: f.frame.slice() }); });
  }
  /** Stop capturing (idempotent); frames stay readable. */
  stop(): void { this.stopFn?.(); this.stopFn = undefined; }
  /** The frames as a pcap file (microsecond, Ethernet), as `tcpdump -w` writes it. */
  pcap(): Uint8Array { return pcapFile(this.frames); }
  /** The IPv4 packets, decoded (ARP and IPv6 left out). */
  packets(): Packet[] { return this.frames.flatMap((f) => decodeFrame(f.frame, f.dir, f.wallMs) ?? []); }
  /** One `tcpdump -nn` line per frame. */
  lines(): string[] { const t = new TcpdumpFormatter(); return this.frames.map((f) => t.format(f.frame, f.wallMs)); }
}

/** A pod's address and node. */
export interface PodInfo { name: string; namespace: string; ip: string; node: string; labels: Record<string, string> }
/** A Service as the datapaths see it. */
export interface ServiceInfo {
  name: string; namespace: string; type: string; clusterIP: string; sessionAffinity: string; externalTrafficPolicy?: string; selector: Record<string, string>;
  ports: Array<{ name?: string; port: number; protocol: string; nodePort?: number }>;
}

/** Frames one capture keeps at most. */
export const CAPTURE_MAX_FRAMES = 100_000;

export class Lab {
  /** Build from a multi-document YAML (a Cluster document, dplab or kind, and manifests). Throws ClusterError on bad input. */
  static fromYaml(text: string, opts: LabOptions = {}): Lab {
    const yaml = withDatapath(text, { datapath: opts.datapath, socketLB: opts.socketLB });
    return new Lab(Cluster.fromYaml(yaml, { seed: opts.seed ?? 1, hubble: opts.hubble ? {} : false }));
  }
  static fromFile(path: string, opts: LabOptions = {}): Lab { return Lab.fromYaml(readFileSync(path, 'utf8'), opts); }
  /** An embedded lab (`cilium`, `kind`, `kind-iptables`), optionally on another datapath. */
  static lab(name: string, opts: LabOptions = {}): Lab {
    const text = LABS[name];
    if (text === undefined) throw new ClusterError(`unknown lab "${name}" (known: ${Object.keys(LABS).join(', ')})`, 404, 'lab');
    return Lab.fromYaml(text, opts);
  }

  private readonly captures = new Set<Capture>();
  /** The cluster itself, for what this wrapper does not cover. */
  constructor(readonly cluster: Cluster) {}

  /** The assembled datapath: CNI, service proxy, routing, and whether Cilium's socket LB is in effect (only with its own service proxy). */
  get datapath(): { cni: string; serviceProxy: string; routing: string; socketLB: boolean } {
    const s = this.cluster.spec;
    return { cni: s.cni, serviceProxy: s.serviceProxy, routing: s.routing, socketLB: s.socketLB && s.serviceProxy === 'cilium' };
  }
  nodes(): string[] { return this.cluster.nodeNames(); }

  /** Apply / delete manifests; kubectl's lines. All-or-nothing; throws ClusterError on bad input. */
  apply(yaml: string): string[] { return this.cluster.apply(yaml); }
  delete(yaml: string): string[] { return this.cluster.delete(yaml); }
  kubectl(argv: string[], stdin?: string): Promise<ExecResult> { return this.cluster.kubectl(argv, stdin); }

  /** Run a command in a pod (`kubectl exec POD -- argv`); a string is split on blanks. */
  exec(pod: string, argv: string[] | string, namespace = 'default'): Promise<ExecResult> {
    return this.cluster.exec(namespace, pod, typeof argv === 'string' ? argv.trim().split(/\s+/) : argv);
  }
  /** Run a command on a node (ip, iptables, conntrack, cilium-dbg...). */
  nodeExec(node: string, argv: string[] | string): Promise<ExecResult> {
    return this.cluster.nodeExec(node, typeof argv === 'string' ? argv.trim().split(/\s+/) : argv);
  }

  pod(name: string, namespace = 'default'): PodInfo {
    const p = this.cluster.api.get('Pod', namespace, name);
    if (!p?.status?.podIP) throw new ClusterError(`pod "${namespace}/${name}" not found or not running`, 404, 'pod');
    return { name, namespace, ip: p.status.podIP, node: p.spec.nodeName, labels: { ...(p.metadata.labels ?? {}) } };
  }
  pods(namespace = 'default'): PodInfo[] {
    return this.cluster.api.list('Pod', namespace).filter((p) => p.status?.podIP).map((p) => this.pod(p.metadata.name, namespace));
  }
  service(name: string, namespace = 'default'): ServiceInfo {
    const s = this.cluster.api.get('Service', namespace, name);
    if (!s) throw new ClusterError(`service "${namespace}/${name}" not found`, 404, 'service');
    return {
      name, namespace, type: s.spec.type ?? 'ClusterIP', clusterIP: s.spec.clusterIP, sessionAffinity: s.spec.sessionAffinity ?? 'None',
      ...(s.spec.externalTrafficPolicy ? { externalTrafficPolicy: s.spec.externalTrafficPolicy } : {}), selector: { ...(s.spec.selector ?? {}) },
      ports: (s.spec.ports ?? []).map((p: { name?: string; port: number; protocol?: string; nodePort?: number }) => ({
        ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol ?? 'TCP', ...(p.nodePort ? { nodePort: p.nodePort } : {}),
      })),
    };
  }
  services(namespace = 'default'): ServiceInfo[] { return this.cluster.api.list('Service', namespace).map((s) => this.service(s.metadata.name, namespace)); }
  /** Pods a service selects (its backends). */
  backends(name: string, namespace = 'default'): PodInfo[] {
    const sel = Object.entries(this.service(name, namespace).selector);
    if (sel.length === 0) return [];
    return this.pods(namespace).filter((p) => sel.every(([k, v]) => p.labels[k] === v));
  }

  /** Start capturing on a node device or a pod's interface; stop() it, then read frames, pcap(), packets(), lines(). */
  capture(where: CaptureTarget): Capture {
    let start: (cb: (f: CapturedFrame) => void) => () => void;
    if ('pod' in where) {
      const ns = where.namespace ?? 'default';
      const ctx = this.cluster.podContext(ns, where.pod);
      const ifname = where.ifname ?? 'eth0';
      const own = ctx.netns.device(ifname);
      if (!own) throw new ClusterError(`${ifname}: No such device exists in pod ${ns}/${where.pod}`, 404, 'ifname');
      const dev = where.hostSide ? own.peer : own;
      if (!dev) throw new ClusterError(`${ifname} of pod ${ns}/${where.pod} has no veth peer`, 404, 'ifname');
      const k = this.cluster.kernel(ctx.nodeName);
      start = (cb) => k.capture(dev, (frame, dir, tsNs) => cb({ frame, dir, tsNs, wallMs: this.cluster.sim.epochMs + tsNs / 1e6 }));
    } else start = (cb) => this.cluster.capture(where.node, where.ifname, cb);
    const c = new Capture(start, CAPTURE_MAX_FRAMES);
    this.captures.add(c);
    return c;
  }

  private async tool(node: string, argv: string[]): Promise<string | undefined> {
    const r = await this.cluster.nodeExec(node, argv);
    return r.exitCode === 0 ? r.stdout : undefined;
  }
  private each<T>(node: string | undefined, f: (n: string) => Promise<T[]>): Promise<T[]> {
    return Promise.all((node === undefined ? this.nodes() : [node]).map(f)).then((x) => x.flat());
  }

  /** nf_conntrack entries (`conntrack -L`) of one node or all; none on nodes without netfilter (Cilium with its own service proxy). */
  conntrack(node?: string): Promise<ConntrackEntry[]> {
    return this.each(node, async (n) => parseConntrack(n, (await this.tool(n, ['conntrack', '-L'])) ?? ''));
  }
  /** Cilium's CT entries (`cilium-dbg bpf ct list global`) of one node or all; none without a Cilium CNI. */
  ciliumCt(node?: string): Promise<CiliumCtEntry[]> {
    if (this.cluster.spec.cni !== 'cilium') return Promise.resolve([]);
    return this.each(node, async (n) => parseCiliumCt(n, (await this.tool(n, ['cilium-dbg', 'bpf', 'ct', 'list', 'global'])) ?? ''));
  }
  /** Cilium's NAT entries (`cilium-dbg bpf nat list`, one line each) of one node or all. */
  ciliumNat(node?: string): Promise<Array<{ node: string; line: string }>> {
    if (this.cluster.spec.cni !== 'cilium') return Promise.resolve([]);
    return this.each(node, async (n) => parseCiliumNat((await this.tool(n, ['cilium-dbg', 'bpf', 'nat', 'list'])) ?? '').map((line) => ({ node: n, line })));
  }
  /** iptables rule counters (`iptables-save -c`) and Cilium's datapath metrics (`bpf metrics list`) of one node or all. */
  counters(node?: string): Promise<Counter[]> {
    return this.each(node, async (n) => [
      ...parseIptablesCounters(n, (await this.tool(n, ['iptables-save', '-c'])) ?? ''),
      ...(this.cluster.spec.cni === 'cilium' ? parseCiliumMetrics(n, (await this.tool(n, ['cilium-dbg', 'bpf', 'metrics', 'list'])) ?? '') : []),
    ]);
  }

  /**
   * Run fn and report the datapath's work per packet meanwhile, on every node: iptables rules
   * walked per table and hook, Cilium map lookups per map, programs and tail calls, for a
   * connection's first packet and the later ones (what `dplab compare` shows per step).
   */
  async work<T>(fn: () => Promise<T>): Promise<{ result: T; work: DatapathWork }> {
    const stop = startWork(this);
    let result: T;
    try { result = await fn(); } catch (e) { stop(); throw e; }
    return { result, work: stop() };
  }

  /** Stop every capture and app. */
  close(): void {
    for (const c of this.captures) c.stop();
    this.cluster.close();
  }
}
