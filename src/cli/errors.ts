// A user-facing CLI failure: printed as one `dplab: <message>` line, exit 1.

export class CliError extends Error {}

/** The one line printed for any failure; never a stack trace. */
export function failureLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return `dplab: ${msg.split('\n').filter((l) => l.trim() !== '').join(' ').trim() || 'unknown error'}`;
}
