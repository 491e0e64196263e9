// quay.io/cilium/hubble-relay: `hubble-relay serve` listens on :4245 (its
// listen-address; `--listen-address` overrides it) in its pod and answers
// Hubble's gRPC API there. The listener is the pod's own emulated TCP socket;
// each accepted connection goes, as a Duplex over that socket, to the gRPC
// server the cluster's PodApps name (dplab serve plugs in the same server as
// --hubble-port, so the relay's answers are the cluster's relay). Until one is
// plugged in, or past maxConnections, a connection is closed at once, as a
// relay that is not up yet would leave it.

import type { PodRuntimeContext } from '../runtime_contract.ts';
import { TcpStream, type TcpStreamLimits } from './tcp_stream.ts';

/** hubble-relay's default listen-address (pkg/hubble/relay/defaults). */
export const RELAY_PORT = 4245;

export interface RelayLimits extends TcpStreamLimits {
  /** Connections open at once; more are closed as they arrive (default 64). */
  maxConnections?: number;
}

/** The port of `--listen-address [host]:port` / `--listen-address=[host]:port` in the args, else 4245. */
export function relayListenPort(args: readonly string[] | undefined): number {
  const a = args ?? [];
  for (let i = 0; i < a.length; i++) {
    const m = /^--listen-address(?:=(.*))?$/.exec(a[i]!);
    if (!m) continue;
    const port = Number(/:(\d+)$/.exec(m[1] ?? a[i + 1] ?? '')?.[1]);
    if (Number.isInteger(port) && port > 0 && port < 65536) return port;
  }
  return RELAY_PORT;
}

/** confined: the relay's container runs under AppArmor (grpc-go writes its preface, then reads: write(2) and read(2) at accept). */
export function startHubbleRelay(ctx: PodRuntimeContext, port: number, limits: RelayLimits = {}, confined = false): { close(): void } {
  const max = limits.maxConnections ?? 64;
  const open = new Set<TcpStream>();
  const listener = ctx.netns.sockets.tcpListen(port, (conn) => {
    const serve = ctx.apps?.hubbleRelay;
    if (!serve || open.size >= max) { conn.end(); return; }
    for (const access of ['write', 'read'] as const) conn.fileAccess?.(access, confined);
    const s = new TcpStream(conn, limits);
    open.add(s);
    s.once('close', () => open.delete(s));
    // A reset or a reader far behind ends the stream with an error; the gRPC server sees it closed.
    s.on('error', () => {});
    serve(s);
  });
  return { close: () => { listener.close(); for (const s of open) s.destroy(); open.clear(); } };
}
