// conntrack-tools 1.4.7's text (libnetfilter_conntrack snprintf_default.c)
// and the `conntrack -L/-D/-F/-C/-E` commands over a Conntrack table.

import { ipToU32, u32ToIp } from '../wire/addr.ts';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../wire/ipv4.ts';
import type { Conntrack, CtEntry, CtEventType, Tuple } from './conntrack.ts';
import type { ToolResult } from './restore.ts';

const BANNER = 'conntrack v1.4.7 (conntrack-tools)';
const PROTO: Record<number, string> = { [IPPROTO_TCP]: 'tcp', [IPPROTO_UDP]: 'udp', [IPPROTO_ICMP]: 'icmp' };

function tupleText(proto: number, t: Tuple): string {
  const l4 = proto === IPPROTO_ICMP ? `type=${t.dport >> 8} code=${t.dport & 255} id=${t.sport}` : `sport=${t.sport} dport=${t.dport}`;
  return `src=${u32ToIp(t.src)} dst=${u32ToIp(t.dst)} ${l4}`;
}

/** Seconds left, as the kernel reports them (whole seconds, rounded down). */
export function remaining(e: CtEntry, nowNs: number): number {
  return Math.max(0, Math.floor((e.expiresNs - nowNs) / 1e9));
}

/**
 * One entry as `conntrack -L` prints it (event: as `conntrack -E` prints it, with the type prefix and no mark/use).
 * A DESTROY event carries the seconds left only when some are (ctnetlink_dump_timeout's skip_zero, Linux 5.11+),
 * and the TCP state: an expired entry's line is `[DESTROY] tcp      6 TIME_WAIT src=... [ASSURED]`, one
 * deleted by `conntrack -D` keeps its `99 ESTABLISHED` (checked against a 6.18 kernel).
 */
export function entryLine(e: CtEntry, nowNs: number, event?: CtEventType): string {
  const name = PROTO[e.proto] ?? 'unknown';
  let s = event ? `[${event}]`.padStart(9) + ' ' : '';
  s += `${name.padEnd(8)} ${e.proto} `;
  const left = event === 'DESTROY' || !event ? remaining(e, nowNs) : e.timeout;
  if (event !== 'DESTROY' || left > 0) s += `${left} `;
  if (e.state) s += `${e.state} `;
  s += tupleText(e.proto, e.orig) + ' ';
  if (!e.seenReply) s += '[UNREPLIED] ';
  s += tupleText(e.proto, e.reply) + ' ';
  if (e.assured) s += '[ASSURED] ';
  if (!event) s += `mark=${e.mark} use=1 `;
  return s.trimEnd();
}

interface Filter { src?: number; dst?: number; proto?: number; sport?: number; dport?: number; replySrc?: number; replyDst?: number }

function matches(e: CtEntry, f: Filter): boolean {
  return (f.proto === undefined || e.proto === f.proto) && (f.src === undefined || e.orig.src === f.src) && (f.dst === undefined || e.orig.dst === f.dst) &&
    (f.sport === undefined || e.orig.sport === f.sport) && (f.dport === undefined || e.orig.dport === f.dport) &&
    (f.replySrc === undefined || e.reply.src === f.replySrc) && (f.replyDst === undefined || e.reply.dst === f.replyDst);
}

const usage = (msg: string): ToolResult => ({ stdout: '', stderr: `${BANNER}: ${msg}\nTry \`conntrack -h' or 'conntrack --help' for more information.\n`, code: 2 });

type Cmd = 'L' | 'D' | 'F' | 'C' | 'E';
/** conntrack's -e/--event-mask names, matched as conntrack does (a case-insensitive prefix: UPDATE is UPDATES). */
const EVENT_NAMES: Array<[string, CtEventType[]]> = [['ALL', ['NEW', 'UPDATE', 'DESTROY']], ['NEW', ['NEW']], ['UPDATES', ['UPDATE']], ['DESTROY', ['DESTROY']]];

function eventMask(v: string): Set<CtEventType> | undefined {
  const out = new Set<CtEventType>();
  for (const p of v.split(',')) {
    const hit = p !== '' ? EVENT_NAMES.find(([n]) => n.startsWith(p.toUpperCase())) : undefined;
    if (!hit) return undefined;
    for (const t of hit[1]) out.add(t);
  }
  return out;
}

