// Mirrors bpf/bpf_lxc.c tail_ipv4_ct_egress (CILIUM_CALL_IPV4_CT_EGRESS) and handle_ipv4_from_lxc
// (run inline here instead of a further tail call to CILIUM_CALL_IPV4_FROM_LXC_CONT).

import type { SkBuff } from '../src/wire/skb.ts';
import type { Runtime } from '../src/bpf/program.ts';
import { TC_ACT_OK } from '../src/bpf/ctx.ts';
import type { DatapathEnv, EpConfig, ProgSpec } from './lib/common.ts';
import { CB_BACKEND_ID, CB_CT_STATE, DROP_CT_CREATE_FAILED, DROP_INVALID, FILE_BPF_LXC, METRIC_EGRESS } from './lib/common.ts';
import { TUPLE_F_OUT } from '../maps/cilium_ct4_global.ts';
import { sendDropNotify } from './lib/drop.ts';
import { sendTraceNotify, TRACE_TO_STACK, TRACE_TO_OVERLAY, TRACE_TO_NETWORK } from './lib/trace.ts';
import { parseIp4, ETH_HLEN } from './lib/pkt.ts';
import { ctLookup4, ctCreate4, ctState, CT_NEW, CT_REPLY } from './lib/conntrack.ts';
import { lookupIp4Endpoint, lookupIp4RemoteEndpoint, identityOf, tunnelEndpointOf, epIsHost } from './lib/eps.ts';
import { ipv4LocalDelivery, fibRedirectV4, fibOif } from './lib/l3.ts';
import { encapAndRedirect } from './lib/tunnel.ts';
import { lb4RevNat } from './lib/lb.ts';
import { updateMetrics, REASON_FORWARDED } from './lib/metrics.ts';

/** handle_ipv4_from_lxc(): CT, identity of the destination, then local delivery, overlay, FIB or stack. */
export function handleIpv4FromLxc(ctx: SkBuff, rt: Runtime, env: DatapathEnv, ep: EpConfig): number {
  const d = ctx.data;
  const ip = parseIp4(rt, d, ctx.len);
  if (!ip.ok) return sendDropNotify(ctx, rt, env, ep.lxcId, ep.secLabel, 0, 0, DROP_INVALID, METRIC_EGRESS, FILE_BPF_LXC, 20);
  const proto = ip.proto, l4off = ip.l4off;
  const status = ctLookup4(rt, env, d, ctx.len, ETH_HLEN, l4off, proto, TUPLE_F_OUT);
  const cs = ctState(rt), monitor = cs.monitor;
  // A reply of a NodePort connection served by this pod: undo the service DNAT here.
  if (status === CT_REPLY && cs.nodePort && cs.revNat) lb4RevNat(rt, env, d, ETH_HLEN, l4off, proto, cs.revNat);
  const daddr = ip.daddr;
  const info = lookupIp4RemoteEndpoint(rt, env, daddr);
  const dstId = identityOf(info);
  if (status === CT_NEW) {
    if (ctCreate4(rt, env, d, ctx.len, l4off, proto, ctx.cb[CB_CT_STATE]!, ctx.cb[CB_BACKEND_ID]!, ep.secLabel) !== 0) {
      return sendDropNotify(ctx, rt, env, ep.lxcId, ep.secLabel, dstId, 0, DROP_CT_CREATE_FAILED, METRIC_EGRESS, FILE_BPF_LXC, 21);
    }
  }
  updateMetrics(rt, env, ctx.len, METRIC_EGRESS, REASON_FORWARDED);
  const local = lookupIp4Endpoint(rt, env, daddr);
  if (local) {
    if (epIsHost(local)) {
      sendTraceNotify(ctx, rt, env, ep.lxcId, TRACE_TO_STACK, ep.secLabel, dstId, 0, 0, status, monitor);
      return TC_ACT_OK;
    }
    return ipv4LocalDelivery(ctx, rt, env, local, ep.secLabel, ep.lxcId, dstId, METRIC_EGRESS);
  }
  const tep = tunnelEndpointOf(info);
  if (env.node.tunnel && tep !== 0) {
    sendTraceNotify(ctx, rt, env, ep.lxcId, TRACE_TO_OVERLAY, ep.secLabel, dstId, 0, env.node.encapIfindex, status, monitor);
    return encapAndRedirect(ctx, rt, env, tep, ep.secLabel);
  }
  // BPF host routing: out of the FIB's device, with redirect_neigh when ARP has not resolved the next hop yet.
  // Without it (ENABLE_HOST_ROUTING undefined: legacy routing, kube-proxy beside Cilium) the stack routes the
  // packet, so netfilter (kube-proxy's rules, Cilium's masquerade) sees it.
  if (env.node.hostRouting !== false) {
    const r = fibRedirectV4(ctx, rt, ep.ifindex);
    if (r !== -1) {
      sendTraceNotify(ctx, rt, env, ep.lxcId, TRACE_TO_NETWORK, ep.secLabel, dstId, 0, fibOif(rt), status, monitor);
      return r;
    }
  }
  sendTraceNotify(ctx, rt, env, ep.lxcId, TRACE_TO_STACK, ep.secLabel, dstId, 0, 0, status, monitor);
  return TC_ACT_OK;
}

/** Build tail_ipv4_ct_egress for one endpoint. */
export function tailIpv4CtEgress(env: DatapathEnv, ep: EpConfig): ProgSpec<SkBuff> {
  const m = env.maps;
  return {
    name: 'tail_ipv4_ct_egress', type: 'sched_cls',
    maps: [m.ct4, m.ctAny4, m.ipcache, m.lxc, m.callPolicy, m.events, m.metrics, m.lbRevNat],
    run(ctx, rt) { return handleIpv4FromLxc(ctx, rt, env, ep); },
  };
}
