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

/** Largest stdin forwarded to a node command, in bytes (the server's node exec takes as many characters). */
export const MAX_FORWARDED_STDIN = 4 << 20;

/** All of stdin as text, refused with a clear error beyond `max` bytes (nothing is sent then). */
export async function readStdinBounded(max = MAX_FORWARDED_STDIN): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of process.stdin) {
    n += (c as Buffer).length;
    if (n > max) { process.stdin.destroy(); throw new CliError(`stdin is more than ${max} bytes (${max >> 20} MiB), the most a node command takes`); }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A local file's text for a node command's input, with the same bound as stdin. */
export function readInputFile(file: string, max = MAX_FORWARDED_STDIN): string {
  let text: Buffer;
  try { text = readFileSync(file); } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `${file}: No such file or directory` : `cannot read "${file}": ${code ?? String(err)}`);
  }
  if (text.length > max) throw new CliError(`${file} is more than ${max} bytes (${max >> 20} MiB), the most a node command takes`);
  return text.toString('utf8');
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
