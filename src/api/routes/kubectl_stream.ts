// GET /v1/kubectl/stream (WebSocket): kubectl with its output streamed, for
// commands that run until interrupted (`kubectl exec -n kube-system ds/cilium
// -c cilium-agent -- hubble observe -f`). The client sends one text message,
// `{"argv": [...]}`, within 10 s; the server answers with `{"stdout": "..."}`
// and `{"stderr": "..."}` messages as the command prints, then
// `{"exitCode": N}` and a normal close. Closing the WebSocket (or sending
// `{"signal":"SIGINT"}`) interrupts the command, as Ctrl-C on kubectl does.
// Served by ../command_stream.ts: a stream slot per command (shared with the
// other streams), and past the stream buffer the command's writes wait (a
// follow then loses flows as Hubble counts them, nothing here).

import type { FastifyPluginAsync } from 'fastify';
import { ClusterError, type ClusterFacade } from '../../cluster/facade.ts';
import { serveCommand, type StreamCommand } from '../command_stream.ts';
import { StreamRegistry, streamLimits } from '../stream_limits.ts';
import { settled, type RouteOptions } from './options.ts';

export interface KubectlStreamRouteOptions extends RouteOptions {
  registry?: StreamRegistry;
  /** How long the `{argv}` message may take (default 10 s). */
  firstMessageMs?: number;
}

/** Words and bytes one streamed command line may have. */
const MAX_ARGS = 256, MAX_ARG_CHARS = 8192;

function argvOf(text: string): string[] {
  let m: unknown;
  try { m = JSON.parse(text); } catch { throw new ClusterError('the first message must be JSON: {"argv": [...]}', 400, 'argv'); }
  const argv = (m as { argv?: unknown })?.argv;
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) throw new ClusterError('argv must be a list of strings', 400, 'argv');
  if (argv.length > MAX_ARGS || argv.some((a: string) => a.length > MAX_ARG_CHARS)) throw new ClusterError(`argv takes at most ${MAX_ARGS} words of ${MAX_ARG_CHARS} characters`, 400, 'argv');
  return argv as string[];
}

function kubectlCommand(cluster: ClusterFacade, first = ''): StreamCommand {
  const argv = argvOf(first);
  const stream = cluster.kubectlStream?.bind(cluster);
  if (!stream) throw new ClusterError('streamed kubectl is not available on this server', 501, 'kubectl');
  return (out, signal) => settled(cluster, stream(argv, (fd, text) => out.write(fd, text), signal));
}

export const kubectlStreamRoutes: FastifyPluginAsync<KubectlStreamRouteOptions> = async (app, { cluster, registry: shared, firstMessageMs = 10_000 }) => {
  const registry = shared ?? new StreamRegistry(streamLimits());
  app.get('/v1/kubectl/stream', { websocket: true }, (socket, req) => {
    serveCommand(socket, req.ip, registry, { backpressure: 'wait', firstMessageMs, command: (first) => kubectlCommand(cluster, first) });
  });
};
