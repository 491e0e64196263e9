// `dplab docker exec [-it] NODE CMD...`: kind nodes are containers, and seed
// 000 runs node commands as `docker exec -it myk8s-control-plane iptables ...`;
// this runs CMD on that node over the server's node exec, so those lines
// replay as typed. Plus the per-node tools as verbs: `dplab iptables --node N`,
// `dplab iptables-save --node N`, `dplab conntrack --node N`.

import type { Command } from 'commander';
import { CliError } from './errors.ts';
import { printExec } from './io.ts';
import { clientAction, resolveNode, type VerbAction } from './verbs.ts';

/** docker exec's flags that change nothing here (no terminal, no stdin forwarding). */
const QUIET_FLAGS = new Set(['-i', '-t', '-it', '-ti', '--interactive', '--tty']);

/** Splits `[flags] NODE CMD...`; throws docker's own complaint on anything else. */
export function dockerExecArgs(args: string[]): { node: string; argv: string[] } {
  let i = 0;
  for (; i < args.length && args[i]!.startsWith('-'); i++) {
    if (!QUIET_FLAGS.has(args[i]!)) throw new CliError(`unknown flag: ${args[i]}`);
  }
  if (args.length - i < 2) throw new CliError('"docker exec" requires at least 2 arguments.');
  return { node: args[i]!, argv: args.slice(i + 1) };
}

export function addDockerVerbs(program: Command, exit: (code: number) => void): void {
  const act = <A extends unknown[]>(fn: VerbAction<A>) => clientAction(program, exit, fn);
  program.command('docker').description('docker exec [-it] NODE CMD...: run CMD on a node, as on a kind node container')
    .helpOption(false).allowUnknownOption().allowExcessArguments().passThroughOptions().argument('[args...]')
    .action(act(async (client, args: string[]) => {
      if (args[0] !== 'exec') throw new CliError(`docker: only "exec" is emulated, got "${args[0] ?? ''}"`);
      const { node, argv } = dockerExecArgs(args.slice(1));
      if (!(await client.nodes()).includes(node)) throw new CliError(`Error response from daemon: No such container: ${node}`);
      return printExec(await client.nodeExec(node, argv));
    }));
  for (const tool of ['iptables', 'iptables-save', 'conntrack']) {
    program.command(tool).description(`run ${tool} on a node (--node, default: the first)`)
      .helpOption(false).allowUnknownOption().allowExcessArguments().passThroughOptions().argument('[args...]')
      .option('--node <node>', 'node whose netfilter to use')
      .action(act(async (client, args: string[], opts: { node?: string }) => printExec(await client.nodeExec(await resolveNode(client, opts.node), [tool, ...args]))));
  }
}
