// The per-node tool verbs: `dplab iptables|iptables-save|iptables-restore|
// conntrack|ipvsadm|ipset --node N ARGS...` run the tool on that node (the
// first node without --node) and print what it prints, with its exit code; a
// node without the tool answers as its shell does (`bash: ipvsadm: command
// not found`, 127). iptables-restore, `ipset restore` and `ipvsadm -R` get
// this process's stdin (or iptables-restore's FILE argument); `conntrack -E`
// follows the node's events until Ctrl-C or the server goes away.

import type { Command } from 'commander';
import type { DplabClient } from './client.ts';
import { runCommandStream } from './command_stream.ts';
import { CliError } from './errors.ts';
import { printExec, readInputFile, readStdinBounded } from './io.ts';
import { clientAction, resolveNode, type VerbAction } from './verbs.ts';

export const NODE_TOOLS = ['iptables', 'iptables-save', 'iptables-restore', 'conntrack', 'ipvsadm', 'ipset'] as const;

/** True for a command line that follows until stopped: `conntrack -E ...`. */
export function follows(argv: readonly string[]): boolean {
  return argv[0] === 'conntrack' && argv.some((a) => a === '-E' || a === '--event');
}

/** True when the tool reads its input from stdin with these arguments. */
export function readsStdin(argv: readonly string[]): boolean {
  const [tool, ...args] = argv;
  if (tool === 'iptables-restore') return restoreFile(args) === undefined;
  if (tool === 'ipset') return args[0] === 'restore' || args[0] === '-R';
  if (tool === 'ipvsadm') return args.includes('-R') || args.includes('--restore');
  return false;
}

/** iptables-restore's optional FILE argument (its one positional; -T/--table takes a value). */
export function restoreFile(args: readonly string[]): string | undefined {
  const pos: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-T' || a === '--table') i++;
    else if (!a.startsWith('-') || a === '-') pos.push(a);
  }
  if (pos.length > 1) throw new CliError('Unknown arguments found on commandline');
  return pos[0];
}

/** The command line to send and its stdin: a local FILE argument of iptables-restore is read here and sent as stdin. */
async function withInput(argv: string[]): Promise<{ argv: string[]; stdin?: string }> {
  if (argv[0] === 'iptables-restore') {
    const file = restoreFile(argv.slice(1));
    if (file !== undefined && file !== '-') {
      let stdin: string;
      try { stdin = readInputFile(file); } catch (e) { throw new CliError((e as Error).message.replace(/^(.*): No such file or directory$/, "Can't open $1: No such file or directory")); }
      return { argv: argv.filter((a) => a !== file), stdin };
    }
    if (file === '-') return { argv: argv.filter((a) => a !== '-'), stdin: await readStdinBounded() };
  }
  return readsStdin(argv) ? { argv, stdin: await readStdinBounded() } : { argv };
}

/** conntrack's warning when its netlink buffer overflowed and events were lost (conntrack.c). */
const ENOBUFS = 'WARNING: We have hit ENOBUFS! We are losing events.\nThis message means that the current netlink socket buffer size is too small.\nPlease, check --buffer-size in conntrack(8) manpage.\n';

/**
 * Runs a following command (`conntrack -E`) on a node over the exec stream
 * (./command_stream.ts), printing as it prints. Ctrl-C (or SIGTERM) is passed
 * on: the command prints its last line and exits, and so do we with its code.
 */
export function followExec(client: DplabClient, node: string, argv: string[]): Promise<number> {
  const query = argv.map((a) => `command=${encodeURIComponent(a)}`).join('&');
  return runCommandStream(client, {
    path: `/v1/nodes/${encodeURIComponent(node)}/exec?${query}`,
    name: argv.slice(0, 2).join(' '),
    ...(argv[0] === 'conntrack' ? { lost: () => ENOBUFS } : {}),
  });
}

/** Runs argv on the node as `docker exec` / the verbs do: followed, or once with its input. */
export async function runOnNode(client: DplabClient, node: string, argv: string[], stdin?: string): Promise<number> {
  if (follows(argv)) return followExec(client, node, argv);
  return printExec(await client.nodeExec(node, argv, stdin));
}

/**
 * `--node N` given after the tool's own arguments (`dplab conntrack -L --node N`):
 * none of these tools has a --node option, so it can only be ours.
 */
export function lateNode(args: readonly string[]): { node?: string; args: string[] } {
  const out: string[] = [];
  let node: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--node') {
      node = args[++i];
      if (node === undefined) throw new CliError("option '--node <node>' argument missing");
    } else if (a.startsWith('--node=')) node = a.slice(7);
    else out.push(a);
  }
  return { node, args: out };
}

export function addNodeToolVerbs(program: Command, exit: (code: number) => void): void {
  const act = <A extends unknown[]>(fn: VerbAction<A>) => clientAction(program, exit, fn);
  for (const tool of NODE_TOOLS) {
    program.command(tool).description(`run ${tool} on a node (--node, default: the first); options before the ${tool} arguments`)
      .helpOption(false).allowUnknownOption().allowExcessArguments().passThroughOptions().argument('[args...]')
      .option('--node <node>', 'node whose tool to run')
      .action(act(async (client, args: string[], opts: { node?: string }) => {
        const late = lateNode(args);
        const node = await resolveNode(client, late.node ?? opts.node);
        const { argv, stdin } = await withInput([tool, ...late.args]);
        return runOnNode(client, node, argv, stdin);
      }));
  }
}
