// The `hubble` CLI inside a Cilium agent pod (`kubectl exec -n kube-system
// ds/cilium -c cilium-agent -- hubble observe`): the same flags and printer
// as `dplab hubble`, reading that node's own observer through the agent's
// unix socket, as the image's HUBBLE_SERVER points it there; `--server
// HOST:PORT` dials over the node's network with Hubble's gRPC client.

import type { ExecResult, NodeTool } from '../../datapath/contract.ts';
import { HubbleUsageError, parseHubbleArgs, type HubbleInvocation } from '../../hubble/cli/command.ts';
import { HubbleError } from '../../hubble/errors.ts';
import { RpcError, type HubbleClient } from '../../hubble/grpc/client.ts';
import { OBSERVER_HEALTH_NAME } from '../../hubble/grpc/health.ts';
import { FlowPrinter } from '../../hubble/printer/flows.ts';
import { healthLine, nodesText, serverStatusText, type StatusOutput } from '../../hubble/printer/status.ts';
import type { HubbleService } from '../../hubble/service.ts';
import { dialRemote, type RemoteEnv } from './hubble_remote.ts';

/** The cilium-agent image's HUBBLE_SERVER: the agent's local Hubble socket. */
export const AGENT_HUBBLE_SOCK = 'unix:///var/run/cilium/hubble.sock';

const STATUS_OUTPUTS: Readonly<Record<string, StatusOutput>> = { compact: 'compact', dict: 'dict', json: 'jsonpb', JSON: 'jsonpb', jsonpb: 'jsonpb', tab: 'table', table: 'table' };

/** grpc's code Unknown, which hubble prints by its message alone. */
const UNKNOWN = 2;

/** A HubbleError as hubble prints a gRPC status error. */
function rpcText(e: HubbleError): string { return new RpcError(e.grpcStatus, e.message).message; }

/** Where a streamed command writes; a returned promise holds the next write back (a slow reader). */
export type StreamWrite = (fd: 'stdout' | 'stderr', text: string) => void | Promise<void>;

/** Where GetFlows goes: the node's observer or a remote server's. */
type GetFlows = HubbleService['getFlows'];

/** Prints each response as it comes (until the stream ends, or signal aborts a follow). */
async function observeTo(inv: Extract<HubbleInvocation, { cmd: 'observe' }>, getFlows: GetFlows, write: StreamWrite, signal: AbortSignal): Promise<void> {
  const printer = new FlowPrinter(inv.print);
  try {
    await getFlows(inv.request, (r) => {
      const p = printer.write(r);
      const w = p.stdout ? write('stdout', p.stdout) : undefined;
      if (p.stderr && !inv.silentErrors) void write('stderr', p.stderr);
      return w;
    }, signal);
  } catch (e) {
    // hubble prints an Unknown status by its message alone, any other as grpc-go words it.
    if (e instanceof HubbleError) throw new HubbleUsageError(rpcText(e));
    if (e instanceof RpcError && e.code === UNKNOWN) throw new HubbleUsageError(e.details);
    throw e;
  }
  const tail = printer.close().stdout;
  if (tail) await write('stdout', tail);
}

async function observe(inv: Extract<HubbleInvocation, { cmd: 'observe' }>, t: Target): Promise<ExecResult> {
  // A one-shot exec returns when the command ends; a follow ends only when the exec is interrupted (the streamed exec).
  if (inv.request.follow) throw new HubbleUsageError('dplab: hubble observe --follow streams only through `dplab kubectl exec ... -- hubble observe -f` (until Ctrl-C)');
  let stdout = '', stderr = '';
  try {
    await observeOn(inv, t, (fd, text) => { if (fd === 'stdout') stdout += text; else stderr += text; }, new AbortController().signal);
  } catch (e) {
    // What came before a failed stream was printed, as hubble prints each flow as it comes.
    if (stdout === '') throw e;
    return { stdout, stderr: `${stderr}${(e instanceof Error ? e.message : String(e)).split('\n')[0]}\n`, exitCode: 1 };
  }
  return { stdout, stderr, exitCode: 0 };
}

/** The Hubble a command talks to: the node's own (the agent socket) or a remote server over the emulated network. */
type Target = { local: HubbleService } | { remote: RemoteEnv; server: string };

/** --server: the agent socket reads the node's observer; HOST:PORT dials over the node's network (the relay Service...). */
function targetOf(server: string, svc: HubbleService | undefined, remote: (() => RemoteEnv | undefined) | undefined): Target {
  const env = server.startsWith('unix://') ? undefined : remote?.();
  if (env) return { remote: env, server };
  checkServer(server, svc);
  return { local: svc! };
}

/** Runs fn with a client dialled to a remote target, closed (with its connection) when fn settles. */
async function withRemote<T>(t: Extract<Target, { remote: RemoteEnv }>, fn: (client: HubbleClient) => Promise<T>): Promise<T> {
  const client = await dialRemote(t.remote, t.server);
  try { return await fn(client); } finally { client.close(); }
}

/** observe on a target: the local observer, or GetFlows over gRPC to a remote one. */
async function observeOn(inv: Extract<HubbleInvocation, { cmd: 'observe' }>, t: Target, write: StreamWrite, signal: AbortSignal): Promise<void> {
  if ('local' in t) return observeTo(inv, (req, send, sig) => t.local.getFlows(req, send, sig), write, signal);
  return withRemote(t, (client) => observeTo(inv, (req, send, sig) => client.getFlows(req, send, sig), write, signal));
}

