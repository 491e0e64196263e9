// The CLI's start: --version, --clock checking, the dist/ freshness check that
// decides between the build and tsx, and what `dplab --help` loads.
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { STAMP_NAME, distIsFresh, sourcesStamp } from '../scripts/sources_stamp.js';
import { runCli } from './helpers/run_cli.ts';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

for (const flag of ['--version', '-V']) {
  t.test(`dplab ${flag} prints the package version`, async (t) => {
    t.same(await runCli([flag]), { code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });
}

for (const clock of ['nope', 'WALL', '']) {
  t.test(`serve --clock "${clock}" is one error line`, async (t) => {
    const r = await runCli(['serve', '--clock', clock, '--port', '0']);
    t.same(r, { code: 1, stdout: '', stderr: `dplab: --clock must be one of wall, fast, not "${clock}"\n` });
  });
}

t.test('serve --clock without a value', async (t) => {
  const r = await runCli(['serve', '--clock']);
  t.same(r, { code: 1, stdout: '', stderr: "dplab: option '--clock <mode>' argument missing\n" });
});

t.test('dist/ is fresh only while the sources are as it was built from', async (t) => {
  const tree = mkdtempSync(join(tmpdir(), 'dplab-stamp-'));
  t.teardown(() => rmSync(tree, { recursive: true, force: true }));
  const put = (rel: string, text: string): void => { mkdirSync(dirname(join(tree, rel)), { recursive: true }); writeFileSync(join(tree, rel), text); };
  const old = new Date(Date.now() - 60_000), later = new Date(Date.now() + 60_000);
  const build = (): void => { mkdirSync(join(tree, 'dist'), { recursive: true }); writeFileSync(join(tree, 'dist', STAMP_NAME), sourcesStamp(tree)); };
  for (const f of ['src/cli/main.ts', 'src/wire/ip.ts', 'maps/m.ts', 'programs/p.ts', 'tsconfig.json', 'tsconfig.build.json']) put(f, 'x');
  t.equal(distIsFresh(tree), false, 'no dist/ yet');
  // Each edit is made on a freshly built tree; each must make it stale.
  const edits: [string, () => void][] = [
    ['a source edited', () => put('src/cli/main.ts', 'xy')],
    ['a source saved again, same size', () => utimesSync(join(tree, 'src/cli/main.ts'), later, later)],
    ['a source touched to an older time', () => utimesSync(join(tree, 'maps/m.ts'), old, old)],
    ['a file added', () => put('programs/q.ts', 'x')],
    ['a file removed', () => rmSync(join(tree, 'src/wire/ip.ts'))],
    ['a directory added', () => mkdirSync(join(tree, 'src/new'))],
    ['the build config edited', () => put('tsconfig.build.json', '{}')],
  ];
  for (const [what, edit] of edits) {
    build();
    t.equal(distIsFresh(tree), true, `fresh after a build, before: ${what}`);
    edit();
    t.equal(distIsFresh(tree), false, `stale after ${what}`);
  }
});

/** Static imports of a module: relative files and bare packages; `import type` and `import()` left out. */
function staticImports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/^(?:import|export)\s+(?!type\b)[^'";]*?from\s*['"]([^'"]+)['"]|^import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] ?? m[2]!);
}

t.test('dplab --help and the client verbs load only the CLI and commander', async (t) => {
  const files = new Set<string>(), packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else if (!spec.startsWith('node:')) packages.add(spec);
    }
  };
  visit(join(root, 'src/cli/main.ts'));
  t.same([...packages], ['commander'], 'packages loaded at start');
  const outside = [...files].map((f) => f.slice(root.length + 1)).filter((f) => !f.startsWith('src/cli/'));
  t.same(outside, [], 'modules outside src/cli loaded at start (serve, tcpdump and streams load theirs when they run)');
  t.ok(files.size > 5, `followed the imports (${files.size} modules)`);
});
