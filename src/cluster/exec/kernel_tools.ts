// ip, route, bpftool and tc run against the shell's netns by the kernel's own formatters.

import { runKernelTool } from '../../kernel/tools.ts';
import type { Cmd } from './context.ts';

export function kernelTool(name: 'ip' | 'route' | 'bpftool' | 'tc'): Cmd {
  return async (args, _stdin, sh) => runKernelTool(sh.netns, [name, ...args]) ?? { stdout: '', stderr: `${name}: not supported\n`, exitCode: 127 };
}
