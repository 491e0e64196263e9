// Mirrors bpf/bpf_host.c cil_from_netdev: tc ingress on the native device (reverse SNAT, NodePort LB,
// identity from the ipcache, local delivery; anything else goes to the host stack).

import type { SkBuff } from '../src/wire/skb.ts';
import type { Runtime } from '../src/bpf/program.ts';
import { TC_ACT_OK } from '../src/bpf/ctx.ts';
import type { DatapathEnv, ProgSpec } from './lib/common.ts';
import { DROP_CT_CREATE_FAILED, DROP_NAT_NO_MAPPING, DROP_NO_SERVICE, FILE_BPF_HOST, FILE_NODEPORT, METRIC_INGRESS, UNKNOWN_ID, WORLD_ID } from './lib/common.ts';
import { TUPLE_F_IN, TUPLE_F_OUT } from '../maps/cilium_ct4_global.ts';
import { sendTraceNotify, TRACE_FROM_NETWORK, TRACE_TO_NETWORK, TRACE_REASON_UNKNOWN } from './lib/trace.ts';
import { sendDropNotify } from './lib/drop.ts';
import { parseIp4, ETH_HLEN, ETH_P_IP } from './lib/pkt.ts';
import { u16be } from './lib/bytes.ts';
import { snatV4RevIngress, snatV4Egress, NAT_OK } from './lib/nat.ts';
import { lb4LookupService, lb4Local, lb4Dnat, lb4RevNat, lbState } from './lib/lb.ts';
import { ctLookup4, ctCreate4, ctState, CT_NEW, CT_REPLY } from './lib/conntrack.ts';
import { lookupIp4Endpoint, lookupIp4RemoteEndpoint, identityOf, epSecId, epIsHost } from './lib/eps.ts';
import { ipv4LocalDelivery, fibRedirectV4, fibOif } from './lib/l3.ts';

const VXLAN_PORT = 8472;

/** NodePort to a remote backend: SNAT to the node IP and send it back out (nodeport_lb4 + snat). */
function nodePortForward(ctx: SkBuff, rt: Runtime, env: DatapathEnv, proto: number, l4off: number, srcId: number): number {
  if (snatV4Egress(rt, env, ctx.data, ETH_HLEN, l4off, proto, env.node.nodeIp) !== NAT_OK) {
    return sendDropNotify(ctx, rt, env, 0, srcId, 0, 0, DROP_NAT_NO_MAPPING, METRIC_INGRESS, FILE_NODEPORT, 1);
  }
  const r = fibRedirectV4(ctx, rt, ctx.ifindex);
  if (r === -1) return TC_ACT_OK;
  sendTraceNotify(ctx, rt, env, 0, TRACE_TO_NETWORK, srcId, UNKNOWN_ID, 0, fibOif(rt), TRACE_REASON_UNKNOWN, ctState(rt).monitor);
  return r;
}

/** Build cil_from_netdev for a node. */
export function cilFromNetdev(env: DatapathEnv): ProgSpec<SkBuff> {
  const m = env.maps;
  return {
    name: 'cil_from_netdev', type: 'sched_cls',
    maps: [m.lxc, m.ipcache, m.snat4, m.lbServices, m.lbBackends, m.lbRevNat, m.ct4, m.ctAny4, m.callPolicy, m.events, m.metrics],
    run(ctx, rt) {
      const d = ctx.data;
      if (ctx.len < 14 || u16be(d, 12) !== ETH_P_IP) return TC_ACT_OK;
      const ip = parseIp4(rt, d, ctx.len);
      if (!ip.ok) return TC_ACT_OK;
      const proto = ip.proto, l4off = ip.l4off;
      // Overlay traffic goes up the stack to the vxlan device.
      if (env.node.tunnel && proto === 17 && ip.dport === VXLAN_PORT) return TC_ACT_OK;
      const srcId = identityOf(lookupIp4RemoteEndpoint(rt, env, ip.saddr));
      sendTraceNotify(ctx, rt, env, 0, TRACE_FROM_NETWORK, srcId, 0, 0, ctx.ifindex, TRACE_REASON_UNKNOWN, 0);
      if (ip.daddr === env.node.nodeIp) {
        if (snatV4RevIngress(rt, env, d, ETH_HLEN, l4off, proto)) {
          // Reply of a NodePort connection we forwarded: undo the service DNAT and send it back.
          const st = ctLookup4(rt, env, d, ctx.len, ETH_HLEN, l4off, proto, TUPLE_F_OUT);
          const cs = ctState(rt);
          if (st === CT_REPLY && cs.nodePort && cs.revNat) {
            lb4RevNat(rt, env, d, ETH_HLEN, l4off, proto, cs.revNat);
            const r = fibRedirectV4(ctx, rt, ctx.ifindex);
            return r === -1 ? TC_ACT_OK : r;
          }
        } else if (proto === 6 || proto === 17) {
          const svc = lb4LookupService(rt, env, ip.daddr, ip.dport, proto);
          if (!svc) return TC_ACT_OK;
          if (!lb4Local(rt, env, svc, d, ETH_HLEN, l4off, proto, ip.daddr, ip.dport, srcId)) {
            return sendDropNotify(ctx, rt, env, 0, srcId, WORLD_ID, 0, DROP_NO_SERVICE, METRIC_INGRESS, FILE_BPF_HOST, 2);
          }
          const be = lbState(rt);
          lb4Dnat(d, ETH_HLEN, l4off, proto, be.addr, be.port);
          const st = ctLookup4(rt, env, d, ctx.len, ETH_HLEN, l4off, proto, TUPLE_F_IN);
          if (st === CT_NEW && ctCreate4(rt, env, d, ctx.len, l4off, proto, be.revNat, be.backendId, srcId, true) !== 0) {
            return sendDropNotify(ctx, rt, env, 0, srcId, 0, 0, DROP_CT_CREATE_FAILED, METRIC_INGRESS, FILE_NODEPORT, 3);
          }
          if (!lookupIp4Endpoint(rt, env, be.addr)) return nodePortForward(ctx, rt, env, proto, l4off, srcId);
        } else return TC_ACT_OK;
      }
      const daddr = parseIp4(rt, d, ctx.len).daddr;
      const ep = lookupIp4Endpoint(rt, env, daddr);
      if (!ep || epIsHost(ep)) return TC_ACT_OK;
      return ipv4LocalDelivery(ctx, rt, env, ep, srcId, 0, epSecId(ep), METRIC_INGRESS);
    },
  };
}
