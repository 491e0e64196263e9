// `kubectl exec` into a pod and commands on a node's host netns, both through
// the emulated shell. The caller drives virtual time (sim.settle).

import type { ExecResult } from '../facade.ts';
import type { ExecInPod, ExecOnNode, NodeExecContext, PodRuntimeContext } from '../runtime_contract.ts';
import { DEFAULT_EXEC_LIMITS, type ExecLimits } from './budget.ts';
import { runShell } from './shell.ts';

export type { ShellCtx, Cmd } from './context.ts';
export { runShell, shellQuote } from './shell.ts';
export { checkExecLimits, DEFAULT_EXEC_LIMITS, EXEC_LIMIT_RANGES, KILL_EXIT, type ExecLimits } from './budget.ts';

export function execInPod(ctx: PodRuntimeContext, argv: string[], stdin?: string, limits: ExecLimits = DEFAULT_EXEC_LIMITS): Promise<ExecResult> {
  return runShell({ netns: ctx.netns, sim: ctx.sim, hostname: ctx.hostname, files: ctx.files, env: ctx.env, commands: ctx.commands, limits }, argv, stdin);
}

export function execOnNode(ctx: NodeExecContext, argv: string[], stdin?: string, limits: ExecLimits = DEFAULT_EXEC_LIMITS): Promise<ExecResult> {
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOSTNAME: ctx.nodeName, HOME: '/root' };
  return runShell({ netns: ctx.netns, sim: ctx.sim, hostname: ctx.nodeName, files: { '/etc/hostname': ctx.nodeName + '\n', ...ctx.files }, env, commands: ctx.commands, limits }, argv, stdin);
}

/** The exec runtime with other budgets than the defaults (`dplab serve --exec-*`), as ClusterDeps take it. */
export function execRuntime(limits: ExecLimits): { execInPod: ExecInPod; execOnNode: ExecOnNode } {
  return {
    execInPod: (ctx, argv, stdin) => execInPod(ctx, argv, stdin, limits),
    execOnNode: (ctx, argv, stdin) => execOnNode(ctx, argv, stdin, limits),
  };
}
