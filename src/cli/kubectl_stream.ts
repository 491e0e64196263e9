// `dplab kubectl exec ... -- hubble observe -f`: a command that runs until
// interrupted, so its output is streamed (GET /v1/kubectl/stream) and printed
// as it comes; Ctrl-C (SIGINT) or SIGTERM closes the stream, which stops the
// command on the server, and exits as an interrupted kubectl does (130, 143).

import type { DplabClient } from './client.ts';
import { CliError } from './errors.ts';

/** `kubectl exec ... -- hubble observe ... -f|--follow`: the one kubectl command that never ends on its own here. */
export function wantsStream(args: readonly string[]): boolean {
  const dash = args.indexOf('--');
  if (dash < 0 || !args.slice(0, dash).includes('exec')) return false;
  const cmd = args.slice(dash + 1);
  return cmd[0] === 'hubble' && cmd[1] === 'observe' && cmd.some((a) => a === '-f' || a === '--follow' || a === '--follow=true');
}

interface StreamMessage { stdout?: string; stderr?: string; exitCode?: number; error?: string }

export async function kubectlStream(client: DplabClient, args: readonly string[]): Promise<number> {
  let exitCode: number | undefined;
  let failure: string | undefined;
  const ws = await client.openStream('/v1/kubectl/stream', (data) => {
    let m: StreamMessage;
    try { m = JSON.parse(data.toString()) as StreamMessage; } catch { return; }
    if (m.stdout !== undefined) process.stdout.write(m.stdout);
    if (m.stderr !== undefined) process.stderr.write(m.stderr);
    if (m.exitCode !== undefined) exitCode = m.exitCode;
    if (m.error !== undefined) failure = m.error;
  });
  ws.send(JSON.stringify({ argv: args }));
  let signalled: number | undefined;
  const onSig = (code: number) => (): void => { signalled = code; ws.close(1000); };
  const int = onSig(130), term = onSig(143);
  process.once('SIGINT', int);
  process.once('SIGTERM', term);
  try {
    await new Promise<void>((resolve) => { ws.once('close', () => resolve()); ws.once('error', () => resolve()); });
  } finally { process.off('SIGINT', int); process.off('SIGTERM', term); }
  if (signalled !== undefined) return signalled;
  if (failure !== undefined) throw new CliError(failure);
  if (exitCode === undefined) throw new CliError('the server closed the stream before the command ended');
  return exitCode;
}
