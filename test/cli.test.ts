// The dplab command as users run it (node bin/dplab.js), against a server on
// an ephemeral loopback port serving the fake cluster.
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../src/api/server.ts';
import { readPcap } from '../src/wire/pcap.ts';
import { FakeCluster, pingFrame } from './helpers/fake_cluster.ts';
import { runCli, startCli } from './helpers/run_cli.ts';

const cluster = new FakeCluster();
cluster.apply('kind: Pod\nmetadata:\n  name: netpod\n');
const server = await startServer(cluster, { port: 0, clock: 'manual' });
t.teardown(() => server.close());
const env = { DPLAB_SERVER: server.url };
const dir = mkdtempSync(join(tmpdir(), 'dplab-cli-'));
const manifest = join(dir, 'web.yaml');
writeFileSync(manifest, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: webpod1\n---\nkind: Service\nmetadata:\n  name: webpod\n');

const cases: { name: string; args: string[]; stdin?: string; env?: Record<string, string | undefined>; code: number; stdout?: string; stderr: string | RegExp }[] = [
  { name: 'kubectl prints stdout, exit 0', args: ['kubectl', 'get', 'pods'], code: 0, stdout: 'NAME     READY   STATUS    RESTARTS   AGE\nnetpod   1/1     Running   0          1m\n', stderr: '' },
  { name: 'kubectl exec passes the exit code', args: ['kubectl', 'exec', 'netpod', '--', 'curl', '-s', '10.0.0.1:8080'], code: 7, stdout: '', stderr: 'command terminated with exit code 7\n' },
  { name: 'kubectl options pass through verbatim', args: ['kubectl', '-n', 'kube-system', 'get', 'pods'], code: 1, stdout: '', stderr: 'error: unknown command "-n" for "kubectl"\n' },
  { name: 'kubectl apply -f - forwards stdin', args: ['kubectl', 'apply', '-f', '-'], stdin: 'kind: Pod\nmetadata:\n  name: stdinpod\n', code: 0, stdout: 'pod/stdinpod created\n', stderr: '' },
  { name: 'apply -f FILE', args: ['apply', '-f', manifest], code: 0, stdout: 'pod/webpod1 created\nservice/webpod created\n', stderr: '' },
  { name: 'apply -f - (stdin)', args: ['apply', '-f', '-'], stdin: 'kind: Pod\nmetadata:\n  name: webpod2\n', code: 0, stdout: 'pod/webpod2 created\n', stderr: '' },
  { name: 'apply of a bad manifest', args: ['apply', '-f', '-'], stdin: 'kind: Widget\nmetadata:\n  name: w\n', code: 1, stdout: '', stderr: 'dplab: error: resource mapping not found for kind "Widget"\n' },
  { name: 'apply of a missing file', args: ['apply', '-f', join(dir, 'nope.yaml')], code: 1, stdout: '', stderr: `dplab: the path "${join(dir, 'nope.yaml')}" does not exist\n` },
  { name: 'delete -f FILE', args: ['delete', '-f', manifest], code: 0, stdout: 'pod/webpod1 deleted\nservice/webpod deleted\n', stderr: '' },
  { name: 'ip on a node', args: ['ip', '--node', 'k8s-w1', '-4', 'addr'], code: 0, stdout: '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n', stderr: '' },
  { name: 'ip in a pod', args: ['ip', '--pod', 'netpod', 'route'], code: 0, stdout: 'netpod: ip route\n', stderr: '' },
  { name: 'ip without --node or --pod', args: ['ip', 'addr'], code: 1, stdout: '', stderr: 'dplab: ip: give --node NODE or --pod POD\n' },
  { name: 'bpftool on an unknown node', args: ['bpftool', '--node', 'k8s-w9', 'net', 'show'], code: 1, stdout: '', stderr: 'dplab: node "k8s-w9" not found\n' },
  { name: 'cilium runs cilium-dbg on the first node by default', args: ['cilium', 'version'], code: 0, stdout: 'Client: 1.16.3\n', stderr: '' },
  { name: 'server unreachable', args: ['kubectl', 'get', 'pods'], env: { DPLAB_SERVER: 'http://127.0.0.1:1' }, code: 1, stdout: '', stderr: 'dplab: cannot reach the dplab server at http://127.0.0.1:1 (is "dplab serve" running?)\n' },
  { name: '--server beats the environment', args: ['--server', 'http://127.0.0.1:1/', 'cilium', 'version'], code: 1, stdout: '', stderr: 'dplab: cannot reach the dplab server at http://127.0.0.1:1 (is "dplab serve" running?)\n' },
  { name: 'a malformed server URL', args: ['kubectl', 'get', 'pods'], env: { DPLAB_SERVER: 'not a url' }, code: 1, stdout: '', stderr: 'dplab: invalid server URL "not a url"\n' },
  { name: 'an unknown verb', args: ['frobnicate'], code: 1, stdout: '', stderr: "dplab: unknown command 'frobnicate'\n" },
  { name: 'tcpdump with an unsupported option', args: ['tcpdump', '-X'], code: 1, stdout: '', stderr: "dplab: unknown option '-X'\n" },
  { name: 'tcpdump with a bad filter', args: ['tcpdump', 'tcp', 'port'], code: 1, stdout: '', stderr: 'dplab: syntax error in filter expression: unexpected end of expression\n' },
  { name: 'tcpdump on an unknown interface', args: ['tcpdump', '--node', 'k8s-w1', '-i', 'eth9'], code: 1, stdout: '', stderr: 'dplab: eth9: No such device exists (SIOCGIFHWADDR: No such device)\n' },
];
// Sequential: some cases depend on objects earlier ones created.
for (const c of cases) {
  t.test(c.name, async (t) => {
    const r = await runCli(c.args, { ...env, ...c.env }, c.stdin);
    t.equal(r.code, c.code, 'exit code');
    if (c.stdout !== undefined) t.equal(r.stdout, c.stdout, 'stdout');
    if (typeof c.stderr === 'string') t.equal(r.stderr, c.stderr, 'stderr'); else t.match(r.stderr, c.stderr);
  });
}

const LISTENING = 'listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n';

t.test('tcpdump -c 2 -w FILE writes a pcap with 2 records', async (t) => {
  const file = join(dir, 'cap.pcap');
  const cli = startCli(['tcpdump', '--node', 'k8s-s', '-i', 'eth0', '-c', '2', '-w', file], env);
  await cli.waitFor('stderr', /listening on/);
  await cluster.sim.settle(cluster.sim.sleep(2_000_123));
  for (let i = 1; i <= 3; i++) cluster.emitFrame('k8s-s', 'eth0', pingFrame(i));
  const r = await cli.exited;
  t.equal(r.code, 0);
  t.equal(r.stdout, '');
  t.equal(r.stderr, `tcpdump: ${LISTENING}2 packets captured\n2 packets received by filter\n0 packets dropped by kernel\n`);
  const pcap = readPcap(new Uint8Array(readFileSync(file)));
  t.match(pcap, { nanosecond: false, linktype: 1, snaplen: 262144 });
  t.equal(pcap.records.length, 2);
  t.same([...pcap.records[1]!.data], [...pingFrame(2)], 'record holds the frame bytes');
  const wallMs = cluster.sim.wallMs();
  t.same([pcap.records[0]!.sec, pcap.records[0]!.frac], [Math.floor(wallMs / 1000), Math.floor((wallMs % 1000) * 1000)], 'stamped with the virtual wall clock in microseconds');
});

t.test('tcpdump -nn -c 2 with a filter prints tcpdump lines', async (t) => {
  const cli = startCli(['tcpdump', '--node', 'k8s-s', '-i', 'eth0', '-nn', '-c', '2', 'src', 'host', '172.16.1.111'], env);
  await cli.waitFor('stderr', /listening on/);
  const at = Date.UTC(2024, 9, 21, 11, 10, 5) - cluster.sim.epochMs;
  await cluster.sim.settle(cluster.sim.sleep(at * 1e6 - cluster.sim.now() + 250_999));
  for (let i = 1; i <= 3; i++) { cluster.emitFrame('k8s-s', 'eth0', pingFrame(i)); cluster.emitFrame('k8s-s', 'eth0', pingFrame(i, true)); }
  const r = await cli.exited;
  t.equal(r.code, 0);
  t.equal(r.stdout, [
    '11:10:05.000250 IP 172.16.1.111 > 172.16.0.230: ICMP echo reply, id 42, seq 1, length 64',
    '11:10:05.000250 IP 172.16.1.111 > 172.16.0.230: ICMP echo reply, id 42, seq 2, length 64', ''].join('\n'));
  t.equal(r.stderr, `tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n${LISTENING}2 packets captured\n2 packets received by filter\n0 packets dropped by kernel\n`);
});

t.test('tcpdump stops on SIGINT and prints its statistics', async (t) => {
  const cli = startCli(['tcpdump'], env);
  await cli.waitFor('stderr', /listening on eth0,/); // no -i: the first up non-loopback interface of the first node
  cluster.emitFrame('k8s-s', 'eth0', pingFrame(7));
  await cli.waitFor('stdout', /seq 7/);
  cli.child.kill('SIGINT');
  const r = await cli.exited;
  t.equal(r.code, 0);
  t.match(r.stdout, /ICMP echo request, id 42, seq 7, length 64\n\n$/);
  t.match(r.stderr, /\n1 packet captured\n1 packet received by filter\n0 packets dropped by kernel\n$/);
  t.equal(cluster.captureCount(), 0, 'the server dropped the capture');
});

t.test('cilium monitor streams lines until SIGINT', async (t) => {
  const cli = startCli(['cilium', '--node', 'k8s-w2', 'monitor'], env);
  while (cluster.monitorCount() === 0) await new Promise((r) => setTimeout(r, 10));
  cluster.emitMonitor('k8s-w1', 'other node');
  cluster.emitMonitor('k8s-w2', 'Listening for events on 2 CPUs with 64x4096 of shared memory');
  await cli.waitFor('stdout', /Listening/);
  cli.child.kill('SIGINT');
  const r = await cli.exited;
  t.equal(r.code, 0);
  t.equal(r.stdout, 'Listening for events on 2 CPUs with 64x4096 of shared memory\n');
});
