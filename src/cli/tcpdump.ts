// `dplab tcpdump`: a live capture over the capture WebSocket, printed like
// `tcpdump -nn` (or written as pcap with -w), with tcpdump's stderr lines.

import { closeSync, openSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import type { WebSocket } from 'ws';
import { decodeCaptureMessage, type CaptureControl } from '../api/capture_codec.ts';
import { compileFilter, type FramePredicate } from '../wire/filter.ts';
import { pcapHeader, pcapRecord } from '../wire/pcap.ts';
import { TcpdumpFormatter } from '../wire/tcpdump.ts';
import type { DplabClient } from './client.ts';
import { CliError } from './errors.ts';
import { clientAction, resolveNode } from './verbs.ts';

interface TcpdumpOpts { node?: string; interface?: string; n?: number; c?: string; w?: string; e?: boolean; S?: boolean; l?: boolean; U?: boolean }

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/** tcpdump's closing statistics (tcpdump.c info()). */
export function statsLines(captured: number, received: number, dropped: number): string {
  return `${plural(captured, 'packet')} captured\n${plural(received, 'packet')} received by filter\n${plural(dropped, 'packet')} dropped by kernel\n`;
}

function parseCount(c: string | undefined): number {
  if (c === undefined) return Infinity;
  const n = Number(c);
  if (!/^\d+$/.test(c) || n <= 0) throw new CliError(`invalid packet count ${c}`);
  return n;
}

/** Where captured packets go: text lines on stdout, or pcap records to a file (or stdout with -w -). */
interface Sink { packet(frame: Uint8Array, sec: number, nsec: number): void; close(): void }

function textSink(opts: TcpdumpOpts): Sink {
  const fmt = new TcpdumpFormatter({ link: !!opts.e, absoluteSeq: !!opts.S });
  return {
    // Truncate to the microsecond, as the kernel stamps a usec pcap record.
    packet: (frame, sec, nsec) => { process.stdout.write(`${fmt.format(frame, sec * 1000 + Math.floor(nsec / 1000) / 1000)}\n`); },
    close: () => {},
  };
}

function pcapSink(file: string): Sink {
  let fd: number;
  try { fd = file === '-' ? 1 : openSync(file, 'w'); } catch (err) {
    throw new CliError(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : 'Permission denied'}`);
  }
  writeSync(fd, pcapHeader());
  return {
    packet: (frame, sec, nsec) => { writeSync(fd, pcapRecord(frame, sec, Math.floor(nsec / 1000))); },
    close: () => { if (fd !== 1) closeSync(fd); },
  };
}

/** The first up, non-loopback interface in `ip link` order: what tcpdump picks without -i. */
export function firstUpInterface(ipLink: string): string | undefined {
  for (const m of ipLink.matchAll(/^\d+: ([^:@\s]+)(?:@\S+)?: <([^>]*)>/gm)) {
    const flags = m[2]!.split(',');
    if (!flags.includes('LOOPBACK') && flags.includes('UP')) return m[1];
  }
  return undefined;
}

async function defaultInterface(client: DplabClient, node: string): Promise<string> {
  const r = await client.nodeExec(node, ['ip', 'link']);
  return (r.exitCode === 0 ? firstUpInterface(r.stdout) : undefined) ?? 'eth0';
}

async function tcpdump(client: DplabClient, expr: string[], opts: TcpdumpOpts): Promise<number> {
  const count = parseCount(opts.c);
  let filter: FramePredicate;
  try { filter = compileFilter(expr.join(' ')); } catch (err) { throw new CliError((err as Error).message); }
  const node = await resolveNode(client, opts.node);
  const iface = opts.interface ?? await defaultInterface(client, node);
  const path = `/v1/nodes/${encodeURIComponent(node)}/capture?iface=${encodeURIComponent(iface)}`;

  return new Promise<number>((resolve, reject) => {
    let sink: Sink | undefined;
    let ws: WebSocket | undefined;
    let captured = 0, received = 0, dropped = 0, error: string | undefined, done = false;
    const end = (): void => {
      done = true;
      process.off('SIGINT', onSig); process.off('SIGTERM', onSig);
      ws?.close();
      sink?.close();
    };
    const finish = (interrupted: boolean): void => {
      if (done) return;
      end();
      // On a signal tcpdump ends a possibly unfinished line first.
      if (interrupted && !opts.w) process.stdout.write('\n');
      process.stderr.write(statsLines(captured, received, dropped));
      resolve(0);
    };
    const fail = (err: unknown): void => { if (!done) { end(); reject(err); } };
    const onSig = (): void => finish(true);
    process.once('SIGINT', onSig);
    process.once('SIGTERM', onSig);

    const onMessage = (data: Buffer, isBinary: boolean): void => {
      if (done) return;
      if (!isBinary) {
        const ctl = JSON.parse(data.toString()) as CaptureControl;
        if ('error' in ctl) error = ctl.error;
        else if ('dropped' in ctl) dropped = ctl.dropped;
        else if ('listening' in ctl) {
          try { sink = opts.w ? pcapSink(opts.w) : textSink(opts); } catch (err) { fail(err); return; }
          // tcpdump prints the "suppressed" hint only when it decodes to the terminal.
          process.stderr.write(opts.w ? 'tcpdump: ' : 'tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n');
          process.stderr.write(`listening on ${iface}, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n`);
        }
        return;
      }
      if (!sink) return;
      const m = decodeCaptureMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      // Linux counts "received by filter" after the socket filter, so only matches.
      if (!filter(m.frame)) return;
      received++;
      captured++;
      sink.packet(m.frame, m.sec, m.nsec);
      if (captured >= count) finish(false);
    };
    client.openStream(path, onMessage).then((w) => {
      ws = w;
      if (done) { w.close(); return; }
      w.on('close', () => fail(new CliError(error ?? 'the server closed the capture')));
    }, fail);
  });
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
    .option('-l', 'line-buffered stdout (always the case)')
    .option('-U', 'packet-buffered -w output (always the case)')
    .action(clientAction(program, exit, (client, expr: string[], opts: TcpdumpOpts) => tcpdump(client, expr, opts)));
}
