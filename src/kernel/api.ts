// Contract of the emulated Linux node, as used by the Cilium agent, the
// programs' loader, the apps and the API. IPv4 addresses are u32 numbers
// (host order) inside, dotted strings at the edges.

import type { BpfProgram, SockAddrCtx } from '../bpf/program.ts';
import type { Sim } from '../sim/sim.ts';
import type { Netfilter } from '../netfilter/netfilter.ts';

export type DeviceKind = 'loopback' | 'veth' | 'netdev' | 'vxlan' | 'dummy' | 'ipip';
export type TcxDirection = 'ingress' | 'egress';

/** One tcx attachment, as `bpftool net show` lists it. */
export interface TcxLink { prog: BpfProgram; linkId: number }

export interface IfAddr { ip: number; prefixLen: number; scope: 'host' | 'global' | 'link' }

/** An interface (struct net_device). */
export interface NetDevice {
  readonly ifindex: number;
  readonly name: string;
  readonly kind: DeviceKind;
  readonly mac: Uint8Array;
  mtu: number;
  up: boolean;
  readonly netns: Netns;
  /** veth peer (may live in another netns). */
  readonly peer?: NetDevice;
  readonly addrs: IfAddr[];
  readonly tcx: Record<TcxDirection, TcxLink[]>;
  /** Name of the peer's netns as `ip link` prints it (link-netns / link-netnsid). */
  stats: { rxPackets: number; txPackets: number; rxBytes: number; txBytes: number; rxDropped: number; txDropped: number };
}

export interface Route {
  /** Destination network (0 for default). */
  dst: number;
  prefixLen: number;
  /** Next hop, 0 for a directly connected route. */
  gateway: number;
  ifindex: number;
  /** Preferred source address, 0 if none. */
  src: number;
  metric: number;
  scope: 'link' | 'global' | 'host';
  /** Routes installed by Cilium carry proto kernel/static; informational. */
  proto?: string;
  /** Route MTU metric (`mtu 9001` in `ip route`), as Cilium sets on pod routes. */
  mtu?: number;
  /** `onlink`: the gateway is reachable on the device without a covering route. */
  onlink?: boolean;
  /** `blackhole`: no device, packets discarded (Calico's route for its own block). */
  type?: 'blackhole';
}

/** Connection failure codes surfaced to apps (curl maps them to exit codes). */
export type SocketErrorCode = 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT' | 'EHOSTUNREACH' | 'ENETUNREACH' | 'EADDRINUSE' | 'EMSGSIZE' | 'EBADF' | 'EDESTADDRREQ';
export class SocketError extends Error {
  constructor(readonly code: SocketErrorCode, message?: string) { super(message ?? code); }
}

export interface Endpoint4 { ip: number; port: number }

/** A TCP connection seen from one side. */
export interface TcpConnection {
  readonly local: Endpoint4;
  /** The peer as the program knows it: the address given to connect(), or what accept() reported (after socket-LB reverse translation). */
  readonly remote: Endpoint4;
  write(data: Uint8Array): void;
  /** Send FIN after queued data. */
  end(): void;
  onData(cb: (data: Uint8Array) => void): void;
  /** Peer sent FIN. */
  onEnd(cb: () => void): void;
  /** Connection fully closed or reset. */
  onClose(cb: (err?: SocketError) => void): void;
  /** Bytes written and not yet acknowledged by the peer (SIOCOUTQ, `ss`'s Send-Q): how a bridge to a real stream bounds what it queues. */
  readonly outqBytes?: number;
  /**
   * security_file_permission: what read(2)/write(2) (and readv/writev) on the socket's file check before the
   * socket call; recv/send and recvmsg/sendmsg do not. An app that reads or writes its socket that way calls
   * this first, with whether its task is AppArmor-confined.
   */
  fileAccess?(access: FileAccess, confined: boolean): void;
}

/** The access read(2) or write(2) asks of a file. */
export type FileAccess = 'read' | 'write';

export interface UdpSocket {
  readonly local: Endpoint4;
  send(to: Endpoint4, data: Uint8Array): void;
  /** connect(2): cgroup connect4 runs once (socket LB translates here), the peer and source address are fixed. Throws SocketError. */
  connect(to: Endpoint4): void;
  /** send(2) to the connected peer (no sendmsg4 run). */
  write(data: Uint8Array): void;
  /**
   * Next datagram, or null after timeoutNs of virtual time. `from` is after recvmsg reverse translation; with
   * `address: false` the read is read(2)/recv(2), which asks for no address: cgroup recvmsg4 does not run.
   * A connected socket rejects with the SocketError of an ICMP error about its peer (ECONNREFUSED...).
   */
  recv(timeoutNs: number, opts?: { address?: boolean }): Promise<{ data: Uint8Array; from: Endpoint4 } | null>;
  close(): void;
}

