// One command over a WebSocket, for every route whose command runs until
// stopped (GET /v1/kubectl/stream, GET /v1/nodes/{node}/exec,
// GET /v1/nodes/{node}/conntrack/events):
// - a stream slot (StreamRegistry) from the upgrade until the socket closes;
// - the command line from the URL, or from the client's first message, which
//   must come within a deadline (a client that never sends frees its slot);
// - the output as JSON text frames ({stdout}, {stderr} or the route's own),
//   then {exitCode} and a normal close;
// - {"signal": "SIGINT"|"SIGTERM"} or the client's close stops the command;
//   any other message is refused;
// - a refusal or failure is {error} and close 4000+status (errors.ts);
// - a closing server (StreamRegistry.stopAll) stops it and closes with 1001.
// What happens when the reader falls behind is the route's choice: 'wait'
// (the command's writes return a promise resolved as the socket drains: a
// writer that can wait, Hubble, which counts its own lost flows) or 'drop'
// (messages skipped and reported as {lost: N}: a source that cannot wait,
// conntrack's events).

import type { WebSocket } from 'ws';
import { ClusterError } from '../cluster/facade.ts';
import { closeStream, refuseStream } from './errors.ts';
import { BoundedSender, WaitingSender, type StreamRegistry } from './stream_limits.ts';

/** Where a running command writes; a returned promise (policy 'wait' only) holds its next write back. */
export interface CommandOutput {
  send(frame: object): void | Promise<void>;
  write(fd: 'stdout' | 'stderr', text: string): void | Promise<void>;
  /** What a command prints as it ends (once): never skipped, whatever the policy. */
  last(fd: 'stdout' | 'stderr', text: string): void | Promise<void>;
}

/**
 * Runs until it ends or `signal` aborts (the client's signal or close), then
 * resolves with its exit code after its last words, or undefined for a stream
 * that ends without one. Rejects (a ClusterError) to answer `{error}`.
 */
export type StreamCommand = (out: CommandOutput, signal: AbortSignal) => Promise<number | undefined>;

export interface CommandStreamSpec {
  backpressure: 'wait' | 'drop';
  /** The command, from the client's first message (text) when `firstMessageMs` is set; throws a ClusterError to refuse. */
  command(first?: string): StreamCommand;
  /** How long the first message may take (the command line comes in it); absent: the URL carries it. */
  firstMessageMs?: number;
}

/** Largest message after the first: a signal is a few bytes. */
const MAX_SIGNAL_MESSAGE = 256;
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Throws unless a message after the first is `{"signal": "SIGINT"|"SIGTERM"}`. */
function checkSignal(data: Buffer): void {
  let m: unknown;
  if (data.length <= MAX_SIGNAL_MESSAGE) { try { m = JSON.parse(data.toString()); } catch { /* refused below */ } }
  const sig = (m as { signal?: unknown } | undefined)?.signal;
  if (!(SIGNALS as readonly unknown[]).includes(sig)) throw new ClusterError(`only {"signal": "SIGINT"} or {"signal": "SIGTERM"} may be sent to a running command`, 400, 'signal');
}

/** The output functions of a policy; `final` sends the {exitCode}, never skipped, after any loss report. */
function outputOf(socket: WebSocket, spec: CommandStreamSpec, budget: number): CommandOutput & { final(frame: object): void } {
  let send: (frame: object, always?: boolean) => void | Promise<void>;
  if (spec.backpressure === 'wait') {
    const w = new WaitingSender(socket, budget);
    send = (frame) => w.send(JSON.stringify(frame));
  } else {
    const b = new BoundedSender(socket, budget, (_total, since) => JSON.stringify({ lost: since }));
    send = (frame, always) => b.send(() => JSON.stringify(frame), always);
  }
  return { send, write: (fd, text) => send({ [fd]: text }), last: (fd, text) => send({ [fd]: text }, true), final: (frame) => void send(frame, true) };
}

/**
 * Serves one command on an upgraded socket; `client` is the address its slot
 * counts against. The slot is held until the socket has closed and the
 * command has ended: a client cannot run more commands than its slots by
 * leaving them behind.
 */
export function serveCommand(socket: WebSocket, client: string, registry: StreamRegistry, spec: CommandStreamSpec): void {
  // A client gone before the handler ran: nothing taken, nothing to do.
  if (socket.readyState !== socket.OPEN) return;
  const ac = new AbortController();
  let release: () => void;
  // A closing server stops the command and closes with 1001 (going away).
  try { release = registry.admit(client, () => { ac.abort(); closeStream(socket, 1001, 'server closing'); }); } catch (err) { refuseStream(socket, err); return; }
  let deadline: NodeJS.Timeout | undefined;
  let closed = false, running = false;
  const free = (): void => { if (closed && !running) release(); };
  const end = (): void => { closed = true; clearTimeout(deadline); ac.abort(); free(); };
  socket.once('close', end);
  socket.on('error', end);

  const fail = (err: unknown): void => { ac.abort(); refuseStream(socket, err); };
  const run = (first?: string): void => {
    // Later messages only stop the command.
    socket.on('message', (data: Buffer) => { try { checkSignal(data); ac.abort(); } catch (err) { fail(err); } });
    let command: StreamCommand;
    try { command = spec.command(first); } catch (err) { fail(err); return; }
    running = true;
    const out = outputOf(socket, spec, registry.limits.bufferBytes);
    // Through a promise: a command that throws at once is a failure like any other.
    Promise.resolve().then(() => command(out, ac.signal)).then((exitCode) => {
      if (socket.readyState !== socket.OPEN) return;
      if (exitCode !== undefined) out.final({ exitCode });
      closeStream(socket, 1000, 'exited');
    }, fail).finally(() => { running = false; free(); });
  };
  if (spec.firstMessageMs === undefined) { run(); return; }
  const ms = spec.firstMessageMs;
  deadline = setTimeout(() => fail(new ClusterError(`no command: the first message (the command line) did not come within ${ms / 1000} s`, 408)), ms);
  socket.once('message', (data: Buffer) => { clearTimeout(deadline); if (socket.readyState === socket.OPEN) run(data.toString()); });
}
