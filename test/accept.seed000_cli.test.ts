// Seed 000's captures through the CLI, as a user runs them against a served
// kind-iptables lab: `dplab tcpdump -i eth0 tcp port 80 -nnq` and
// `dplab ngrep -tW byline -d eth0 '' 'tcp port 80'` on myk8s-worker2 while
// net-pod curls svc-clusterip, then ^C. The lines are the seed's (lines
// 509-517 and 548-572, webpod2's node), time, ports and the pod's fe80::
// address aside.
import t from 'tap';
import { startServer } from '../src/api/server.ts';
import { Cluster } from '../src/cluster/cluster.ts';
import { runCli, startCli } from './helpers/run_cli.ts';

const cluster = Cluster.lab('kind-iptables', { hubble: false });
const server = await startServer(cluster, { port: 0, clock: 'fast' });
t.teardown(async () => { await server.close(); cluster.close(); });
const env = { DPLAB_SERVER: server.url };
/** Enough curls for webpod2 to answer at least one (the lab's draw is seeded). */
const curls = () => runCli(['kubectl', 'exec', 'net-pod', '--', 'zsh', '-c', 'for i in {1..6}; do curl -s 10.200.1.118:9000 | grep Hostname; done'], env);

t.test('dplab tcpdump --node myk8s-worker2 -i eth0 tcp port 80 -nnq', async (t) => {
  const dump = startCli(['tcpdump', '--node', 'myk8s-worker2', '-i', 'eth0', 'tcp', 'port', '80', '-nnq'], env);
  await dump.waitFor('stderr', /^listening on eth0/m);
  t.match((await curls()).stdout, /Hostname: webpod2/);
  await dump.waitFor('stdout', /: tcp 310\n/);
  dump.child.kill('SIGINT');
  const r = await dump.exited;
  t.equal(r.code, 0);
  t.equal(r.stderr.split('\n')[0], 'tcpdump: verbose output suppressed, use -v[v]... for full protocol decode');
  const lines = r.stdout.split('\n').slice(0, 6).map((l) => l.replace(/^\d\d:\d\d:\d\d\.\d{6} /, '').replace(/10\.10\.0\.6\.\d+/, '10.10.0.6.P'));
  t.same(lines, [
    'IP 10.10.0.6.P > 10.10.1.2.80: tcp 0', 'IP 10.10.1.2.80 > 10.10.0.6.P: tcp 0', 'IP 10.10.0.6.P > 10.10.1.2.80: tcp 0',
    'IP 10.10.0.6.P > 10.10.1.2.80: tcp 80', 'IP 10.10.1.2.80 > 10.10.0.6.P: tcp 0', 'IP 10.10.1.2.80 > 10.10.0.6.P: tcp 310',
  ], "the seed's six lines of a connection (lines 512-517)");
});

t.test("dplab ngrep --node myk8s-worker2 -tW byline -d eth0 '' 'tcp port 80'", async (t) => {
  const ng = startCli(['ngrep', '--node', 'myk8s-worker2', '-tW', 'byline', '-d', 'eth0', '', 'tcp port 80'], env);
  await ng.waitFor('stdout', /^filter: /m);
  await curls();
  await ng.waitFor('stdout', /Accept: \*\/\*\.\n\.\n\n#*$/);
  ng.child.kill('SIGINT');
  const r = await ng.exited;
  t.equal(r.code, 0);
  const text = r.stdout.replace(/^T \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} /gm, 'T TIME ').replace(/10\.10\.0\.6:\d+/g, '10.10.0.6:P')
    .replace(/^Date: .*$/m, 'Date: D.').replace(/fe80::[0-9a-f:]+/, 'LL6');
  t.equal(text.split('\n').slice(0, 28).join('\n'), [
    'interface: eth0 (172.18.0.0/255.255.0.0)', 'filter: ( tcp port 80 ) and ((ip || ip6) || (vlan && (ip || ip6)))', '####',
    'T TIME 10.10.0.6:P -> 10.10.1.2:80 [AP] #4', 'GET / HTTP/1.1.', 'Host: 10.200.1.118:9000.', 'User-Agent: curl/8.7.1.', 'Accept: */*.', '.', '',
    '##', 'T TIME 10.10.1.2:80 -> 10.10.0.6:P [AP] #6', 'HTTP/1.1 200 OK.', 'Date: D.', 'Content-Length: 192.', 'Content-Type: text/plain; charset=utf-8.', '.',
    'Hostname: webpod2', 'IP: 127.0.0.1', 'IP: ::1', 'IP: 10.10.1.2', 'IP: LL6', 'RemoteAddr: 10.10.0.6:P',
    'GET / HTTP/1.1.', 'Host: 10.200.1.118:9000.', 'User-Agent: curl/8.7.1.', 'Accept: */*.', '.',
  ].join('\n'), "the seed's blocks of a connection (lines 549-572), the hash marks between");
  t.match(r.stdout, /exit\n\d+ received, 0 dropped\n$/, "ngrep's lines at ^C");
});

const bad: Array<[string, string[], RegExp]> = [
  ['a dump format not emulated', ['ngrep', '-W', 'normal', ''], /only -W byline is emulated, got 'normal'/],
  ['a bad filter', ['ngrep', '', 'tcp port'], /syntax error in filter expression/],
  ['an unknown node', ['ngrep', '--node', 'nope', ''], /node "nope" not found/],
];
for (const [name, args, msg] of bad) {
  t.test(`dplab ngrep: ${name} is one line on stderr, exit 1`, async (t) => {
    const r = await runCli(args, env);
    t.equal(r.code, 1);
    t.match(r.stderr, msg);
    t.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
}
