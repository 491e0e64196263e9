// Small process I/O helpers shared by the verbs.

import { readFileSync } from 'node:fs';
import type { ExecResult } from './client.ts';
import { CliError } from './errors.ts';

/** All of stdin as text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A manifest file's text; "-" reads stdin. */
export async function readManifest(file: string): Promise<string> {
  if (file === '-') return readStdin();
  try { return readFileSync(file, 'utf8'); } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `the path "${file}" does not exist` : `cannot read "${file}": ${code ?? String(err)}`);
  }
}

/** Prints a command's output as the command would and returns its exit code. */
export function printExec(r: ExecResult): number {
  if (r.stdout) process.stdout.write(r.stdout);
  if (r.stderr) process.stderr.write(r.stderr);
  return r.exitCode;
}