/** The command and filters of `conntrack ARGS`, or conntrack's usage error. */
function parseArgs(argv: readonly string[]): { cmd: Cmd | undefined; f: Filter; events?: Set<CtEventType> } | ToolResult {
  let cmd: Cmd | undefined;
  let events: Set<CtEventType> | undefined;
  const f: Filter = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = () => argv[++i];
    const ip = (v: string | undefined) => { try { return ipToU32(v ?? ''); } catch { return undefined; } };
    switch (a) {
      case '-L': case '--dump': cmd = 'L'; break;
      case '-D': case '--delete': cmd = 'D'; break;
      case '-F': case '--flush': cmd = 'F'; break;
      case '-C': case '--count': cmd = 'C'; break;
      case '-E': case '--event': cmd = 'E'; break;
      case '-s': case '--src': case '--orig-src': { const v = val(); f.src = ip(v); if (f.src === undefined) return usage(`Bad parameter \`${v ?? ''}'`); break; }
      case '-d': case '--dst': case '--orig-dst': { const v = val(); f.dst = ip(v); if (f.dst === undefined) return usage(`Bad parameter \`${v ?? ''}'`); break; }
      case '-r': case '--reply-src': { const v = val(); f.replySrc = ip(v); if (f.replySrc === undefined) return usage(`Bad parameter \`${v ?? ''}'`); break; }
      case '-q': case '--reply-dst': { const v = val(); f.replyDst = ip(v); if (f.replyDst === undefined) return usage(`Bad parameter \`${v ?? ''}'`); break; }
      case '-p': case '--proto': {
        const v = (val() ?? '').toLowerCase();
        const n = v === 'tcp' ? IPPROTO_TCP : v === 'udp' ? IPPROTO_UDP : v === 'icmp' ? IPPROTO_ICMP : /^\d+$/.test(v) ? Number(v) : undefined;
        if (n === undefined) return usage(`proto \`${v}' not found`);
        f.proto = n; break;
      }
      case '--sport': case '--orig-port-src': case '--dport': case '--orig-port-dst': {
        if (f.proto === undefined) return usage(`Illegal option \`${a}' with this command`);
        const v = Number(val()); if (!Number.isInteger(v) || v < 0 || v > 65535) return usage(`Bad parameter \`${argv[i]}'`);
        if (a === '--sport' || a === '--orig-port-src') f.sport = v; else f.dport = v;
        break;
      }
      case '-e': case '--event-mask': { const v = val() ?? ''; events = eventMask(v); if (!events) return usage(`Bad parameter \`${v}'`); break; }
      default: return usage(`Bad parameter \`${a}'`);
    }
  }
  if (events && cmd !== 'E') return usage('Illegal option `--event-mask\' with this command');
  return { cmd, f, events };
}

/**
 * `conntrack -E [filters] [-e MASK]`: which events it prints, or its usage
 * error; undefined when argv is not -E (run it with conntrackTool).
 */
export function conntrackEvents(argv: readonly string[]): { accept: (type: CtEventType, e: CtEntry) => boolean } | ToolResult | undefined {
  const p = parseArgs(argv);
  if ('code' in p) return argv.includes('-E') || argv.includes('--event') ? p : undefined;
  if (p.cmd !== 'E') return undefined;
  const { f, events } = p;
  return { accept: (type, e) => (!events || events.has(type)) && matches(e, f) };
}

/** The line `conntrack -E` ends with on SIGINT/SIGTERM (conntrack.c event_sighandler). */
export function eventsShownLine(n: number): string { return `${BANNER}: ${n} flow events have been shown.\n`; }

/** `conntrack -L|-D|-F|-C [filters]`; -E is followed by the caller (conntrackEvents, Conntrack.onEvent, entryLine). */
export function conntrackTool(ct: Conntrack, argv: readonly string[], nowNs: number): ToolResult {
  const p = parseArgs(argv);
  if ('code' in p) return p;
  const { cmd, f } = p;
  if (cmd === undefined) return usage('no command specified');
  if (cmd === 'E') return usage('-E is a stream: use the event API');
  if (cmd === 'C') return { stdout: `${ct.size}\n`, stderr: '', code: 0 };
  if (cmd === 'F') { ct.flush(); return { stdout: '', stderr: `${BANNER}: connection tracking table has been emptied.\n`, code: 0 }; }
  if (cmd === 'D') {
    const gone = ct.deleteWhere((e) => matches(e, f));
    const out = gone.map((e) => entryLine(e, nowNs) + '\n').join('');
    if (gone.length === 0) return { stdout: '', stderr: `${BANNER}: 0 flow entries have been deleted.\n`, code: 1 };
    return { stdout: out, stderr: `${BANNER}: ${gone.length} flow entries have been deleted.\n`, code: 0 };
  }
  const shown = ct.all().filter((e) => matches(e, f));
  return { stdout: shown.map((e) => entryLine(e, nowNs) + '\n').join(''), stderr: `${BANNER}: ${shown.length} flow entries have been shown.\n`, code: 0 };
}
