// The exec shell: just-bash over an in-memory FS holding only the pod's own
// files, with our network commands plugged in. just-bash's network (its curl)
// stays off; nothing on the host is reachable. Each exec runs in slices under
// CPU, memory and output budgets (budget.ts, slicing.ts).

import { Bash, decodeBytesToUtf8, DefenseInDepthBox, defineCommand, getCommandNames, InMemoryFs, type CommandName } from 'just-bash';
import type { SimActor } from '../../sim/sim.ts';
import type { ExecResult } from '../facade.ts';
import { DEFAULT_EXEC_LIMITS, interpreterLimits, KILL_EXIT, killMessage, type ExecLimits } from './budget.ts';
import type { Cmd, ShellCtx } from './context.ts';
import { attachMeter, ExecMeter, installSlicing } from './slicing.ts';
import { execRunning } from './box_storage.ts';
import { timeoutCommand, type Abandoned } from './timeout.ts';
import { makeCurl } from './curl.ts';
import { abortableSleep, date, envCommand, hostname, sleepNs, uniq } from './misc.ts';
import { kernelTool } from './kernel_tools.ts';
import { nslookup } from './nslookup.ts';
import { ping } from './ping.ts';
import { shellQuote } from './quote.ts';

export { shellQuote };

const SHELLS = new Set(['sh', 'bash', 'zsh', 'ash', 'dash', '/bin/sh', '/bin/bash', '/bin/zsh', '/bin/ash', '/usr/bin/zsh']);

/**
 * Virtual time from the shell starting a command to the command's first
 * packet: fork, exec and the program's own start. curl's is what seed 000's
 * captures show between the iterations of a `for` loop of curls (~6 ms), so
 * the previous connection's FIN exchange ends before the next SYN, as there.
 */
const START_NS: Record<string, number> = { curl: 6e6 };

/** The library's commands that no container image here ships: they are "not found", as in a pod. */
const NOT_IN_IMAGES = new Set(['python3', 'python', 'sqlite3', 'js-exec', 'node', 'html-to-markdown', 'xan']);
const IMAGE_COMMANDS = getCommandNames().filter((n) => !NOT_IN_IMAGES.has(n)) as CommandName[];

