// Hubble's gRPC API on plaintext HTTP/2 (h2c), as hubble-relay serves it on
// :4245: observer.Observer (GetFlows streaming with cancellation,
// ServerStatus, GetNodes, GetNamespaces), the health service and server
// reflection. Streams are bounded like the HTTP server's WebSocket streams:
// a slot per stream (total and per client) and a byte budget per stream, past
// which the stream waits and the observer counts what the reader lost.

import * as grpc from '@grpc/grpc-js';
import type { Duplex } from 'node:stream';
import type { GetFlowsRequestObject, GetFlowsResponseObject } from '../hubble/proto.ts';
import type { HubbleService } from '../hubble/service.ts';
import { encodeResponse, observerService } from '../hubble/grpc/definition.ts';
import { healthService } from '../hubble/grpc/health.ts';
import { healthHandlers } from './health.ts';
import { addReflection } from './reflection.ts';

/** What admits a stream: the HTTP server's StreamRegistry fits (admit throws when full; the function frees the slot). */
export interface StreamAdmission { admit(client: string): () => void }

export interface HubbleGrpcOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Stream slots shared with the WebSocket streams (none: unbounded). */
  admission?: StreamAdmission;
  /** Unsent bytes one stream may hold before it waits for its reader (default 256 KiB, as --stream-buffer-kb). */
  bufferBytes?: number;
}

export interface HubbleGrpcServer {
  port: number; address: string; close(): Promise<void>;
  /**
   * Serves one more connection that did not come from the listening port: an
   * emulated TCP connection to the hubble-relay pod, as a Duplex. The same
   * server answers it (same services, same stream slots), in process.
   */
  injectConnection(conn: Duplex): void;
}

/** The address part of a grpc-js peer string ("ipv4:127.0.0.1:5000", "ipv6:[::1]:5000", "127.0.0.1:5000"). */
export function peerAddress(peer: string): string {
  const p = peer.replace(/^ipv[46]:/, '');
  const m = /^\[([^\]]+)\]:\d+$/.exec(p) ?? /^(.*):\d+$/.exec(p);
  return m ? m[1]! : p;
}

/** A grpc-js status for an error: a HubbleError carries its own, a refused stream is RESOURCE_EXHAUSTED, anything else INTERNAL. */
function statusOf(err: unknown): Partial<grpc.StatusObject> {
  const e = err as { grpcStatus?: number; status?: number; message?: string };
  if (typeof e.grpcStatus === 'number') return { code: e.grpcStatus, details: e.message ?? '' };
  if (e.status === 429 || e.status === 503) return { code: grpc.status.RESOURCE_EXHAUSTED, details: e.message ?? '' };
  return { code: grpc.status.INTERNAL, details: e instanceof Error ? e.message : String(err) };
}

type Chunks = Array<{ chunk: unknown }>;
type Writer = { _write(c: unknown, e: string, cb: (err?: Error | null) => void): void; _writev?: (chunks: Chunks, cb: (err?: Error | null) => void) => void };

/**
 * grpc-js's response stream has no _writev: each message waits for the one
 * before to reach the socket, one message per event-loop round trip. Messages
 * queued meanwhile go out together instead (each still its own gRPC message).
 */
function batchWrites(call: grpc.ServerWritableStream<unknown, unknown>): void {
  const w = call as unknown as Writer;
  w._writev = (chunks, cb) => {
    let left = chunks.length;
    let failed: Error | null | undefined;
    for (const { chunk } of chunks) w._write(chunk, '', (err) => { failed ??= err; if (--left === 0) cb(failed); });
  };
}

/**
 * Writes encoded responses to a call while it holds fewer than `budget`
 * unsent bytes; beyond, send returns a promise that settles once the reader
 * has taken enough, so the observer's reader waits (and, lapped by the ring,
 * reports the flows lost as Hubble does).
 */
class BoundedCall {
  private pending = 0;
  private waiters: Array<() => void> = [];
  constructor(private readonly call: grpc.ServerWritableStream<unknown, unknown>, private readonly budget: number) {
    batchWrites(call);
  }

  send(resp: GetFlowsResponseObject): Promise<void> | void {
    const buf = encodeResponse(resp);
    this.pending += buf.byteLength;
    this.call.write(buf, () => this.written(buf.byteLength));
    if (this.pending >= this.budget) return new Promise((resolve) => this.waiters.push(resolve));
  }

  private written(n: number): void {
    this.pending -= n;
    // Wake the producer at half the budget, not at every write below it: a batch per wake-up, not a flow.
    if (this.pending <= this.budget / 2) for (const w of this.waiters.splice(0)) w();
  }

  /** Releases any waiter (the call ended). */
  release(): void { for (const w of this.waiters.splice(0)) w(); }
}

function handlers(hubble: HubbleService, opts: HubbleGrpcOptions, active: Set<AbortController>): grpc.UntypedServiceImplementation {
  const unaryCall = <T>(fn: () => T) => (_call: grpc.ServerUnaryCall<unknown, T>, cb: grpc.sendUnaryData<T>): void => {
    try { cb(null, fn()); } catch (e) { cb(statusOf(e)); }
  };
  return {
    GetFlows(call: grpc.ServerWritableStream<GetFlowsRequestObject, unknown>) {
      let release: () => void = () => {};
      try { release = opts.admission?.admit(peerAddress(call.getPeer())) ?? release; } catch (e) { call.emit('error', statusOf(e)); return; }
      const ac = new AbortController();
      active.add(ac);
      const out = new BoundedCall(call, opts.bufferBytes ?? 256 << 10);
      let ended = false;
      const done = (): void => { if (ended) return; ended = true; active.delete(ac); out.release(); release(); };
      call.on('cancelled', () => { ac.abort(); done(); });
      // A service that throws instead of rejecting still ends the call with a status.
      Promise.resolve().then(() => hubble.getFlows(call.request, (r) => (ac.signal.aborted ? undefined : out.send(r)), ac.signal)).then(
        () => { done(); if (!call.cancelled) call.end(); },
        (e: unknown) => { done(); if (!call.cancelled) call.emit('error', statusOf(e)); },
      );
    },
    ServerStatus: unaryCall(() => hubble.serverStatus()),
    GetNodes: unaryCall(() => hubble.getNodes()),
    GetNamespaces: unaryCall(() => hubble.getNamespaces()),
  };
}

/** Silences grpc-js's own log lines (e.g. "E No address added..." on a busy port): `dplab serve` reports failures in its one line. */
export function quietGrpcLogs(): void { grpc.setLogVerbosity(grpc.logVerbosity.NONE); }

/** Serves Hubble's API for `hubble` on host:port (127.0.0.1 by default). */
export async function startHubbleGrpc(hubble: HubbleService, opts: HubbleGrpcOptions): Promise<HubbleGrpcServer> {
  const server = new grpc.Server();
  const active = new Set<AbortController>();
  server.addService(observerService, handlers(hubble, opts, active));
  server.addService(healthService, healthHandlers);
  addReflection(server);
  const host = opts.host ?? '127.0.0.1';
  const hostPort = `${host.includes(':') ? `[${host}]` : host}:${opts.port}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(hostPort, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  return {
    port,
    address: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    injectConnection: (conn) => injector.injectConnection(conn),
    close: () => new Promise<void>((resolve) => {
      // Followers never end on their own: stop them, then close what is left.
      for (const ac of active) ac.abort();
      active.clear();
      injector.destroy();
      server.tryShutdown(() => resolve());
      setTimeout(() => { server.forceShutdown(); resolve(); }, 1000).unref();
    }),
  };
}
