// A real `dplab serve` child for tests of the data directory: start it on a
// free port (fast clock), point the CLI at it, stop it as a user would.

import type { Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, type LiveCli } from './run_cli.ts';

/** A temporary directory removed when the test ends. */
export function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'dplab-cli-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `dplab serve --port 0 --clock fast ARGS`, and env with DPLAB_SERVER set to it. */
export async function serve(t: Test, args: string[], env: Record<string, string>): Promise<{ live: LiveCli; env: Record<string, string> }> {
  const live = startCli(['serve', '--port', '0', '--clock', 'fast', ...args], env);
  t.teardown(() => { live.child.kill('SIGKILL'); });
  await live.waitFor('stdout', /\n/);
  const url = /on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(live.stdout)![1]!;
  return { live, env: { ...env, DPLAB_SERVER: url } };
}

/** Ctrl-C, as a user stops it; its exit code. */
export async function stop(s: { live: LiveCli }): Promise<number | null> {
  s.live.child.kill('SIGINT');
  return (await s.live.exited).code;
}
