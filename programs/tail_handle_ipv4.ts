// Mirrors bpf/bpf_lxc.c tail_handle_ipv4 (CILIUM_CALL_IPV4_FROM_LXC): source validation and per-packet service LB.

import type { SkBuff } from '../src/wire/skb.ts';
import type { DatapathEnv, EpConfig, ProgSpec } from './lib/common.ts';
import {
  CB_BACKEND_ID, CB_CT_STATE, CILIUM_CALL_IPV4_CT_EGRESS, DROP_FRAG_NOSUPPORT, DROP_INVALID, DROP_INVALID_SIP,
  DROP_MISSED_TAIL_CALL, DROP_NO_SERVICE, FILE_BPF_LXC, METRIC_EGRESS, WORLD_ID,
} from './lib/common.ts';
import { sendDropNotify } from './lib/drop.ts';
import { parseIp4, ETH_HLEN } from './lib/pkt.ts';
import { lb4LookupService, lb4Local, lb4Dnat, lbState } from './lib/lb.ts';

/** Build tail_handle_ipv4 for one endpoint. */
export function tailHandleIpv4(env: DatapathEnv, ep: EpConfig): ProgSpec<SkBuff> {
  const m = env.maps;
  return {
    name: 'tail_handle_ipv4', type: 'sched_cls', maps: [m.lbServices, m.lbBackends, m.lbAffinity, m.ct4, m.ctAny4, ep.calls],
    run(ctx, rt) {
      const d = ctx.data;
      const ip = parseIp4(rt, d, ctx.len);
      if (!ip.ok) return sendDropNotify(ctx, rt, env, ep.lxcId, ep.secLabel, 0, 0, DROP_INVALID, METRIC_EGRESS, FILE_BPF_LXC, 10);
      // ipv4_load_l4_ports without ENABLE_IPV4_FRAGMENTS (fragment tracking off): a TCP/UDP fragment
      // without its L4 header cannot be translated or tracked; first fragments and ICMP pass.
      if (ip.frag && (ip.proto === 6 || ip.proto === 17) && (((d[ETH_HLEN + 6]! & 0x1f) << 8) | d[ETH_HLEN + 7]!) !== 0) return sendDropNotify(ctx, rt, env, ep.lxcId, ep.secLabel, 0, 0, DROP_FRAG_NOSUPPORT, METRIC_EGRESS, FILE_BPF_LXC, 11);
      if (ip.saddr !== ep.ipv4) return sendDropNotify(ctx, rt, env, ep.lxcId, ep.secLabel, 0, 0, DROP_INVALID_SIP, METRIC_EGRESS, FILE_BPF_LXC, 12);
      ctx.cb[CB_CT_STATE] = 0; ctx.cb[CB_BACKEND_ID] = 0;
      // Per-packet LB: with socket LB on, translated connections carry a backend address and miss here.
      if (ip.proto === 6 || ip.proto === 17) {
        const svc = lb4LookupService(rt, env, ip.daddr, ip.dport, ip.proto);
        if (svc) {
          if (!lb4Local(rt, env, svc, d, ETH_HLEN, ip.l4off, ip.proto, ip.daddr, ip.dport, ep.secLabel)) {
            return sendDropNotify(ctx, rt, env, ep.lxcId, ep.secLabel, WORLD_ID, 0, DROP_NO_SERVICE, METRIC_EGRESS, FILE_BPF_LXC, 13);
          }
          const be = lbState(rt);
          lb4Dnat(d, ETH_HLEN, ip.l4off, ip.proto, be.addr, be.port);
          ctx.cb[CB_CT_STATE] = be.revNat; ctx.cb[CB_BACKEND_ID] = be.backendId;
        }
      }
      const ret = rt.tailCall(ctx, ep.calls, CILIUM_CALL_IPV4_CT_EGRESS);
      if (ret !== undefined) return ret;
      return sendDropNotify(ctx, rt, env, ep.lxcId, ep.secLabel, 0, 0, DROP_MISSED_TAIL_CALL, METRIC_EGRESS, FILE_BPF_LXC, 14);
    },
  };
}
