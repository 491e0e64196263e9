// A small in-memory ClusterFacade for API and CLI tests: three nodes, objects
// kept by kind/name, canned command output, captures and monitors fed by hand.

import { ClusterError, type CapturedFrame, type ClusterFacade, type ExecResult, type MonitorLine } from '../../src/cluster/facade.ts';
import type { KernelNode } from '../../src/kernel/api.ts';
import { Sim } from '../../src/sim/sim.ts';
import { buildIcmpEchoFrame } from '../../src/wire/build.ts';
import { ipToU32, macFromString } from '../../src/wire/addr.ts';

type Obj = { kind: string; name: string };
const IFACES = ['eth0', 'cilium_host', 'cilium_net', 'cilium_vxlan', 'lxc12345678'];
const IP_LINK = `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP mode DEFAULT group default qlen 1000
    link/ether 0a:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff
`;

/** JSON manifests (an object or a List, as the API passes JSON bodies on) as the YAML parseDocs reads. */
function jsonAsYaml(text: string): string {
  const v = JSON.parse(text) as { kind?: string; metadata?: { name?: string }; items?: Array<{ kind?: string; metadata?: { name?: string } }> };
  return (v.kind === 'List' ? v.items ?? [] : [v]).map((o) => `${o.kind ? `kind: ${o.kind}\n` : ''}metadata:\n${o.metadata?.name ? `  name: ${o.metadata.name}\n` : ''}`).join('---\n');
}

