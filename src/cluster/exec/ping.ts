// iputils ping: -c count, -i interval (virtual time), -W reply timeout,
// -s payload size, -q quiet. Output and exit codes as iputils prints them.

import { u32ToIp } from '../../wire/addr.ts';
import { fail, resolvConf, type Cmd } from './context.ts';
import { resolveHost } from './resolver.ts';

/** `time=` as iputils prints an rtt in whole microseconds (digits truncated, not rounded). */
export function fmtTime(us: number): string {
  const dec = (add: number, div: number, width: number): string =>
    `${Math.floor((us + add) / 1000)}.${String(Math.floor(((us + add) % 1000) / div)).padStart(width, '0')}`;
  if (us >= 100000 - 50) return String(Math.floor((us + 500) / 1000));
  if (us >= 10000 - 5) return dec(50, 100, 1);
  if (us >= 1000) return dec(5, 10, 2);
  return dec(0, 1, 3);
}

/** printf("%g") for a percentage. */
function fmtG(x: number): string { return String(Number(x.toPrecision(6))); }

const usStr = (us: number): string => `${Math.floor(us / 1000)}.${String(Math.floor(us % 1000)).padStart(3, '0')}`;

function parseArgs(args: string[]): { count: number; intervalS: number; waitS: number; size: number; quiet: boolean; ttl?: number; host?: string; error?: string } {
  const o = { count: Infinity, intervalS: 1, waitS: 10, size: 56, quiet: false, ttl: undefined as number | undefined, host: undefined as string | undefined, error: undefined as string | undefined };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const val = (): string => { const v = a.length > 2 ? a.slice(2) : args[++i]; if (v === undefined) o.error = `ping: option requires an argument -- '${a[1]}'`; return v ?? ''; };
    if (a === '-q') o.quiet = true;
    else if (a.startsWith('-c')) o.count = Number(val());
    else if (a.startsWith('-i')) o.intervalS = Number(val());
    else if (a.startsWith('-W')) o.waitS = Number(val());
    else if (a.startsWith('-s')) o.size = Number(val());
    else if (a.startsWith('-t')) o.ttl = Number(val());
    else if (a === '-4' || a === '-n') continue;
    else if (a.startsWith('-')) o.error = `ping: invalid option -- '${a.slice(1)}'`;
    else o.host = a;
  }
  return o;
}

export const ping: Cmd = async (args, _stdin, sh) => {
  const o = parseArgs(args);
  if (o.error) return fail(2, o.error + '\n');
  if (!o.host) return fail(1, 'ping: usage error: Destination address required\n');
  if (!Number.isFinite(o.count)) o.count = 4; // an exec has no Ctrl-C: stop where a user would
  const r = await resolveHost(sh.netns, sh.sim, resolvConf(sh), o.host, 4);
  if (!r.ok || r.v4.length === 0) return fail(2, `ping: ${o.host}: ${r.ok || r.error !== 'TIMEOUT' ? 'Name or service not known' : 'Temporary failure in name resolution'}\n`);
  const ip = r.v4[0]!;
  const dst = ip.split('.').reduce((a, b) => a * 256 + Number(b), 0);
  const title = r.name === ip ? ip : r.name;
  let out = `PING ${title} (${ip}) ${o.size}(${o.size + 28}) bytes of data.\n`;
  const rtts: number[] = [];
  const start = sh.sim.now();
  let lastSent = start;
  const id = sh.sim.rng.u32() & 0xffff;
  for (let seq = 1; seq <= o.count; seq++) {
    const sentAt = lastSent = sh.sim.now();
    const reply = await sh.netns.sockets.ping(dst, { seq, id, payloadBytes: o.size, timeoutNs: o.waitS * 1e9, ttl: o.ttl });
    if (reply) {
      const us = Math.floor(reply.rttNs / 1000);
      rtts.push(us);
      const from = reply.from === dst ? (title === ip ? ip : `${title} (${ip})`) : u32ToIp(reply.from);
      if (!o.quiet) out += `${o.size + 8} bytes from ${from}: icmp_seq=${seq} ttl=${reply.ttl} time=${fmtTime(us)} ms\n`;
    }
    if (seq < o.count) {
      const next = sentAt + o.intervalS * 1e9;
      if (sh.sim.now() < next) await sh.sim.sleep(next - sh.sim.now());
    }
  }
  // iputils reports the span from the first to the last transmission.
  const totalMs = Math.floor((lastSent - start + 500_000) / 1e6);
  const loss = ((o.count - rtts.length) / o.count) * 100;
  out += `\n--- ${title} ping statistics ---\n`;
  out += `${o.count} packets transmitted, ${rtts.length} received, ${fmtG(loss)}% packet loss, time ${totalMs}ms\n`;
  if (rtts.length > 0) {
    const n = rtts.length, sum = rtts.reduce((a, b) => a + b, 0), sum2 = rtts.reduce((a, b) => a + b * b, 0);
    const avg = Math.floor(sum / n), mdev = Math.floor(Math.sqrt(Math.max(0, sum2 / n - (sum / n) ** 2)));
    out += `rtt min/avg/max/mdev = ${usStr(Math.min(...rtts))}/${usStr(avg)}/${usStr(Math.max(...rtts))}/${usStr(mdev)} ms\n`;
  } else out += '\n';
  return { stdout: out, stderr: '', exitCode: rtts.length > 0 ? 0 : 1 };
};
