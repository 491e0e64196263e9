// iputils ping: -c count, -i interval (virtual time), -W reply timeout,
// -s payload size, -q quiet, -t ttl, -M do|want|dont (IP_MTU_DISCOVER).
// Output and exit codes as iputils (20240905) prints them: its -s range and
// size check, local errors (EMSGSIZE with the path MTU) on stderr, ICMP errors
// about a probe as `From X icmp_seq=N <pr_icmph text>`, `+N errors` in the summary.

import { u32ToIp } from '../../wire/addr.ts';
import { PingLocalError, type PingReply, type PmtuDisc } from '../../kernel/api.ts';
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

/** MAXPACKET - 8: the most -s accepts (strtol_or_err's range). */
const MAX_S = 128000 - 8;
/** 0xFFFF - 8 - 20: the largest ICMP payload of an IPv4 datagram without options. */
const MAX_DATALEN = 0xffff - 8 - 20;

/** pr_icmph: the text iputils prints for an ICMP error about a probe. */
export function icmpText(type: number, code: number, info: number): string {
  if (type === 3) {
    const unreach = ['Destination Net Unreachable', 'Destination Host Unreachable', 'Destination Protocol Unreachable', 'Destination Port Unreachable',
      `Frag needed and DF set (mtu = ${info})`, 'Source Route Failed', 'Destination Net Unknown', 'Destination Host Unknown', 'Source Host Isolated',
      'Destination Net Prohibited', 'Destination Host Prohibited', 'Destination Net Unreachable for Type of Service',
      'Destination Host Unreachable for Type of Service', 'Packet filtered', 'Precedence Violation', 'Precedence Cutoff'];
    return unreach[code] ?? `Dest Unreachable, Bad Code: ${code}`;
  }
  if (type === 11) return code === 0 ? 'Time to live exceeded' : code === 1 ? 'Frag reassembly time exceeded' : `Time exceeded, Bad Code: ${code}`;
  return `Bad ICMP type: ${type}`;
}

function parseArgs(args: string[]): { count: number; intervalS: number; waitS: number; size: number; quiet: boolean; ttl?: number; pmtudisc?: PmtuDisc; host?: string; error?: string; exit?: number } {
  const o = { count: Infinity, intervalS: 1, waitS: 10, size: 56, quiet: false, ttl: undefined as number | undefined, pmtudisc: undefined as PmtuDisc | undefined, host: undefined as string | undefined, error: undefined as string | undefined, exit: undefined as number | undefined };
  for (let i = 0; i < args.length && o.error === undefined; i++) {
    const a = args[i]!;
    const val = (): string => { const v = a.length > 2 ? a.slice(2) : args[++i]; if (v === undefined) o.error = `ping: option requires an argument -- '${a[1]}'`; return v ?? ''; };
    if (a === '-q') o.quiet = true;
    else if (a.startsWith('-c')) o.count = Number(val());
    else if (a.startsWith('-i')) o.intervalS = Number(val());
    else if (a.startsWith('-W')) o.waitS = Number(val());
    else if (a.startsWith('-s')) {
      const v = val();
      // strtol_or_err: EXIT_FAILURE with "invalid argument" for a non-number or one out of range.
      if (o.error !== undefined) break;
      if (!/^[+-]?\d+$/.test(v)) { o.error = `ping: invalid argument: '${v}'`; o.exit = 1; }
      else if (Number(v) < 0 || Number(v) > MAX_S) { o.error = `ping: invalid argument: '${v}': out of range: 0 <= value <= ${MAX_S}`; o.exit = 1; }
      else o.size = Number(v);
    } else if (a.startsWith('-M')) {
      const v = val();
      if (o.error !== undefined) break;
      if (v === 'do' || v === 'want' || v === 'dont') o.pmtudisc = v;
      else o.error = `ping: invalid -M argument: ${v}`;
    }
    else if (a.startsWith('-t')) o.ttl = Number(val());
    else if (a === '-4' || a === '-n') continue;
    else if (a.startsWith('-')) o.error = `ping: invalid option -- '${a.slice(1)}'`;
    else o.host = a;
  }
  return o;
}

