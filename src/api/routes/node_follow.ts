// Node commands that follow, over WebSocket, served by ../command_stream.ts
// (a stream slot each, {error} and close 4000+status on a refusal); a reader
// that falls behind loses lines, reported as {"lost": N}: the events cannot wait.
//
// GET /v1/nodes/{node}/exec?command=conntrack&command=-E[&command=...]
//   A node exec whose output streams, as Kubernetes' exec WebSocket takes
//   `command=` once per argument. Text frames, JSON: {"stdout": "..."} and
//   {"stderr": "..."} as the command prints, {"lost": N} when N lines were
//   skipped for a reader that fell behind, and last {"exitCode": N} before a
//   normal close. The client sends {"signal": "SIGINT"} (or SIGTERM) to stop
//   a following command: it prints its last words (`N flow events have been
//   shown.`) and exits. A command that does not follow runs as a plain node
//   exec and its whole output comes in one go. Any other message is refused
//   ({error}, close 4400).
//
// GET /v1/nodes/{node}/conntrack/events[?proto=tcp&src=&dst=&...&event-mask=NEW,DESTROY]
//   `conntrack -E` as JSON: one CtEntryJson (with `event`) per frame,
//   {"lost": N} as above; closing it or {"signal": "SIGINT"} ends it (close
//   1000, no exit code). Bad filters: {"error"} and close 4400.

import type { FastifyPluginAsync } from 'fastify';
import { ClusterError, type ClusterFacade, type ExecResult } from '../../cluster/facade.ts';
import type { FollowHandle } from '../../datapath/contract.ts';
import { serveCommand, type CommandOutput, type StreamCommand } from '../command_stream.ts';
import type { StreamRegistry } from '../stream_limits.ts';
import { requireNode } from './nodes.ts';
import { conntrackLineJson } from './node_tools_json.ts';
import { CT_FILTERS, conntrackArgv, queryPairs, toolMessage } from './node_tools.ts';
import { settled, type RouteOptions } from './options.ts';

export interface FollowRouteOptions extends RouteOptions { registry: StreamRegistry }

/** Arguments a followed exec may have: a URL is the only input. */
const MAX_ARGS = 256;

/** Starts a follow for the node, or throws why not (404 unknown node, 501 no such follow on this datapath). */
function startFollow(cluster: ClusterFacade, node: string, argv: string[], out: (line: string) => void): FollowHandle | ExecResult | undefined {
  requireNode(cluster, node);
  if (!cluster.follow) throw new ClusterError('this server cannot follow node commands', 501);
  return cluster.follow(node, argv, out);
}

/** Stops the follow once signal aborts (the client's signal or close); what it printed last. */
function stopped(h: FollowHandle, signal: AbortSignal): Promise<ExecResult> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(h.stop());
    else signal.addEventListener('abort', () => resolve(h.stop()), { once: true });
  });
}

/** Sends what an ended command printed last; its exit code. */
async function ended(out: CommandOutput, r: ExecResult): Promise<number> {
  if (r.stdout) await out.last('stdout', r.stdout);
  if (r.stderr) await out.last('stderr', r.stderr);
  return r.exitCode;
}

/** `command=` arguments: a following command streams until stopped; any other runs as a plain node exec, its output in one go. */
function execCommand(cluster: ClusterFacade, node: string, url: string): StreamCommand {
  const argv = queryPairs(url, ['command']).map(([, v]) => v);
  if (argv.length === 0) throw new ClusterError('give the command as command=NAME&command=ARG...', 400, 'command');
  if (argv.length > MAX_ARGS) throw new ClusterError(`at most ${MAX_ARGS} command arguments`, 400, 'command');
  return async (out, signal) => {
    const h = startFollow(cluster, node, argv, (line) => void out.write('stdout', `${line}\n`));
    if (h === undefined) return ended(out, await settled(cluster, cluster.nodeExec(node, argv)));
    return ended(out, 'stop' in h ? await stopped(h, signal) : h);
  };
}

/** `conntrack -E` with the query's filters, one CtEntryJson per event; no exit code, the stream just ends. */
function conntrackEvents(cluster: ClusterFacade, node: string, url: string): StreamCommand {
  const pairs = queryPairs(url, [...CT_FILTERS, 'event-mask']);
  const mask = pairs.filter(([k]) => k === 'event-mask').flatMap(([, v]) => ['--event-mask', v]);
  const argv = ['conntrack', '-E', ...conntrackArgv(pairs.filter(([k]) => k !== 'event-mask')), ...mask];
  return async (out, signal) => {
    const h = startFollow(cluster, node, argv, (line) => void out.send(conntrackLineJson(line) ?? { line }));
    if (h === undefined) throw new ClusterError(`node "${node}" has no conntrack: kube-proxy installs conntrack (service proxy iptables or ipvs)`, 404, 'node');
    if (!('stop' in h)) throw new ClusterError(toolMessage(h.stderr), 400);
    await stopped(h, signal);
    return undefined;
  };
}

export const nodeFollowRoutes: FastifyPluginAsync<FollowRouteOptions> = async (app, { cluster, registry }) => {
  app.get<{ Params: { node: string } }>('/v1/nodes/:node/exec', { websocket: true }, (socket, req) => {
    serveCommand(socket, req.ip, registry, { backpressure: 'drop', command: () => execCommand(cluster, req.params.node, req.url) });
  });
  app.get<{ Params: { node: string } }>('/v1/nodes/:node/conntrack/events', { websocket: true }, (socket, req) => {
    serveCommand(socket, req.ip, registry, { backpressure: 'drop', command: () => conntrackEvents(cluster, req.params.node, req.url) });
  });
};
