// Mirrors bpf/bpf_overlay.c cil_from_overlay: tc ingress on cilium_vxlan; the source identity comes
// from the VNI, local destinations are delivered through their policy program.

import type { SkBuff } from '../src/wire/skb.ts';
import { TC_ACT_OK } from '../src/bpf/ctx.ts';
import type { DatapathEnv, ProgSpec } from './lib/common.ts';
import { FILE_BPF_OVERLAY, METRIC_INGRESS, DROP_INVALID, WORLD_ID } from './lib/common.ts';
import { sendTraceNotify, TRACE_FROM_OVERLAY, TRACE_REASON_UNKNOWN } from './lib/trace.ts';
import { sendDropNotify } from './lib/drop.ts';
import { parseIp4, ETH_P_IP } from './lib/pkt.ts';
import { u16be } from './lib/bytes.ts';
import { lookupIp4Endpoint, epSecId, epIsHost } from './lib/eps.ts';
import { ipv4LocalDelivery } from './lib/l3.ts';

/** Build cil_from_overlay for a node. */
export function cilFromOverlay(env: DatapathEnv): ProgSpec<SkBuff> {
  const m = env.maps;
  return {
    name: 'cil_from_overlay', type: 'sched_cls', maps: [m.lxc, m.callPolicy, m.events, m.metrics],
    run(ctx, rt) {
      if (ctx.len < 14 || u16be(ctx.data, 12) !== ETH_P_IP) return TC_ACT_OK;
      const ip = parseIp4(rt, ctx.data, ctx.len);
      if (!ip.ok) return sendDropNotify(ctx, rt, env, 0, 0, 0, 0, DROP_INVALID, METRIC_INGRESS, FILE_BPF_OVERLAY, 1);
      const srcId = ctx.tunnel ? ctx.tunnel.tunnelId : WORLD_ID;
      sendTraceNotify(ctx, rt, env, 0, TRACE_FROM_OVERLAY, srcId, 0, 0, ctx.ifindex, TRACE_REASON_UNKNOWN, 0);
      const ep = lookupIp4Endpoint(rt, env, ip.daddr);
      if (!ep || epIsHost(ep)) return TC_ACT_OK;
      return ipv4LocalDelivery(ctx, rt, env, ep, srcId, 0, epSecId(ep), METRIC_INGRESS);
    },
  };
}
