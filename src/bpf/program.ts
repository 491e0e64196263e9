// Contract between programs and the runtime: every map access, tail call,
// redirect and verdict goes through a Runtime so that it can be recorded.

import type { BpfMap } from './map.ts';
import type { FibResult } from './ctx.ts';
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
  /** bpf_fib_lookup in the netns of ifindex: route + neighbour for daddr. */
  fibLookup(ifindex: number, saddr: number, daddr: number): FibResult;
  /** Virtual ktime in nanoseconds (bpf_ktime_get_ns). */
  ktimeNs(): number;
  prandomU32(): number;
  /** Monotonic seconds, as bpf_mono_now() / CT lifetimes use. */
  monoSeconds(): number;
}

/** One recorded runtime action, for packet walks. */
export type RuntimeEvent =
  | { kind: 'prog'; prog: string; ifindex: number }
  | { kind: 'map'; op: 'lookup' | 'update' | 'delete'; map: string; key: Uint8Array; hit?: boolean; ret?: number }
  | { kind: 'tail_call'; map: string; index: number; prog?: string }
  | { kind: 'redirect'; ifindex: number; flags: number }
  | { kind: 'verdict'; prog: string; ret: number };

/** Receives runtime events when recording is on. */
export type Recorder = (e: RuntimeEvent) => void;

/** What a program calls instead of BPF helpers. */
export interface Runtime {
  readonly kernel: KernelHelpers;
  recorder: Recorder | null;
  mapLookup(map: BpfMap, key: Uint8Array): Uint8Array | undefined;
  mapUpdate(map: BpfMap, key: Uint8Array, value: Uint8Array, flags?: number): number;
  mapDelete(map: BpfMap, key: Uint8Array): number;
  /** bpf_tail_call: runs slot `index` of prog array `map`; undefined when the slot is empty. */
  tailCall<C>(ctx: C, map: BpfMap, index: number): number | undefined;
  /** bpf_redirect: remembers the target and returns TC_ACT_REDIRECT. */
  redirect(ifindex: number, flags: number): number;
  /** Target left by the last redirect() (consumed by the kernel). */
  takeRedirect(): { ifindex: number; flags: number } | null;
  /** bpf_perf_event_output into a perf event array (cilium_events). */
  perfEventOutput(map: BpfMap, data: Uint8Array): void;
  /** bpf_skb_set_tunnel_key. */
  setTunnelKey(ctx: SkBuff, key: TunnelKey): void;
}
