// kubectl port-forward over the API, as kubelet serves it: POST
// /v1/portforward/plan resolves TYPE/NAME and the port specs (kubectl's part,
// errors in kubectl's words), then each local connection is one WebSocket on
// GET /v1/namespaces/:namespace/pods/:pod/portforward?port=N, which the server
// turns into an emulated TCP connection to localhost:N inside the pod's netns.
// The first message is text: `{"connected":{"pod","port"}}`, or `{"error"}`
// and a close (4000 + status); then binary messages carry the bytes, both
// ways, and either side closing ends the connection.
// Bounded: each connection takes a stream slot (total and per client, shared
// with the other streams); bytes in flight toward the client are bounded by
// the WebSocket's buffer (the emulated connection is closed when the client
// falls behind by more than the stream buffer) and toward the pod by the
// emulated socket's send queue (the WebSocket stops reading while it is full).

import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import { ClusterError } from '../../cluster/facade.ts';
import { TcpStream } from '../../cluster/images/tcp_stream.ts';
import { closeStream, refuseStream } from '../errors.ts';
import { StreamRegistry, WaitingSender, streamLimits } from '../stream_limits.ts';
import { settled, type RouteOptions } from './options.ts';

export interface PortForwardRouteOptions extends RouteOptions { registry?: StreamRegistry }

interface PlanBody { namespace?: string; resource: string; ports: string[] }

const planBody = {
  type: 'object',
  properties: {
    namespace: { type: 'string', minLength: 1, maxLength: 253 }, resource: { type: 'string', maxLength: 512 },
    ports: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 64 },
  },
  required: ['resource', 'ports'],
} as const;

/** Bytes both ways between an open WebSocket and the emulated connection, until either ends. */
function pipe(socket: WebSocket, stream: TcpStream, budget: number): void {
  let done = false;
  const end = (): void => {
    if (done) return;
    done = true;
    stream.destroy();
    closeStream(socket, 1000);
  };
  const out = new WaitingSender(socket, budget);
  stream.on('data', (d: Buffer) => {
    // The client reads slower than the pod writes: stop reading the emulated socket (TcpStream closes it past its own bound).
    const drained = out.send(d);
    if (drained) { stream.pause(); void drained.then(() => { if (!done) stream.resume(); }); }
  });
  stream.on('end', end);
  stream.on('close', end);
  stream.on('error', end);
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary || done) return;
    // A full emulated send queue: stop reading the WebSocket until it drains.
    if (!stream.write(data)) { socket.pause(); stream.once('drain', () => socket.resume()); }
  });
  socket.once('close', end);
  socket.once('error', end);
}

export const portForwardRoutes: FastifyPluginAsync<PortForwardRouteOptions> = async (app, { cluster, registry: shared }) => {
  const registry = shared ?? new StreamRegistry(streamLimits());

  app.post<{ Body: PlanBody }>('/v1/portforward/plan', { schema: { body: planBody } }, async (req) => {
    if (!cluster.portForwardPlan) throw new ClusterError('port-forward is not available on this server', 501, 'portforward');
    return cluster.portForwardPlan(req.body.namespace ?? 'default', req.body.resource, req.body.ports);
  });

  app.get<{ Params: { namespace: string; pod: string }; Querystring: { port?: string } }>('/v1/namespaces/:namespace/pods/:pod/portforward', { websocket: true }, (socket, req) => {
    let release: (() => void) | undefined;
    let closed = false;
    socket.once('close', () => { closed = true; release?.(); });
    // Bytes sent before the emulated connection is up are refused with the error, never queued.
    socket.on('message', () => {});
    void (async () => {
      const port = Number(req.query.port);
      if (!/^\d+$/.test(req.query.port ?? '') || port < 1 || port > 65535) throw new ClusterError(`portforward needs ?port=1..65535, not "${req.query.port ?? ''}"`, 400, 'port');
      if (!cluster.podConnect) throw new ClusterError('port-forward is not available on this server', 501, 'portforward');
      release = registry.admit(req.ip);
      if (closed) { release(); return; }
      const conn = await settled(cluster, cluster.podConnect(req.params.namespace, req.params.pod, port));
      const stream = new TcpStream(conn, { highWaterBytes: registry.limits.bufferBytes, maxReadBytes: 4 * registry.limits.bufferBytes });
      if (closed || socket.readyState !== socket.OPEN) { stream.destroy(); return; }
      socket.removeAllListeners('message');
      socket.send(JSON.stringify({ connected: { pod: req.params.pod, port } }));
      pipe(socket, stream, registry.limits.bufferBytes);
    })().catch((err: unknown) => refuseStream(socket, err));
  });
};
