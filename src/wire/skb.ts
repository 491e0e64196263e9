// The packet buffer every layer passes around: a struct __sk_buff look-alike
// over real frame bytes (tc programs, netfilter hooks, devices, sockets).

/** Tunnel metadata set by bpf_skb_set_tunnel_key / read by bpf_skb_get_tunnel_key. */
export interface TunnelKey { remoteIpv4: number; tunnelId: number }

/**
 * Mirrors struct __sk_buff: the frame bytes (Ethernet first) plus the fields
 * programs read and write. `data` may be replaced (encap/decap); `len` is
 * the valid length inside it.
 */
export interface SkBuff {
  data: Uint8Array;
  len: number;
  /** Interface the hook runs on. */
  ifindex: number;
  /** Interface the packet arrived on (0 when locally generated). */
  ingressIfindex: number;
  mark: number;
  /** Five 32-bit scratch slots that survive tail calls (skb->cb). */
  cb: Uint32Array;
  /** Set on packets received from / sent to a tunnel device. */
  tunnel?: TunnelKey;
  /** Socket cookie of the sending socket, 0 for forwarded packets. */
  sockCookie: number;
}

/** Allocate an SkBuff around a frame. */
export function newSkb(data: Uint8Array, len: number, ifindex: number, ingressIfindex = 0): SkBuff {
  return { data, len, ifindex, ingressIfindex, mark: 0, cb: new Uint32Array(5), sockCookie: 0 };
}
