// What every exec command sees: the netns it runs in, the clock, the pod's
// (or node's) files and identity. Shared by pods and nodes.

import type { Netns } from '../../kernel/api.ts';
import type { Sim } from '../../sim/sim.ts';
import type { ExecResult } from '../facade.ts';
import type { ExecLimits } from './budget.ts';
import { parseResolvConf, type ResolvConf } from './resolver.ts';

export interface ShellCtx {
  netns: Netns;
  sim: Sim;
  hostname: string;
  /** The only files the shell can read (absolute path -> content). */
  files: Record<string, string>;
  env: Record<string, string>;
  /** Extra commands plugged by the cluster (kubectl, cilium-dbg, bpftool...). */
  commands?: Record<string, (argv: string[], stdin: string) => Promise<ExecResult>>;
  /** CPU, memory and output budgets of one exec (default: DEFAULT_EXEC_LIMITS). */
  limits?: ExecLimits;
  /** What the running command has printed so far: it stays printed when `timeout` stops the command, as a killed process's output does. */
  progress?: { stdout: string; stderr: string };
}

/** A command of ours: argv without the command name; stdin as text. */
export type Cmd = (args: string[], stdin: string, sh: ShellCtx) => Promise<ExecResult>;

export function resolvConf(sh: ShellCtx): ResolvConf { return parseResolvConf(sh.files['/etc/resolv.conf']); }

export function ok(stdout = '', stderr = ''): ExecResult { return { stdout, stderr, exitCode: 0 }; }
export function fail(exitCode: number, stderr: string, stdout = ''): ExecResult { return { stdout, stderr, exitCode }; }

/** Virtual milliseconds since `startNs`, as tools print elapsed time. */
export function elapsedMs(sim: Sim, startNs: number): number { return Math.floor((sim.now() - startNs) / 1e6); }
