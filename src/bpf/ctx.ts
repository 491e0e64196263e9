// tc verdicts, redirect and FIB-lookup results: what programs hand back to the kernel.
// The packet buffer itself (SkBuff) lives in src/wire/skb.ts so every layer can pass it.

/** tc action codes (include/uapi/linux/pkt_cls.h). */
export const TC_ACT_UNSPEC = -1;
export const TC_ACT_OK = 0;
export const TC_ACT_SHOT = 2;
export const TC_ACT_REDIRECT = 7;

/** bpf_redirect() flags. */
export const BPF_F_INGRESS = 1;

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
