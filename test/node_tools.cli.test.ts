// The per-node tool verbs and `docker exec` against a served kind-iptables lab,
// as a user types them: `dplab iptables-restore --node N < FILE`,
// `dplab docker exec -i NODE iptables-restore < FILE`, `dplab ipvsadm|ipset
// --node N` (not on an iptables node: the shell's "command not found"), and
// `dplab conntrack --node N -E [filters]` following the node's events until Ctrl-C.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../src/api/server.ts';
import { Cluster } from '../src/cluster/cluster.ts';
import { runCli, startCli, type LiveCli } from './helpers/run_cli.ts';

/** Counts the follows (conntrack -E) open on a cluster, so a test starts traffic only once a follower listens. */
function countFollows(c: Cluster): { open: number } {
  const count = { open: 0 };
  const follow = c.follow.bind(c);
  c.follow = (node, argv, out) => {
    const h = follow(node, argv, out);
    if (!h || !('stop' in h)) return h;
    count.open++;
    return { stop: () => { count.open--; return h.stop(); } };
  };
  return count;
}

const cluster = Cluster.lab('kind-iptables', { hubble: false });
const follows = countFollows(cluster);
const server = await startServer(cluster, { port: 0, clock: 'manual' });
t.teardown(async () => { await server.close(); cluster.close(); });
const env = { DPLAB_SERVER: server.url };
const dir = mkdtempSync(join(tmpdir(), 'dplab-node-tools-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const until = async (cond: () => boolean): Promise<void> => { while (!cond()) await new Promise((r) => setTimeout(r, 10)); };
const oneLine = (t: Test, r: { code: number | null; stdout: string; stderr: string }, msg: string | RegExp): void => {
  t.equal(r.code, 1);
  t.equal(r.stdout, '');
  t.match(r.stderr, msg);
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line on stderr');
};

const RULES = (chain: string) => `*filter\n:${chain} - [0:0]\n-A ${chain} -s 10.9.9.9/32 -p tcp -m tcp --dport 22 -j DROP\nCOMMIT\n`;
/** The node's rules of a chain, read in-process (what the CLI did is what is tested; this only looks). */
const chainRules = async (node: string, chain: string) => { const r = await cluster.nodeExec(node, ['iptables', '-S', chain]); return { code: r.exitCode, stdout: r.stdout }; };

t.test('dplab iptables-restore --node N -n < FILE loads the rules; -t only tests them', async (t) => {
  const test = await runCli(['iptables-restore', '--node', 'myk8s-worker', '-n', '-t'], env, RULES('DPLAB-T'));
  t.same([test.code, test.stdout, test.stderr], [0, '', '']);
  t.equal((await chainRules('myk8s-worker', 'DPLAB-T')).code, 1, '-t changes nothing');
  const r = await runCli(['iptables-restore', '--node', 'myk8s-worker', '-n'], env, RULES('DPLAB-A'));
  t.same([r.code, r.stdout, r.stderr], [0, '', '']);
  const s = await chainRules('myk8s-worker', 'DPLAB-A');
  t.same([s.code, s.stdout], [0, '-N DPLAB-A\n-A DPLAB-A -s 10.9.9.9/32 -p tcp -m tcp --dport 22 -j DROP\n']);
  t.equal((await chainRules('myk8s-worker2', 'DPLAB-A')).code, 1, 'only that node changed');
});

t.test('dplab iptables-restore --node N FILE reads the local file', async (t) => {
  const file = join(dir, 'rules.v4');
  writeFileSync(file, RULES('DPLAB-F'));
  const r = await runCli(['iptables-restore', '--node', 'myk8s-worker', '--noflush', file], env);
  t.same([r.code, r.stderr], [0, '']);
  t.equal((await chainRules('myk8s-worker', 'DPLAB-F')).code, 0);
  oneLine(t, await runCli(['iptables-restore', '--node', 'myk8s-worker', join(dir, 'missing')], env), `dplab: Can't open ${join(dir, 'missing')}: No such file or directory`);
});

t.test('iptables-restore with a syntax error: its message and line, exit 2, the table unchanged', async (t) => {
  const save = async () => (await cluster.nodeExec('myk8s-worker', ['iptables-save', '-t', 'filter'])).stdout.replace(/^#.*\n/gm, '');
  const before = await save();
  const bad = '*filter\n:DPLAB-BAD - [0:0]\n-A DPLAB-BAD -p tcp --bogus 22 -j DROP\nCOMMIT\n';
  const r = await runCli(['iptables-restore', '--node', 'myk8s-worker', '-n'], env, bad);
  t.equal(r.code, 2);
  t.equal(r.stderr, 'iptables-restore v1.8.9 (nf_tables): unknown option "--bogus"\nError occurred at line: 3\nTry `iptables-restore -h\' or \'iptables-restore --help\' for more information.\n');
  t.equal(await save(), before);
});

t.test('docker exec -i forwards stdin; without -i stdin is not read', async (t) => {
  const noI = await runCli(['docker', 'exec', 'myk8s-worker3', 'iptables-restore', '-n'], env, RULES('DPLAB-NOI'));
  t.same([noI.code, noI.stderr], [0, '']);
  t.equal((await chainRules('myk8s-worker3', 'DPLAB-NOI')).code, 1, 'iptables-restore read nothing');
  const withI = await runCli(['docker', 'exec', '-i', 'myk8s-worker3', 'iptables-restore', '-n'], env, RULES('DPLAB-I'));
  t.same([withI.code, withI.stderr], [0, '']);
  t.equal((await chainRules('myk8s-worker3', 'DPLAB-I')).code, 0);
  const sh = await runCli(['docker', 'exec', '-i', 'myk8s-worker3', 'bash', '-c', 'wc -l'], env, 'a\nb\nc\n');
  t.match(sh.stdout, /^\s*3\n$/, 'a shell reads it too');
});

t.test('stdin over the bound: one clear line, nothing sent', async (t) => {
  const big = '#'.repeat((4 << 20) + 1);
  oneLine(t, await runCli(['docker', 'exec', '-i', 'myk8s-worker', 'iptables-restore'], env, big), 'dplab: stdin is more than 4194304 bytes (4 MiB), the most a node command takes');
  oneLine(t, await runCli(['iptables-restore', '--node', 'myk8s-worker'], env, big), /stdin is more than 4194304 bytes/);
});

const missing: Array<[string[], string]> = [
  [['ipvsadm', '--node', 'myk8s-worker', '-Ln'], 'bash: ipvsadm: command not found\n'],
  [['ipset', '--node', 'myk8s-worker', 'list'], 'bash: ipset: command not found\n'],
  [['docker', 'exec', '-it', 'myk8s-worker', 'ipvsadm', '-Ln'], 'bash: ipvsadm: command not found\n'],
];
for (const [args, stderr] of missing) {
  t.test(`dplab ${args.join(' ')} on an iptables node: the shell's missing command, 127`, async (t) => {
    t.same(await runCli(args, env), { code: 127, stdout: '', stderr });
  });
}

const badNode: string[][] = [['iptables', '-S'], ['iptables-save'], ['iptables-restore', '-n'], ['conntrack', '-L'], ['conntrack', '-E'], ['ipvsadm', '-Ln'], ['ipset', 'list']];
t.test('every verb: an unknown node, or --node without a value, is one line and exit 1', async (t) => {
  // Run side by side: each is a process start, the wait is the same.
  const runs = await Promise.all([
    ...badNode.map(([tool, ...rest]) => runCli([tool!, '--node', 'nope', ...rest], env, '').then((r) => ({ r, args: [tool!, '--node', 'nope', ...rest], msg: /^dplab: node "nope" not found\n$/ }))),
    // commander's own check, the same for every verb: two of them.
    ...['iptables', 'conntrack'].map((tool) => runCli([tool, '--node'], env).then((r) => ({ r, args: [tool, '--node'], msg: /^dplab: option '--node <node>' argument missing\n$/ }))),
  ]);
  for (const { r, args, msg } of runs) t.test(`dplab ${args.join(' ')}`, async (t) => oneLine(t, r, msg));
});

t.test('--node after the tool\'s arguments is still dplab\'s', async (t) => {
  const r = await runCli(['iptables', '-S', 'DPLAB-A', '--node', 'myk8s-worker'], env);
  t.same([r.code, r.stdout], [0, '-N DPLAB-A\n-A DPLAB-A -s 10.9.9.9/32 -p tcp -m tcp --dport 22 -j DROP\n']);
});

t.test('a tool\'s own flag errors are the tool\'s (text and exit code)', async (t) => {
  const ct = await runCli(['conntrack', '--node', 'myk8s-worker', '-E', '-e', 'BOGUS'], env);
  t.same(ct, { code: 2, stdout: '', stderr: 'conntrack v1.4.7 (conntrack-tools): Bad parameter `BOGUS\'\nTry `conntrack -h\' or \'conntrack --help\' for more information.\n' });
  const ctL = await runCli(['conntrack', '--node', 'myk8s-worker', '-L', '-e', 'NEW'], env);
  t.same([ctL.code, ctL.stderr.split('\n')[0]], [2, 'conntrack v1.4.7 (conntrack-tools): Illegal option `--event-mask\' with this command']);
  const two = await runCli(['iptables-restore', '--node', 'myk8s-worker', 'a', 'b'], env);
  t.same([two.code, two.stderr], [1, 'dplab: Unknown arguments found on commandline\n']);
});

/** Starts a follower and waits until the server has it listening. */
async function startFollower(args: string[]): Promise<LiveCli> {
  const before = follows.open;
  const live = startCli(args, env);
  await Promise.race([until(() => follows.open > before), live.exited.then((r) => { throw new Error(`exited early: ${JSON.stringify(r)}`); })]);
  return live;
}

const curl = async () => ({ code: (await cluster.exec('default', 'net-pod', ['curl', '-s', '10.200.1.118:9000'])).exitCode });
const EVENT = /^ *\[(NEW|UPDATE|DESTROY)\] tcp {6}6 \d+ [A-Z_]+ src=10\.10\.0\.6 dst=10\.200\.1\.118 sport=\d+ dport=9000 (\[UNREPLIED\] )?src=10\.10\.\d\.\d dst=10\.10\.0\.6 sport=80 dport=\d+( \[ASSURED\])?$/;

t.test('dplab conntrack --node N -E -p tcp --dport 9000: NEW, UPDATEs and DESTROY, then Ctrl-C', async (t) => {
  const live = await startFollower(['conntrack', '--node', 'myk8s-control-plane', '-E', '-p', 'tcp', '--dport', '9000']);
  t.equal((await curl()).code, 0);
  // The clock is manual: it moves only while a request drives it, so curl's close may come later.
  await live.waitFor('stdout', /\[UPDATE\] .* ESTABLISHED /);
  const del = await runCli(['conntrack', '--node', 'myk8s-control-plane', '-D', '-p', 'tcp', '--dport', '9000'], env);
  t.equal(del.code, 0);
  await live.waitFor('stdout', /\[DESTROY\]/);
  live.child.kill('SIGINT');
  const r = await live.exited;
  const lines = r.stdout.trimEnd().split('\n');
  t.match(lines[0], /^ {4}\[NEW\] tcp {6}6 120 SYN_SENT src=10\.10\.0\.6 dst=10\.200\.1\.118 sport=\d+ dport=9000 \[UNREPLIED\] src=10\.10\.\d\.\d dst=10\.10\.0\.6 sport=80 dport=\d+$/);
  t.match(lines[1], /^ \[UPDATE\] tcp {6}6 60 SYN_RECV /);
  t.match(lines[2], /^ \[UPDATE\] tcp {6}6 86400 ESTABLISHED .* \[ASSURED\]$/);
  for (const l of lines) t.match(l, EVENT);
  t.match(lines[lines.length - 1], /^\[DESTROY\] /);
  t.equal(r.code, 0);
  t.equal(r.stderr, `conntrack v1.4.7 (conntrack-tools): ${lines.length} flow events have been shown.\n`);
  await until(() => follows.open === 0);
  t.pass('the server stopped following');
});

t.test('docker exec -it NODE conntrack -E -e NEW: only NEW events; filters that match nothing show nothing', async (t) => {
  const news = await startFollower(['docker', 'exec', '-it', 'myk8s-control-plane', 'conntrack', '-E', '-e', 'NEW']);
  const udp = await startFollower(['conntrack', '--node', 'myk8s-control-plane', '-E', '-p', 'udp', '--dport', '9000']);
  t.equal((await curl()).code, 0);
  await news.waitFor('stdout', /\[NEW\] tcp .* dport=9000 /);
  news.child.kill('SIGINT');
  udp.child.kill('SIGINT');
  const [a, b] = [await news.exited, await udp.exited];
  t.ok(a.stdout.trimEnd().split('\n').every((l) => l.startsWith('    [NEW] ')), 'only [NEW] lines');
  t.same([b.code, b.stdout, b.stderr], [0, '', 'conntrack v1.4.7 (conntrack-tools): 0 flow events have been shown.\n']);
});

t.test('conntrack -E ends with one line when the server goes away', async (t) => {
  const other = Cluster.lab('kind-iptables', { hubble: false });
  const srv = await startServer(other, { port: 0, clock: 'manual' });
  t.teardown(() => other.close());
  const otherFollows = countFollows(other);
  const live = startCli(['conntrack', '--node', 'myk8s-worker', '-E'], { DPLAB_SERVER: srv.url });
  await until(() => otherFollows.open === 1);
  await srv.close();
  const r = await live.exited;
  t.same(r, { code: 1, stdout: '', stderr: 'dplab: the server closed the conntrack -E stream\n' });
});
