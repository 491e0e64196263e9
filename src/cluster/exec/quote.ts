// Quoting for the shell, shared by the shell and commands that run others (timeout).

/** Single-quote an argument for the shell. */
export function shellQuote(a: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}
