// Fails on any import that points up the layers of DESIGN.md.
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const RANK: Record<string, number> = {
  'src/wire': 0, 'src/sim': 0, 'src/bpf': 1, 'src/netfilter': 1, 'src/kernel': 2, maps: 3, programs: 4,
  'src/cilium': 5, 'src/kubeproxy': 5, 'src/hubble': 6, 'src/cluster': 7,
  'src/api': 8, 'src/grpc': 8, 'src/compare': 8, 'src/cli': 9,
};

function layerOf(file: string): string | undefined {
  const rel = relative(root, file).split('\\').join('/');
  return Object.keys(RANK).find((k) => rel === k || rel.startsWith(k + '/'));
}

function walk(dir: string, out: string[]): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const files = ['src', 'maps', 'programs'].flatMap((d) => walk(join(root, d), []));
t.ok(files.length > 0, 'found source files');
const violations: string[] = [];
for (const f of files) {
  const from = layerOf(f);
  if (!from) { violations.push(`${relative(root, f)} is in no layer`); continue; }
  const src = readFileSync(f, 'utf8');
  for (const m of src.matchAll(/(?:import|export)[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2]!;
    const to = layerOf(resolve(dirname(f), spec));
    if (!to) { violations.push(`${relative(root, f)} imports ${spec}, outside every layer`); continue; }
    const ok = RANK[to]! < RANK[from]! || to === from;
    if (!ok) violations.push(`${relative(root, f)} (${from}) imports ${spec} (${to})`);
  }
}
t.same(violations, [], 'no import points up the layers');
