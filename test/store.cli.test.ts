// `dplab serve` and its data directory as a user meets them: the default
// place, what comes back after a restart, one server per store, --ephemeral.
// Refusals and flags: store.cli_errors.test.ts.
import t from 'tap';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/run_cli.ts';
import { serve, stop, tempDir } from './helpers/serve_cli.ts';

// Several real servers start and stop here: give a loaded 2-core machine time (tap's default is 120 s a file).
t.setTimeout(300_000);

const POD = 'apiVersion: v1\nkind: Pod\nmetadata: {name: kept}\nspec: {containers: [{name: c, image: traefik/whoami}]}\n';

const getKept = (env: Record<string, string>) => runCli(['kubectl', 'get', 'pod', 'kept', '-o', 'name'], env);

t.test('the default data directory keeps applied objects across a restart; one server per store; --ephemeral keeps nothing', async (t) => {
  const env = { XDG_STATE_HOME: tempDir(t) };
  const a = await serve(t, [], env);
  t.ok(existsSync(join(env.XDG_STATE_HOME, 'dplab', 'cilium', 'store.db')), 'the store is $XDG_STATE_HOME/dplab/cilium/store.db');
  t.equal((await runCli(['apply', '-f', '-'], a.env, POD)).stdout, 'pod/kept created\n');

  const b = await runCli(['serve', '--port', '0'], env);
  t.equal(b.code, 1, 'a second server on the same store exits 1');
  t.equal(b.stderr, `dplab: the store ${join(env.XDG_STATE_HOME, 'dplab', 'cilium', 'store.db')} is in use by another dplab serve: stop it, or give another --data-dir, or --ephemeral\n`);
  t.equal(await stop(a), 0);

  const c = await serve(t, [], env);
  t.equal((await getKept(c.env)).stdout, 'pod/kept\n', 'the pod is back after a restart');
  t.equal(await stop(c), 0);

  const storeFile = join(env.XDG_STATE_HOME, 'dplab', 'cilium', 'store.db');
  const before = statSync(storeFile).mtimeMs;
  const d = await serve(t, ['--ephemeral'], env);
  const gone = await getKept(d.env);
  t.equal(gone.code, 1, '--ephemeral starts from the lab alone');
  t.match(gone.stderr, /pods "kept" not found/);
  t.equal(await stop(d), 0);
  t.equal(statSync(storeFile).mtimeMs, before, '--ephemeral left the store alone');
});

