// Go's text/tabwriter as hubble uses it (minwidth 2, tabwidth 0, padding 3,
// pad ' ', no flags): every tab-terminated cell of a column is padded to the
// column's widest cell plus the padding; a line's last cell is not aligned,
// so lines carry no trailing spaces.

export interface TabOptions { minWidth: number; padding: number }

export const HUBBLE_TABS: TabOptions = { minWidth: 2, padding: 3 };

const width = (s: string): number => [...s].length;

/**
 * Aligns rows of cells; each row's last cell is its trailing text. A column is
 * aligned over consecutive rows that have it, as tabwriter's column blocks.
 */
export function tabwrite(rows: readonly (readonly string[])[], opts: TabOptions = HUBBLE_TABS): string {
  const widths: number[][] = rows.map(() => []);
  const maxCols = Math.max(0, ...rows.map((r) => r.length - 1));
  for (let col = 0; col < maxCols; col++) {
    let start = 0;
    while (start < rows.length) {
      if (rows[start]!.length - 1 <= col) { start++; continue; }
      let end = start, w = opts.minWidth;
      while (end < rows.length && rows[end]!.length - 1 > col) {
        w = Math.max(w, width(rows[end]![col]!) + opts.padding);
        end++;
      }
      for (let i = start; i < end; i++) widths[i]![col] = w;
      start = end;
    }
  }
  return rows.map((r, i) => r.map((c, col) => (col < r.length - 1 ? c + ' '.repeat(widths[i]![col]! - width(c)) : c)).join('') + '\n').join('');
}
