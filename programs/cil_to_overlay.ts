// Mirrors bpf/bpf_overlay.c cil_to_overlay: tc egress on cilium_vxlan. The TRACE_TO_OVERLAY event
// was already sent by the program that set the tunnel key (as encap_and_redirect_lxc does).

import type { SkBuff } from '../src/wire/skb.ts';
import { TC_ACT_OK } from '../src/bpf/ctx.ts';
import type { DatapathEnv, ProgSpec } from './lib/common.ts';

/** Build cil_to_overlay for a node. */
export function cilToOverlay(env: DatapathEnv): ProgSpec<SkBuff> {
  return { name: 'cil_to_overlay', type: 'sched_cls', maps: [env.maps.metrics], run() { return TC_ACT_OK; } };
}
