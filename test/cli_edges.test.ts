// The CLI and message rough edges of issue 6, as users meet them: help and
// usage texts with the real tools' exit codes, kubectl exec's argument
// handling, empty manifests, a path in --server, stream limits seen from
// tcpdump and monitor, the {error} shape of requests the HTTP parser refuses,
// and the lab name /healthz reports.
import t from 'tap';
import { createServer, request } from 'node:http';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { launchServer } from '../src/api/launch.ts';
import { KUBECTL_HELP } from '../src/cluster/kubectl/help.ts';
import { VERB_HELP } from '../src/cluster/kubectl/help_verbs.ts';
import { BPFTOOL_HELP } from '../src/kernel/tools.ts';
import { monitorOutput } from '../src/cli/verbs.ts';
import { runCli } from './helpers/run_cli.ts';

// As `dplab serve --ephemeral --max-streams-per-client 1` would start it.
const server = await launchServer({ lab: 'cilium', seed: 1, port: 0, clock: 'fast', ephemeral: true, streams: { maxPerClient: 1 } });
t.teardown(() => server.close());
const env = { DPLAB_SERVER: server.url };

const DEPRECATED = 'kubectl exec [POD] [COMMAND] is DEPRECATED and will be removed in a future version. Use kubectl exec [POD] -- [COMMAND] instead.\n';

const cases: { name: string; args: string[]; stdin?: string; code: number; stdout?: string | RegExp; stderr: string | RegExp }[] = [
  { name: 'kubectl --help prints kubectl\'s root help', args: ['kubectl', '--help'], code: 0, stdout: KUBECTL_HELP, stderr: '' },
  { name: 'kubectl alone prints it too', args: ['kubectl'], code: 0, stdout: KUBECTL_HELP, stderr: '' },
  { name: 'kubectl help', args: ['kubectl', 'help'], code: 0, stdout: KUBECTL_HELP, stderr: '' },
  { name: 'kubectl get --help: get\'s own help', args: ['kubectl', 'get', '--help'], code: 0, stdout: VERB_HELP.get!, stderr: '' },
  { name: 'kubectl get pods -h', args: ['kubectl', 'get', 'pods', '-h'], code: 0, stdout: VERB_HELP.get!, stderr: '' },
  { name: 'kubectl help apply', args: ['kubectl', 'help', 'apply'], code: 0, stdout: VERB_HELP.apply!, stderr: '' },
  { name: 'kubectl exec --help', args: ['kubectl', 'exec', '--help'], code: 0, stdout: /^Execute a command in a container\.\n\nExamples:\n  # Get output from running the 'date' command from pod mypod, using the first container by default\n  kubectl exec mypod -- date\n/, stderr: '' },
  { name: 'kubectl exec POD -- CMD --help: the flag is the command\'s', args: ['kubectl', 'exec', 'netpod', '--', 'echo', '--help'], code: 0, stdout: '--help\n', stderr: '' },
  { name: 'kubectl help with an unknown topic: cobra\'s answer and the root usage', args: ['kubectl', 'help', 'nope'], code: 0, stdout: '', stderr: `Unknown help topic [\`nope\`]\n\n${KUBECTL_HELP.slice(KUBECTL_HELP.indexOf('\nBasic Commands'))}` },
  { name: 'kubectl exec POD CMD runs, with 1.30\'s deprecation warning', args: ['kubectl', 'exec', 'netpod', 'hostname'], code: 0, stdout: 'netpod\n', stderr: DEPRECATED },
  { name: 'kubectl exec -q POD CMD: no warning', args: ['kubectl', 'exec', '-q', 'netpod', 'hostname'], code: 0, stdout: 'netpod\n', stderr: '' },
  { name: 'kubectl exec -c with a container the pod lacks', args: ['kubectl', 'exec', 'netpod', '-c', 'nope', '--', 'ls'], code: 1, stdout: '', stderr: 'Error from server (BadRequest): container nope is not valid for pod netpod\n' },
  { name: 'kubectl exec -c with its container', args: ['kubectl', 'exec', 'netpod', '-c', 'netshoot-pod', '--', 'hostname'], code: 0, stdout: 'netpod\n', stderr: '' },
  { name: 'kubectl exec without a pod', args: ['kubectl', 'exec', '--', 'ls'], code: 1, stdout: '', stderr: 'error: pod, type/name or --filename must be specified\n' },
  { name: 'kubectl exec without a command', args: ['kubectl', 'exec', 'netpod'], code: 1, stdout: '', stderr: 'error: you must specify at least one command for the container\n' },
  { name: 'kubectl apply -f - of nothing', args: ['kubectl', 'apply', '-f', '-'], stdin: '', code: 1, stdout: '', stderr: 'error: no objects passed to apply\n' },
  { name: 'kubectl apply -f - of comments only', args: ['kubectl', 'apply', '-f', '-'], stdin: '# nothing\n---\n', code: 1, stdout: '', stderr: 'error: no objects passed to apply\n' },
  { name: 'kubectl delete -f - of nothing', args: ['kubectl', 'delete', '-f', '-'], stdin: '', code: 0, stdout: 'No resources found\n', stderr: '' },
  { name: 'dplab apply -f - of nothing', args: ['apply', '-f', '-'], stdin: '', code: 1, stdout: '', stderr: 'dplab: error: no objects passed to apply\n' },
  { name: 'dplab delete -f - of nothing', args: ['delete', '-f', '-'], stdin: '\n', code: 0, stdout: 'No resources found\n', stderr: '' },
  { name: 'bpftool --help: usage on stderr, exit 0', args: ['bpftool', '--help'], code: 0, stdout: '', stderr: BPFTOOL_HELP },
  { name: 'bpftool -h', args: ['bpftool', '-h'], code: 0, stdout: '', stderr: BPFTOOL_HELP },
  { name: 'bpftool alone runs "help"', args: ['bpftool'], code: 0, stdout: '', stderr: BPFTOOL_HELP },
  { name: 'bpftool with an unknown object: usage, 255', args: ['bpftool', 'frob'], code: 255, stdout: '', stderr: BPFTOOL_HELP },
  { name: 'bpftool with an unknown option', args: ['bpftool', '-x', 'net'], code: 255, stdout: '', stderr: `Error: unrecognized option '-x'\n${BPFTOOL_HELP}` },
  { name: 'cilium status: Hubble is not serving', args: ['cilium', 'status'], code: 0, stdout: /^Hubble:\s+Disabled$/m, stderr: '' },
  { name: 'a query in --server is refused', args: ['--server', `${server.url}/?x=1`, 'kubectl', 'get', 'pods'], code: 1, stdout: '', stderr: `dplab: invalid server URL "${server.url}/?x=1": only http://HOST:PORT[/PATH], no query, fragment or credentials\n` },
  { name: 'a path in --server is used: here nothing serves it', args: ['--server', `${server.url}/lab`, 'kubectl', 'get', 'pods'], code: 1, stdout: '', stderr: 'dplab: no route POST /lab/v1/kubectl\n' },
];
for (const c of cases) {
  t.test(c.name, async (t) => {
    const r = await runCli(c.args, env, c.stdin);
    t.equal(r.code, c.code, 'exit code');
    if (typeof c.stdout === 'string') t.equal(r.stdout, c.stdout, 'stdout'); else if (c.stdout) t.match(r.stdout, c.stdout, 'stdout');
    if (typeof c.stderr === 'string') t.equal(r.stderr, c.stderr, 'stderr'); else t.match(r.stderr, c.stderr, 'stderr');
  });
}

t.test('a path in --server is honoured behind a proxy that serves the lab under it', async (t) => {
  const target = new URL(server.url);
  const proxy = createServer((req, res) => {
    if (!req.url?.startsWith('/lab/')) { res.writeHead(502).end(); return; }
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url.slice(4), headers: req.headers }, (r) => { res.writeHead(r.statusCode!, r.headers); r.pipe(res); });
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.teardown(() => proxy.close());
  const { port } = proxy.address() as { port: number };
  const r = await runCli(['--server', `http://127.0.0.1:${port}/lab/`, 'kubectl', 'get', 'pod', 'netpod', '-o', 'name'], {});
  t.same([r.code, r.stdout, r.stderr], [0, 'pod/netpod\n', '']);
});

t.test('streams beyond the per-client limit: tcpdump and monitor print the server\'s refusal, exit 1', async (t) => {
  const held = new WebSocket(`${server.url.replace('http', 'ws')}/v1/nodes/k8s-s/monitor`);
  await new Promise((r) => held.once('open', r));
  t.teardown(() => held.close());
  const refusal = 'dplab: too many streams from 127.0.0.1: 1 open, the most one client may have (dplab serve --max-streams-per-client)\n';
  for (const args of [['tcpdump', '--node', 'k8s-s', '-i', 'ens5', '-c', '1'], ['cilium', '--node', 'k8s-w1', 'monitor']]) {
    const r = await runCli(args, env);
    t.same([r.code, r.stderr.split('\n').filter((l) => l.startsWith('dplab:')).join('\n') + '\n'], [1, refusal], args.join(' '));
  }
});

t.test('monitor prints a loss report as cilium-dbg monitor prints a lost record', async (t) => {
  t.equal(monitorOutput({ lost: 7 }), 'CPU 00: Lost 7 events\n');
  t.equal(monitorOutput({ text: '-> endpoint 1' }), '-> endpoint 1\n');
  t.equal(monitorOutput({ error: 'x' }), undefined);
});

/** Writes raw bytes to the server and reads the whole answer. */
function raw(bytes: string): Promise<string> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), '127.0.0.1', () => s.end(bytes));
    let out = '';
    s.on('data', (d) => { out += d.toString(); });
    s.on('close', () => resolve(out));
    s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? resolve(out) : reject(e)));
  });
}

