// A Hubble API client (grpc-js with our protos) for `dplab hubble` and the
// hubble in agent pods: dials like the hubble CLI (fails at once when nothing
// listens), or runs over a stream it is handed (an emulated TCP connection);
// calls GetFlows, ServerStatus, GetNodes and the health check, and words
// failures as hubble does ("rpc error: code = Unavailable desc = ...").

import * as grpc from '@grpc/grpc-js';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { GetFlowsResponse, type GetFlowsRequestObject, type GetFlowsResponseObject, type GetNodesResponseObject, type ServerStatusResponseObject } from '../proto.ts';
import { bridgeStream, type StreamBridge } from './bridge.ts';
import { observerService } from './definition.ts';
import { healthService, SERVING_STATUS } from './health.ts';

/** grpc-go's code names, as `rpc error: code = <Name>` prints them. */
const CODE_NAMES = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated'];

/** A failed call: its gRPC status; the message is grpc-go's `rpc error: code = X desc = Y`. */
export class RpcError extends Error {
  constructor(readonly code: number, readonly details: string) {
    super(`rpc error: code = ${CODE_NAMES[code] ?? `Code(${code})`} desc = ${details}`);
  }
}

/** A connection that could not be made, worded as hubble's conn.New. */
export class DialError extends Error {}

function rpcError(e: unknown): RpcError {
  const s = e as Partial<grpc.ServiceError>;
  return new RpcError(s.code ?? grpc.status.UNKNOWN, s.details ?? (e instanceof Error ? e.message : String(e)));
}

/** host and port of a hubble --server value ("host:port", "[v6]:port"). */
function splitTarget(target: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(target) ?? /^([^:]*):(\d+)$/.exec(target);
  if (!m) return undefined;
  return { host: m[1] === '' ? 'localhost' : m[1]!, port: Number(m[2]) };
}

/** Opens and closes one TCP connection, so a server that is not there fails as fast as hubble's blocking dial. */
function probe(target: string, timeoutMs: number): Promise<void> {
  const hp = splitTarget(target);
  const fail = (why: string): DialError => new DialError(`failed to connect to '${target}': ${why}`);
  if (!hp) {
    const why = target.split(':').length > 2 ? 'too many colons in address' : 'missing port in address';
    return Promise.reject(fail(`connection error: desc = "transport: error while dialing: dial tcp: address ${target}: ${why}"`));
  }
  return new Promise((resolve, reject) => {
    const sock = connect({ host: hp.host, port: hp.port });
    const timer = setTimeout(() => { sock.destroy(); reject(fail('context deadline exceeded')); }, timeoutMs);
    sock.once('connect', () => { clearTimeout(timer); sock.destroy(); resolve(); });
    sock.once('error', (e: NodeJS.ErrnoException & { address?: string; port?: number }) => {
      clearTimeout(timer);
      const addr = e.address ? `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port ?? hp.port}` : target;
      const why = e.code === 'ECONNREFUSED' ? `dial tcp ${addr}: connect: connection refused`
        : e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' ? `dial tcp: lookup ${hp.host}: no such host`
          : `dial tcp ${addr}: ${e.message}`;
      reject(fail(`connection error: desc = "transport: error while dialing: ${why}"`));
    });
  });
}

/**
 * HTTP/2 receive window: grpc-js keeps HTTP/2's 64 KiB (75 flows) unless told,
 * so a stream stalls for a round trip every 75 flows; grpc-go, under the real
 * hubble, grows its window to megabytes by itself.
 */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc-node.flow_control_window': 8 << 20 };

export class HubbleClient {
  private readonly client: grpc.Client;

  private constructor(readonly target: string, options: grpc.ChannelOptions, private readonly bridge?: StreamBridge) {
    this.client = new grpc.Client(target, grpc.credentials.createInsecure(), options);
  }

  /** Dials target; rejects with a DialError worded as hubble's when nothing answers there. */
  static async dial(target: string, timeoutMs = 5000): Promise<HubbleClient> {
    await probe(target.replace(/^tls:\/\//, ''), timeoutMs);
    return new HubbleClient(target, CHANNEL_OPTIONS);
  }

  /**
   * A client on a connection already made (an emulated TCP connection as a
   * Duplex); authority is the :authority its calls carry (the --server
   * value). Closing the client ends the connection. HTTP/2's default window
   * is kept: the stream has no receive window of its own, so the window is
   * what bounds the bytes a server sends ahead of a slow reader.
   */
  static async over(stream: Duplex, authority: string): Promise<HubbleClient> {
    const bridge = await bridgeStream(stream).catch((e: unknown) => { stream.destroy(); throw e; });
    return new HubbleClient(bridge.target, { 'grpc.default_authority': authority }, bridge);
  }

  close(): void { this.client.close(); this.bridge?.close(); }

  /** A call's failure; a connection that ended before the server said anything gets grpc-go's words (grpc-js's are a timestamped "Failed to connect"). */
  private failure(e: unknown): RpcError {
    const err = rpcError(e);
    if (err.code === grpc.status.UNAVAILABLE && this.bridge?.endedSilent()) return new RpcError(err.code, 'connection error: desc = "error reading server preface: EOF"');
    return err;
  }

  /**
   * Streams GetFlows responses to onResponse; resolves when the server ends
   * the stream (or signal aborts). When onResponse returns a promise, reading
   * pauses until it settles (a slow stdout slows the stream down).
   */
  getFlows(req: GetFlowsRequestObject, onResponse: (r: GetFlowsResponseObject) => void | Promise<void>, signal?: AbortSignal): Promise<void> {
    const m = observerService.GetFlows;
    return new Promise((resolve, reject) => {
      // The decoded message as it is (unset fields read as their defaults from its prototype): the printers read
      // it like a plain object, and a toObject copy per flow would double the client's cost.
      const decode = (b: Buffer) => GetFlowsResponse.decode(b) as unknown as GetFlowsResponseObject;
      const call = this.client.makeServerStreamRequest(m.path, m.requestSerialize, decode, req, new grpc.Metadata(), {});
      const abort = (): void => call.cancel();
      signal?.addEventListener('abort', abort, { once: true });
      call.on('data', (r: GetFlowsResponseObject) => {
        const wait = onResponse(r);
        if (wait) { call.pause(); void wait.then(() => call.resume()); }
      });
      call.on('error', (e: grpc.ServiceError) => {
        signal?.removeEventListener('abort', abort);
        if (e.code === grpc.status.CANCELLED && signal?.aborted) resolve(); else reject(this.failure(e));
      });
      call.on('end', () => { signal?.removeEventListener('abort', abort); resolve(); });
    });
  }

  private unary<Req, Res>(m: grpc.MethodDefinition<Req, Res>, req: Req, timeoutMs: number): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs },
        (err, res) => (err ? reject(this.failure(err)) : resolve(res!)));
    });
  }

  serverStatus(timeoutMs = 12_000): Promise<ServerStatusResponseObject> {
    return this.unary(observerService.ServerStatus as grpc.MethodDefinition<object, ServerStatusResponseObject>, {}, timeoutMs);
  }

  getNodes(timeoutMs = 12_000): Promise<GetNodesResponseObject> {
    return this.unary(observerService.GetNodes as grpc.MethodDefinition<object, GetNodesResponseObject>, {}, timeoutMs);
  }

  /** grpc.health.v1 Check: the ServingStatus name (SERVING, NOT_SERVING, ...). */
  async health(service: string, timeoutMs = 12_000): Promise<string> {
    const res = await this.unary(healthService.Check, { service }, timeoutMs);
    return SERVING_STATUS[res.status ?? 0] ?? String(res.status);
  }
}
