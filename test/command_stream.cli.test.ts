// The one CLI client of the command streams (src/cli/command_stream.ts), as a
// user runs it against a server: `dplab conntrack -E` that falls behind prints
// conntrack's ENOBUFS warning and, on Ctrl-C, the command's last words and its
// exit code; `dplab kubectl exec ... -- hubble observe -f` exits 130 on
// Ctrl-C (143 on SIGTERM) after the command's last output; a server that goes
// away is one line on stderr and exit 1.
import t from 'tap';
import { startServer } from '../src/api/server.ts';
import { StreamRegistry, streamLimits } from '../src/api/stream_limits.ts';
import { startCli } from './helpers/run_cli.ts';
import { StreamFake } from './helpers/stream_fake.ts';

const until = async (cond: () => boolean): Promise<void> => {
  for (let waited = 0; !cond(); waited += 10) {
    if (waited > 20_000) throw new Error(`still waiting for ${cond.toString()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

async function serve(t: { teardown(fn: () => unknown): void }) {
  const cluster = new StreamFake();
  const registry = new StreamRegistry(streamLimits({ bufferBytes: 16 << 10 }));
  const server = await startServer(cluster, { port: 0, streamRegistry: registry });
  t.teardown(() => server.close());
  return { cluster, registry, server, env: { DPLAB_SERVER: server.url } };
}

const ENOBUFS = 'WARNING: We have hit ENOBUFS! We are losing events.\nThis message means that the current netlink socket buffer size is too small.\nPlease, check --buffer-size in conntrack(8) manpage.\n';
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const HUBBLE = ['kubectl', 'exec', '-n', 'kube-system', 'ds/cilium', '-c', 'cilium-agent', '--', 'hubble', 'observe', '-f'];

t.test('dplab conntrack -E that fell behind: ENOBUFS as conntrack warns, then Ctrl-C: its last words, exit 0', async (t) => {
  const { cluster, registry, env } = await serve(t);
  const live = startCli(['conntrack', '--node', 'k8s-w1', '-E'], env);
  t.teardown(() => { live.child.kill('SIGKILL'); });
  await until(() => cluster.follows === 1);
  // A reader that does not read: stopped, while 27 MB of events go by.
  live.child.kill('SIGSTOP');
  const pad = 'x'.repeat(9000);
  for (let i = 0; i < 3000; i++) {
    cluster.emit(`${i} ${pad}`);
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  live.child.kill('SIGCONT');
  await live.waitFor('stderr', /ENOBUFS/);
  cluster.emit('end');
  await live.waitFor('stdout', /^end$/m);
  live.child.kill('SIGINT');
  const r = await live.exited;
  t.equal(r.code, 0, 'conntrack\'s own exit code');
  t.match(r.stderr, new RegExp(`^(${esc(ENOBUFS)})+${esc('conntrack v1.4.7 (conntrack-tools): 3001 flow events have been shown.\n')}$`));
  const lines = r.stdout.trimEnd().split('\n');
  t.ok(lines.length < 3001, `lines were lost (${3001 - lines.length})`);
  t.same(lines.filter((l, i) => i > 0 && Number(l.split(' ')[0]) <= Number(lines[i - 1]!.split(' ')[0])), [], 'the lines it printed, in order');
  await until(() => registry.open === 0 && cluster.follows === 0);
});

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  t.test(`dplab kubectl exec ... -- hubble observe -f, then ${signal}: the last output, exit ${code}`, async (t) => {
    const { cluster, registry, env } = await serve(t);
    const live = startCli(HUBBLE, env);
    t.teardown(() => { live.child.kill('SIGKILL'); });
    await live.waitFor('stdout', /^0 xxxx\n$/);
    live.child.kill(signal);
    t.same(await live.exited, { code, stdout: '0 xxxx\nbye\n', stderr: '' });
    await until(() => registry.open === 0 && cluster.running === 0);
  });
}

t.test('the server going away: one line, exit 1 (kubectl stream and node exec stream)', async (t) => {
  const { cluster, server, env } = await serve(t);
  const follow = startCli(HUBBLE, env);
  const ct = startCli(['conntrack', '--node', 'k8s-w1', '-E'], env);
  t.teardown(() => { follow.child.kill('SIGKILL'); ct.child.kill('SIGKILL'); });
  await follow.waitFor('stdout', /^0 xxxx\n$/);
  await until(() => cluster.follows === 1);
  await server.close();
  t.same(await follow.exited, { code: 1, stdout: '0 xxxx\n', stderr: 'dplab: the server closed the hubble observe stream\n' });
  t.same(await ct.exited, { code: 1, stdout: '', stderr: 'dplab: the server closed the conntrack -E stream\n' });
});
