// tc verdicts, redirect and FIB-lookup results: what programs hand back to the kernel.
// The packet buffer itself (SkBuff) lives in src/wire/skb.ts so every layer can pass it.

/** tc action codes (include/uapi/linux/pkt_cls.h). */
export const TC_ACT_UNSPEC = -1;
export const TC_ACT_OK = 0;
export const TC_ACT_SHOT = 2;
export const TC_ACT_REDIRECT = 7;

/** bpf_redirect() flags. */
export const BPF_F_INGRESS = 1;
/** Kernel-internal redirect flags (net/core/filter.c): set by bpf_redirect_neigh, never by a program's flags. */
export const BPF_F_NEIGH = 2, BPF_F_NEXTHOP = 8;

/**
 * Redirect target left behind by bpf_redirect()/bpf_redirect_neigh(), applied when a program
 * returns TC_ACT_REDIRECT. `nh` is the IPv4 next hop given to bpf_redirect_neigh (BPF_F_NEXTHOP).
 */
export interface RedirectInfo { ifindex: number; flags: number; nh: number }

/** struct bpf_fib_lookup after the helper ran (the subset Cilium uses). */
export interface FibResult {
  /** 0 = BPF_FIB_LKUP_RET_SUCCESS, 7 = NO_NEIGH, other = failure. */
  ret: number;
  ifindex: number;
  /** ipv4_dst on return: the route's gateway, or daddr for a directly connected one. */
  nh: number;
  smac: Uint8Array;
  dmac: Uint8Array;
}
export const BPF_FIB_LKUP_RET_SUCCESS = 0;
export const BPF_FIB_LKUP_RET_NO_NEIGH = 7;
