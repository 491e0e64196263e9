// `dplab serve`'s way in: builds the cluster (a built-in lab or a cluster
// file) and serves it, so the CLI never imports the cluster model itself.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ClockMode } from '../sim/sim.ts';
import { basename, extname, resolve } from 'node:path';
import { Cluster } from '../cluster/cluster.ts';
import { checkExecLimits, execRuntime, type ExecLimits } from '../cluster/exec/index.ts';
import { defaultDataDir } from '../cluster/store/persist.ts';
import type { KubeStore } from '../cluster/store/store.ts';
import type { PodApps } from '../cluster/runtime_contract.ts';
import { startServer, type RunningServer } from './server.ts';
import { StreamRegistry, streamLimits, type StreamLimits } from './stream_limits.ts';
import type { HubbleService } from '../hubble/service.ts';
import type { HubbleOptions } from '../hubble/hubble.ts';
import { startAgentListeners, type AgentListener, type AgentListeners } from './agent_listeners.ts';

/** How virtual time runs in `serve`: on the wall clock, or as fast as the CPU allows (scripts). */
export type { ClockMode } from '../sim/sim.ts';

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
  /** Budgets of each exec (`--exec-cpu-ms`, `--exec-memory-mb`, `--exec-output-kb`); the others keep their defaults. */
  exec?: Partial<Record<keyof ExecLimits, number | string>>;
  /** Where the objects are kept (default: $XDG_STATE_HOME/dplab/<lab>). */
  dataDir?: string;
  /** Keep nothing: every start is a fresh lab. */
  ephemeral?: boolean;
  /** Delete what the data directory holds first. */
  reset?: boolean;
  /** Bounds on WebSocket streams (`--max-streams`, `--max-streams-per-client`, `--stream-buffer-kb`); the others keep their defaults. */
  streams?: Partial<StreamLimits>;
  /** Agent API listeners per node: node i on 127.0.0.1:agentPortBase+i (`--agent-port-base`), unix sockets in agentSockets/<node>.sock (`--agent-sockets`). */
  agentPortBase?: number;
  agentSockets?: string;
  /** Each node's Hubble ring (`--hubble-buffer`) and the on-disk flow store (`--flow-store`). */
  hubble?: HubbleOptions;
}

const EXEC_FLAGS: Record<keyof ExecLimits, string> = { cpuMs: '--exec-cpu-ms', memoryMb: '--exec-memory-mb', outputKb: '--exec-output-kb' };

function execLimitsOf(opts: LaunchOptions): ExecLimits { return checkExecLimits(opts.exec ?? {}, (k) => EXEC_FLAGS[k]); }

/** A served cluster: the server, the lab or cluster name, the per-node agent listeners, and a close that stops all. */
export interface LaunchedServer extends RunningServer {
  label: string; agentListeners: AgentListener[];
  /** The cluster's Hubble (its relay), for the gRPC server `dplab serve` starts beside; none without Cilium. */
  hubble?: HubbleService;
  /** The stream slots the server's streams take, for Hubble's gRPC streams to share. */
  streamRegistry: StreamRegistry;
  /** Where images hand connections to servers outside the model: `hubbleRelay` takes the hubble-relay pod's (the gRPC server fills it in). */
  podApps: PodApps;
}

/** The data directory's default name: the lab's, or the cluster file's name plus a hash of its path. */
function storeName(opts: LaunchOptions): string {
  if (opts.clusterFile === undefined) return opts.lab ?? 'cilium';
  const path = resolve(opts.clusterFile);
  return `${basename(path, extname(path))}-${createHash('sha256').update(path).digest('hex').slice(0, 8)}`;
}

/** The store the server keeps its objects in (SQLite, loaded only here), or none with --ephemeral. */
async function openStore(opts: LaunchOptions): Promise<KubeStore | undefined> {
  if (opts.ephemeral) {
    if (opts.dataDir !== undefined || opts.reset) throw new Error('--ephemeral keeps nothing: give it without --data-dir and --reset');
    return undefined;
  }
  const { openSqliteStore } = await import('../cluster/store/sqlite.ts');
  return openSqliteStore(resolve(opts.dataDir ?? defaultDataDir(storeName(opts))), { reset: opts.reset });
}

function buildCluster(opts: LaunchOptions, store: KubeStore | undefined): Cluster {
  const clusterOpts = { seed: opts.seed, epochMs: Date.now(), store, deps: execRuntime(execLimitsOf(opts)), hubble: opts.hubble };
  if (opts.clusterFile === undefined) return Cluster.lab(opts.lab ?? 'cilium', clusterOpts);
  let text: string;
  try { text = readFileSync(opts.clusterFile, 'utf8'); } catch { throw new Error(`cannot read cluster file "${opts.clusterFile}"`); }
  return Cluster.fromYaml(text, clusterOpts);
}

/** Builds the cluster and listens; errors are one-line messages a CLI can print as they are. */
export async function launchServer(opts: LaunchOptions): Promise<LaunchedServer> {
  if (opts.lab !== undefined && opts.clusterFile !== undefined) throw new Error('give --lab or --cluster, not both');
  execLimitsOf(opts);
  const streams = streamLimits(opts.streams);
  const store = await openStore(opts);
  let cluster: Cluster;
  try { cluster = buildCluster(opts, store); } catch (e) { store?.close(); throw e; }
  // The name start-up prints and /healthz reports: the lab the user chose, or the cluster file's.
  const label = opts.clusterFile !== undefined ? cluster.name : (opts.lab ?? 'cilium');
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 9876;
  let server: RunningServer;
  const streamRegistry = new StreamRegistry(streams);
  try {
    server = await startServer(cluster, { host, port, clock: opts.clock ?? 'wall', demoTraffic: !!opts.demoTraffic, streams, label, streamRegistry });
  } catch (err) {
    cluster.close();
    store?.close();
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot listen on ${host}:${port}: ${code === 'EADDRINUSE' ? 'address already in use' : (err as Error).message}`);
  }
  let agents: AgentListeners | undefined;
  if (opts.agentPortBase !== undefined || opts.agentSockets !== undefined) {
    try { agents = await startAgentListeners(cluster, { portBase: opts.agentPortBase, socketDir: opts.agentSockets, streams }); } catch (e) {
      await server.close(); cluster.close(); store?.close();
      throw e;
    }
  }
  return {
    ...server,
    label,
    agentListeners: agents?.listeners ?? [],
    hubble: cluster.hubble?.(),
    podApps: cluster.podApps,
    streamRegistry,
    close: async () => { try { await agents?.close(); await server.close(); } finally { cluster.close(); store?.close(); } },
  };
}
