// `dplab ngrep [--node N] [-t] [-W byline] [-d DEV] EXPRESSION [FILTER...]`: a
// node's capture printed as ngrep 1.47 prints it; the capture code loads
// when the verb runs (./ngrep_capture.ts).

import type { Command } from 'commander';
import type { NgrepOpts } from './ngrep_capture.ts';
import { clientAction } from './verbs.ts';

export function addNgrepVerb(program: Command, exit: (code: number) => void): void {
  program.command('ngrep').description('capture on a node interface, printed like ngrep -W byline')
    .argument('[expression...]', 'match expression (regex over the payload), then a pcap-filter expression')
    .option('--node <node>', 'node (default: the first)')
    .option('-d <dev>', 'interface to capture on (default: eth0)')
    .option('-t', 'print the absolute time of each match')
    .option('-W <mode>', 'dump format (byline)')
    .action(clientAction(program, exit, async (client, args: string[], opts: NgrepOpts) => (await import('./ngrep_capture.ts')).ngrep(client, args, opts)));
}
