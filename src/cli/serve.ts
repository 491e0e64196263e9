// `dplab serve`: loads a lab (or a cluster file) and serves it over HTTP until
// SIGINT/SIGTERM.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { startServer } from '../api/server.ts';
import type { ClusterFacade } from '../cluster/facade.ts';
import { CliError } from './errors.ts';

interface ServeOpts { lab?: string; cluster?: string; port: string; hubblePort: string; seed: string; demoTraffic?: boolean; host: string }


function intOption(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new CliError(`--${name} must be an integer from ${min} to ${max}, not "${v}"`);
  return n;
}

async function loadCluster(opts: ServeOpts, seed: number): Promise<ClusterFacade> {
  // Loaded lazily: serve is the only verb that needs the emulator, client verbs start faster without it.
  const { Cluster } = await import('../cluster/cluster.ts');
  if (opts.cluster) {
    let text: string;
    try { text = readFileSync(opts.cluster, 'utf8'); } catch { throw new CliError(`cannot read cluster file "${opts.cluster}"`); }
    return Cluster.fromYaml(text, { seed, epochMs: Date.now() });
  }
  return Cluster.lab(opts.lab ?? 'cilium', { seed, epochMs: Date.now() });
}

async function serve(opts: ServeOpts): Promise<void> {
  if (opts.lab && opts.cluster) throw new CliError('give --lab or --cluster, not both');
  const port = intOption('port', opts.port, 0, 65535);
  intOption('hubble-port', opts.hubblePort, 0, 65535); // reserved for the Hubble relay (gRPC)
  const seed = intOption('seed', opts.seed, 0, 0xffffffff);
  const cluster = await loadCluster(opts, seed);
  let server;
  try {
    server = await startServer(cluster, { host: opts.host, port, demoTraffic: !!opts.demoTraffic });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`cannot listen on ${opts.host}:${port}: ${code === 'EADDRINUSE' ? 'address already in use' : (err as Error).message}`);
  }
  const label = opts.cluster ? cluster.name : (opts.lab ?? 'cilium');
  process.stdout.write(`dplab serving lab "${label}" on ${server.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); void server.close().finally(() => { (cluster as { close?: () => void }).close?.(); resolve(); }); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function addServeVerb(program: Command, exit: (code: number) => void): void {
  program.command('serve').description('run the emulated cluster and its HTTP API')
    .option('--lab <name>', 'built-in lab to load (default: cilium)')
    .option('--cluster <file>', 'cluster spec YAML to load instead of a lab')
    .option('--port <port>', 'HTTP port', '9876')
    .option('--hubble-port <port>', 'Hubble relay port (reserved)', '4245')
    .option('--seed <n>', 'random seed (same seed, same run)', '1')
    .option('--demo-traffic', 'generate gentle periodic traffic so captures show something')
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .action(async (opts: ServeOpts) => { await serve(opts); exit(0); });
}
