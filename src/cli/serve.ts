// `dplab serve`: loads a lab (or a cluster file) and serves it over HTTP until
// SIGINT/SIGTERM. The API layer builds the cluster (src/api/launch.ts), loaded
// only when serve runs: the other verbs start without fastify or the emulator.

import type { Command } from 'commander';
import type { ClockMode, LaunchedServer } from '../api/launch.ts';
import type { HubbleGrpcServer } from '../grpc/server.ts';
import { resolve } from 'node:path';
import { CliError } from './errors.ts';

interface ServeOpts { lab?: string; cluster?: string; port: string; hubblePort?: string; seed: string; demoTraffic?: boolean; host: string; clock: string; dataDir?: string; ephemeral?: boolean; reset?: boolean;
  execCpuMs?: string; execMemoryMb?: string; execOutputKb?: string; maxStreams?: string; maxStreamsPerClient?: string; streamBufferKb?: string;
  agentPortBase?: string; agentSockets?: string; hubbleBuffer?: string; flowStore?: string }

const CLOCKS: readonly ClockMode[] = ['wall', 'fast'];

function intOption(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new CliError(`--${name} must be an integer from ${min} to ${max}, not "${v}"`);
  return n;
}

function clockOption(v: string): ClockMode {
  const mode = CLOCKS.find((c) => c === v);
  if (!mode) throw new CliError(`--clock must be one of ${CLOCKS.join(', ')}, not "${v}"`);
  return mode;
}

/** --exec-* flags as given: launchServer checks them where the budgets and their ranges live. */
function execBudgets(opts: ServeOpts): { cpuMs?: string; memoryMb?: string; outputKb?: string } {
  return { cpuMs: opts.execCpuMs, memoryMb: opts.execMemoryMb, outputKb: opts.execOutputKb };
}

/** --max-streams* and --stream-buffer-kb as numbers; their ranges are checked where the limits live (launchServer). */
function streamFlags(opts: ServeOpts): { maxStreams?: number; maxPerClient?: number; bufferBytes?: number } {
  const n = (name: string, v: string | undefined): number | undefined => (v === undefined ? undefined : intOption(name, v, 0, Number.MAX_SAFE_INTEGER));
  const kb = n('stream-buffer-kb', opts.streamBufferKb);
  return { maxStreams: n('max-streams', opts.maxStreams), maxPerClient: n('max-streams-per-client', opts.maxStreamsPerClient), bufferBytes: kb === undefined ? undefined : kb * 1024 };
}

/** --hubble-buffer / --flow-store: each node's ring (Hubble's hubble-event-buffer-capacity rule: 2^n-1, at most 65535) and the disk store. */
function hubbleFlags(opts: ServeOpts): { capacity?: number; flowStore?: { dir: string } } | undefined {
  if (opts.hubbleBuffer === undefined && opts.flowStore === undefined) return undefined;
  let capacity: number | undefined;
  if (opts.hubbleBuffer !== undefined) {
    capacity = intOption('hubble-buffer', opts.hubbleBuffer, 1, 65535);
    if ((capacity & (capacity + 1)) !== 0) throw new CliError(`--hubble-buffer must be one less than a power of two (1, 3, 7, ... 4095, ... 65535), not "${opts.hubbleBuffer}"`);
  }
  if (opts.flowStore === '') throw new CliError('--flow-store needs a directory');
  return { capacity, flowStore: opts.flowStore === undefined ? undefined : { dir: resolve(opts.flowStore) } };
}

/** Hubble's gRPC API beside the HTTP server (labs with Cilium), sharing its stream slots; a port in use stops the server. */
async function serveHubble(server: LaunchedServer, host: string, port: number): Promise<HubbleGrpcServer | undefined> {
  if (!server.hubble) return undefined;
  const { quietGrpcLogs, startHubbleGrpc } = await import('../grpc/server.ts');
  quietGrpcLogs();
  try {
    return await startHubbleGrpc(server.hubble, { host, port, admission: server.streamRegistry, bufferBytes: server.streamRegistry.limits.bufferBytes });
  } catch (e) {
    await server.close();
    const busy = /EADDRINUSE|address already in use|No address added/.test(String((e as Error).message));
    throw new CliError(`cannot listen on ${host}:${port} (--hubble-port): ${busy ? 'address already in use' : (e as Error).message}`);
  }
}

