// iptables-restore's argument splitter (xshared.c add_param_to_argv, 1.8.9):
// blanks separate words; inside "double quotes" a backslash escapes the next
// character; single quotes and backslashes outside quotes are literal; an
// unterminated quote runs to the end of the line, newline included.

/** Splits one restore line into argv words. */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  let buf = '', quoteOpen = false, escaped = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoteOpen) {
      if (escaped) { buf += ch; escaped = false; continue; }
      if (ch === '\\') { escaped = true; continue; }
      if (ch !== '"') { buf += ch; continue; }
      quoteOpen = false;
    } else if (ch === '"') { quoteOpen = true; continue; }
    if (ch === '"') { /* closing quote ends the word */ } else if (ch === ' ' || ch === '\t' || ch === '\n') {
      if (buf.length === 0) continue;
    } else { buf += ch; continue; }
    out.push(buf); buf = '';
  }
  if (buf.length > 0) out.push(buf);
  return out;
}
