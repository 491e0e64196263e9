// What dist/ was built from: a cheap fingerprint of the TypeScript sources
// (file count, total size, sum of mtimes in whole ms, directories included so
// an added, removed or renamed file shows). Walking the ~200 files costs about
// 2 ms, so bin/dplab.js can check it on every start instead of trusting a
// dist/ that an edit to src/ has made stale.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Trees compiled into dist/, and the files that change how they compile. */
export const SOURCE_DIRS = ['src', 'maps', 'programs'];
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json'];

/** The file in dist/ where `npm run build` writes the fingerprint it built from. */
export const STAMP_NAME = '.sources';

function add(acc, st) {
  acc.count++;
  acc.size += st.size;
  acc.mtime += Math.trunc(st.mtimeMs); // whole ms: the sum stays an exact integer
}

function walk(dir, acc) {
  add(acc, statSync(dir));
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, acc);
    else add(acc, statSync(p));
  }
}

/** The fingerprint of the sources under root, as one line. */
export function sourcesStamp(root) {
  const acc = { count: 0, size: 0, mtime: 0 };
  for (const d of SOURCE_DIRS) walk(join(root, d), acc);
  for (const f of CONFIG_FILES) add(acc, statSync(join(root, f)));
  return `${acc.count} ${acc.size} ${acc.mtime}`;
}

/** True when dist/ under root was built from the sources exactly as they are now. */
export function distIsFresh(root) {
  let built;
  try { built = readFileSync(join(root, 'dist', STAMP_NAME), 'utf8'); } catch { return false; }
  try { return built === sourcesStamp(root); } catch { return false; }
}
