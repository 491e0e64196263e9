// Mirrors bpf/bpf_lxc.c cil_to_container: tc egress on the lxc veth (packets entering the pod).

import type { SkBuff } from '../src/wire/skb.ts';
import { TC_ACT_OK } from '../src/bpf/ctx.ts';
import type { DatapathEnv, EpConfig, ProgSpec } from './lib/common.ts';
import { MARK_MAGIC_HOST_MASK, MARK_MAGIC_IDENTITY } from './lib/common.ts';

/**
 * Packets already through cil_lxc_policy carry MARK_MAGIC_IDENTITY and pass;
 * the rest come from the host stack (ARP replies, host traffic) and pass too,
 * since host policy is not enforced in this lab.
 */
export function cilToContainer(env: DatapathEnv, ep: EpConfig): ProgSpec<SkBuff> {
  return {
    // In first-reference order (the kernel's used_maps): bpftool shows the seed's metrics first here.
    name: 'cil_to_container', type: 'sched_cls', maps: [env.maps.metrics, ep.calls],
    run(ctx) {
      if ((ctx.mark & MARK_MAGIC_HOST_MASK) === MARK_MAGIC_IDENTITY) ctx.mark = 0;
      return TC_ACT_OK;
    },
  };
}
