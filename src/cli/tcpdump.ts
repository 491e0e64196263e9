// `dplab tcpdump`: the verb, its options and tcpdump's own wording. The capture
// itself (tcpdump_capture.ts, with the frame codecs) loads only when it runs.

import type { Command } from 'commander';
import { clientAction } from './verbs.ts';

export interface TcpdumpOpts { node?: string; interface?: string; n?: number; c?: string; w?: string; e?: boolean; S?: boolean; l?: boolean; U?: boolean; q?: boolean }

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/** tcpdump's closing statistics (tcpdump.c info()). */
export function statsLines(captured: number, received: number, dropped: number): string {
  return `${plural(captured, 'packet')} captured\n${plural(received, 'packet')} received by filter\n${plural(dropped, 'packet')} dropped by kernel\n`;
}

/** The first up, non-loopback interface in `ip link` order: what tcpdump picks without -i. */
export function firstUpInterface(ipLink: string): string | undefined {
  for (const m of ipLink.matchAll(/^\d+: ([^:@\s]+)(?:@\S+)?: <([^>]*)>/gm)) {
    const flags = m[2]!.split(',');
    if (!flags.includes('LOOPBACK') && flags.includes('UP')) return m[1];
  }
  return undefined;
}

export function addTcpdumpVerb(program: Command, exit: (code: number) => void): void {
  program.command('tcpdump').description('capture on a node interface, printed like tcpdump -nn')
    .argument('[expression...]', 'pcap-filter expression')
    .option('--node <node>', 'node (default: the first)')
    .option('-i, --interface <iface>', 'interface to capture on (default: the first up, non-loopback one)')
    .option('-n', "don't resolve names (always the case; -nn accepted)", (_v: string, prev: number | undefined) => (prev ?? 0) + 1)
    .option('-c <count>', 'exit after receiving count packets')
    .option('-w <file>', 'write raw packets to a pcap file (- for stdout)')
    .option('-e', 'print the link-level header')
    .option('-S', 'print absolute TCP sequence numbers')
    .option('-q', 'quick output: "tcp LENGTH" after the addresses')
    .option('-l', 'line-buffered stdout (always the case)')
    .option('-U', 'packet-buffered -w output (always the case)')
    .action(clientAction(program, exit, async (client, expr: string[], opts: TcpdumpOpts) => (await import('./tcpdump_capture.ts')).tcpdump(client, expr, opts)));
}