/**
 * An echo reply, or (with `icmp`) the ICMP error the probe earned, as IP_RECVERR
 * queues it (SO_EE_ORIGIN_ICMP: ee_type, ee_code, ee_info = the MTU for "frag needed").
 */
export interface PingReply { ttl: number; rttNs: number; bytes: number; from: number; icmp?: { type: number; code: number; info: number } }
/** IP_MTU_DISCOVER for a ping socket: IP_PMTUDISC_DO / WANT (Linux's default) / DONT. */
export type PmtuDisc = 'do' | 'want' | 'dont';
/** A probe refused locally (SO_EE_ORIGIN_LOCAL): EMSGSIZE carries the path MTU as ee_info. */
export class PingLocalError extends SocketError {
  constructor(code: SocketErrorCode, readonly mtu: number, message?: string) { super(code, message); }
}

/** The socket layer of one netns. */
export interface SocketApi {
  /** Rejects with SocketError. timeoutNs bounds the handshake (SYN retransmits in between). */
  tcpConnect(to: Endpoint4, opts?: { timeoutNs?: number }): Promise<TcpConnection>;
  tcpListen(port: number, onConnection: (c: TcpConnection) => void): { close(): void };
  /** Bind a UDP socket; port 0 picks an ephemeral port. onMessage makes it a server socket. */
  udpBind(port: number, onMessage?: (data: Uint8Array, from: Endpoint4, reply: (d: Uint8Array) => void) => void): UdpSocket;
  /** One ICMP echo; null on timeout. */
  ping(to: number, opts: { seq: number; id: number; payloadBytes: number; timeoutNs: number; ttl?: number; pmtudisc?: PmtuDisc }): Promise<PingReply | null>;
}

/** cgroup sock_addr attach points used by socket LB. */
export type CgroupHook = 'connect4' | 'sendmsg4' | 'recvmsg4' | 'getpeername4';

/** A network namespace. */
export interface Netns {
  readonly name: string;
  readonly node: KernelNode;
  readonly cookie: number;
  readonly devices: Map<string, NetDevice>;
  readonly routes: Route[];
  readonly sockets: SocketApi;
  ipForward: boolean;
  /** IP_TRANSPARENT-like: every destination counts as local, listeners accept any address ("the internet"). */
  acceptAnyDestination?: boolean;
  /** With acceptAnyDestination: destinations it still does not own, dropped on input (an upstream router's bogon filter). */
  refuseDestination?: (daddr: number) => boolean;
  /** net.ipv4.ip_default_ttl (64). */
  defaultTtl?: number;
  /** Cilium endpoint id of the pod owning this netns (SockAddrCtx.epId); 0/undefined for the host. */
  epId?: number;
  device(name: string): NetDevice | undefined;
  addAddress(dev: NetDevice, ip: number, prefixLen: number, scope?: IfAddr['scope']): void;
  addRoute(r: Omit<Route, 'metric' | 'src' | 'scope'> & Partial<Route>): void;
}

/** A node's kernel: its netnses, ifindex space, program attach points. */
export interface KernelNode {
  readonly name: string;
  readonly sim: Sim;
  readonly hostNs: Netns;
  readonly netnses: Map<string, Netns>;
  deviceByIndex(ifindex: number): NetDevice | undefined;
  createNetns(name: string): Netns;
  deleteNetns(name: string): void;
  /** Create a veth pair: `hostName` in the host netns, `peerName` in ns. */
  createVeth(hostName: string, ns: Netns, peerName: string, opts?: { mtu?: number; hostMac?: Uint8Array; peerMac?: Uint8Array; peerIfindex?: number }): [NetDevice, NetDevice];
  attachTcx(dev: NetDevice, dir: TcxDirection, prog: BpfProgram): TcxLink;
  attachCgroup(hook: CgroupHook, prog: BpfProgram<SockAddrCtx>): void;
  /** The host netns's netfilter (tables, conntrack), built on the first call: until then no hook runs. */
  enableNetfilter(): Netfilter;
  /** Observe every frame crossing dev (both directions), as a packet socket would. */
  capture(dev: NetDevice, cb: (frame: Uint8Array, dir: 'in' | 'out', tsNs: number) => void): () => void;
}
