// The kernel side of BPF helpers: bpf_fib_lookup, ktime, prandom, mono time.

import { BPF_FIB_LKUP_RET_NO_NEIGH, BPF_FIB_LKUP_RET_SUCCESS, type FibResult } from '../bpf/ctx.ts';
import type { KernelHelpers } from '../bpf/program.ts';
import type { LinuxNode } from './node.ts';

/** BPF_FIB_LKUP_RET_NOT_FWDED: no route, or the destination is local. */
export const BPF_FIB_LKUP_RET_NOT_FWDED = 4;
const ZERO_MAC = new Uint8Array(6);

function fib(out: FibResult, ret: number, ifindex: number, nh: number, smac: Uint8Array, dmac: Uint8Array): FibResult {
  out.ret = ret; out.ifindex = ifindex; out.nh = nh; out.smac = smac; out.dmac = dmac;
  return out;
}

export function makeHelpers(node: LinuxNode): KernelHelpers {
  return {
    /**
     * bpf_ipv4_fib_lookup(): route, then the neighbour of the next hop if it is valid.
     * Like the kernel helper it has no side effect: a missing or unresolved neighbour is
     * NO_NEIGH (with the egress ifindex and next hop), and resolution is left to
     * bpf_redirect_neigh() or the stack, after the program returned.
     */
    fibLookup(ifindex: number, _saddr: number, daddr: number, out: FibResult): FibResult {
      const dev = node.deviceByIndexInternal(ifindex);
      const ns = dev ? dev.netns : node.hostNs;
      const r = ns.isLocal(daddr) ? undefined : ns.lookupRoute(daddr);
      const oif = r ? ns.byIndex.get(r.ifindex) : undefined;
      if (!r || !oif) return fib(out, BPF_FIB_LKUP_RET_NOT_FWDED, 0, daddr, ZERO_MAC, ZERO_MAC);
      const nh = r.gateway || daddr;
      if (oif.kind === 'vxlan' || oif.kind === 'dummy' || oif.kind === 'loopback') {
        return fib(out, BPF_FIB_LKUP_RET_SUCCESS, oif.ifindex, nh, oif.mac, ZERO_MAC);
      }
      const mac = ns.neigh.validMac(oif, nh);
      if (mac === undefined) return fib(out, BPF_FIB_LKUP_RET_NO_NEIGH, oif.ifindex, nh, ZERO_MAC, ZERO_MAC);
      return fib(out, BPF_FIB_LKUP_RET_SUCCESS, oif.ifindex, nh, oif.mac, mac);
    },
    ktimeNs: () => node.sim.now(),
    prandomU32: () => node.rng.u32(),
    monoSeconds: () => Math.floor(node.sim.now() / 1e9),
  };
}
