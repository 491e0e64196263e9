// `dplab kubectl port-forward`: the hubble-relay Service's gRPC API reached
// through a forwarded local port with our own Hubble client (ServerStatus,
// health, GetFlows with a filter), a pod's own port (whoami over HTTP), a
// refused pod port, and kubectl's errors for bad input. One wall-clock server.
import t, { type Test } from 'tap';
import { createServer, type Server } from 'node:net';
import { HubbleClient } from '../src/hubble/grpc/client.ts';
import { uint64 } from '../src/hubble/service.ts';
import type { GetFlowsResponseObject } from '../src/hubble/proto.ts';
import { runCli, startCli, type LiveCli } from './helpers/run_cli.ts';

const serve = startCli(['serve', '--ephemeral', '--port', '0', '--hubble-port', '0']);
t.teardown(() => { serve.child.kill('SIGKILL'); });
await serve.waitFor('stdout', /Hubble API \(gRPC\) on \S+\n/);
const env = { DPLAB_SERVER: /on (http:\/\/\S+)\n/.exec(serve.stdout)![1]! };
const kubectl = (...args: string[]) => runCli(['kubectl', ...args], env);

/** Starts a port-forward and waits for its listeners; the local port it took. */
async function forward(t: Test, ...args: string[]): Promise<{ pf: LiveCli; port: number }> {
  const pf = startCli(['kubectl', 'port-forward', ...args], env);
  t.teardown(() => { pf.child.kill('SIGKILL'); });
  await pf.waitFor('stdout', /Forwarding from \[::1\]:\d+ -> \d+\n/);
  return { pf, port: Number(/^Forwarding from 127\.0\.0\.1:(\d+) -> /.exec(pf.stdout)![1]) };
}

t.test('kubectl get svc -n kube-system lists hubble-relay (80/TCP) with the relay pod as its endpoint', async (t) => {
  const svc = await kubectl('get', 'svc', '-n', 'kube-system');
  t.match(svc.stdout, /^hubble-relay {3}ClusterIP {3}10\.\d+\.\d+\.\d+ +<none> +80\/TCP +\S+$/m);
  const ep = await kubectl('get', 'endpoints', '-n', 'kube-system', 'hubble-relay');
  t.match(ep.stdout, /^hubble-relay {3}172\.16\.1\.78:4245 +\S+$/m);
});

t.test('port-forward svc/hubble-relay :80: Hubble gRPC through the forwarded port', async (t) => {
  const { pf, port } = await forward(t, '-n', 'kube-system', 'svc/hubble-relay', ':80');
  t.equal(pf.stdout, `Forwarding from 127.0.0.1:${port} -> 4245\nForwarding from [::1]:${port} -> 4245\n`, "kubectl's lines: the service port became the pod's 4245");

  t.equal((await kubectl('exec', 'netpod', '--', 'curl', '-s', '-o', '/dev/null', '172.16.2.180')).code, 0, 'traffic to webpod2');
  const client = await HubbleClient.dial(`127.0.0.1:${port}`);
  t.teardown(() => client.close());
  const status = await client.serverStatus();
  t.equal(status.num_connected_nodes?.value, 3, 'ServerStatus from the relay: three nodes');
  t.equal(uint64(status.max_flows), 3 * 4095);
  t.equal(await client.health('hubble.server.Observer'), 'SERVING');

  const got: GetFlowsResponseObject[] = [];
  await client.getFlows({ number: 100, whitelist: [{ destination_pod: ['default/webpod2'] }, { source_pod: ['default/webpod2'] }] }, (r) => { got.push(r); });
  t.same(got[0]?.node_status?.node_names, ['default/k8s-s', 'default/k8s-w1', 'default/k8s-w2'], 'the relay names its nodes first');
  const flows = got.filter((r) => r.flow).map((r) => r.flow!);
  t.ok(flows.length > 0, 'flows of the curl');
  t.ok(flows.every((f) => f.source?.pod_name === 'webpod2' || f.destination?.pod_name === 'webpod2'), 'only flows the filter lets through');
  t.ok(flows.some((f) => f.l4?.TCP?.destination_port === 80), 'the TCP flow to :80');
  t.match(pf.stdout, new RegExp(`Handling connection for ${port}\\n`), 'the connection was announced');

  pf.child.kill('SIGINT');
  t.equal((await pf.exited).code, 0, 'Ctrl-C stops it');
  await t.rejects(HubbleClient.dial(`127.0.0.1:${port}`), /connection refused/, 'the local port is closed');
});

