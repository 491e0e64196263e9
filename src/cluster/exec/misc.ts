// Small commands whose output must reflect the pod, not the host: hostname,
// env/printenv, uniq -c (GNU width), date and sleep on the virtual clock.

import type { Sim } from '../../sim/sim.ts';
import type { ExecResult } from '../facade.ts';
import { fail, ok, type Cmd } from './context.ts';

export const hostname: Cmd = async (args, _stdin, sh) => {
  if (args.includes('-i')) {
    const ips = [...sh.netns.devices.values()].filter((d) => d.kind !== 'loopback').flatMap((d) => d.addrs.map((a) => a.ip));
    return ok(ips.map((ip) => `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`).join(' ') + ' \n');
  }
  return ok(sh.hostname + '\n');
};

/** `env`/`printenv` print exported variables in environment order. */
export function envCommand(name: 'env' | 'printenv'): Cmd {
  return async (args, _stdin, sh) => {
    if (name === 'printenv' && args.length > 0) {
      const vals = args.map((a) => sh.env[a]);
      const out = vals.filter((v): v is string => v !== undefined).map((v) => v + '\n').join('');
      return { stdout: out, stderr: '', exitCode: vals.every((v) => v !== undefined) ? 0 : 1 };
    }
    return ok(Object.entries(sh.env).map(([k, v]) => `${k}=${v}\n`).join(''));
  };
}

/** GNU uniq (-c pads counts to width 7; -d, -u). */
export const uniq: Cmd = async (args, stdin) => {
  const count = args.includes('-c'), dupOnly = args.includes('-d'), uniqOnly = args.includes('-u');
  const lines = stdin.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let out = '';
  for (let i = 0; i < lines.length;) {
    let j = i; while (j < lines.length && lines[j] === lines[i]) j++;
    const n = j - i;
    if ((!dupOnly || n > 1) && (!uniqOnly || n === 1)) out += (count ? `${String(n).padStart(7)} ` : '') + lines[i] + '\n';
    i = j;
  }
  return ok(out);
};

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
export const date: Cmd = async (_args, _stdin, sh) => {
  const d = new Date(sh.sim.wallMs());
  const p = (n: number): string => String(n).padStart(2, '0');
  return ok(`${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}\n`);
};

const SLEEP_TRY = "Try 'sleep --help' for more information.\n";
const SLEEP_UNIT: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

/** coreutils sleep's operands (NUMBER[smhd], summed) in ns, or its error. */
export function sleepNs(args: string[]): number | ExecResult {
  if (args.length === 0) return fail(1, `sleep: missing operand\n${SLEEP_TRY}`);
  let s = 0;
  for (const a of args) {
    const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(a);
    if (!m) return fail(1, `sleep: invalid time interval ‘${a}’\n${SLEEP_TRY}`);
    s += Number(m[1]) * SLEEP_UNIT[m[2]!]!;
  }
  return s * 1e9;
}

/** A virtual-time sleep that an abort (timeout, a kill) ends at once, its timer cancelled so the clock does not run to it. */
export function abortableSleep(sim: Sim, ns: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => { timer.cancel(); resolve(); };
    const timer = sim.schedule(ns, () => { signal?.removeEventListener('abort', onAbort); resolve(); });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