export const ping: Cmd = async (args, _stdin, sh) => {
  const o = parseArgs(args);
  if (o.error) return fail(o.exit ?? 2, o.error + '\n');
  if (!o.host) return fail(1, 'ping: usage error: Destination address required\n');
  if (!Number.isFinite(o.count)) o.count = 4; // an exec has no Ctrl-C: stop where a user would
  const r = await resolveHost(sh.netns, sh.sim, resolvConf(sh), o.host, 4);
  if (!r.ok || r.v4.length === 0) return fail(2, `ping: ${o.host}: ${r.ok || r.error !== 'TIMEOUT' ? 'Name or service not known' : 'Temporary failure in name resolution'}\n`);
  const ip = r.v4[0]!;
  const dst = ip.split('.').reduce((a, b) => a * 256 + Number(b), 0);
  const title = r.name === ip ? ip : r.name;
  // ping4_run, before the banner.
  if (o.size > MAX_DATALEN) return fail(2, `ping: packet size ${o.size} is too large. Maximum is ${MAX_DATALEN}\n`);
  // Printed as it goes (a ping that `timeout` stops keeps its lines, as iputils' do).
  const w = sh.progress ?? { stdout: '', stderr: '' };
  w.stdout += `PING ${title} (${ip}) ${o.size}(${o.size + 28}) bytes of data.\n`;
  const rtts: number[] = [];
  let errors = 0;
  const start = sh.sim.now();
  let lastSent = start;
  const id = sh.sim.rng.u32() & 0xffff;
  for (let seq = 1; seq <= o.count; seq++) {
    const sentAt = lastSent = sh.sim.now();
    let reply: PingReply | null;
    try {
      reply = await sh.netns.sockets.ping(dst, { seq, id, payloadBytes: o.size, timeoutNs: o.waitS * 1e9, ttl: o.ttl, pmtudisc: o.pmtudisc });
    } catch (e) {
      // A hard local error: counted as transmitted, reported from the error queue (SO_EE_ORIGIN_LOCAL).
      if (!(e instanceof PingLocalError)) throw e;
      reply = null;
      errors++;
      if (!o.quiet) w.stderr += e.code === 'EMSGSIZE' ? `ping: local error: message too long, mtu=${e.mtu}\n` : `ping: local error: ${e.message}\n`;
    }
    if (reply?.icmp) {
      errors++;
      if (!o.quiet) w.stdout += `From ${u32ToIp(reply.from)} icmp_seq=${seq} ${icmpText(reply.icmp.type, reply.icmp.code, reply.icmp.info)}\n`;
    } else if (reply) {
      const us = Math.floor(reply.rttNs / 1000);
      rtts.push(us);
      const from = reply.from === dst ? (title === ip ? ip : `${title} (${ip})`) : u32ToIp(reply.from);
      if (!o.quiet) w.stdout += `${o.size + 8} bytes from ${from}: icmp_seq=${seq} ttl=${reply.ttl} time=${fmtTime(us)} ms\n`;
    }
    if (seq < o.count) {
      const next = sentAt + o.intervalS * 1e9;
      if (sh.sim.now() < next) await sh.sim.sleep(next - sh.sim.now());
    }
  }
  // iputils reports the span from the first to the last transmission.
  const totalMs = Math.floor((lastSent - start + 500_000) / 1e6);
  const loss = ((o.count - rtts.length) / o.count) * 100;
  let out = `\n--- ${title} ping statistics ---\n`;
  out += `${o.count} packets transmitted, ${rtts.length} received${errors ? `, +${errors} errors` : ''}, ${fmtG(loss)}% packet loss, time ${totalMs}ms\n`;
  if (rtts.length > 0) {
    const n = rtts.length, sum = rtts.reduce((a, b) => a + b, 0), sum2 = rtts.reduce((a, b) => a + b * b, 0);
    const avg = Math.floor(sum / n), mdev = Math.floor(Math.sqrt(Math.max(0, sum2 / n - (sum / n) ** 2)));
    out += `rtt min/avg/max/mdev = ${usStr(Math.min(...rtts))}/${usStr(avg)}/${usStr(Math.max(...rtts))}/${usStr(mdev)} ms\n`;
  } else out += '\n';
  w.stdout += out;
  return { stdout: w.stdout, stderr: w.stderr, exitCode: rtts.length > 0 ? 0 : 1 };
};
