// Port of Go's text/tabwriter (flags 0, padchar ' '), which cilium-dbg uses for every table.

/**
 * Format text the way `tabwriter.NewWriter(w, minwidth, 0, padding, ' ', 0)`
 * does: tab-terminated cells are aligned per column block (consecutive lines
 * having that column), padded to max(width + padding, minwidth); the text
 * after a line's last tab is written as is.
 */
export function tabwrite(text: string, minwidth = 5, padding = 3): string {
  const lines = text.split('\n');
  const trailingNewline = lines[lines.length - 1] === '';
  if (trailingNewline) lines.pop();
  const cells = lines.map((l) => l.split('\t'));
  const out: string[] = new Array(cells.length).fill('');
  const widths: number[] = [];

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const row = cells[i]!;
      let s = '';
      for (let j = 0; j < row.length; j++) {
        const c = row[j]!;
        s += j < widths.length && j < row.length - 1 ? c.padEnd(widths[j]!, ' ') : c;
      }
      out[i] = s;
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let th = line0; th < line1; th++) {
      if (column >= cells[th]!.length - 1) continue;
      writeLines(line0, th);
      line0 = th;
      let width = minwidth;
      for (; th < line1; th++) {
        const row = cells[th]!;
        if (column >= row.length - 1) break;
        const w = [...row[column]!].length + padding;
        if (w > width) width = w;
      }
      widths.push(width);
      format(line0, th);
      widths.pop();
      line0 = th;
    }
    writeLines(line0, line1);
  };

  format(0, cells.length);
  return out.join('\n') + (trailingNewline ? '\n' : '');
}
