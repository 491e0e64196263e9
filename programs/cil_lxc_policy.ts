// Mirrors bpf/bpf_lxc.c cil_lxc_policy (handle_policy): ingress CT, reverse NAT of replies and delivery
// into the endpoint; tail-called through cilium_call_policy[ep id] by whoever delivers locally.

import type { SkBuff } from '../src/wire/skb.ts';
import type { DatapathEnv, EpConfig, ProgSpec } from './lib/common.ts';
import { CB_SRC_LABEL, DROP_CT_CREATE_FAILED, DROP_INVALID, FILE_BPF_LXC, METRIC_INGRESS, MARK_MAGIC_IDENTITY } from './lib/common.ts';
import { TUPLE_F_IN } from '../maps/cilium_ct4_global.ts';
import { sendDropNotify } from './lib/drop.ts';
import { sendTraceNotify, TRACE_TO_LXC } from './lib/trace.ts';
import { parseIp4, ETH_HLEN } from './lib/pkt.ts';
import { ctLookup4, ctCreate4, ctState, CT_NEW, CT_REPLY } from './lib/conntrack.ts';
import { lb4RevNat } from './lib/lb.ts';
import { updateMetrics, REASON_FORWARDED } from './lib/metrics.ts';

/** Build cil_lxc_policy for one endpoint. */
export function cilLxcPolicy(env: DatapathEnv, ep: EpConfig): ProgSpec<SkBuff> {
  const m = env.maps;
  return {
    name: 'cil_lxc_policy', type: 'sched_cls', maps: [m.ct4, m.ctAny4, m.lbRevNat, m.events, m.metrics],
    run(ctx, rt) {
      const d = ctx.data;
      const src = ctx.cb[CB_SRC_LABEL]!;
      const ip = parseIp4(rt, d, ctx.len);
      if (!ip.ok) return sendDropNotify(ctx, rt, env, ep.lxcId, src, ep.secLabel, ep.lxcId, DROP_INVALID, METRIC_INGRESS, FILE_BPF_LXC, 30);
      const proto = ip.proto, l4off = ip.l4off, origSaddr = ip.saddr;
      const status = ctLookup4(rt, env, d, ctx.len, ETH_HLEN, l4off, proto, TUPLE_F_IN);
      const cs = ctState(rt), monitor = cs.monitor;
      if (status === CT_REPLY && cs.revNat && !cs.nodePort) lb4RevNat(rt, env, d, ETH_HLEN, l4off, proto, cs.revNat);
      if (status === CT_NEW && ctCreate4(rt, env, d, ctx.len, l4off, proto, 0, 0, src) !== 0) {
        return sendDropNotify(ctx, rt, env, ep.lxcId, src, ep.secLabel, ep.lxcId, DROP_CT_CREATE_FAILED, METRIC_INGRESS, FILE_BPF_LXC, 31);
      }
      updateMetrics(rt, env, ctx.len, METRIC_INGRESS, REASON_FORWARDED);
      sendTraceNotify(ctx, rt, env, ep.lxcId, TRACE_TO_LXC, src, ep.secLabel, ep.lxcId, ep.ifindex, status, monitor, origSaddr);
      // Marked so that cil_to_container on the way in knows policy already ran.
      ctx.mark = MARK_MAGIC_IDENTITY;
      return rt.redirect(ep.ifindex, 0);
    },
  };
}