const malformed: { name: string; bytes: string; status: number; error: RegExp }[] = [
  { name: 'a request line that is not HTTP', bytes: 'HELLO THERE\r\n\r\n', status: 400, error: /^malformed HTTP request: / },
  { name: 'a header without a colon', bytes: 'GET /healthz HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n', status: 400, error: /^malformed HTTP request: / },
  { name: 'headers over Node\'s limit', bytes: `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431, error: /^request headers too large \(the server takes \d+ bytes\)$/ },
];
for (const c of malformed) {
  t.test(`${c.name}: ${c.status} with {error}`, async (t) => {
    const answer = await raw(c.bytes);
    t.match(answer, new RegExp(`^HTTP/1\\.1 ${c.status} `), 'status line');
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as object;
    t.same(Object.keys(body), ['error'], 'only {error}');
    t.match(body, { error: c.error });
    t.equal((await fetch(`${server.url}/healthz`)).status, 200, '/healthz still answers');
  });
}

t.test('/healthz names the lab as start-up does', async (t) => {
  t.equal(server.label, 'cilium');
  t.match(await (await fetch(`${server.url}/healthz`)).json(), { ok: true, lab: 'cilium' });
});

t.test('dplab serve checks the stream flags', async (t) => {
  const r = await runCli(['serve', '--ephemeral', '--port', '0', '--stream-buffer-kb', '0']);
  t.same([r.code, r.stderr], [1, 'dplab: --stream-buffer-kb must be an integer from 1 to 1048576, not "0"\n']);
});
