// Mirrors bpf/bpf_host.c cil_from_host: tc egress on cilium_host (host stack towards pods and, in
// tunnel mode, remote pod CIDRs routed via cilium_host).

import type { SkBuff } from '../src/wire/skb.ts';
import { TC_ACT_OK } from '../src/bpf/ctx.ts';
import type { DatapathEnv, ProgSpec } from './lib/common.ts';
import { HOST_ID, METRIC_EGRESS } from './lib/common.ts';
import { TUPLE_F_OUT } from '../maps/cilium_ct4_global.ts';
import { sendTraceNotify, TRACE_FROM_HOST, TRACE_TO_OVERLAY, TRACE_REASON_UNKNOWN } from './lib/trace.ts';
import { parseIp4, ETH_HLEN, ETH_P_IP } from './lib/pkt.ts';
import { u16be } from './lib/bytes.ts';
import { ctLookup4, ctCreate4, ctState, CT_NEW } from './lib/conntrack.ts';
import { lookupIp4Endpoint, lookupIp4RemoteEndpoint, identityOf, tunnelEndpointOf, epSecId, epIsHost } from './lib/eps.ts';
import { ipv4LocalDelivery } from './lib/l3.ts';
import { encapAndRedirect } from './lib/tunnel.ts';

/** Build cil_from_host for a node's host endpoint. */
export function cilFromHost(env: DatapathEnv): ProgSpec<SkBuff> {
  const m = env.maps;
  return {
    name: 'cil_from_host', type: 'sched_cls', maps: [m.lxc, m.ipcache, m.ct4, m.ctAny4, m.callPolicy, m.events, m.metrics],
    run(ctx, rt) {
      const d = ctx.data;
      if (ctx.len < 14 || u16be(d, 12) !== ETH_P_IP) return TC_ACT_OK;
      const ip = parseIp4(rt, d, ctx.len);
      if (!ip.ok) return TC_ACT_OK;
      const hostEp = env.node.hostEpId;
      sendTraceNotify(ctx, rt, env, hostEp, TRACE_FROM_HOST, HOST_ID, 0, 0, ctx.ifindex, TRACE_REASON_UNKNOWN, 0);
      const ep = lookupIp4Endpoint(rt, env, ip.daddr);
      if (ep && !epIsHost(ep)) {
        return ipv4LocalDelivery(ctx, rt, env, ep, HOST_ID, hostEp, epSecId(ep), METRIC_EGRESS);
      }
      const info = lookupIp4RemoteEndpoint(rt, env, ip.daddr);
      const tep = tunnelEndpointOf(info);
      if (env.node.tunnel && tep !== 0) {
        const st = ctLookup4(rt, env, d, ctx.len, ETH_HLEN, ip.l4off, ip.proto, TUPLE_F_OUT);
        if (st === CT_NEW) ctCreate4(rt, env, d, ctx.len, ip.l4off, ip.proto, 0, 0, HOST_ID);
        sendTraceNotify(ctx, rt, env, hostEp, TRACE_TO_OVERLAY, HOST_ID, identityOf(info), 0, env.node.encapIfindex, st, ctState(rt).monitor);
        return encapAndRedirect(ctx, rt, env, tep, HOST_ID);
      }
      return TC_ACT_OK;
    },
  };
}
