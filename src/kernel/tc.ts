// `tc` (iproute2), read side, as far as a Cilium node shows anything: the
// root qdiscs (fq_codel on the uplink, noqueue on virtual devices) and
// filters. Cilium attaches its programs through tcx links, which are not tc
// filters: `tc filter show` lists none, and `bpftool net show` is where they
// appear. A single-queue uplink stands in for a multi-queue NIC's mq + fq_codel per queue.

import type { NetDevice } from './api.ts';
import type { NetnsImpl } from './netns.ts';
import type { Device } from './device.ts';

export interface TcResult { stdout: string; stderr: string; exitCode: number }

const ok = (stdout: string): TcResult => ({ stdout, stderr: '', exitCode: 0 });
const fail = (stderr: string, exitCode = 1): TcResult => ({ stdout: '', stderr, exitCode });
const isPrefix = (w: string, full: string): boolean => w.length > 0 && full.startsWith(w);

function qdiscLine(d: NetDevice): string {
  // A NIC's fq_codel; a veth uplink (a kind node's eth0) is queueless like any veth.
  if (d.kind === 'netdev' && !(d as Device).hostPeer) return `qdisc fq_codel 0: dev ${d.name} root refcnt 2 limit 10240p flows 1024 quantum ${d.mtu + 14} target 5ms interval 100ms memory_limit 32Mb ecn drop_batch 64 \n`;
  return `qdisc noqueue 0: dev ${d.name} root refcnt 2 \n`;
}

/** `tc [-s] qdisc|filter show [dev X] [ingress|egress]`. */
export function runTc(ns: NetnsImpl, args: string[]): TcResult {
  const words = args.filter((a) => !/^-(s|stats|statistics|d|details|p|pretty)$/.test(a));
  const opt = words.find((w) => w.startsWith('-'));
  if (opt) return fail(`Option "${opt}" is unknown, try "tc -help".\n`, 255);
  const [obj, cmd = 'show', ...rest] = words;
  if (obj === undefined) return fail('Usage: tc [ OPTIONS ] OBJECT { COMMAND | help }\n', 0);
  let dev: NetDevice | undefined;
  const devAt = rest.indexOf('dev');
  if (devAt >= 0) {
    const name = rest[devAt + 1];
    dev = name === undefined ? undefined : ns.devices.get(name);
    if (!dev) return fail(`Cannot find device "${name ?? ''}"\n`);
  }
  if (!['show', 'list', 'ls'].includes(cmd)) return fail(`Command "${cmd}" is unknown, try "tc ${obj} help".\n`);
  const devs = dev ? [dev] : [...ns.devices.values()].sort((a, b) => a.ifindex - b.ifindex);
  if (isPrefix(obj, 'qdisc')) return ok(devs.map(qdiscLine).join(''));
  if (isPrefix(obj, 'filter')) {
    if (!dev) return fail('Must specify either device or block\n', 255);
    return ok('');
  }
  return fail(`Object "${obj}" is unknown, try "tc help".\n`);
}
