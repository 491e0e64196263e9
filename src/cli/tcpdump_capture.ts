// The live capture of `dplab tcpdump`: frames from the capture WebSocket,
// filtered and printed like `tcpdump -nn` (or written as pcap with -w), with
// tcpdump's stderr lines.

import { closeSync, openSync, writeSync } from 'node:fs';
import type { WebSocket } from 'ws';
import { decodeCaptureMessage, type CaptureControl } from '../api/capture_codec.ts';
import { compileFilter, type FramePredicate } from '../wire/filter.ts';
import { pcapHeader, pcapRecord } from '../wire/pcap.ts';
import { TcpdumpFormatter } from '../wire/tcpdump.ts';
import type { DplabClient } from './client.ts';
import { CliError } from './errors.ts';
import { firstUpInterface, statsLines, type TcpdumpOpts } from './tcpdump.ts';
import { resolveNode } from './verbs.ts';

function parseCount(c: string | undefined): number {
  if (c === undefined) return Infinity;
  const n = Number(c);
  if (!/^\d+$/.test(c) || n <= 0) throw new CliError(`invalid packet count ${c}`);
  return n;
}

/** Where captured packets go: text lines on stdout, or pcap records to a file (or stdout with -w -). */
interface Sink { packet(frame: Uint8Array, sec: number, nsec: number): void; close(): void }

function textSink(opts: TcpdumpOpts): Sink {
  const fmt = new TcpdumpFormatter({ link: !!opts.e, absoluteSeq: !!opts.S, quiet: !!opts.q });
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

async function defaultInterface(client: DplabClient, node: string): Promise<string> {
  const r = await client.nodeExec(node, ['ip', 'link']);
  return (r.exitCode === 0 ? firstUpInterface(r.stdout) : undefined) ?? 'eth0';
}

export async function tcpdump(client: DplabClient, expr: string[], opts: TcpdumpOpts): Promise<number> {
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
