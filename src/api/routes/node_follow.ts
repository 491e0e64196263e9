// Node commands that follow, over WebSocket, bounded as the other streams
// (../stream_limits.ts: streams per client and in total, unsent bytes):
//
// GET /v1/nodes/{node}/exec?command=conntrack&command=-E[&command=...]
//   A node exec whose output streams, as Kubernetes' exec WebSocket takes
//   `command=` once per argument. Text frames, JSON: {"stdout": "..."} and
//   {"stderr": "..."} as the command prints, {"lost": N} when N lines were
//   skipped for a reader that fell behind, and last {"exitCode": N} before a
//   normal close. The client sends {"signal": "SIGINT"} (or SIGTERM) to stop
//   a following command: it prints its last words (`N flow events have been
//   shown.`) and exits. A command that does not follow runs as a plain node
//   exec and its whole output comes in one go.
//
// GET /v1/nodes/{node}/conntrack/events[?proto=tcp&src=&dst=&...&event-mask=NEW,DESTROY]
//   `conntrack -E` as JSON: one CtEntryJson (with `event`) per frame,
//   {"lost": N} as above. Bad filters: {"error"} and close 4400.

import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { ClusterError, type ClusterFacade, type ExecResult } from '../../cluster/facade.ts';
import type { FollowHandle } from '../../datapath/contract.ts';
import { closeCodeFor, errorBody } from '../errors.ts';
import { BoundedSender, type StreamRegistry } from '../stream_limits.ts';
import { requireNode } from './nodes.ts';
import { conntrackLineJson } from './node_tools_json.ts';
import { CT_FILTERS, conntrackArgv, queryPairs, toolMessage } from './node_tools.ts';
import { settled, type RouteOptions } from './options.ts';

export interface FollowRouteOptions extends RouteOptions { registry: StreamRegistry }

/** Arguments a followed exec may have, and their total size: a URL is the only input. */
const MAX_ARGS = 256;

/** Sends `{error}` and closes with 4000+status, as the other streams refuse. */
function refuse(socket: WebSocket, err: unknown): void {
  const { status, body } = errorBody(err);
  if (socket.readyState !== socket.OPEN) return;
  socket.send(JSON.stringify(body));
  socket.close(closeCodeFor(status), body.error.slice(0, 120));
  setTimeout(() => { if (socket.readyState !== socket.CLOSED) socket.terminate(); }, 1000).unref();
}

/** Sends a finished command's output and exit code, then closes normally. */
function finish(socket: WebSocket, r: ExecResult): void {
  if (socket.readyState !== socket.OPEN) return;
  if (r.stdout) socket.send(JSON.stringify({ stdout: r.stdout }));
  if (r.stderr) socket.send(JSON.stringify({ stderr: r.stderr }));
  socket.send(JSON.stringify({ exitCode: r.exitCode }));
  socket.close(1000, 'exited');
}

/** Starts a follow for the node, or throws why not (404 unknown node, 501 no such follow on this datapath). */
function startFollow(cluster: ClusterFacade, node: string, argv: string[], out: (line: string) => void): FollowHandle | ExecResult | undefined {
  requireNode(cluster, node);
  if (!cluster.follow) throw new ClusterError('this server cannot follow node commands', 501);
  return cluster.follow(node, argv, out);
}

/**
 * Takes a stream slot, starts `begin` (which returns the stop function, or
 * nothing when it already finished), and stops it and frees the slot when the
 * socket closes.
 */
function withSlot(socket: WebSocket, req: FastifyRequest, registry: StreamRegistry, begin: (sender: BoundedSender) => (() => void) | undefined): void {
  let release: (() => void) | undefined;
  const sender = new BoundedSender(socket, registry.limits.bufferBytes, (_total, since) => JSON.stringify({ lost: since }));
  let stop: (() => void) | undefined;
  try {
    release = registry.admit(req.ip);
    stop = begin(sender);
  } catch (err) { release?.(); sender.close(); refuse(socket, err); return; }
  const end = (): void => { stop?.(); stop = undefined; sender.close(); release?.(); release = undefined; };
  socket.once('close', end);
  socket.once('error', end);
}

export const nodeFollowRoutes: FastifyPluginAsync<FollowRouteOptions> = async (app, { cluster, registry }) => {
  app.get<{ Params: { node: string } }>('/v1/nodes/:node/exec', { websocket: true }, (socket, req) => {
    const node = req.params.node;
    withSlot(socket, req, registry, (sender) => {
      const argv = queryPairs(req.url, ['command']).map(([, v]) => v);
      if (argv.length === 0) throw new ClusterError('give the command as command=NAME&command=ARG...', 400, 'command');
      if (argv.length > MAX_ARGS) throw new ClusterError(`at most ${MAX_ARGS} command arguments`, 400, 'command');
      const h = startFollow(cluster, node, argv, (line) => sender.send(() => JSON.stringify({ stdout: `${line}\n` })));
      if (h === undefined) {
        // Not a following command: a plain node exec, its output in one go.
        settled(cluster, cluster.nodeExec(node, argv)).then((r) => finish(socket, r), (err: unknown) => refuse(socket, err));
        return undefined;
      }
      if (!('stop' in h)) { finish(socket, h); return undefined; }
      let handle: FollowHandle | undefined = h;
      const stop = (): ExecResult | undefined => { const r = handle?.stop(); handle = undefined; return r; };
      socket.on('message', (data) => {
        let msg: { signal?: unknown };
        try { msg = JSON.parse(String(data)) as { signal?: unknown }; } catch { return; }
        if (msg.signal !== 'SIGINT' && msg.signal !== 'SIGTERM') return;
        const r = stop();
        if (r) finish(socket, r);
      });
      return () => { stop(); };
    });
  });

  app.get<{ Params: { node: string } }>('/v1/nodes/:node/conntrack/events', { websocket: true }, (socket, req) => {
    const node = req.params.node;
    withSlot(socket, req, registry, (sender) => {
      const pairs = queryPairs(req.url, [...CT_FILTERS, 'event-mask']);
      const mask = pairs.filter(([k]) => k === 'event-mask').flatMap(([, v]) => ['--event-mask', v]);
      const argv = ['conntrack', '-E', ...conntrackArgv(pairs.filter(([k]) => k !== 'event-mask')), ...mask];
      const h = startFollow(cluster, node, argv, (line) => sender.send(() => JSON.stringify(conntrackLineJson(line) ?? { line })));
      if (h === undefined) throw new ClusterError(`node "${node}" has no conntrack: kube-proxy installs conntrack (service proxy iptables or ipvs)`, 404, 'node');
      if (!('stop' in h)) throw new ClusterError(toolMessage(h.stderr), 400);
      return () => { h.stop(); };
    });
  });
};
