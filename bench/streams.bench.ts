// Memory of 100 idle stream readers (issue 6): the RSS of a `dplab serve`
// (its own process, fast clock, loopback only) before and after 100 capture
// WebSockets on k8s-s ens5 that never read while 24 MB of pings cross it.
// Readers come from 127.0.0.1-4 (25 each, under the default 32 per client)
// and pause their sockets; the server's default 256 KiB of unsent data per
// stream bounds what it holds for them (25 MiB for 100). Linux only (reads
// /proc/PID/status). Prints one JSON object.
// Run: node --import tsx bench/streams.bench.ts [readers] [--rounds N]

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import WebSocket from 'ws';
import { benchArgs, runBench } from './lib/harness.ts';
import { size, type Figures } from './lib/figures.ts';

const args = benchArgs();
const READERS = Number(args.rest[0] ?? 100);
const BIN = resolve(import.meta.dirname, '../bin/dplab.js');
// 1500 echo requests and replies of 8 KB between netpod (k8s-s) and webpod1 (k8s-w1): ~24 MB on k8s-s ens5.
const TRAFFIC = ['ping', '-q', '-c', '1500', '-i', '0.002', '-s', '8000', '172.16.1.111'];

const mb = (bytes: number): number => Number((bytes / 2 ** 20).toFixed(1));

function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

async function startServer(bufferKb: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--ephemeral', '--clock', 'fast', '--stream-buffer-kb', String(bufferKb)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise<string>((res, rej) => {
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); const m = /on (http:\/\/\S+)/.exec(out); if (m) res(m[1]!); });
    child.on('exit', (code) => rej(new Error(`dplab serve exited (${code}): ${out}`)));
  });
  return { url, child };
}

async function traffic(url: string): Promise<string> {
  const r = await fetch(`${url}/v1/exec`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pod: 'netpod', argv: TRAFFIC }) });
  const out = await r.json() as { stdout: string; exitCode: number };
  if (out.exitCode !== 0) throw new Error(`ping failed: ${JSON.stringify(out)}`);
  return out.stdout.split('\n').find((l) => l.includes('packets transmitted')) ?? '';
}

/** A capture reader that never reads: its socket is paused once the capture is attached. */
function idleReader(url: string, i: number): Promise<{ ws: WebSocket; refused: boolean }> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/nodes/k8s-s/capture?iface=ens5`, { localAddress: `127.0.0.${1 + (i % 4)}` });
  return new Promise((res, rej) => {
    ws.once('message', (d: Buffer) => {
      const refused = 'error' in (JSON.parse(d.toString()) as object);
      if (!refused) (ws as unknown as { _socket: Socket })._socket.pause();
      res({ ws, refused });
    });
    ws.once('error', rej);
  });
}

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function run(bufferKb: number): Promise<Figures> {
  const { url, child } = await startServer(bufferKb);
  try {
    await traffic(url); // warm-up: JIT, ARP, conntrack, the pings' buffers
    await settle(500);
    const before = rssBytes(child.pid!);
    const readers = await Promise.all(Array.from({ length: READERS }, (_, i) => idleReader(url, i)));
    const ping = await traffic(url);
    await settle(500);
    const after = rssBytes(child.pid!);
    for (const r of readers) r.ws.terminate();
    return {
      rssBeforeMB: size(mb(before)),
      rssWithIdleReadersMB: size(mb(after)),
      rssGrowthMB: size(mb(after - before)),
      perReaderKB: size(Math.round((after - before) / READERS / 1024)),
      readersOpen: readers.filter((r) => !r.refused).length,
      refused: readers.filter((r) => r.refused).length,
      ping,
    };
  } finally { child.kill('SIGTERM'); }
}

await runBench({
  header: {
    method: `${READERS} capture WebSockets on k8s-s ens5 (from 127.0.0.1-4) that never read, while netpod runs \`${TRAFFIC.join(' ')}\` to webpod1; RSS of the dplab serve process (--clock fast; idleReaders with the defaults: 256 KiB unsent per stream, 32 streams per client, 128 in all) after a warm-up run and after the run with the readers; idleReadersOld8MiB with --stream-buffer-kb 8192, the fixed 8 MiB per stream before the limits`,
    readers: READERS,
    boundMB: mb(READERS * (256 << 10)),
  },
  rounds: 3,
  cases: [
    { name: 'idleReaders', run: () => run(256) },
    // The fixed 8 MiB per stream before the limits (issue 6 measured 146 -> 592 MB), for comparison.
    { name: 'idleReadersOld8MiB', run: () => run(8192) },
  ],
}, args);
