// Contract between programs and the runtime: every map access, tail call,
// redirect and verdict goes through a Runtime so that it can be recorded.

import type { BpfMap } from './map.ts';
import type { FibResult, RedirectInfo } from './ctx.ts';
import type { SkBuff, TunnelKey } from '../wire/skb.ts';

export type ProgType = 'sched_cls' | 'cgroup_sock_addr';

/**
 * Mirrors struct bpf_sock_addr for cgroup connect4/sendmsg4/recvmsg4/getpeername4.
 * Ports are in host byte order here (the kernel keeps them in network order).
 */
export interface SockAddrCtx {
  userIp4: number;
  userPort: number;
  /** IPPROTO_TCP (6) or IPPROTO_UDP (17). */
  protocol: number;
  sockCookie: number;
  netnsCookie: number;
  /** Source of the socket when known (for trace-sock events). */
  srcIp4: number;
  srcPort: number;
  /** Endpoint id of the pod the socket belongs to (0 for the host). */
  epId: number;
}

/** A loaded program as bpftool knows it. */
export interface BpfProgram<C = SkBuff> {
  readonly id: number;
  readonly name: string;
  readonly type: ProgType;
  /** 8-byte hex tag, as `bpftool prog show` prints it. */
  readonly tag: string;
  readonly mapIds: number[];
  readonly loadedAtMs: number;
  /** Returns a tc action code (TC_ACT_*) or, for cgroup programs, 1 = allow / 0 = reject. */
  run(ctx: C, rt: Runtime): number;
}

/** Helpers the kernel provides to programs (bpf_redirect, bpf_fib_lookup...). */
export interface KernelHelpers {
  /**
   * bpf_fib_lookup in the netns of ifindex: route + neighbour for daddr, written into
   * `out` (the caller's struct bpf_fib_lookup) and returned. It never resolves or sends:
   * a missing neighbour is reported as BPF_FIB_LKUP_RET_NO_NEIGH.
   */
  fibLookup(ifindex: number, saddr: number, daddr: number, out: FibResult): FibResult;
  /** Virtual ktime in nanoseconds (bpf_ktime_get_ns). */
  ktimeNs(): number;
  prandomU32(): number;
  /** Monotonic seconds, as bpf_mono_now() / CT lifetimes use. */
  monoSeconds(): number;
}

/** One recorded runtime action, for packet walks. */
export type RuntimeEvent =
  | { kind: 'prog'; prog: string; ifindex: number; /** The run's context (SkBuff or SockAddrCtx), for recorders that classify packets. */ ctx?: unknown }
  | { kind: 'map'; op: 'lookup' | 'update' | 'delete'; map: string; key: Uint8Array; hit?: boolean; ret?: number }
  | { kind: 'tail_call'; map: string; index: number; prog?: string }
  | { kind: 'redirect'; ifindex: number; flags: number; nh?: number }
  | { kind: 'verdict'; prog: string; ret: number };

/** Receives runtime events when recording is on. */
export type Recorder = (e: RuntimeEvent) => void;

/**
 * Per-run scratch a program library declares once (in C, locals on the BPF stack):
 * every run frame holds its own instance, made on first use, so a nested run can
 * never overwrite the state of the run it interrupted.
 */
export interface RunLocal<T> { readonly id: number; readonly make: () => T }
let nextRunLocal = 0;
/** Declare a per-run scratch slot (at module load; the id is only a slot number). */
export function runLocal<T>(make: () => T): RunLocal<T> { return { id: nextRunLocal++, make }; }

/** What a program calls instead of BPF helpers: one per run (tail calls share their caller's). */
export interface Runtime {
  readonly kernel: KernelHelpers;
  recorder: Recorder | null;
  /** This run's instance of a scratch slot. */
  local<T>(slot: RunLocal<T>): T;
  mapLookup(map: BpfMap, key: Uint8Array): Uint8Array | undefined;
  mapUpdate(map: BpfMap, key: Uint8Array, value: Uint8Array, flags?: number): number;
  mapDelete(map: BpfMap, key: Uint8Array): number;
  /** bpf_tail_call: runs slot `index` of prog array `map`; undefined when the slot is empty. */
  tailCall<C>(ctx: C, map: BpfMap, index: number): number | undefined;
  /** bpf_redirect: remembers the target and returns TC_ACT_REDIRECT. */
  redirect(ifindex: number, flags: number): number;
  /**
   * bpf_redirect_neigh: redirect to ifindex's egress and let the kernel fill in L2, resolving
   * next hop `nh` (0: the route's next hop for the packet's daddr) after the program returned.
   */
  redirectNeigh(ifindex: number, nh: number, flags: number): number;
  /** Target left by the last redirect()/redirectNeigh() (consumed by the kernel). */
  takeRedirect(): RedirectInfo | null;
  /** bpf_perf_event_output into a perf event array (cilium_events). */
  perfEventOutput(map: BpfMap, data: Uint8Array): void;
  /** bpf_skb_set_tunnel_key. */
  setTunnelKey(ctx: SkBuff, key: TunnelKey): void;
}
