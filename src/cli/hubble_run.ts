// What `dplab hubble` runs: the hubble CLI against dplab's Hubble gRPC API
// (dplab serve --hubble-port, default 4245), with hubble's flags, output and
// messages. Flags and printing are Hubble's own code in src/hubble/cli and
// src/hubble/printer, shared with the `hubble` in agent pods.

import { HubbleClient, RpcError } from '../hubble/grpc/client.ts';
import { OBSERVER_HEALTH_NAME } from '../hubble/grpc/health.ts';
import { HubbleUsageError, parseHubbleArgs, type HubbleInvocation } from '../hubble/cli/command.ts';
import { FlowPrinter } from '../hubble/printer/flows.ts';
import { healthLine, nodesText, serverStatusText, type StatusOutput } from '../hubble/printer/status.ts';

/** Writes to stdout; false when stdout is full (the caller waits for 'drain'). */
function out(text: string): boolean {
  return text === '' || process.stdout.write(text);
}

const drained = (): Promise<void> => new Promise((resolve) => process.stdout.once('drain', () => resolve()));

function err(text: string): void { if (text !== '') process.stderr.write(text); }

async function observe(inv: Extract<HubbleInvocation, { cmd: 'observe' }>, client: HubbleClient): Promise<number> {
  const printer = new FlowPrinter(inv.print);
  const ac = new AbortController();
  // Ctrl-C or a kill ends the stream; hubble exits 0 then.
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await client.getFlows(inv.request, (r) => {
      const p = printer.write(r);
      if (!inv.silentErrors) err(p.stderr);
      // A slow reader of our stdout pauses the stream, which the server feels as a slow client.
      return out(p.stdout) ? undefined : drained();
    }, ac.signal);
    return 0;
  } catch (e) {
    // As hubble: a status with code Unknown prints only its message.
    if (e instanceof RpcError && e.code === 2) throw new HubbleUsageError(e.details);
    throw e;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    out(printer.close().stdout);
  }
}

const STATUS_OUTPUTS: Readonly<Record<string, StatusOutput>> = { compact: 'compact', dict: 'dict', json: 'jsonpb', JSON: 'jsonpb', jsonpb: 'jsonpb', tab: 'table', table: 'table' };

async function status(inv: Extract<HubbleInvocation, { cmd: 'status' }>, client: HubbleClient): Promise<number> {
  let health: string;
  try { health = await client.health(OBSERVER_HEALTH_NAME); } catch (e) { throw new HubbleUsageError(`failed getting status: ${(e as Error).message}`); }
  if (inv.output === 'compact') out(healthLine(inv.server.replace(/^tls:\/\//, ''), health));
  if (health !== 'SERVING') throw new HubbleUsageError('not healthy');
  let s;
  try { s = await client.serverStatus(); } catch (e) { throw new HubbleUsageError(`failed to get hubble server status: ${(e as Error).message}`); }
  const output = STATUS_OUTPUTS[inv.output];
  if (!output) throw new HubbleUsageError(`invalid output format: ${inv.output}`);
  out(serverStatusText(s, output));
  return 0;
}

async function listNodes(inv: Extract<HubbleInvocation, { cmd: 'nodes' }>, client: HubbleClient): Promise<number> {
  const res = await client.getNodes();
  if (inv.output !== 'json' && inv.output !== 'table' && inv.output !== 'wide') throw new HubbleUsageError(`unknown output format: ${inv.output}`);
  out(nodesText(res.nodes ?? [], inv.output));
  return 0;
}

/** Runs `hubble` arguments; failures print hubble's one line on stderr and give exit code 1. */
export async function runHubble(args: string[]): Promise<number> {
  try {
    const inv = parseHubbleArgs(args, { nowMs: Date.now(), serverEnv: process.env.HUBBLE_SERVER });
    if (inv.cmd === 'text') { out(inv.stdout); return 0; }
    const client = await HubbleClient.dial(inv.server, inv.timeoutMs);
    try {
      switch (inv.cmd) {
        case 'observe': return await observe(inv, client);
        case 'status': return await status(inv, client);
        case 'nodes': return await listNodes(inv, client);
      }
    } finally { client.close(); }
  } catch (e) {
    err(`${(e instanceof Error ? e.message : String(e)).split('\n')[0]}\n`);
    return 1;
  }
}
