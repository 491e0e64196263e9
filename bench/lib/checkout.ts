// A git revision checked out under /tmp as a worktree, with node_modules
// linked from this checkout and today's bench files (harness included)
// copied in and adapted to the older code (bench/lib/compat.ts).

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { MOVED_MODULES, MOVED_SYMBOLS, REWRITES } from './compat.ts';

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

export function repoRoot(from: string): string { return git(from, 'rev-parse', '--show-toplevel'); }

export function benchNames(root: string): string[] {
  return readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.bench.ts')).map((f) => f.slice(0, -'.bench.ts'.length)).sort();
}

/** Whether revision `sha` has bench/<name>.bench.ts of its own. */
export function benchExisted(root: string, sha: string, name: string): boolean {
  return git(root, 'ls-tree', '--name-only', sha, `bench/${name}.bench.ts`) !== '';
}

/** The worktree of `rev` (created on first use, reused after), ready to run today's benches. */
export function prepareCheckout(root: string, rev: string): { dir: string; sha: string } {
  const sha = git(root, 'rev-parse', '--verify', `${rev}^{commit}`);
  const dir = `/tmp/dplab-bench-${sha.slice(0, 12)}`;
  if (!existsSync(join(dir, '.git'))) {
    git(root, 'worktree', 'prune');
    git(root, 'worktree', 'add', '--detach', dir, sha);
  }
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  copyBench(root, dir);
  return { dir, sha };
}

function copyBench(root: string, dir: string): void {
  mkdirSync(join(dir, 'bench', 'lib'), { recursive: true });
  for (const f of readdirSync(join(root, 'bench', 'lib'))) copyFileSync(join(root, 'bench', 'lib', f), join(dir, 'bench', 'lib', f));
  const has = (p: string) => existsSync(join(dir, p));
  for (const f of readdirSync(join(root, 'bench')).filter((x) => x.endsWith('.bench.ts'))) {
    let text = importMovedSymbols(readFileSync(join(root, 'bench', f), 'utf8'), dir);
    for (const r of REWRITES) {
      if ((r.file !== '*' && r.file !== f) || has(r.unless)) continue;
      text = typeof r.from === 'string' ? text.split(r.from).join(r.to) : text.replace(r.from, r.to);
    }
    writeFileSync(join(dir, 'bench', f), text);
  }
  writeShims(dir, has);
}

const exportsSymbol = (file: string, sym: string): boolean => existsSync(file) &&
  new RegExp(`export\\s+(?:(?:const|let|var|function|class|interface|type|enum)\\s+${sym}\\b|const\\s[^;]*\\b${sym}\\s*=|\\{[^}]*\\b${sym}\\b)`).test(readFileSync(file, 'utf8'));

/** `import { A, B } from '../x.ts'` where the checkout's x.ts lacks B: B comes from its old home instead. */
export function importMovedSymbols(text: string, dir: string): string {
  return text.replace(/^import\s+(type\s+)?\{([^}]*)\}\s+from\s+'\.\.\/([^']+)';$/gm, (line, type: string | undefined, names: string, path: string) => {
    const keep: string[] = [], extra: string[] = [];
    for (const spec of names.split(',').map((x) => x.trim()).filter(Boolean)) {
      const sym = spec.replace(/^type\s+/, '').split(/\s+as\s+/)[0]!;
      const m = MOVED_SYMBOLS.find((x) => x.symbol === sym && x.path === path);
      const home = m && !exportsSymbol(join(dir, path), sym) ? m.from.find((f) => exportsSymbol(join(dir, f), sym)) : undefined;
      if (home === undefined) keep.push(spec); else extra.push(`import ${type ?? ''}{ ${spec} } from '../${home}';`);
    }
    if (extra.length === 0) return line;
    return [...(keep.length ? [`import ${type ?? ''}{ ${keep.join(', ')} } from '../${path}';`] : []), ...extra].join('\n');
  });
}

/** A moved module missing from the checkout becomes `export * from` its old home. */
function writeShims(dir: string, has: (p: string) => boolean): void {
  for (const m of MOVED_MODULES) {
    if (has(m.path)) continue;
    const old = m.from.find(has);
    if (old === undefined) continue; // neither home exists: the bench will say what it misses
    let rel = relative(dirname(m.path), old);
    if (!rel.startsWith('.')) rel = `./${rel}`;
    mkdirSync(join(dir, dirname(m.path)), { recursive: true });
    writeFileSync(join(dir, m.path), `// bench/compare.ts shim (${m.why})\nexport * from '${rel}';\n`);
  }
}
