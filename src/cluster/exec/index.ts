// `kubectl exec` into a pod and commands on a node's host netns, both through
// the emulated shell. The caller drives virtual time (sim.settle).

import type { ExecResult } from '../facade.ts';
import type { NodeExecContext, PodRuntimeContext } from '../runtime_contract.ts';
import { runShell } from './shell.ts';

export type { ShellCtx, Cmd } from './context.ts';
export { runShell, shellQuote } from './shell.ts';

export function execInPod(ctx: PodRuntimeContext, argv: string[], stdin?: string): Promise<ExecResult> {
  return runShell({ netns: ctx.netns, sim: ctx.sim, hostname: ctx.hostname, files: ctx.files, env: ctx.env, commands: ctx.commands }, argv, stdin);
}

export function execOnNode(ctx: NodeExecContext, argv: string[], stdin?: string): Promise<ExecResult> {
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOSTNAME: ctx.nodeName, HOME: '/root' };
  return runShell({ netns: ctx.netns, sim: ctx.sim, hostname: ctx.nodeName, files: { '/etc/hostname': ctx.nodeName + '\n', ...ctx.files }, env, commands: ctx.commands }, argv, stdin);
}
