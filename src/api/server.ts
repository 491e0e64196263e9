// Listens: the only place the API touches a socket. `dplab serve` calls it.

import type { FastifyInstance } from 'fastify';
import type { ClusterFacade } from '../cluster/facade.ts';
import { buildApp, type AppOptions } from './app.ts';

export interface ServeOptions extends AppOptions { host?: string; port?: number }

/** A listening server: its base URL and a close that stops streams and background loops. */
export interface RunningServer { app: FastifyInstance; url: string; port: number; close(): Promise<void> }

/** Builds the app in server mode and listens (127.0.0.1:9876 by default; port 0 picks a free one). */
export async function startServer(cluster: ClusterFacade, opts: ServeOptions = {}): Promise<RunningServer> {
  const app = buildApp(cluster, { clock: 'wall', ...opts });
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ host, port: opts.port ?? 9876 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 9876);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return { app, url: `http://${urlHost}:${port}`, port, close: () => app.close() };
}
