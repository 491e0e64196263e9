// The agent pod's `hubble --server HOST:PORT`: a gRPC client over the
// emulated network, as hubble dials from the node (the hubble-relay Service,
// its pod, or any other address). HTTP/2 is node's own, fed a Duplex over the
// emulated TCP connection; the calls are gRPC's framing (a flag byte, a 4-byte
// length, the protobuf) with the status in the trailers. Names resolve
// through cluster DNS, as the agent pod's ClusterFirstWithHostNet policy does.

import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { SocketError, type Netns } from '../../kernel/api.ts';
import { GetFlowsRequest, GetFlowsResponse, ServerStatusRequest, ServerStatusResponse, type GetFlowsRequestObject, type GetFlowsResponseObject,
  type ServerStatusResponseObject } from '../../hubble/proto.ts';
import type { Sim } from '../../sim/sim.ts';
import { TcpStream } from '../images/tcp_stream.ts';
import { parseResolvConf, resolveHost } from './resolver.ts';

/** grpc-go's code names, as `rpc error: code = <Name>` prints them. */
const CODE_NAMES = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated'];
/** One gRPC message a response may carry (a flow is a few hundred bytes). */
const MAX_MESSAGE = 4 << 20;

export class RemoteHubbleError extends Error {}

/** What the dial needs: the node's netns and clock, and the cluster's DNS server. */
export interface RemoteEnv { netns: Netns; sim: Sim; clusterDns: string }

function dialError(server: string, why: string): RemoteHubbleError {
  return new RemoteHubbleError(`failed to connect to '${server}': connection error: desc = "transport: error while dialing: ${why}"`);
}

/** Connects to HOST:PORT and opens an HTTP/2 session over the emulated connection. */
async function dial(env: RemoteEnv, server: string): Promise<ClientHttp2Session> {
  const m = /^(.*):(\d+)$/.exec(server);
  if (!m || Number(m[2]) > 65535) throw dialError(server, `dial tcp: address ${server}: missing port in address`);
  const host = m[1] || 'localhost', port = Number(m[2]);
  const rc = parseResolvConf(`nameserver ${env.clusterDns}\nsearch kube-system.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`);
  const r = await resolveHost(env.netns, env.sim, rc, host, 4);
  if (!r.ok || r.v4.length === 0) throw dialError(server, `dial tcp: lookup ${host}: no such host`);
  const ip = r.v4[0]!;
  let conn;
  try {
    conn = await env.netns.sockets.tcpConnect({ ip: ip.split('.').reduce((v, o) => v * 256 + Number(o), 0) >>> 0, port }, { timeoutNs: 5e9 });
  } catch (e) {
    if (!(e instanceof SocketError)) throw e;
    throw dialError(server, `dial tcp ${ip}:${port}: ${e.code === 'ECONNREFUSED' ? 'connect: connection refused' : e.code === 'ETIMEDOUT' ? 'i/o timeout' : e.message}`);
  }
  const stream = new TcpStream(conn);
  stream.on('error', () => {});
  const session = connect(`http://${server}`, { createConnection: () => stream });
  session.on('error', () => {});
  return session;
}

/** The gRPC status of a trailers (or trailers-only headers) block, as an error unless OK. */
function statusError(h: IncomingHttpHeaders): RemoteHubbleError | undefined {
  const code = Number(h['grpc-status'] ?? 2);
  if (code === 0) return undefined;
  const desc = decodeURIComponent(String(h['grpc-message'] ?? ''));
  return new RemoteHubbleError(`rpc error: code = ${CODE_NAMES[code] ?? `Code(${code})`} desc = ${desc}`);
}

/**
 * One call: sends req, hands each response message to onMessage (a promise
 * holds the next back), resolves on an OK status; signal cancels it.
 */
async function call(env: RemoteEnv, server: string, path: string, req: Uint8Array, onMessage: (b: Uint8Array) => void | Promise<void>, signal?: AbortSignal): Promise<void> {
  const session = await dial(env, server);
  try {
    await new Promise<void>((resolve, reject) => {
      const s = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
      const stop = (): void => { s.close(constants.NGHTTP2_CANCEL); resolve(); };
      signal?.addEventListener('abort', stop, { once: true });
      const done = (err?: Error): void => { signal?.removeEventListener('abort', stop); if (err) reject(err); else resolve(); };
      let buf: Buffer = Buffer.alloc(0);
      s.on('response', (h) => { if (h['grpc-status'] !== undefined) done(statusError(h)); });
      s.on('trailers', (h) => done(statusError(h)));
      s.on('error', (e) => done(signal?.aborted ? undefined : new RemoteHubbleError(`rpc error: code = Unavailable desc = ${e.message}`)));
      s.on('close', () => done(signal?.aborted ? undefined : new RemoteHubbleError('rpc error: code = Unavailable desc = the connection closed')));
      s.on('data', (d: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, d]) : d;
        while (buf.length >= 5) {
          const len = buf.readUInt32BE(1);
          if (len > MAX_MESSAGE) { s.close(constants.NGHTTP2_CANCEL); done(new RemoteHubbleError(`rpc error: code = ResourceExhausted desc = message larger than ${MAX_MESSAGE} bytes`)); return; }
          if (buf.length < 5 + len) break;
          const msg = buf.subarray(5, 5 + len);
          buf = buf.subarray(5 + len);
          const wait = onMessage(msg);
          if (wait) { s.pause(); void wait.then(() => s.resume()); }
        }
      });
      const frame = Buffer.alloc(5 + req.length);
      frame.writeUInt32BE(req.length, 1);
      frame.set(req, 5);
      s.end(frame);
    });
  } finally { session.close(); }
}

/** GetFlows on server, each response to onResponse, until the stream ends or signal aborts. */
export function remoteGetFlows(env: RemoteEnv, server: string, req: GetFlowsRequestObject, onResponse: (r: GetFlowsResponseObject) => void | Promise<void>, signal?: AbortSignal): Promise<void> {
  return call(env, server, '/observer.Observer/GetFlows', GetFlowsRequest.encode(GetFlowsRequest.fromObject(req as Record<string, unknown>)).finish(),
    (b) => onResponse(GetFlowsResponse.decode(b) as unknown as GetFlowsResponseObject), signal);
}

/** ServerStatus on server. */
export async function remoteServerStatus(env: RemoteEnv, server: string): Promise<ServerStatusResponseObject> {
  let out: ServerStatusResponseObject | undefined;
  await call(env, server, '/observer.Observer/ServerStatus', ServerStatusRequest.encode({}).finish(),
    (b) => { out = ServerStatusResponse.toObject(ServerStatusResponse.decode(b), { defaults: false }) as ServerStatusResponseObject; });
  if (!out) throw new RemoteHubbleError('rpc error: code = Internal desc = no response');
  return out;
}
