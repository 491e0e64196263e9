// pktgen-style traffic for datapath benches: a TCP frame a pod's socket sent
// (captured once on its eth0) is copied with another destination, source
// port or flags, the IP and TCP checksums updated as nf_nat does, and handed
// to dev_queue_xmit on that eth0; a tc ingress program on the destination
// pod's eth0 counts and drops what arrives (before IP input and sockets).

import type { Cluster } from '../../src/cluster/cluster.ts';
import type { Netns } from '../../src/kernel/api.ts';
import type { Device } from '../../src/kernel/device.ts';
import type { LinuxNode } from '../../src/kernel/node.ts';
import { devXmit } from '../../src/kernel/path.ts';
import { TC_ACT_SHOT } from '../../src/bpf/ctx.ts';
import { defineProgram } from '../../src/bpf/define.ts';
import { readPkt, writeNat } from '../../src/netfilter/packet.ts';
import { readU16, writeU16 } from '../../src/wire/addr.ts';
import { allocBytes } from '../../src/wire/alloc.ts';
import { csumReplace } from '../../src/wire/checksum.ts';
import { ETH_HLEN } from '../../src/wire/ethernet.ts';
import { newSkb } from '../../src/wire/skb.ts';

export const SYN = 0x02, ACK = 0x10;

/** The first TCP SYN `client` sends to dst:port (a connect that is left to fail or finish). */
export function captureSyn(cluster: Cluster, node: string, client: Netns, dst: number, port: number): Uint8Array {
  const eth0 = client.device('eth0') as Device;
  let syn: Uint8Array | null = null;
  const stop = (cluster.kernel(node) as LinuxNode).capture(eth0, (f, dir) => {
    if (syn !== null || dir !== 'out' || f.length < ETH_HLEN + 40 || f[12] !== 0x08 || f[13] !== 0x00 || f[ETH_HLEN + 9] !== 6) return;
    if ((f[ETH_HLEN + (f[ETH_HLEN]! & 15) * 4 + 13]! & 0x3f) === SYN) syn = f.slice();
  });
  void client.sockets.tcpConnect({ ip: dst, port }).catch(() => {});
  cluster.sim.runSync();
  stop();
  if (syn === null) throw new Error('no SYN captured');
  return syn;
}

/** A copy of tcp frame `f` to dst:dport from source port sport with TCP flags `flags`, checksums fixed. */
export function retarget(f: Uint8Array, dst: number, dport: number, sport: number, flags: number): Uint8Array {
  const out = f.slice();
  const p = readPkt(out, ETH_HLEN, '', '')!;
  p.dst = dst; p.dport = dport; p.sport = sport;
  writeNat(out, ETH_HLEN, p);
  const l4 = ETH_HLEN + (out[ETH_HLEN]! & 15) * 4, cs = l4 + 16;
  const old = readU16(out, l4 + 12), now = (old & 0xffc0) | flags;
  writeU16(out, cs, csumReplace(readU16(out, cs), old, now, 2));
  writeU16(out, l4 + 12, now);
  return out;
}

/** Counts (and drops) frames arriving at `sink`'s eth0; detach() removes the program. */
export function countAt(cluster: Cluster, node: string, sink: Netns): { got(): number; detach(): void } {
  let n = 0;
  const k = cluster.kernel(node) as LinuxNode, into = sink.device('eth0') as Device;
  const link = k.attachTcx(into, 'ingress', defineProgram({ id: 0x7ffe0000, name: 'bench_count_drop', run: () => { n++; return TC_ACT_SHOT; } }));
  return { got: () => n, detach: () => k.detachTcx(into, 'ingress', link) };
}

/** Sends copies of `frames` (in order, from index `from`, `count` of them) out of `client`'s eth0 in bursts of 500, the sim run after each. */
export function xmit(cluster: Cluster, client: Netns, frames: readonly Uint8Array[], from: number, count: number): void {
  const eth0 = client.device('eth0') as Device;
  for (let i = 0; i < count; i += 500) {
    const end = Math.min(count, i + 500);
    for (let j = i; j < end; j++) {
      const t = frames[(from + j) % frames.length]!;
      const c = allocBytes(t.length); c.set(t);
      devXmit(eth0, newSkb(c, c.length, eth0.ifindex), 0);
    }
    cluster.sim.runSync();
  }
}
