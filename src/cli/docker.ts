// `dplab docker exec [-i] [-t] NODE CMD...`: kind nodes are containers, and
// seed 000 runs node commands as `docker exec -it myk8s-control-plane iptables ...`;
// this runs CMD on that node over the server's node exec, so those lines
// replay as typed. As with docker, -i forwards stdin (`docker exec -i NODE
// iptables-restore < rules`) and without it stdin is not read; -t changes
// nothing here (no terminal). `conntrack -E` follows until Ctrl-C.
// The per-node tool verbs (`dplab iptables --node N ...`) are in node_tools.ts.

import type { Command } from 'commander';
import { CliError } from './errors.ts';
import { readStdinBounded } from './io.ts';
import { addNodeToolVerbs, follows, runOnNode } from './node_tools.ts';
import { clientAction, type VerbAction } from './verbs.ts';

const INTERACTIVE = new Set(['-i', '--interactive']);
const TTY = new Set(['-t', '--tty']);

/** Splits `[flags] NODE CMD...`; throws docker's own complaint on anything else. */
export function dockerExecArgs(args: string[]): { node: string; argv: string[]; interactive: boolean } {
  let i = 0;
  let interactive = false;
  for (; i < args.length && args[i]!.startsWith('-'); i++) {
    const a = args[i]!;
    // Short flags combine as in docker (-it, -ti).
    const flags = /^-[a-z]{2,}$/.test(a) ? [...a.slice(1)].map((c) => `-${c}`) : [a];
    for (const f of flags) {
      if (INTERACTIVE.has(f)) interactive = true;
      else if (!TTY.has(f)) throw new CliError(`unknown flag: ${a}`);
    }
  }
  if (args.length - i < 2) throw new CliError('"docker exec" requires at least 2 arguments.');
  return { node: args[i]!, argv: args.slice(i + 1), interactive };
}

export function addDockerVerbs(program: Command, exit: (code: number) => void): void {
  const act = <A extends unknown[]>(fn: VerbAction<A>) => clientAction(program, exit, fn);
  program.command('docker').description('docker exec [-i] [-t] NODE CMD...: run CMD on a node, as on a kind node container (-i forwards stdin)')
    .helpOption(false).allowUnknownOption().allowExcessArguments().passThroughOptions().argument('[args...]')
    .action(act(async (client, args: string[]) => {
      if (args[0] !== 'exec') throw new CliError(`docker: only "exec" is emulated, got "${args[0] ?? ''}"`);
      const { node, argv, interactive } = dockerExecArgs(args.slice(1));
      if (!(await client.nodes()).includes(node)) throw new CliError(`Error response from daemon: No such container: ${node}`);
      // A terminal on stdin would wait for Ctrl-D: with -it typed at a prompt there is nothing to forward.
      // A following command (conntrack -E) reads no input: waiting for stdin's end would only delay it.
      const stdin = interactive && !process.stdin.isTTY && !follows(argv) ? await readStdinBounded() : undefined;
      return runOnNode(client, node, argv, stdin);
    }));
  addNodeToolVerbs(program, exit);
}
