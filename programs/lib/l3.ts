// Mirrors bpf/lib/l3.h ipv4_local_delivery() and bpf/lib/fib.h
// fib_redirect_v4(): the two ways a program forwards a packet itself.

import { runLocal, type Runtime } from '../../src/bpf/program.ts';
import type { SkBuff } from '../../src/wire/skb.ts';
import { BPF_FIB_LKUP_RET_SUCCESS, BPF_FIB_LKUP_RET_NO_NEIGH, type FibResult } from '../../src/bpf/ctx.ts';
import { ipDecTtl } from '../../src/wire/ipv4.ts';
import type { DatapathEnv } from './common.ts';
import { CB_SRC_LABEL, CB_IFINDEX, CB_ORIG_SADDR, DROP_MISSED_TAIL_CALL, DROP_TTL_EXCEEDED, FILE_LOCAL_DELIVERY } from './common.ts';
import { epIfindex, epLxcId, epSetMacs } from './eps.ts';
import { u32be } from './bytes.ts';
import { sendDropNotify } from './drop.ts';

const ETH_HLEN = 14;

/**
 * ipv4_local_delivery(): rewrite MACs, decrement TTL, stash the source
 * identity in cb and tail-call the destination's cil_lxc_policy.
 */
export function ipv4LocalDelivery(ctx: SkBuff, rt: Runtime, env: DatapathEnv, ep: Uint8Array, srcLabel: number,
  source: number, dstIdentity: number, dir: number): number {
  const d = ctx.data;
  if (d[ETH_HLEN + 8]! <= 1) return sendDropNotify(ctx, rt, env, source, srcLabel, dstIdentity, 0, DROP_TTL_EXCEEDED, dir, FILE_LOCAL_DELIVERY, 0);
  epSetMacs(d, ep);
  ipDecTtl(d, ETH_HLEN);
  ctx.cb[CB_SRC_LABEL] = srcLabel;
  ctx.cb[CB_IFINDEX] = epIfindex(ep);
  ctx.cb[CB_ORIG_SADDR] = u32be(d, ETH_HLEN + 12);
  const lxcId = epLxcId(ep);
  const ret = rt.tailCall(ctx, env.maps.callPolicy, lxcId);
  if (ret !== undefined) return ret;
  return sendDropNotify(ctx, rt, env, source, srcLabel, dstIdentity, lxcId, DROP_MISSED_TAIL_CALL, dir, FILE_LOCAL_DELIVERY, 0);
}

/** The run's struct bpf_fib_lookup and fib_redirect_v4's *oif. */
interface FibScratch { params: FibResult; oif: number }
const FIB = runLocal<FibScratch>(() => ({ params: { ret: 0, ifindex: 0, nh: 0, smac: new Uint8Array(6), dmac: new Uint8Array(6) }, oif: 0 }));

/** The egress ifindex fibRedirectV4 chose in this run (its *oif). */
export function fibOif(rt: Runtime): number { return rt.local(FIB).oif; }

/**
 * fib_redirect_v4(): route daddr via bpf_fib_lookup, decrement TTL, then redirect
 * to the egress device: with the FIB's MACs, or, when the next hop has no
 * neighbour entry yet, with bpf_redirect_neigh (the kernel resolves it after the
 * program returned, queueing the packet behind its ARP request). Returns -1
 * when the packet should go up the stack instead (no route, TTL expiring).
 */
export function fibRedirectV4(ctx: SkBuff, rt: Runtime, ifindex: number): number {
  const d = ctx.data;
  const f = rt.local(FIB);
  f.oif = 0;
  const r = rt.kernel.fibLookup(ifindex, u32be(d, ETH_HLEN + 12), u32be(d, ETH_HLEN + 16), f.params);
  if (r.ret !== BPF_FIB_LKUP_RET_SUCCESS && r.ret !== BPF_FIB_LKUP_RET_NO_NEIGH) return -1;
  if (d[ETH_HLEN + 8]! <= 1) return -1;
  ipDecTtl(d, ETH_HLEN);
  f.oif = r.ifindex;
  if (r.ret === BPF_FIB_LKUP_RET_NO_NEIGH) return rt.redirectNeigh(r.ifindex, r.nh, 0);
  const dmac = r.dmac, smac = r.smac;
  for (let i = 0; i < 6; i++) { d[i] = dmac[i]!; d[6 + i] = smac[i]!; }
  return rt.redirect(r.ifindex, 0);
}
