// Mirrors bpf/bpf_host.c cil_to_host: tc ingress on cilium_host / cilium_net (packets handed to the
// host stack); emits TRACE_TO_HOST with monitor 0 (hidden at aggregation medium).

import type { SkBuff } from '../src/wire/skb.ts';
import { TC_ACT_OK } from '../src/bpf/ctx.ts';
import type { DatapathEnv, ProgSpec } from './lib/common.ts';
import { HOST_ID } from './lib/common.ts';
import { sendTraceNotify, TRACE_TO_HOST, TRACE_REASON_UNKNOWN } from './lib/trace.ts';
import { parseIp4, ETH_P_IP } from './lib/pkt.ts';
import { u16be } from './lib/bytes.ts';
import { lookupIp4RemoteEndpoint, identityOf } from './lib/eps.ts';

/** Build cil_to_host for a node's host endpoint. */
export function cilToHost(env: DatapathEnv): ProgSpec<SkBuff> {
  const m = env.maps;
  return {
    name: 'cil_to_host', type: 'sched_cls', maps: [m.ipcache, m.events, m.metrics],
    run(ctx, rt) {
      if (ctx.len < 14 || u16be(ctx.data, 12) !== ETH_P_IP) return TC_ACT_OK;
      const ip = parseIp4(rt, ctx.data, ctx.len);
      if (!ip.ok) return TC_ACT_OK;
      const src = identityOf(lookupIp4RemoteEndpoint(rt, env, ip.saddr));
      sendTraceNotify(ctx, rt, env, env.node.hostEpId, TRACE_TO_HOST, src, HOST_ID, 0, ctx.ifindex, TRACE_REASON_UNKNOWN, 0);
      return TC_ACT_OK;
    },
  };
}
