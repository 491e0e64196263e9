// coreutils `timeout`: runs a command and stops it after DURATION. The
// command's time is the wall clock while it computes and the virtual clock
// while it waits on the network (the two are one in `serve`'s wall mode;
// in fast mode a busy loop never moves virtual time, a `ping -c 100` never
// takes wall time), so the deadline is whichever comes first.

import { latin1FromBytes, type ResolvedCommandContext } from 'just-bash';
import type { Sim } from '../../sim/sim.ts';
import type { ExecResult } from '../facade.ts';
import { shellQuote } from './quote.ts';

// Taken before any script runs: just-bash's defense-in-depth box blocks timers inside scripts.
const wallTimer = setTimeout;
const clearWallTimer = clearTimeout;

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, USR1: 10, USR2: 12, ALRM: 14, TERM: 15 };
const TRY = "Try 'timeout --help' for more information.\n";

/**
 * What commands of ours (ping, curl...) had printed when a deadline stopped
 * them, in order; `commands` names them. The interpreter drops an aborted
 * command's output, so `timeout` prints it when the command it ran is one of
 * ours: as a killed process's lines stay written.
 */
export interface Abandoned { readonly outputs: Array<{ stdout: string; stderr: string }>; readonly commands: ReadonlySet<string> }

interface TimeoutArgs { seconds: number; signal: number; preserve: boolean; verbose: boolean; argv: string[] }

/** DURATION as GNU parses it: a decimal number with an optional s/m/h/d suffix. */
export function parseDuration(s: string): number | null {
  const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(s);
  if (!m) return null;
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
}

function parseSignal(s: string): number | null {
  if (/^\d+$/.test(s)) return Number(s) > 0 && Number(s) < 65 ? Number(s) : null;
  return SIGNALS[s.toUpperCase().replace(/^SIG/, '')] ?? null;
}

function parseArgs(args: string[]): TimeoutArgs | ExecResult {
  const out = { signal: 15, preserve: false, verbose: false };
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { i++; break; }
    if (!a.startsWith('-') || a === '-') break;
    let m: RegExpExecArray | null;
    if (a === '--preserve-status') out.preserve = true;
    else if (a === '--foreground') { /* no process groups here */ }
    else if (a === '-v' || a === '--verbose') out.verbose = true;
    else if ((m = /^(?:-s|--signal=?)(.*)$/.exec(a))) {
      const v = m[1] || args[++i];
      const sig = v === undefined ? null : parseSignal(v);
      if (sig === null) return { stdout: '', stderr: v === undefined ? `timeout: option requires an argument -- 's'\n${TRY}` : `timeout: ${v}: invalid signal\n${TRY}`, exitCode: 125 };
      out.signal = sig;
    } else if ((m = /^(?:-k|--kill-after=?)(.*)$/.exec(a))) {
      const v = m[1] || args[++i];
      if (v === undefined || parseDuration(v) === null) return { stdout: '', stderr: `timeout: invalid time interval ‘${v ?? ''}’\n${TRY}`, exitCode: 125 };
    } else return { stdout: '', stderr: `timeout: invalid option -- '${a.replace(/^-+/, '')}'\n${TRY}`, exitCode: 125 };
  }
  const rest = args.slice(i);
  if (rest.length < 2) return { stdout: '', stderr: `timeout: missing operand\n${TRY}`, exitCode: 125 };
  const seconds = parseDuration(rest[0]!);
  if (seconds === null) return { stdout: '', stderr: `timeout: invalid time interval ‘${rest[0]}’\n${TRY}`, exitCode: 125 };
  return { ...out, seconds, argv: rest.slice(1) };
}

const SIGNAL_NAMES = Object.fromEntries(Object.entries(SIGNALS).map(([k, v]) => [v, k]));

/** Run `timeout ARGS...` inside the shell: ctx.exec runs the command under a signal the deadline aborts. */
export async function timeoutCommand(args: string[], ctx: ResolvedCommandContext, sim: Sim, abandoned?: Abandoned): Promise<ExecResult> {
  const p = parseArgs(args);
  if ('exitCode' in p) return p;
  if (!ctx.exec) return { stdout: '', stderr: 'timeout: cannot run commands here\n', exitCode: 125 };
  const deadline = new AbortController();
  let fired = false;
  const fire = (): void => { fired = true; deadline.abort(); };
  const onOuter = (): void => deadline.abort();
  ctx.signal?.addEventListener('abort', onOuter, { once: true });
  const on = p.seconds > 0;
  const mark = abandoned?.outputs.length ?? 0;
  const wall = on ? wallTimer(fire, Math.min(p.seconds * 1000, 2 ** 31 - 1)) : undefined;
  const virtual = on ? sim.schedule(p.seconds * 1e9, fire) : undefined;
  try {
    const r = await ctx.exec(p.argv.map(shellQuote).join(' '), { cwd: ctx.cwd, signal: deadline.signal, stdin: latin1FromBytes(ctx.stdin), stdinKind: 'bytes' });
    if (!fired) return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
    const verbose = p.verbose ? `timeout: sending signal ${SIGNAL_NAMES[p.signal] ?? p.signal} to command ‘${p.argv[0]}’\n` : '';
    const status = p.preserve || p.signal === 9 ? 128 + p.signal : 124;
    const left = abandoned?.commands.has(p.argv[0]!) ? abandoned.outputs.slice(mark) : [];
    const out = r.stdout + left.map((o) => o.stdout).join(''), err = r.stderr + left.map((o) => o.stderr).join('');
    return { stdout: out, stderr: err + verbose, exitCode: status };
  } finally {
    if (wall !== undefined) clearWallTimer(wall);
    virtual?.cancel();
    ctx.signal?.removeEventListener('abort', onOuter);
  }
}
