// The kernel side of BPF helpers: bpf_fib_lookup, ktime, prandom, mono time.

import { BPF_FIB_LKUP_RET_NO_NEIGH, BPF_FIB_LKUP_RET_SUCCESS, type FibResult } from '../bpf/ctx.ts';
import type { KernelHelpers } from '../bpf/program.ts';
import type { LinuxNode } from './node.ts';

/** BPF_FIB_LKUP_RET_NOT_FWDED: no route, or the destination is local. */
export const BPF_FIB_LKUP_RET_NOT_FWDED = 4;
const ZERO_MAC = new Uint8Array(6);

export function makeHelpers(node: LinuxNode): KernelHelpers {
  // One result per kernel, overwritten by each call: like the struct bpf_fib_lookup a
  // program passes in, it is read right away (no allocation per packet).
  const res: FibResult = { ret: 0, ifindex: 0, smac: ZERO_MAC, dmac: ZERO_MAC };
  const fib = (ret: number, ifindex: number, smac: Uint8Array, dmac: Uint8Array): FibResult => {
    res.ret = ret; res.ifindex = ifindex; res.smac = smac; res.dmac = dmac;
    return res;
  };
  return {
    fibLookup(ifindex: number, saddr: number, daddr: number): FibResult {
      const dev = node.deviceByIndexInternal(ifindex);
      const ns = dev ? dev.netns : node.hostNs;
      const r = ns.isLocal(daddr) ? undefined : ns.lookupRoute(daddr);
      const out = r ? ns.byIndex.get(r.ifindex) : undefined;
      if (!r || !out) return fib(BPF_FIB_LKUP_RET_NOT_FWDED, 0, ZERO_MAC, ZERO_MAC);
      if (out.kind === 'vxlan' || out.kind === 'dummy' || out.kind === 'loopback') {
        return fib(BPF_FIB_LKUP_RET_SUCCESS, out.ifindex, out.mac, ZERO_MAC);
      }
      // Unlike the real helper we also start ARP, so the next packet finds the neighbour.
      const mac = ns.neigh.lookupOrResolve(out, r.gateway || daddr, saddr);
      if (!mac) return fib(BPF_FIB_LKUP_RET_NO_NEIGH, out.ifindex, out.mac, ZERO_MAC);
      return fib(BPF_FIB_LKUP_RET_SUCCESS, out.ifindex, out.mac, mac);
    },
    ktimeNs: () => node.sim.now(),
    prandomU32: () => node.rng.u32(),
    monoSeconds: () => Math.floor(node.sim.now() / 1e9),
  };
}
