// The client of the command streams (GET /v1/kubectl/stream, GET
// /v1/nodes/{node}/exec): prints {stdout} and {stderr} as they come, {lost}
// as the caller words it, and ends with {exitCode}. Ctrl-C (SIGINT) or
// SIGTERM is passed on as {"signal": ...}: the command prints its last words
// and the server closes; a second one, or a server that does not answer within
// 2 s, cuts the stream. An {error} or a server that goes away (a closing
// server closes with 1001) is one line on stderr and exit 1 (a CliError).

import type { DplabClient } from './client.ts';
import { CliError } from './errors.ts';

export interface CommandStreamRun {
  /** The route with its query. */
  path: string;
  /** The first message, when the route takes the command line in it. */
  first?: object;
  /** What the stream is called in "the server closed the NAME stream". */
  name: string;
  /** What to print on stderr for {lost: N} (default: how many lines this reader lost). */
  lost?(n: number): string;
  /** The exit code once interrupted by signal (kubectl's 128+N), or undefined: the command's own. */
  interrupted?(signal: NodeJS.Signals): number | undefined;
}

interface Message { stdout?: string; stderr?: string; lost?: number; exitCode?: number; error?: string }

/** How long a server has to answer a signal with the command's end. */
const SIGNAL_GRACE_MS = 2000;

export async function runCommandStream(client: DplabClient, run: CommandStreamRun): Promise<number> {
  let exitCode: number | undefined;
  let error: string | undefined;
  const ws = await client.openStream(run.path, (data) => {
    let m: Message;
    try { m = JSON.parse(String(data)) as Message; } catch { return; }
    if (typeof m.stdout === 'string') process.stdout.write(m.stdout);
    if (typeof m.stderr === 'string') process.stderr.write(m.stderr);
    if (typeof m.lost === 'number') process.stderr.write(run.lost?.(m.lost) ?? `${m.lost} lines lost: this reader fell behind\n`);
    if (typeof m.exitCode === 'number') exitCode = m.exitCode;
    if (typeof m.error === 'string') error = m.error;
  });
  if (run.first) ws.send(JSON.stringify(run.first));
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled !== undefined) { ws.terminate(); return; }
    signalled = signal;
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ signal }));
    setTimeout(() => ws.terminate(), SIGNAL_GRACE_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await new Promise<void>((resolve) => ws.once('close', () => resolve()));
  } finally { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); }
  if (error !== undefined) throw new CliError(error);
  const forced = signalled === undefined ? undefined : run.interrupted?.(signalled);
  if (forced !== undefined) return forced;
  if (exitCode === undefined) throw new CliError(`the server closed the ${run.name} stream`);
  return exitCode;
}
