// The exec shell: just-bash over an in-memory FS holding only the pod's own
// files, with our network commands plugged in. just-bash's network (its curl)
// stays off; nothing on the host is reachable.

import { Bash, decodeBytesToUtf8, defineCommand, InMemoryFs } from 'just-bash';
import type { SimActor } from '../../sim/sim.ts';
import type { ExecResult } from '../facade.ts';
import type { Cmd, ShellCtx } from './context.ts';
import { makeCurl } from './curl.ts';
import { date, envCommand, hostname, uniq } from './misc.ts';
import { kernelTool } from './kernel_tools.ts';
import { nslookup } from './nslookup.ts';
import { ping } from './ping.ts';

const SHELLS = new Set(['sh', 'bash', 'zsh', 'ash', 'dash', '/bin/sh', '/bin/bash', '/bin/zsh', '/bin/ash', '/usr/bin/zsh']);

/** Single-quote an argument for the shell. */
export function shellQuote(a: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

function ourCommands(sh: ShellCtx, fs: InMemoryFs): Record<string, Cmd> {
  const writeFile = async (p: string, s: string): Promise<void> => { await fs.writeFile(p, s); };
  const cmds: Record<string, Cmd> = {
    curl: makeCurl(writeFile), ping, nslookup, hostname, env: envCommand('env'), printenv: envCommand('printenv'), uniq, date,
    whoami: async () => ({ stdout: 'root\n', stderr: '', exitCode: 0 }),
    ip: kernelTool('ip'), route: kernelTool('route'), bpftool: kernelTool('bpftool'),
  };
  for (const [name, fn] of Object.entries(sh.commands ?? {})) cmds[name] = (args, stdin) => fn(args, stdin);
  return cmds;
}

/**
 * Run argv as `kubectl exec` would: `sh -c SCRIPT` runs the script, anything else runs the command.
 * The shell is an actor of the simulation: its own work between commands
 * (parsing, pipes, loops) holds the clock still; it is parked only while a
 * network command or a sleep waits on simulation events.
 */
export async function runShell(sh: ShellCtx, argv: string[], stdin = ''): Promise<ExecResult> {
  const actor = sh.sim.actor();
  try { return await runShellInner(sh, argv, stdin, actor); } finally { actor.done(); }
}

async function runShellInner(sh: ShellCtx, argv: string[], stdin: string, actor: SimActor): Promise<ExecResult> {
  if (argv.length === 0) return { stdout: '', stderr: 'error: you must specify at least one command for the container\n', exitCode: 1 };
  // `tail -f /dev/null` is how idle containers wait; in an exec it would hang forever.
  if (argv[0] === 'tail' && argv.includes('-f')) return { stdout: '', stderr: '', exitCode: 0 };
  const fs = new InMemoryFs();
  for (const [path, content] of Object.entries(sh.files)) {
    await fs.mkdir(path.slice(0, path.lastIndexOf('/')) || '/', { recursive: true });
    await fs.writeFile(path, content);
  }
  const custom = Object.entries(ourCommands(sh, fs)).map(([name, fn]) =>
    defineCommand(name, async (args, ctx) => actor.wait(fn(args, decodeBytesToUtf8(ctx.stdin), { ...sh, env: envOf(ctx.env, sh.env) }))));
  const bash = new Bash({
    fs, cwd: '/', env: { ...sh.env }, customCommands: custom,
    sleep: (ms) => actor.wait(sh.sim.sleep(ms * 1e6)),
    executionLimits: { maxExecutionTimeMs: 10 * 60_000, maxCommandCount: 1_000_000, maxLoopIterations: 1_000_000 },
    processInfo: { pid: 1, ppid: 0, uid: 0, gid: 0 },
  });
  // The container image has no /proc in this emulation: keep only what the pod owns.
  try { await fs.rm('/proc', { recursive: true, force: true }); } catch { /* absent */ }
  const isShell = SHELLS.has(argv[0]!) && argv[1] === '-c' && argv[2] !== undefined;
  const script = isShell ? argv[2]! : argv.map(shellQuote).join(' ');
  const r = await bash.exec(script, { stdin, cwd: '/' });
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
}

/** Variables the shell tracks internally that `env` must not list. */
const SHELL_INTERNAL = new Set(['IFS', 'OSTYPE', 'MACHTYPE', 'HOSTTYPE', 'OPTIND', 'SHELLOPTS', 'BASHOPTS', 'PWD', 'OLDPWD', 'PPID', 'BASH_VERSION', 'SHLVL', '_']);

function envOf(live: Map<string, string> | Record<string, string>, base: Record<string, string>): Record<string, string> {
  const entries = live instanceof Map ? [...live.entries()] : Object.entries(live);
  const out: Record<string, string> = {};
  for (const k of Object.keys(base)) { const v = entries.find(([n]) => n === k); if (v) out[k] = v[1]; }
  for (const [k, v] of entries) if (!(k in out) && !SHELL_INTERNAL.has(k) && !k.startsWith('BASH')) out[k] = v;
  return out;
}