async function serve(opts: ServeOpts): Promise<void> {
  if (opts.lab && opts.cluster) throw new CliError('give --lab or --cluster, not both');
  if (opts.ephemeral && (opts.dataDir !== undefined || opts.reset)) throw new CliError('--ephemeral keeps nothing: give it without --data-dir and --reset');
  const port = intOption('port', opts.port, 0, 65535);
  // --port 0 (a free port) makes Hubble's default a free port too, so servers started side by side never collide on 4245.
  const hubblePort = opts.hubblePort === undefined ? (port === 0 ? 0 : 4245) : intOption('hubble-port', opts.hubblePort, 0, 65535);
  const seed = intOption('seed', opts.seed, 0, 0xffffffff);
  const clock = clockOption(opts.clock);
  const { launchServer } = await import('../api/launch.ts');
  const server = await launchServer({ lab: opts.lab, clusterFile: opts.cluster, seed, host: opts.host, port, clock, demoTraffic: !!opts.demoTraffic,
    dataDir: opts.dataDir, ephemeral: !!opts.ephemeral, reset: !!opts.reset, exec: execBudgets(opts), streams: streamFlags(opts),
    agentPortBase: opts.agentPortBase === undefined ? undefined : intOption('agent-port-base', opts.agentPortBase, 0, 65535), agentSockets: opts.agentSockets,
    hubble: hubbleFlags(opts) });
  const hubble = await serveHubble(server, opts.host, hubblePort);
  // The hubble-relay pod's :4245 answers with the same server, in process (its Service, port-forward, in-pod clients).
  if (hubble) server.podApps.hubbleRelay = (conn) => hubble.injectConnection(conn);
  process.stdout.write(`dplab serving lab "${server.label}" on ${server.url}\n`);
  for (const l of server.agentListeners) process.stdout.write(`agent API of node ${l.node} on ${l.url}\n`);
  if (hubble && opts.hubblePort !== undefined) process.stdout.write(`Hubble API (gRPC) on ${hubble.address}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); void (hubble?.close() ?? Promise.resolve()).then(() => server.close()).finally(resolve); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function addServeVerb(program: Command, exit: (code: number) => void): void {
  program.command('serve').description('run the emulated cluster and its HTTP API')
    .option('--lab <name>', 'built-in lab to load (default: cilium)')
    .option('--cluster <file>', 'cluster spec YAML to load instead of a lab')
    .option('--port <port>', 'HTTP port', '9876')
    .option('--hubble-port <port>', "Hubble's gRPC API (the relay: hubble observe/status/list nodes, grpcurl) on this port (default: 4245; a free one with --port 0)")
    .option('--seed <n>', 'random seed (same seed, same run)', '1')
    .option('--clock <mode>', 'virtual time: "wall" follows the wall clock, "fast" runs as fast as the CPU allows (scripts)', 'wall')
    .option('--demo-traffic', 'generate gentle periodic traffic so captures show something')
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--data-dir <dir>', 'keep the applied objects here (default: $XDG_STATE_HOME/dplab/<lab>, ~/.local/state/dplab/<lab>)')
    .option('--ephemeral', 'keep nothing: every start is a fresh lab')
    .option('--reset', 'delete the saved objects first (a way out of a damaged store)')
    .option('--exec-cpu-ms <ms>', 'CPU time one exec may use before it is killed (default: 10000)')
    .option('--exec-memory-mb <MiB>', 'memory one exec may hold: strings, arrays, files (default: 64)')
    .option('--exec-output-kb <KiB>', 'output one exec may write, pipes included (default: 4096)')
    .option('--max-streams <n>', 'WebSocket streams (capture, monitor) open at once, all clients (default: 128)')
    .option('--max-streams-per-client <n>', 'streams open at once from one client address (default: 32)')
    .option('--agent-port-base <port>', "the Cilium agent API of node i (kubectl get nodes order) on 127.0.0.1:<port>+i, /v1/... at the root")
    .option('--agent-sockets <dir>', 'the Cilium agent API of each node on a unix socket <dir>/<node>.sock, as /var/run/cilium/cilium.sock')
    .option('--hubble-buffer <n>', "flows each node's Hubble ring holds, 2^n-1 up to 65535 (hubble-event-buffer-capacity; default: 4095)")
    .option('--flow-store <dir>', 'keep every flow past the ring on disk, <dir>/<node>, 256 MiB each, oldest out first (emptied at start)')
    .option('--stream-buffer-kb <KiB>', 'unsent data one stream may hold; a reader further behind loses messages, counted (default: 256)')
    .action(async (opts: ServeOpts) => { await serve(opts); exit(0); });
}
