// Shared pieces of the acceptance tests: build the seed lab in a routing /
// LB mode, run commands as a user would (kubectl, node shell), record frames
// and decode the few header fields the tests assert on.

import { readFileSync } from 'node:fs';
import { Cluster } from '../../src/cluster/cluster.ts';
import type { CapturedFrame, ExecResult } from '../../src/cluster/facade.ts';
import { LABS } from '../../src/cluster/labs/index.ts';

export interface LabOptions { seed?: number; routing?: 'native' | 'tunnel'; socketLB?: boolean }

/** The seed-003 lab; routing and socket LB switched in its YAML as a user would. */
export function seedLab(opts: LabOptions = {}): Cluster {
  let yaml = LABS.cilium!;
  if (opts.routing === 'tunnel') yaml = yaml.replace('routing: native', 'routing: tunnel');
  if (opts.socketLB === false) yaml = yaml.replace('socketLB: true', 'socketLB: false');
  return Cluster.fromYaml(yaml, { seed: opts.seed ?? 3 });
}

export function scenario(name: string): string {
  return readFileSync(new URL(`../scenarios/${name}`, import.meta.url), 'utf8');
}

/** One command of a transcript in test/scenarios: `$ [@node] command`, then its output lines. */
export interface Step { node: string; cmd: string; expected: string[] }

/** The steps of a transcript; the node defaults to k8s-s, `#` lines are comments. */
export function transcript(text: string): Step[] {
  const steps: Step[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const m = /^\$ (?:@(\S+) )?(.*)$/.exec(line);
    if (m) steps.push({ node: m[1] ?? 'k8s-s', cmd: m[2]!, expected: [] });
    else steps[steps.length - 1]!.expected.push(line);
  }
  return steps;
}

/** A step's argv as a user types it: a pipeline runs in the node's shell. */
export const stepArgv = (cmd: string): string[] => (cmd.includes('|') ? ['sh', '-c', cmd] : cmd.split(' '));

export const kubectl = (c: Cluster, argv: string[], stdin?: string): Promise<ExecResult> => c.sim.settle(c.kubectl(argv, stdin));
export const inPod = (c: Cluster, pod: string, cmd: string[]): Promise<ExecResult> => kubectl(c, ['exec', pod, '--', ...cmd]);
export const onNode = (c: Cluster, node: string, cmd: string[]): Promise<ExecResult> => c.sim.settle(c.nodeExec(node, cmd));

/** Let in-flight packets (FIN exchanges, delayed ACKs) finish. */
export const drain = (c: Cluster, ns = 50e6): Promise<void> => c.sim.settle(c.sim.sleep(ns));

/** Frames seen on node/ifname until stop(). */
export function record(c: Cluster, node: string, ifname: string): { frames: CapturedFrame[]; stop: () => void } {
  const frames: CapturedFrame[] = [];
  const stop = c.capture(node, ifname, (f) => frames.push({ ...f, frame: f.frame.slice() }));
  return { frames, stop };
}

export const ETH_IPV4 = 0x0800;
export const IPPROTO_ICMP = 1, IPPROTO_TCP = 6, IPPROTO_UDP = 17;

export interface Ip4 { src: string; dst: string; proto: number; ttl: number; l4: number; sport: number; dport: number; tcpFlags: number; payload: number }

const be16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const ip = (b: Uint8Array, o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

/** IPv4 header fields of an Ethernet frame starting at `off` (0 for the outer frame), or null. */
export function ip4(b: Uint8Array, off = 0): Ip4 | null {
  if (b.length < off + 34 || be16(b, off + 12) !== ETH_IPV4) return null;
  const o = off + 14, ihl = (b[o]! & 15) * 4, l4 = o + ihl, proto = b[o + 9]!;
  const totalLen = be16(b, o + 2);
  const ports = proto === IPPROTO_TCP || proto === IPPROTO_UDP;
  const l4hl = proto === IPPROTO_TCP ? (b[l4 + 12]! >> 4) * 4 : proto === IPPROTO_UDP ? 8 : 0;
  return {
    src: ip(b, o + 12), dst: ip(b, o + 16), proto, ttl: b[o + 8]!, l4,
    sport: ports ? be16(b, l4) : 0, dport: ports ? be16(b, l4 + 2) : 0,
    tcpFlags: proto === IPPROTO_TCP ? b[l4 + 13]! : 0, payload: totalLen - ihl - l4hl,
  };
}

export const VXLAN_PORT = 8472;
/** VNI and offset of the inner Ethernet frame of a VXLAN-over-UDP frame, or null. */
export function vxlan(b: Uint8Array): { vni: number; inner: number } | null {
  const h = ip4(b);
  if (!h || h.proto !== IPPROTO_UDP || h.dport !== VXLAN_PORT) return null;
  const v = h.l4 + 8;
  return { vni: (b[v + 4]! << 16) | (b[v + 5]! << 8) | b[v + 6]!, inner: v + 8 };
}

/** Chi-square statistic of observed counts against a uniform split. */
export function chiSquareUniform(counts: number[]): number {
  const n = counts.reduce((a, b) => a + b, 0), e = n / counts.length;
  return counts.reduce((s, o) => s + (o - e) ** 2 / e, 0);
}
/** Critical value of chi-square with 2 degrees of freedom at p = 0.001. */
export const CHI2_DF2_P001 = 13.816;

/** `uniq -c` lines ("    343 Hostname: x") as name -> count. */
export function uniqCounts(out: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of out.split('\n')) {
    const r = /^\s*(\d+) Hostname: (\S+)$/.exec(line);
    if (r) m.set(r[2]!, Number(r[1]));
  }
  return m;
}

/** A pod's host-side veth, found as a user would: eth0@ifN in the pod, N: lxc...@ifM on the node. */
export async function podVeth(c: Cluster, pod: string, node: string): Promise<string | undefined> {
  const m = /^(\d+): eth0@if(\d+):/m.exec((await inPod(c, pod, ['ip', 'link', 'show', 'eth0'])).stdout);
  if (!m) return undefined;
  return new RegExp(`^${m[2]}: (lxc[0-9a-f]{12})@if${m[1]}:`, 'm').exec((await onNode(c, node, ['ip', 'link'])).stdout)?.[1];
}
