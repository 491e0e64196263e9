// A listener of its own per node for the agent API (`dplab serve
// --agent-port-base N`, `--agent-sockets DIR`): node i of `kubectl get nodes`
// on 127.0.0.1:N+i, and/or a unix socket DIR/<node>.sock, each a small fastify
// instance serving that node's `/v1/...` at the root, as the agent serves
// /var/run/cilium/cilium.sock.

import { lstatSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import type { ClusterFacade } from '../cluster/facade.ts';
import { clientErrorHandler, installErrorHandlers } from './errors.ts';
import { agentRoutes } from './routes/agent.ts';
import type { StreamLimits } from './stream_limits.ts';

export interface AgentListenOptions {
  /** Node i listens on host:portBase+i (portBase 0: every node on a free port). */
  portBase?: number;
  /** Directory of the unix sockets `<node>.sock`. */
  socketDir?: string;
  host?: string;
  streams?: Partial<StreamLimits>;
}

/** One node's listener: where it is (`http://127.0.0.1:9200` or `unix:/dir/k8s-s.sock`). */
export interface AgentListener { node: string; url: string }

export interface AgentListeners { listeners: AgentListener[]; close(): Promise<void> }

/** The fastify instance one node's listener runs. */
export function buildAgentApp(cluster: ClusterFacade, node: string, streams?: Partial<StreamLimits>): FastifyInstance {
  const app = Fastify({ logger: false, clientErrorHandler, ajv: { customOptions: { coerceTypes: false } } });
  installErrorHandlers(app);
  void app.register(websocket, { options: { maxPayload: 1 << 20 } });
  app.addHook('onRequest', async () => { cluster.sim.syncToWall(); });
  void app.register(agentRoutes, { cluster, node, limits: streams });
  return app;
}

/** A stale socket file from an earlier run is removed; any other file there is an error. */
function clearSocket(path: string): void {
  let st;
  try { st = lstatSync(path); } catch { return; }
  if (!st.isSocket()) throw new Error(`cannot listen on ${path}: a file that is not a socket is in the way`);
  unlinkSync(path);
}

/** Starts the listeners; on a failure, closes those already started and throws one line. */
export async function startAgentListeners(cluster: ClusterFacade, opts: AgentListenOptions): Promise<AgentListeners> {
  const apps: FastifyInstance[] = [];
  const listeners: AgentListener[] = [];
  const close = async (): Promise<void> => { await Promise.all(apps.splice(0).map((a) => a.close())); };
  const host = opts.host ?? '127.0.0.1';
  try {
    for (const [i, node] of cluster.nodeNames().entries()) {
      if (opts.portBase !== undefined) {
        const port = opts.portBase === 0 ? 0 : opts.portBase + i;
        if (port > 65535) throw new Error(`--agent-port-base ${opts.portBase}: node ${node} (number ${i}) would need port ${port}, above 65535`);
        const app = buildAgentApp(cluster, node, opts.streams);
        apps.push(app);
        try { await app.listen({ host, port }); } catch (e) { throw new Error(`cannot listen on ${host}:${port} for node ${node}: ${(e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'address already in use' : (e as Error).message}`); }
        const addr = app.server.address();
        listeners.push({ node, url: `http://${host}:${typeof addr === 'object' && addr ? addr.port : port}` });
      }
      if (opts.socketDir !== undefined) {
        const path = join(opts.socketDir, `${node}.sock`);
        clearSocket(path);
        const app = buildAgentApp(cluster, node, opts.streams);
        apps.push(app);
        try { await app.listen({ path }); } catch (e) { throw new Error(`cannot listen on ${path} for node ${node}: ${(e as Error).message}`); }
        listeners.push({ node, url: `unix:${path}` });
      }
    }
  } catch (e) { await close(); throw e; }
  return { listeners, close };
}
