// The package version for `dplab --version`. The CLI runs from src/ (tsx) or
// from dist/src/ (the build), so package.json is found by walking up to it
// rather than by a fixed relative path.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The version in the nearest enclosing package.json named "dplab". */
export function packageVersion(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'dplab' && pkg.version) return pkg.version;
    } catch { /* no package.json here: look higher */ }
    if (dirname(dir) === dir) throw new Error('cannot find the dplab package.json');
  }
}
