// Spawns `node bin/dplab.js` the way a user runs it, for CLI tests.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../bin/dplab.js');

export interface CliRun { code: number | null; stdout: string; stderr: string }

/** A running dplab process whose output can be awaited. */
export class LiveCli {
  stdout = ''; stderr = '';
  readonly exited: Promise<CliRun>;
  private waiters: (() => void)[] = [];
  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => { this.stdout += d.toString(); this.poke(); });
    child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); this.poke(); });
    this.exited = new Promise((res) => child.on('close', (code) => res({ code, stdout: this.stdout, stderr: this.stderr })));
  }
  private poke(): void { for (const w of this.waiters.splice(0)) w(); }
  /** Resolves once stdout or stderr (as chosen) matches re. */
  async waitFor(stream: 'stdout' | 'stderr', re: RegExp): Promise<void> {
    while (!re.test(this[stream])) {
      const more = new Promise<void>((r) => this.waiters.push(r));
      const ended = this.exited.then(() => { throw new Error(`dplab exited before ${stream} matched ${re}: ${JSON.stringify({ stdout: this.stdout, stderr: this.stderr })}`); });
      await Promise.race([more, ended]);
    }
  }
}

/** Starts dplab with args; env adds to (or, with undefined, removes from) the test's environment. */
export function startCli(args: string[], env: Record<string, string | undefined> = {}, stdin?: string): LiveCli {
  // A server keeps its objects under $XDG_STATE_HOME: each gets its own, gone when it exits, so runs never share a store.
  const state = args[0] === 'serve' && !('XDG_STATE_HOME' in env) ? mkdtempSync(join(tmpdir(), 'dplab-state-')) : undefined;
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...(state ? { XDG_STATE_HOME: state } : {}), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.end(stdin ?? '');
  if (state) child.on('close', () => rmSync(state, { recursive: true, force: true }));
  return new LiveCli(child);
}

/** Runs dplab to completion. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, stdin?: string): Promise<CliRun> {
  return startCli(args, env, stdin).exited;
}
