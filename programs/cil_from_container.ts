// Mirrors bpf/bpf_lxc.c cil_from_container: tc ingress on the lxc veth (packets leaving the pod).

import type { SkBuff } from '../src/wire/skb.ts';
import type { Runtime } from '../src/bpf/program.ts';
import type { DatapathEnv, EpConfig, ProgSpec } from './lib/common.ts';
import { CILIUM_CALL_IPV4_FROM_LXC, DROP_MISSED_TAIL_CALL, DROP_UNKNOWN_L3, FILE_BPF_LXC, METRIC_EGRESS } from './lib/common.ts';
import { sendTraceNotify, TRACE_FROM_LXC, TRACE_REASON_UNKNOWN } from './lib/trace.ts';
import { sendDropNotify } from './lib/drop.ts';
import { u16be, u32be } from './lib/bytes.ts';
import { ETH_P_ARP, ETH_P_IP } from './lib/pkt.ts';

/** arp_respond(): answer the pod's ARP requests for any address with the lxc MAC (ENABLE_ARP_RESPONDER). */
function arpRespond(ctx: SkBuff, rt: Runtime, ep: EpConfig): number {
  const d = ctx.data;
  // htype 1, ptype IPv4, op request, and not a gratuitous ARP for the pod's own address.
  if (ctx.len < 42 || u16be(d, 20) !== 1 || u32be(d, 38) === ep.ipv4) return 0;
  const tip = d.slice(38, 42), sip = d.slice(28, 32), smac = d.slice(22, 28);
  d.set(smac, 0); d.set(ep.nodeMac.subarray(0, 6), 6);
  d[20] = 0; d[21] = 2;
  d.set(ep.nodeMac.subarray(0, 6), 22); d.set(tip, 28);
  d.set(smac, 32); d.set(sip, 38);
  return rt.redirect(ctx.ifindex, 0);
}

/** Build cil_from_container for one endpoint. */
export function cilFromContainer(env: DatapathEnv, ep: EpConfig): ProgSpec<SkBuff> {
  return {
    // In first-reference order (the kernel's used_maps): the tail call comes before the drop path's metrics.
    name: 'cil_from_container', type: 'sched_cls', maps: [ep.calls, env.maps.metrics],
    run(ctx, rt) {
      sendTraceNotify(ctx, rt, env, ep.lxcId, TRACE_FROM_LXC, ep.secLabel, 0, 0, ep.ifindex, TRACE_REASON_UNKNOWN, 0);
      const et = ctx.len >= 14 ? u16be(ctx.data, 12) : 0;
      if (et === ETH_P_IP) {
        const ret = rt.tailCall(ctx, ep.calls, CILIUM_CALL_IPV4_FROM_LXC);
        if (ret !== undefined) return ret;
        return sendDropNotify(ctx, rt, env, ep.lxcId, ep.secLabel, 0, 0, DROP_MISSED_TAIL_CALL, METRIC_EGRESS, FILE_BPF_LXC, 1);
      }
      if (et === ETH_P_ARP) {
        const r = arpRespond(ctx, rt, ep);
        if (r !== 0) return r;
        return 0; // TC_ACT_OK: let the stack see other ARP
      }
      return sendDropNotify(ctx, rt, env, ep.lxcId, ep.secLabel, 0, 0, DROP_UNKNOWN_L3, METRIC_EGRESS, FILE_BPF_LXC, 2);
    },
  };
}
