// GET /v1/kubectl/stream (WebSocket): kubectl with its output streamed, for
// commands that run until interrupted (`kubectl exec -n kube-system ds/cilium
// -c cilium-agent -- hubble observe -f`). The client sends one text message,
// `{"argv": [...]}`; the server answers with `{"stdout": "..."}` and
// `{"stderr": "..."}` messages as the command prints, then `{"exitCode": N}`
// and a normal close. Closing the WebSocket (or sending `{"signal":"SIGINT"}`)
// interrupts the command, as Ctrl-C on kubectl does. Bounded: a stream slot per command (shared with the other
// streams), and the unsent output: past the stream buffer the command's
// writes wait (a follow then loses flows as Hubble counts them).

import type { FastifyPluginAsync } from 'fastify';
import { ClusterError } from '../../cluster/facade.ts';
import { closeCodeFor, errorBody } from '../errors.ts';
import { StreamRegistry, streamLimits } from '../stream_limits.ts';
import { settled, type RouteOptions } from './options.ts';

export interface KubectlStreamRouteOptions extends RouteOptions { registry?: StreamRegistry }

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

export const kubectlStreamRoutes: FastifyPluginAsync<KubectlStreamRouteOptions> = async (app, { cluster, registry: shared }) => {
  const registry = shared ?? new StreamRegistry(streamLimits());
  const budget = registry.limits.bufferBytes;

  app.get('/v1/kubectl/stream', { websocket: true }, (socket, req) => {
    const ac = new AbortController();
    let release: (() => void) | undefined;
    socket.once('close', () => { ac.abort(); release?.(); });
    socket.once('error', () => ac.abort());
    /** Resolves once the client has taken enough of what is queued (or left). */
    const drained = (): Promise<void> => new Promise((resolve) => {
      const t = setInterval(() => { if (ac.signal.aborted || socket.bufferedAmount <= budget / 2) { clearInterval(t); resolve(); } }, 5);
    });
    const write = (fd: 'stdout' | 'stderr', text: string): Promise<void> | void => {
      if (ac.signal.aborted || socket.readyState !== socket.OPEN) return;
      socket.send(JSON.stringify({ [fd]: text }));
      if (socket.bufferedAmount > budget) return drained();
    };
    socket.once('message', (data: Buffer) => {
      // The command has no stdin here; later messages only stop it: `{"signal":"SIGINT"}`, as the node exec stream takes it.
      socket.on('message', (m: Buffer) => { try { if ((JSON.parse(m.toString()) as { signal?: unknown }).signal !== undefined) ac.abort(); } catch { /* ignored */ } });
      void (async () => {
        const argv = argvOf(data.toString());
        if (!cluster.kubectlStream) throw new ClusterError('streamed kubectl is not available on this server', 501, 'kubectl');
        release = registry.admit(req.ip);
        if (ac.signal.aborted) { release(); return; }
        const exitCode = await settled(cluster, cluster.kubectlStream(argv, write, ac.signal));
        if (socket.readyState === socket.OPEN) { socket.send(JSON.stringify({ exitCode })); socket.close(1000); }
      })().catch((err: unknown) => {
        const { status, body } = errorBody(err);
        if (socket.readyState === socket.OPEN) { socket.send(JSON.stringify(body)); socket.close(closeCodeFor(status), body.error.slice(0, 120)); }
      });
    });
  });
};
