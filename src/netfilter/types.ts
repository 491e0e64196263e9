// The shapes every part of the engine shares: the packet view a hook sees,
// the context a match reads, and a rule's parsed form (parsed once, never
// evaluated as text).

/** The netfilter hooks, in packet order. */
export type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';
export type TableName = 'raw' | 'mangle' | 'nat' | 'filter';

/**
 * What a rule sees of a packet: the IPv4 header and L4 ports read from the
 * real bytes (see packet.ts), the devices and the skb mark. Targets rewrite
 * `mark`; NAT is returned, not written here.
 */
export interface Pkt {
  src: number; dst: number; proto: number;
  sport: number; dport: number;
  /** L3 length (IP header included): what byte counters add. */
  len: number;
  tcpFlags: number; icmpType: number; icmpCode: number; icmpId: number;
  /** Non-first fragment: no ports. */
  frag: boolean;
  inIf: string; outIf: string;
  mark: number;
}

/** ctstate bits, in iptables' print order. */
export const CT_INVALID = 1, CT_NEW = 2, CT_RELATED = 4, CT_ESTABLISHED = 8, CT_UNTRACKED = 16, CT_SNAT = 32, CT_DNAT = 64;
export const CT_STATE_NAMES: Array<[number, string]> = [
  [CT_INVALID, 'INVALID'], [CT_NEW, 'NEW'], [CT_RELATED, 'RELATED'], [CT_ESTABLISHED, 'ESTABLISHED'],
  [CT_UNTRACKED, 'UNTRACKED'], [CT_SNAT, 'SNAT'], [CT_DNAT, 'DNAT'],
];

/** Set lookup as `-m set` needs it (ipset.ts implements it). */
export interface SetLookup {
  test(name: string, pkt: Pkt, dirs: readonly ('src' | 'dst')[]): boolean;
  exists(name: string): boolean;
  /** A rule starts or stops using the set (References:). */
  ref(name: string, delta: number): void;
}

/** xt_recent's lists (recent.ts). */
export interface RecentLists {
  /** --set: record addr now; --rcheck/--update: check (and for update record). */
  set(name: string, addr: number, nowNs: number): void;
  check(name: string, addr: number, nowNs: number, seconds: number, hitcount: number, reap: boolean, update: boolean): boolean;
  remove(name: string, addr: number): boolean;
}

/** What matches read besides the packet. */
export interface EvalCtx {
  nowNs: number;
  rng: { u32(): number };
  /** ctstate bits of the packet's connection (CT_*). */
  ctstate: number;
  isLocal(addr: number): boolean;
  sets: SetLookup | null;
  recent: RecentLists;
  /** The device is a bridge port (physdev); false when unknown. */
  physdevIn: boolean;
  /** Told each chain's rules walked, at chain switches only (WalkStats); absent or null: not told. */
  walkSink?: ((chain: string, rules: number) => void) | null;
}

/** A match module instance inside a rule. */
export interface Match {
  readonly name: string;
  /** ` -m name opts` as iptables-save prints it (leading space included). */
  save(): string;
  /** The -L text (leading space included). */
  list(numeric: boolean): string;
  /** Undefined for matches that always match (comment). */
  test?(p: Pkt, c: EvalCtx): boolean;
  /** Rule-local state (statistic nth) is kept per rule, as the kernel does. */
}

/** NAT a target asks for. */
export interface NatRequest {
  kind: 'dnat' | 'snat' | 'masquerade';
  /** u32 address; 0 for masquerade (the caller picks the out device's address). */
  addr: number; addrHi: number;
  portLo: number; portHi: number;
  randomFully: boolean; random: boolean; persistent: boolean;
}

/** Outcome of running a target. */
export type TargetResult =
  | { kind: 'continue' }
  | { kind: 'verdict'; verdict: 'ACCEPT' | 'DROP' | 'REJECT'; rejectWith?: string }
  | { kind: 'return' }
  | { kind: 'nat'; nat: NatRequest };

export interface Target {
  readonly name: string;
  /** ` --opt val` after `-j NAME` (leading space), '' when none. */
  save(): string;
  /** The -L text after the matches (leading space), '' when none. */
  list(numeric: boolean): string;
  run(p: Pkt, c: EvalCtx): TargetResult;
}

export interface AddrMatch { ip: number; mask: number; len: number; inv: boolean }
export interface IfaceMatch { name: string; inv: boolean; wildcard: boolean }

/** One rule, parsed. */
export interface Rule {
  src: AddrMatch | null;
  dst: AddrMatch | null;
  inIf: IfaceMatch | null;
  outIf: IfaceMatch | null;
  /** 0 = any. */
  proto: number;
  protoInv: boolean;
  fragment: 0 | 1 | -1;
  matches: Match[];
  /** Matches with a test (comment has none), kept apart for the walk. */
  tests: Match[];
  /** Built-in verdict, a user chain (jump/goto), an extension target, or none. */
  verdict: 'ACCEPT' | 'DROP' | 'RETURN' | null;
  jump: string | null;
  goto: boolean;
  target: Target | null;
  pkts: number;
  bytes: number;
}
