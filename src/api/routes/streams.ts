// WebSocket streams: live capture of a node interface and `cilium-dbg monitor`.
// The capture message format is documented in ../capture_codec.ts; monitor
// sends one MonitorLine as JSON text per message.

import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import { ClusterError } from '../../cluster/facade.ts';
import { encodeCaptureMessage, type CaptureControl } from '../capture_codec.ts';
import { closeCodeFor, errorBody } from '../errors.ts';
import { requireNode } from './nodes.ts';
import type { RouteOptions } from './options.ts';

/** Above this many unsent bytes a slow client loses frames instead of the server buffering without bound. */
const MAX_BUFFERED = 8 << 20;

/** Sends `{error}` then closes with 4000+status: how a stream reports a bad node or interface. */
function refuse(socket: WebSocket, err: unknown): void {
  const { status, body } = errorBody(err);
  socket.send(JSON.stringify(body));
  socket.close(closeCodeFor(status), body.error.slice(0, 120));
  // A client that never answers the close handshake must not pin the socket for ws's 30 s timeout.
  setTimeout(() => { if (socket.readyState !== socket.CLOSED) socket.terminate(); }, 1000).unref();
}

/** Runs `subscribe` and wires its stop function to the socket's close, or refuses on error. */
function stream(socket: WebSocket, subscribe: () => () => void): void {
  let stop: () => void;
  try { stop = subscribe(); } catch (err) { refuse(socket, err); return; }
  socket.on('close', () => stop());
  socket.on('error', () => stop());
  // Clients only listen; anything they send is ignored.
  socket.on('message', () => {});
}

export const streamRoutes: FastifyPluginAsync<RouteOptions> = async (app, { cluster }) => {
  app.get<{ Params: { node: string }; Querystring: { iface?: string } }>('/v1/nodes/:node/capture', { websocket: true }, (socket, req) => {
    stream(socket, () => {
      requireNode(cluster, req.params.node);
      const iface = req.query.iface;
      if (!iface) throw new ClusterError('capture needs ?iface=NAME', 400, 'iface');
      let dropped = 0; let reported = 0;
      const stop = cluster.capture(req.params.node, iface, (f) => {
        if (socket.readyState !== socket.OPEN) return;
        if (socket.bufferedAmount > MAX_BUFFERED) { dropped++; return; }
        if (dropped !== reported) { reported = dropped; socket.send(JSON.stringify({ dropped })); }
        socket.send(encodeCaptureMessage(f, cluster.sim.epochMs), { binary: true });
      });
      socket.send(JSON.stringify({ listening: { node: req.params.node, iface } } satisfies CaptureControl));
      return stop;
    });
  });

  app.get<{ Params: { node: string } }>('/v1/nodes/:node/monitor', { websocket: true }, (socket, req) => {
    stream(socket, () => {
      requireNode(cluster, req.params.node);
      return cluster.monitor(req.params.node, (l) => {
        if (socket.readyState === socket.OPEN && socket.bufferedAmount <= MAX_BUFFERED) socket.send(JSON.stringify(l));
      });
    });
  });
};
