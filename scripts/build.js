// `npm run build` (and `prepare`, which `npm ci` runs): tsc compiles src/, maps/
// and programs/ to JS in dist/ (tsconfig.build.json), then records the sources'
// fingerprint so bin/dplab.js knows dist/ matches them. A dist/ that already
// matches is kept, so `pretest` costs nothing on an unchanged tree.
//
// The output goes to a fresh directory that replaces dist/ in two renames: a
// dplab started meanwhile (another terminal, a parallel test) sees either the
// old, complete dist/ or none (and runs from src/ through tsx), never a half-written one.

import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAMP_NAME, distIsFresh, sourcesStamp } from './sources_stamp.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'dist');
const tmp = join(root, `dist.tmp-${process.pid}`);
const old = join(root, `dist.old-${process.pid}`);

// Nothing changed since the last build (npm ci, then npm test): keep it.
if (distIsFresh(root)) {
  console.log('dist/ is up to date with the sources');
  process.exit(0);
}
// Taken before compiling: an edit made during the build makes this dist/ stale.
const stamp = sourcesStamp(root);
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', tmp], { stdio: 'inherit' });
if (r.status !== 0) {
  rmSync(tmp, { recursive: true, force: true });
  process.exit(r.status ?? 1);
}
writeFileSync(join(tmp, STAMP_NAME), stamp);
if (existsSync(dist)) renameSync(dist, old);
renameSync(tmp, dist);
rmSync(old, { recursive: true, force: true });
