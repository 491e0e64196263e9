#!/usr/bin/env node
// The `dplab` command. It runs the plain JS in dist/ (built once by `npm ci`
// through `prepare`, or by `npm run build`) when dist/ was built from the
// sources as they are now; otherwise it compiles src/ on the fly with tsx
// (slower to start), so an edited tree never runs stale code. Checking costs
// ~2 ms: scripts/sources_stamp.js fingerprints the sources' sizes and mtimes.
import { fileURLToPath } from 'node:url';
import { distIsFresh } from '../scripts/sources_stamp.js';

if (distIsFresh(fileURLToPath(new URL('..', import.meta.url)))) {
  await import('../dist/src/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
