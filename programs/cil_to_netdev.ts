// Mirrors bpf/bpf_host.c cil_to_netdev: tc egress on the native device (BPF masquerade of pod
// traffic leaving the cluster, TRACE_TO_NETWORK with monitor 0, so hidden at aggregation medium).

import type { SkBuff } from '../src/wire/skb.ts';
import { TC_ACT_OK } from '../src/bpf/ctx.ts';
import type { DatapathEnv, ProgSpec } from './lib/common.ts';
import { DROP_NAT_NO_MAPPING, FILE_BPF_HOST, METRIC_EGRESS, WORLD_ID, HOST_ID } from './lib/common.ts';
import { sendTraceNotify, TRACE_TO_NETWORK, TRACE_REASON_UNKNOWN } from './lib/trace.ts';
import { sendDropNotify } from './lib/drop.ts';
import { parseIp4, ETH_HLEN, ETH_P_IP } from './lib/pkt.ts';
import { u16be } from './lib/bytes.ts';
import { inPrefix } from '../src/wire/addr.ts';
import { snatV4Egress, NAT_OK } from './lib/nat.ts';
import { lookupIp4Endpoint, lookupIp4RemoteEndpoint, identityOf, epSecId, epIsHost } from './lib/eps.ts';

/** Build cil_to_netdev for a node. */
export function cilToNetdev(env: DatapathEnv): ProgSpec<SkBuff> {
  const m = env.maps;
  return {
    name: 'cil_to_netdev', type: 'sched_cls', maps: [m.lxc, m.ipcache, m.snat4, m.events, m.metrics],
    run(ctx, rt) {
      const d = ctx.data;
      if (ctx.len < 14 || u16be(d, 12) !== ETH_P_IP) return TC_ACT_OK;
      const ip = parseIp4(rt, d, ctx.len);
      if (!ip.ok) return TC_ACT_OK;
      const n = env.node;
      let srcId = HOST_ID;
      const ep = lookupIp4Endpoint(rt, env, ip.saddr);
      if (ep && !epIsHost(ep)) {
        srcId = epSecId(ep);
        // snat_v4_needs_masquerade(): pod source, destination outside the cluster and of world identity.
        if (n.masquerade && !inPrefix(ip.daddr, n.clusterCidr, n.clusterCidrLen) &&
            identityOf(lookupIp4RemoteEndpoint(rt, env, ip.daddr)) === WORLD_ID) {
          if (snatV4Egress(rt, env, d, ETH_HLEN, ip.l4off, ip.proto, n.nodeIp) !== NAT_OK) {
            return sendDropNotify(ctx, rt, env, 0, srcId, WORLD_ID, 0, DROP_NAT_NO_MAPPING, METRIC_EGRESS, FILE_BPF_HOST, 20);
          }
        }
      }
      sendTraceNotify(ctx, rt, env, 0, TRACE_TO_NETWORK, srcId, 0, 0, ctx.ifindex, TRACE_REASON_UNKNOWN, 0);
      return TC_ACT_OK;
    },
  };
}
