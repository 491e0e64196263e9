// `dplab serve`'s data directory when something is wrong: a damaged store is
// refused with the way out (--reset), flags that contradict each other, a
// directory that cannot be made; and where the data directory is by default.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultDataDir } from '../src/cluster/store/persist.ts';
import { runCli } from './helpers/run_cli.ts';
import { serve, stop, tempDir } from './helpers/serve_cli.ts';

// Several real servers start and stop here: give a loaded 2-core machine time (tap's default is 120 s a file).
t.setTimeout(300_000);

t.test('a damaged store is refused with the way out, and --reset takes it', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'store.db'), Buffer.alloc(4096, 0x42));
  const r = await runCli(['serve', '--port', '0', '--data-dir', dir], {});
  t.equal(r.code, 1);
  t.equal(r.stderr, `dplab: the store ${join(dir, 'store.db')} is damaged (file is not a database): start afresh with \`dplab serve --reset\` (deletes the saved objects)\n`);
  const s = await serve(t, ['--data-dir', dir, '--reset'], {});
  t.match((await runCli(['kubectl', 'get', 'pods'], s.env)).stdout, /netpod +1\/1 +Running/, 'a fresh lab');
  t.equal(await stop(s), 0);
});

const badFlags: Array<[string, string[], string]> = [
  ['--ephemeral with --data-dir', ['--ephemeral', '--data-dir', '/tmp/x'], 'dplab: --ephemeral keeps nothing: give it without --data-dir and --reset\n'],
  ['--ephemeral with --reset', ['--ephemeral', '--reset'], 'dplab: --ephemeral keeps nothing: give it without --data-dir and --reset\n'],
];
for (const [name, args, stderr] of badFlags) {
  t.test(name, async (t) => {
    const r = await runCli(['serve', '--port', '0', ...args], {});
    t.equal(r.code, 1);
    t.equal(r.stderr, stderr);
  });
}

t.test('a data directory that cannot be made is named', async (t) => {
  const file = join(tempDir(t), 'plain-file');
  writeFileSync(file, '');
  const r = await runCli(['serve', '--port', '0', '--data-dir', join(file, 'sub')], {});
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`^dplab: cannot create the data directory ${join(file, 'sub')}: ENOTDIR`));
});

const dirs: Array<[string, Record<string, string | undefined>, string, string]> = [
  ['XDG_STATE_HOME set', { XDG_STATE_HOME: '/x/state', HOME: '/home/u' }, 'cilium', '/x/state/dplab/cilium'],
  ['XDG_STATE_HOME unset', { HOME: '/home/u' }, 'cilium', '/home/u/.local/state/dplab/cilium'],
  ['a relative XDG_STATE_HOME is ignored (XDG spec)', { XDG_STATE_HOME: 'rel', HOME: '/home/u' }, 'cilium', '/home/u/.local/state/dplab/cilium'],
  ['a name cannot leave the directory', { HOME: '/home/u' }, '../../etc', '/home/u/.local/state/dplab/.._.._etc'],
  ['dots alone', { HOME: '/home/u' }, '..', '/home/u/.local/state/dplab/_..'],
];
t.test('default data directory', async (t) => {
  for (const [name, env, lab, want] of dirs) t.equal(defaultDataDir(lab, env), want, name);
});
