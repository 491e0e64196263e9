// `dplab serve`'s way in: builds the cluster (a built-in lab or a cluster
// file) and serves it, so the CLI never imports the cluster model itself.

import { readFileSync } from 'node:fs';
import { Cluster } from '../cluster/cluster.ts';
import { startServer, type RunningServer } from './server.ts';

/** How virtual time runs in `serve`: on the wall clock, or as fast as the CPU allows (scripts). */
export type ClockMode = 'wall' | 'fast';

export interface LaunchOptions {
  /** Built-in lab name (default: cilium); give this or clusterFile. */
  lab?: string;
  /** Cluster spec YAML file to load instead of a lab. */
  clusterFile?: string;
  seed: number;
  host?: string;
  port?: number;
  clock?: ClockMode;
  demoTraffic?: boolean;
}

/** A served cluster: the server, the lab or cluster name, and a close that stops both. */
export interface LaunchedServer extends RunningServer { label: string }

function buildCluster(opts: LaunchOptions): Cluster {
  const clusterOpts = { seed: opts.seed, epochMs: Date.now() };
  if (opts.clusterFile === undefined) return Cluster.lab(opts.lab ?? 'cilium', clusterOpts);
  let text: string;
  try { text = readFileSync(opts.clusterFile, 'utf8'); } catch { throw new Error(`cannot read cluster file "${opts.clusterFile}"`); }
  return Cluster.fromYaml(text, clusterOpts);
}

/** Builds the cluster and listens; errors are one-line messages a CLI can print as they are. */
export async function launchServer(opts: LaunchOptions): Promise<LaunchedServer> {
  if (opts.lab !== undefined && opts.clusterFile !== undefined) throw new Error('give --lab or --cluster, not both');
  const cluster = buildCluster(opts);
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 9876;
  let server: RunningServer;
  try {
    server = await startServer(cluster, { host, port, clock: opts.clock ?? 'wall', demoTraffic: !!opts.demoTraffic });
  } catch (err) {
    cluster.close();
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot listen on ${host}:${port}: ${code === 'EADDRINUSE' ? 'address already in use' : (err as Error).message}`);
  }
  return {
    ...server,
    label: opts.clusterFile !== undefined ? cluster.name : (opts.lab ?? 'cilium'),
    close: async () => { try { await server.close(); } finally { cluster.close(); } },
  };
}