/** True for `hubble observe ...` (the one command a streamed exec runs itself; anything else runs as a one-shot exec). */
export function isHubbleObserve(command: readonly string[]): boolean { return command[0] === 'hubble' && command[1] === 'observe'; }

/**
 * `hubble observe [-f]` in the agent pod, streamed: each line as its flow
 * comes, until the stream ends or (with -f) signal aborts, as Ctrl-C ends a
 * follow; the exit code. observer: that node's Hubble.
 */
export async function agentHubbleStream(observer: HubbleService | undefined, argv: readonly string[], nowMs: number, write: StreamWrite, signal: AbortSignal,
  remote?: () => RemoteEnv | undefined): Promise<number> {
  try {
    const inv = parseHubbleArgs(argv, { nowMs, serverEnv: AGENT_HUBBLE_SOCK });
    if (inv.cmd !== 'observe') throw new HubbleUsageError('dplab: a streamed exec runs hubble observe only');
    await observeOn(inv, targetOf(inv.server, observer, remote), write, signal);
    return 0;
  } catch (e) {
    await write('stderr', `${(e instanceof Error ? e.message : String(e)).split('\n')[0]}\n`);
    return 1;
  }
}

/** The agent's local socket is the one server this hubble reaches (a node without Hubble has no socket). */
function checkServer(server: string, svc: HubbleService | undefined): void {
  if (server !== AGENT_HUBBLE_SOCK || !svc) {
    throw new HubbleUsageError(svc ? `dplab: the hubble in the agent pod reaches only ${AGENT_HUBBLE_SOCK}` : `failed to connect to '${server}': connection error: desc = "transport: error while dialing: dial unix /var/run/cilium/hubble.sock: connect: no such file or directory"`);
  }
}

async function status(inv: Extract<HubbleInvocation, { cmd: 'status' }>, t: Target): Promise<ExecResult> {
  const output = STATUS_OUTPUTS[inv.output];
  if ('local' in t) {
    // The node's own observer serves while the agent runs.
    const head = inv.output === 'compact' ? healthLine(inv.server, 'SERVING') : '';
    if (!output) return { stdout: head, stderr: `invalid output format: ${inv.output}\n`, exitCode: 1 };
    return { stdout: head + serverStatusText(t.local.serverStatus(), output), stderr: '', exitCode: 0 };
  }
  // As hubble's runStatus: the health service first, its answer printed, then ServerStatus if it serves.
  return withRemote(t, async (client) => {
    let health: string;
    try { health = await client.health(OBSERVER_HEALTH_NAME); } catch (e) { throw new HubbleUsageError(`failed getting status: ${(e as Error).message}`); }
    const head = inv.output === 'compact' ? healthLine(inv.server, health) : '';
    if (health !== 'SERVING') return { stdout: head, stderr: 'not healthy\n', exitCode: 1 };
    let st;
    try { st = await client.serverStatus(); } catch (e) { return { stdout: head, stderr: `failed to get hubble server status: ${(e as Error).message}\n`, exitCode: 1 }; }
    if (!output) return { stdout: head, stderr: `invalid output format: ${inv.output}\n`, exitCode: 1 };
    return { stdout: head + serverStatusText(st, output), stderr: '', exitCode: 0 };
  });
}

async function listNodes(inv: Extract<HubbleInvocation, { cmd: 'nodes' }>, t: Target): Promise<ExecResult> {
  let nodes;
  if ('remote' in t) nodes = (await withRemote(t, (client) => client.getNodes())).nodes ?? [];
  else {
    // A node's own observer answers GetNodes UNIMPLEMENTED (only the relay knows peers), so this is hubble's error line.
    try { nodes = t.local.getNodes().nodes ?? []; } catch (e) { if (e instanceof HubbleError) throw new HubbleUsageError(rpcText(e)); throw e; }
  }
  if (inv.output !== 'json' && inv.output !== 'table' && inv.output !== 'wide') throw new HubbleUsageError(`unknown output format: ${inv.output}`);
  return { stdout: nodesText(nodes, inv.output), stderr: '', exitCode: 0 };
}

/** `hubble` on a node with an agent: observer() is that node's Hubble (undefined: no Hubble, the socket is not there). */
export function agentHubbleTool(observer: () => HubbleService | undefined, nowMs: () => number, remote?: () => RemoteEnv | undefined): NodeTool {
  return async (argv) => {
    try {
      const inv = parseHubbleArgs(argv, { nowMs: nowMs(), serverEnv: AGENT_HUBBLE_SOCK });
      if (inv.cmd === 'text') return { stdout: inv.stdout, stderr: '', exitCode: 0 };
      const t = targetOf(inv.server, observer(), remote);
      switch (inv.cmd) {
        case 'observe': return await observe(inv, t);
        case 'status': return await status(inv, t);
        case 'nodes': return await listNodes(inv, t);
      }
    } catch (e) {
      return { stdout: '', stderr: `${(e instanceof Error ? e.message : String(e)).split('\n')[0]}\n`, exitCode: 1 };
    }
  };
}
