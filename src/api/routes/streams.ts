// WebSocket streams: live capture of a node interface and `cilium-dbg monitor`.
// The capture message format is documented in ../capture_codec.ts; monitor
// sends one MonitorLine as JSON text per message, and `{"lost": N}` when it
// skipped N lines for a reader that did not keep up. Both are bounded
// (../stream_limits.ts): streams per client and in total, unsent bytes per stream.

import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { ClusterError } from '../../cluster/facade.ts';
import { encodeCaptureMessage, type CaptureControl } from '../capture_codec.ts';
import { refuseStream } from '../errors.ts';
import { BoundedSender, StreamRegistry, streamLimits, type StreamLimits } from '../stream_limits.ts';
import { requireNode } from './nodes.ts';
import type { RouteOptions } from './options.ts';

export interface StreamRouteOptions extends RouteOptions { limits?: Partial<StreamLimits>; registry?: StreamRegistry }


/**
 * Takes a slot for the client, runs `subscribe` (which returns what stops it),
 * and frees both when the socket closes; refuses (limits, bad node) with
 * `{error}` and a close code.
 */
function stream(socket: WebSocket, req: FastifyRequest, registry: StreamRegistry, subscribe: () => () => void): void {
  let release: (() => void) | undefined;
  let stop: () => void;
  try {
    release = registry.admit(req.ip);
    stop = subscribe();
  } catch (err) { release?.(); refuseStream(socket, err); return; }
  let ended = false;
  const end = (): void => { if (ended) return; ended = true; stop(); release?.(); };
  socket.once('close', end);
  socket.once('error', end);
  // Clients only listen; anything they send is ignored.
  socket.on('message', () => {});
}

export const streamRoutes: FastifyPluginAsync<StreamRouteOptions> = async (app, { cluster, limits, registry: shared }) => {
  // Shared with /v1/flows and Hubble's gRPC when the app gives one.
  const registry = shared ?? new StreamRegistry(streamLimits(limits));
  const budget = registry.limits.bufferBytes;

  app.get<{ Params: { node: string }; Querystring: { iface?: string } }>('/v1/nodes/:node/capture', { websocket: true }, (socket, req) => {
    stream(socket, req, registry, () => {
      requireNode(cluster, req.params.node);
      const iface = req.query.iface;
      if (!iface) throw new ClusterError('capture needs ?iface=NAME', 400, 'iface');
      // `dropped` is the running total, as tcpdump's "dropped by kernel".
      const sender = new BoundedSender(socket, budget, (total) => JSON.stringify({ dropped: total } satisfies CaptureControl));
      const stop = cluster.capture(req.params.node, iface, (f) => sender.send(() => encodeCaptureMessage(f, cluster.sim.epochMs)));
      socket.send(JSON.stringify({ listening: { node: req.params.node, iface } } satisfies CaptureControl));
      return stop;
    });
  });

  app.get<{ Params: { node: string } }>('/v1/nodes/:node/monitor', { websocket: true }, (socket, req) => {
    stream(socket, req, registry, () => {
      requireNode(cluster, req.params.node);
      // `lost` counts since the previous report, as a perf ring's lost record.
      const sender = new BoundedSender(socket, budget, (_total, since) => JSON.stringify({ lost: since }));
      return cluster.monitor(req.params.node, (l) => sender.send(() => JSON.stringify(l)));
    });
  });
};