/** Parses `kind:` and `metadata.name:` of each YAML document; throws like the cluster on a bad one. */
function parseDocs(yaml: string): Obj[] {
  if (/^\s*\{/.test(yaml)) yaml = jsonAsYaml(yaml);
  return yaml.split(/^---\s*$/m).filter((d) => d.trim() !== '').map((d, i) => {
    const kind = /^kind:\s*(\S+)/m.exec(d)?.[1];
    const name = /^\s+name:\s*(\S+)/m.exec(d)?.[1];
    if (!kind) throw new ClusterError(`error: error validating data: document ${i + 1}: kind not set`, 400, 'kind');
    if (!name) throw new ClusterError(`error: resource name may not be empty`, 422, 'metadata.name');
    if (kind !== 'Pod' && kind !== 'Service') throw new ClusterError(`error: resource mapping not found for kind "${kind}"`, 400, 'kind');
    return { kind, name };
  });
}

export class FakeCluster implements ClusterFacade {
  readonly name = 'fake';
  readonly sim = new Sim(7);
  readonly objects = new Map<string, Obj>();
  readonly calls: string[] = [];
  private captures: { node: string; iface: string; cb: (f: CapturedFrame) => void }[] = [];
  private monitors: { node: string; cb: (l: MonitorLine) => void }[] = [];

  nodeNames(): string[] { return ['k8s-s', 'k8s-w1', 'k8s-w2']; }
  kernel(_node: string): KernelNode { throw new ClusterError('the fake cluster has no kernels', 501); }

  apply(yaml: string): string[] {
    const docs = parseDocs(yaml);
    return docs.map((o) => {
      const key = `${o.kind.toLowerCase()}/${o.name}`;
      const existed = this.objects.has(key);
      this.objects.set(key, o);
      return `${key} ${existed ? 'unchanged' : 'created'}`;
    });
  }

  delete(yaml: string): string[] {
    const docs = parseDocs(yaml);
    for (const o of docs) if (!this.objects.has(`${o.kind.toLowerCase()}/${o.name}`)) throw new ClusterError(`Error from server (NotFound): ${o.kind.toLowerCase()}s "${o.name}" not found`, 404);
    return docs.map((o) => { const key = `${o.kind.toLowerCase()}/${o.name}`; this.objects.delete(key); return `${key} deleted`; });
  }

  async kubectl(argv: string[], stdin?: string): Promise<ExecResult> {
    this.calls.push(`kubectl ${argv.join(' ')}`);
    await this.sim.settle(this.sim.sleep(1000));
    if (argv[0] === 'get' && argv[1] === 'pods' && argv.includes('wide')) {
      const pods = [...this.objects.values()].filter((o) => o.kind === 'Pod');
      return { stdout: ['NAME      READY   STATUS    RESTARTS   AGE   IP             NODE', ...pods.map((o, i) => `${o.name}  1/1  Running  0  1m  172.16.${i}.${10 + i}  ${this.nodeNames()[i % 3]}`)].join('\n') + '\n', stderr: '', exitCode: 0 };
    }
    if (argv[0] === 'get' && argv[1] === 'pods') {
      const rows = [...this.objects.values()].filter((o) => o.kind === 'Pod').map((o) => `${o.name.padEnd(8)} 1/1     Running   0          1m`);
      if (rows.length === 0) return { stdout: '', stderr: 'No resources found in default namespace.\n', exitCode: 0 };
      return { stdout: ['NAME     READY   STATUS    RESTARTS   AGE', ...rows].join('\n') + '\n', stderr: '', exitCode: 0 };
    }
    if (argv[0] === 'apply' && stdin !== undefined) return { stdout: this.apply(stdin).join('\n') + '\n', stderr: '', exitCode: 0 };
    if (argv[0] === 'exec') return { stdout: '', stderr: 'command terminated with exit code 7\n', exitCode: 7 };
    return { stdout: '', stderr: `error: unknown command "${argv[0] ?? ''}" for "kubectl"\n`, exitCode: 1 };
  }

  async exec(namespace: string, pod: string, argv: string[]): Promise<ExecResult> {
    this.calls.push(`exec ${namespace}/${pod} ${argv.join(' ')}`);
    if (!this.objects.has(`pod/${pod}`)) throw new ClusterError(`pods "${pod}" not found`, 404, 'pod');
    return { stdout: `${pod}: ${argv.join(' ')}\n`, stderr: '', exitCode: 0 };
  }

  async nodeExec(node: string, argv: string[]): Promise<ExecResult> {
    this.calls.push(`node ${node} ${argv.join(' ')}`);
    if (argv[0] === 'ip' && argv[1] === 'link') return { stdout: IP_LINK, stderr: '', exitCode: 0 };
    if (argv[0] === 'ip') return { stdout: `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n`, stderr: '', exitCode: 0 };
    if (argv[0] === 'cilium-dbg' && argv[1] === 'version') return { stdout: 'Client: 1.16.3\n', stderr: '', exitCode: 0 };
    return { stdout: '', stderr: `${argv[0]}: command not found\n`, exitCode: 127 };
  }

  capture(node: string, ifname: string, cb: (f: CapturedFrame) => void): () => void {
    if (!this.nodeNames().includes(node)) throw new ClusterError(`node "${node}" not found`, 404, 'node');
    if (!IFACES.includes(ifname)) throw new ClusterError(`${ifname}: No such device exists (SIOCGIFHWADDR: No such device)`, 404, 'iface');
    const sub = { node, iface: ifname, cb };
    this.captures.push(sub);
    return () => { this.captures = this.captures.filter((s) => s !== sub); };
  }

  /** Only `monitor`, as with Cilium; other streams answer 501 as the real cluster does. */
  events(node: string, stream: string, cb: (l: MonitorLine) => void): () => void {
    if (!this.nodeNames().includes(node)) throw new ClusterError(`node "${node}" not found`, 404, 'node');
    if (stream !== 'monitor') throw new ClusterError(`${stream} is not available on node ${node} (cni fake, service proxy fake)`, 501, stream);
    const sub = { node, cb };
    this.monitors.push(sub);
    return () => { this.monitors = this.monitors.filter((s) => s !== sub); };
  }

  monitor(node: string, cb: (l: MonitorLine) => void): () => void { return this.events(node, 'monitor', cb); }

  /** Number of live capture subscriptions (to check streams unsubscribe on close). */
  captureCount(): number { return this.captures.length; }
  monitorCount(): number { return this.monitors.length; }

  /** Feeds a frame to every capture on node/iface, stamped with the virtual clock. */
  emitFrame(node: string, iface: string, frame: Uint8Array, dir: 'in' | 'out' = 'in'): void {
    const f: CapturedFrame = { frame, tsNs: this.sim.now(), wallMs: this.sim.wallMs(), dir };
    for (const s of this.captures) if (s.node === node && s.iface === iface) s.cb(f);
  }

  emitMonitor(node: string, text: string): void {
    for (const s of this.monitors) if (s.node === node) s.cb({ node, text, wallMs: this.sim.wallMs() });
  }
}

/** A ping request netpod -> webpod1 (seed 003 addresses), as a real Ethernet frame. */
export function pingFrame(seq: number, reply = false): Uint8Array {
  const a = ipToU32('172.16.0.230'), b = ipToU32('172.16.1.111');
  return buildIcmpEchoFrame({
    srcMac: macFromString('0a:00:00:00:00:01'), dstMac: macFromString('0a:00:00:00:00:02'),
    src: reply ? b : a, dst: reply ? a : b, ttl: 64, id: 100 + seq, reply, echoId: 42, seq,
  }, new Uint8Array(56));
}
