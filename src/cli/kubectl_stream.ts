// `dplab kubectl exec ... -- hubble observe -f`: a command that runs until
// interrupted, so its output is streamed (GET /v1/kubectl/stream) and printed
// as it comes (./command_stream.ts); Ctrl-C (SIGINT) or SIGTERM stops the
// command on the server, and we exit as an interrupted kubectl does (130, 143).

import type { DplabClient } from './client.ts';
import { runCommandStream } from './command_stream.ts';

/** `kubectl exec ... -- hubble observe ... -f|--follow`: the one kubectl command that never ends on its own here. */
export function wantsStream(args: readonly string[]): boolean {
  const dash = args.indexOf('--');
  if (dash < 0 || !args.slice(0, dash).includes('exec')) return false;
  const cmd = args.slice(dash + 1);
  return cmd[0] === 'hubble' && cmd[1] === 'observe' && cmd.some((a) => a === '-f' || a === '--follow' || a === '--follow=true');
}

/** 128 + the signal, as a shell reports a kubectl that Ctrl-C (or SIGTERM) stopped. */
const INTERRUPTED: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

export function kubectlStream(client: DplabClient, args: readonly string[]): Promise<number> {
  const cmd = args.slice(args.indexOf('--') + 1);
  return runCommandStream(client, {
    path: '/v1/kubectl/stream',
    first: { argv: args },
    name: cmd.slice(0, 2).join(' '),
    interrupted: (signal) => INTERRUPTED[signal],
  });
}
