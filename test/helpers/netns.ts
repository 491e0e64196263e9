// Real-kernel helpers for conformance tests: whether this process may create
// network namespaces and run the netfilter binaries, and a throw-away netns
// that is always removed. Nothing here touches the host's own namespace.

import { execFileSync, spawnSync } from 'node:child_process';

/** Why real-kernel tests cannot run here, or null when they can. */
export function kernelUnavailable(bins: string[]): string | null {
  if (process.getuid?.() !== 0) return 'not root: network namespaces need CAP_SYS_ADMIN';
  for (const b of ['ip', ...bins]) {
    if (spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0) return `missing binary: ${b}`;
  }
  return null;
}

let seq = 0;
/** A fresh namespace for fn; deleted afterwards whatever happens. */
export function withNetns<T>(fn: (exec: (argv: string[], input?: string) => { stdout: string; stderr: string; code: number }) => T): T {
  const name = `dplab-nf-${process.pid}-${seq++}`;
  execFileSync('ip', ['netns', 'add', name]);
  try {
    return fn((argv, input) => {
      const r = spawnSync('ip', ['netns', 'exec', name, ...argv], { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
      return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', code: r.status ?? -1 };
    });
  } finally {
    spawnSync('ip', ['netns', 'del', name]);
  }
}
