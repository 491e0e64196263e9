// `dplab ngrep`'s capture (loaded when the verb runs, so `dplab --help` stays light):
// a node's capture printed as ngrep 1.47 prints it (seed 000 runs
// `ngrep -tW byline -d eth0 '' 'tcp port 80'` on a kind node), until ^C,
// then ngrep's `exit` and `N received, 0 dropped` lines.

import { decodeCaptureMessage, type CaptureControl } from '../api/capture_codec.ts';
import { compileFilter, type FramePredicate } from '../wire/filter.ts';
import { NgrepPrinter, ngrepHeader } from '../wire/ngrep.ts';
import type { DplabClient } from './client.ts';
import { CliError } from './errors.ts';
import { resolveNode } from './verbs.ts';

export interface NgrepOpts { node?: string; d?: string; t?: boolean; W?: string; q?: boolean }

export async function ngrep(client: DplabClient, args: string[], opts: NgrepOpts): Promise<number> {
  if (opts.W !== undefined && opts.W !== 'byline') throw new CliError(`only -W byline is emulated, got '${opts.W}'`);
  const [pattern = '', ...expr] = args;
  try { new RegExp(pattern); } catch { throw new CliError(`regex compile: invalid expression '${pattern}'`); }
  let filter: FramePredicate;
  try { filter = compileFilter(expr.join(' ')); } catch (err) { throw new CliError((err as Error).message); }
  const node = await resolveNode(client, opts.node);
  const dev = opts.d ?? 'eth0';
  const inet = /inet (\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)/.exec((await client.nodeExec(node, ['ip', '-4', 'addr', 'show', 'dev', dev])).stdout);
  const addr = inet ? ((Number(inet[1]) << 24) | (Number(inet[2]) << 16) | (Number(inet[3]) << 8) | Number(inet[4])) >>> 0 : undefined;
  const printer = new NgrepPrinter({ time: !!opts.t, byline: true, pattern });
  const path = `/v1/nodes/${encodeURIComponent(node)}/capture?iface=${encodeURIComponent(dev)}`;
  return new Promise<number>((resolve, reject) => {
    let received = 0, done = false, error: string | undefined;
    let close = (): void => {};
    const finish = (): void => {
      if (done) return;
      done = true;
      process.off('SIGINT', finish); process.off('SIGTERM', finish);
      close();
      process.stdout.write(`exit\n${received} received, 0 dropped\n`);
      resolve(0);
    };
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
    client.openStream(path, (data: Buffer, isBinary: boolean) => {
      if (done) return;
      if (!isBinary) {
        const ctl = JSON.parse(data.toString()) as CaptureControl;
        if ('error' in ctl) error = ctl.error;
        else if ('listening' in ctl) process.stdout.write(ngrepHeader(dev, addr, Number(inet?.[5] ?? 0), expr.join(' ')));
        return;
      }
      const m = decodeCaptureMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      if (!filter(m.frame)) return;
      received++;
      process.stdout.write(printer.frame(m.frame, m.sec * 1000 + Math.floor(m.nsec / 1000) / 1000));
    }).then((ws) => {
      close = () => ws.close();
      if (done) { ws.close(); return; }
      ws.on('close', () => { if (!done) { done = true; reject(new CliError(error ?? 'the server closed the capture')); } });
    }, (err) => { if (!done) { done = true; reject(err); } });
  });
}
