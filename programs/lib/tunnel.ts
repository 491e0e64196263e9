// Mirrors bpf/lib/encap.h __encap_and_redirect_with_nodeid(): tunnel key with
// VNI = source security identity, then redirect to cilium_vxlan.

import type { Runtime } from '../../src/bpf/program.ts';
import type { SkBuff } from '../../src/wire/skb.ts';
import type { DatapathEnv } from './common.ts';
import { HOST_ID, REMOTE_NODE_ID } from './common.ts';

/** Set the tunnel key and redirect to ENCAP_IFINDEX. The host's identity travels as remote-node. */
export function encapAndRedirect(ctx: SkBuff, rt: Runtime, env: DatapathEnv, tunnelEndpoint: number, secLabel: number): number {
  // A fresh key per packet: the device reads it after this program returned.
  rt.setTunnelKey(ctx, { remoteIpv4: tunnelEndpoint, tunnelId: secLabel === HOST_ID ? REMOTE_NODE_ID : secLabel });
  return rt.redirect(env.node.encapIfindex, 0);
}
