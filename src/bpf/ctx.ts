// The program's view of a packet: a struct __sk_buff look-alike over real bytes.

/** tc action codes (include/uapi/linux/pkt_cls.h). */
export const TC_ACT_UNSPEC = -1;
export const TC_ACT_OK = 0;
export const TC_ACT_SHOT = 2;
export const TC_ACT_REDIRECT = 7;

/** bpf_redirect() flags. */
export const BPF_F_INGRESS = 1;

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

/** Redirect target left behind by bpf_redirect(), applied when a program returns TC_ACT_REDIRECT. */
export interface RedirectInfo { ifindex: number; flags: number }

/** Result of bpf_fib_lookup (the subset Cilium uses). */
export interface FibResult {
  /** 0 = BPF_FIB_LKUP_RET_SUCCESS, 7 = NO_NEIGH, other = failure. */
  ret: number;
  ifindex: number;
  smac: Uint8Array;
  dmac: Uint8Array;
}
export const BPF_FIB_LKUP_RET_SUCCESS = 0;
export const BPF_FIB_LKUP_RET_NO_NEIGH = 7;

/** Allocate an SkBuff around a frame. */
export function newSkb(data: Uint8Array, len: number, ifindex: number, ingressIfindex = 0): SkBuff {
  return { data, len, ifindex, ingressIfindex, mark: 0, cb: new Uint32Array(5), sockCookie: 0 };
}