function ourCommands(sh: ShellCtx, fs: InMemoryFs): Record<string, Cmd> {
  const writeFile = async (p: string, s: string): Promise<void> => { await fs.writeFile(p, s); };
  const cmds: Record<string, Cmd> = {
    curl: makeCurl(writeFile), ping, nslookup, hostname, env: envCommand('env'), printenv: envCommand('printenv'), uniq, date,
    whoami: async () => ({ stdout: 'root\n', stderr: '', exitCode: 0 }),
    ip: kernelTool('ip'), route: kernelTool('route'), bpftool: kernelTool('bpftool'), tc: kernelTool('tc'),
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
  await installSlicing();
  const actor = sh.sim.actor();
  const end = execRunning();
  try { return await runShellInner(sh, argv, stdin, actor); } finally { end(); actor.done(); }
}

async function runShellInner(sh: ShellCtx, argv: string[], stdin: string, actor: SimActor): Promise<ExecResult> {
  if (argv.length === 0) return { stdout: '', stderr: 'error: you must specify at least one command for the container\n', exitCode: 1 };
  // `tail -f /dev/null` is how idle containers wait; in an exec it would hang forever.
  if (argv[0] === 'tail' && argv.includes('-f')) return { stdout: '', stderr: '', exitCode: 0 };
  const limits = sh.limits ?? DEFAULT_EXEC_LIMITS;
  // Files count against the memory budget: a full disk says so (ENOSPC), as a pod's would.
  const fs = new InMemoryFs(undefined, { maxTotalBytes: limits.memoryMb * 2 ** 20 });
  for (const [path, content] of Object.entries(sh.files)) {
    await fs.mkdir(path.slice(0, path.lastIndexOf('/')) || '/', { recursive: true });
    await fs.writeFile(path, content);
  }
  const meter = new ExecMeter(limits.cpuMs);
  // Waiting on the simulation is not CPU time. An abort (timeout) ends the wait at once:
  // the actor must not stay parked, or the clock would run on to the abandoned command's events.
  const wait = <T>(p: Promise<T>): Promise<T> => { meter.park(); return actor.wait(p).finally(() => meter.unpark()); };
  const ours = ourCommands(sh, fs);
  // What our commands had printed when `timeout` stopped them: the interpreter drops an aborted command's output, timeout prints it.
  const abandoned: Abandoned = { outputs: [], commands: new Set(Object.keys(ours)) };
  const custom = Object.entries(ours).map(([name, fn]) =>
    defineCommand(name, async (args, ctx) => {
      const start = START_NS[name];
      if (start) {
        await wait(abortableSleep(sh.sim, start, ctx.signal));
        // Stopped (timeout) before it started: it never runs.
        if (ctx.signal?.aborted) return { stdout: '', stderr: '', exitCode: 143 };
      }
      const progress = { stdout: '', stderr: '' };
      const run = fn(args, decodeBytesToUtf8(ctx.stdin), { ...sh, env: envOf(ctx.env, sh.env), progress });
      return wait(untilAborted(run, ctx.signal, progress, () => abandoned.outputs.push(progress)));
    }));
  custom.push(defineCommand('timeout', (args, ctx) => timeoutCommand(args, ctx, sh.sim, abandoned)));
  custom.push(defineCommand('sleep', async (args, ctx) => {
    const ns = sleepNs(args);
    if (typeof ns !== 'number') return ns;
    await wait(abortableSleep(sh.sim, ns, ctx.signal));
    return { stdout: '', stderr: '', exitCode: 0 };
  }));
  // The interpreter's sleep hook: our `sleep` replaces its user; the function is how slicing.ts finds this exec's meter.
  const sleep = (ms: number): Promise<void> => DefenseInDepthBox.runTrustedAsync(() => wait(sh.sim.sleep(ms * 1e6)));
  attachMeter(sleep, meter);
  const bash = new Bash({
    fs, cwd: '/', env: { ...sh.env }, customCommands: custom, commands: IMAGE_COMMANDS, sleep,
    executionLimits: interpreterLimits(limits),
    processInfo: { pid: 1, ppid: 0, uid: 0, gid: 0 },
  });
  // The container image has no /proc in this emulation: keep only what the pod owns.
  try { await fs.rm('/proc', { recursive: true, force: true }); } catch { /* absent */ }
  const isShell = SHELLS.has(argv[0]!) && argv[1] === '-c' && argv[2] !== undefined;
  const script = isShell ? argv[2]! : argv.map(shellQuote).join(' ');
  const r = await bash.exec(script, { stdin, cwd: '/' });
  return finish(r, meter, limits);
}

/** The exec's answer: a killed exec ends with our one-line reason and its signal's status; library wording becomes the shell's. */
function finish(r: ExecResult, meter: ExecMeter, limits: ExecLimits): ExecResult {
  let stderr = r.stderr;
  if (meter.killed && meter.limitMessage) stderr = dropLinesWith(stderr, meter.limitMessage);
  stderr = shellWording(stderr);
  if (!meter.killed) return { stdout: notFound(r.stdout), stderr, exitCode: r.exitCode };
  return { stdout: notFound(r.stdout), stderr: stderr + killMessage(meter.killed, limits), exitCode: KILL_EXIT[meter.killed] };
}

/** The interpreter's own advice to its embedder never reaches a user; bash's words for the same limits do. */
function shellWording(stderr: string): string {
  return notFound(stderr)
    .replace(/^bash: execution aborted\n/gm, '')
    .replace(/^(.*): maximum recursion depth \((\d+)\) exceeded, increase executionLimits\.maxCallDepth$/gm, '$1: maximum function nesting level exceeded ($2)')
    .replace(/,? increase executionLimits\.\w+/g, '');
}

/** The library's stub for the interpreters it leaves out reads as a missing command, as in a pod. */
function notFound(text: string): string {
  return text.replace(/^(\S+): (\S+): command not available in browser environments\. Exclude '[^'\n]*' from your commands or use the Node\.js bundle\.$/gm, '$1: $2: command not found');
}

/** Nested shells (sh -c, timeout) each report the limit once: drop every line of it. */
function dropLinesWith(text: string, needle: string): string {
  return text.split('\n').filter((l) => !l.includes(needle)).join('\n');
}

/** A command of ours stops waiting when `timeout` aborts it (SIGTERM, 143) with what it printed so far; its late answer is dropped. */
function untilAborted(p: Promise<ExecResult>, signal: AbortSignal | undefined, progress: { stdout: string; stderr: string }, onAbandon: () => void): Promise<ExecResult> {
  if (!signal) return p;
  const killed = (): ExecResult => { onAbandon(); return { stdout: progress.stdout, stderr: progress.stderr, exitCode: 143 }; };
  if (signal.aborted) return Promise.resolve(killed());
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(killed());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
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