t.test('port-forward pod/NAME LOCAL:REMOTE: whoami answers through it; a port nothing listens on is kubelet\'s error', async (t) => {
  const { port } = await forward(t, 'pod/webpod1', '0:80');
  const body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
  t.match(body, /^Hostname: webpod1\n/);
  t.match(body, /^RemoteAddr: 127\.0\.0\.1:\d+$/m, 'kubelet connects inside the pod, from localhost');

  const { pf, port: refused } = await forward(t, 'pod/netpod', '0:9999');
  await t.rejects(fetch(`http://127.0.0.1:${refused}/`));
  await pf.waitFor('stderr', /\n/);
  t.match(pf.stderr, new RegExp(`^E\\d{4} \\d\\d:\\d\\d:\\d\\d\\.\\d{6} +\\d+ portforward\\.go:413\\] an error occurred forwarding ${refused} -> 9999: error forwarding port 9999 to pod netpod, uid : failed to connect to localhost:9999 inside namespace "[^"]+", IPv4: dial tcp4 127\\.0\\.0\\.1:9999: connect: connection refused\\n$`));
});

t.test('bad input: kubectl\'s error lines, exit 1', async (t) => {
  const cases: Array<[string[], string]> = [
    [['-n', 'kube-system', 'svc/nope', '4245:80'], 'Error from server (NotFound): services "nope" not found\n'],
    [['pod/nope', '80'], 'Error from server (NotFound): pods "nope" not found\n'],
    [['-n', 'kube-system', 'svc/hubble-relay', 'abc:80'], 'error: error parsing local port \'abc\': strconv.ParseUint: parsing "abc": invalid syntax\n'],
    [['-n', 'kube-system', 'svc/hubble-relay', '70000:80'], 'error: error parsing local port \'70000\': strconv.ParseUint: parsing "70000": value out of range\n'],
    [['pod/webpod1', '1:2:3'], 'error: invalid port format \'1:2:3\'\n'],
    [['pod/webpod1', '8080:0'], 'error: remote port must be > 0\n'],
    [['-n', 'kube-system', 'svc/hubble-relay', '81'], 'error: Service hubble-relay does not have a service port 81\n'],
    [['-n', 'kube-system', 'svc/hubble-relay', '4245:grpc'], 'error: Service \'hubble-relay\' does not have a named port \'grpc\'\n'],
    [['pod/webpod1', 'web'], 'error: Pod \'webpod1\' does not have a named port \'web\'\n'],
    [['-n', 'kube-system', 'svc/hubble-relay'], 'error: TYPE/NAME and list of ports are required for port-forward\nSee \'kubectl port-forward -h\' for help and examples\n'],
    [['--bogus', 'pod/webpod1', '80'], 'error: unknown flag: --bogus\nSee \'kubectl port-forward --help\' for usage.\n'],
  ];
  // Three through the CLI (a server answer, a server usage error, the CLI's own flag check); the rest as the API answers them, which the CLI prints as they are.
  for (const i of [0, 9, 10]) t.same(await kubectl('port-forward', ...cases[i]![0]), { code: 1, stdout: '', stderr: cases[i]![1] }, cases[i]![0].join(' '));
  for (const [args, stderr] of cases.slice(1, 9)) {
    const ns = args[0] === '-n' ? args[1] : undefined;
    const [resource, ...ports] = ns ? args.slice(2) : args;
    const res = await fetch(`${env.DPLAB_SERVER}/v1/portforward/plan`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ namespace: ns, resource, ports }) });
    t.equal(res.status, stderr.startsWith('Error from server (NotFound)') ? 404 : 400, `${args.join(' ')}: status`);
    t.equal(((await res.json()) as { error: string }).error + '\n', stderr, args.join(' '));
  }
});

t.test('a local port in use on both addresses: kubectl\'s listener errors', async (t) => {
  const listen = (host: string, port: number) => new Promise<Server>((res, rej) => { const s = createServer(); s.once('error', rej); s.listen(port, host, () => res(s)); });
  const v4 = await listen('127.0.0.1', 0);
  const port = (v4.address() as { port: number }).port;
  const v6 = await listen('::1', port);
  t.teardown(() => { v4.close(); v6.close(); });
  t.same(await kubectl('port-forward', '-n', 'kube-system', 'svc/hubble-relay', `${port}:80`), {
    code: 1, stdout: '',
    stderr: `Unable to listen on port ${port}: Listeners failed to create with the following errors: [unable to create listener: Error listen tcp4 127.0.0.1:${port}: bind: address already in use unable to create listener: Error listen tcp6 [::1]:${port}: bind: address already in use]\n`
      + `error: unable to listen on any of the requested ports: [{${port} 4245}]\n`,
  });
});
