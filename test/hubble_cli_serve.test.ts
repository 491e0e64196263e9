// `dplab serve --hubble-port`: the Hubble gRPC API beside the HTTP one, as a
// user starts and stops it; a port in use or out of range is one line, exit 1.
import t from 'tap';
import { createServer } from 'node:net';
import { runCli, startCli } from './helpers/run_cli.ts';

t.test('serve --hubble-port 0: the address printed, hubble status and observe answer, SIGINT stops both', async (t) => {
  const serve = startCli(['serve', '--ephemeral', '--port', '0', '--hubble-port', '0', '--clock', 'fast']);
  t.teardown(() => { serve.child.kill('SIGKILL'); });
  await serve.waitFor('stdout', /Hubble API \(gRPC\) on 127\.0\.0\.1:\d+\n/);
  t.match(serve.stdout, /^dplab serving lab "cilium" on http:\/\/127\.0\.0\.1:\d+\nHubble API \(gRPC\) on 127\.0\.0\.1:\d+\n$/);
  const http = /on (http:\/\/\S+)\n/.exec(serve.stdout)![1]!;
  const grpcAddr = /\(gRPC\) on (\S+)\n/.exec(serve.stdout)![1]!;

  const status = await runCli(['hubble', 'status'], { HUBBLE_SERVER: grpcAddr });
  t.equal(status.code, 0);
  t.match(status.stdout, new RegExp(`^Healthcheck \\(via ${grpcAddr.replace(/\./g, '\\.')}\\): Ok\\nCurrent/Max Flows: \\d+/12,285 .*\\nFlows/s: .*\\nConnected Nodes: 3/3\\n$`));
  const ping = await runCli(['kubectl', 'exec', 'netpod', '--', 'ping', '-c', '1', '172.16.2.180'], { DPLAB_SERVER: http });
  t.equal(ping.code, 0);
  const obs = await runCli(['hubble', 'observe', '--server', grpcAddr, '--to-pod', 'webpod2', '--protocol', 'icmp', '--print-node-name']);
  t.equal(obs.code, 0);
  t.match(obs.stdout, /^\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3} \[default\/k8s-w2\]: default\/netpod \(ID:\d+\) -> default\/webpod2 \(ID:\d+\) to-endpoint FORWARDED \(ICMPv4 EchoRequest\)$/m);

  serve.child.kill('SIGINT');
  const r = await serve.exited;
  t.equal(r.code, 0, 'clean exit on SIGINT');
  t.equal(r.stderr, '');
  const gone = await runCli(['hubble', 'status', '--server', grpcAddr]);
  t.match(gone, { code: 1, stdout: '', stderr: /^failed to connect to '127\.0\.0\.1:\d+': connection error: desc = "transport: error while dialing: dial tcp 127\.0\.0\.1:\d+: connect: connection refused"\n$/ });
});

t.test('serve --hubble-port: a port in use, or out of range', async (t) => {
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  t.teardown(() => busy.close());
  const port = (busy.address() as { port: number }).port;
  const r = await runCli(['serve', '--ephemeral', '--port', '0', '--hubble-port', String(port)]);
  t.same(r, { code: 1, stdout: '', stderr: `dplab: cannot listen on 127.0.0.1:${port} (--hubble-port): address already in use\n` });
  const bad = await runCli(['serve', '--ephemeral', '--port', '0', '--hubble-port', '99999']);
  t.same(bad, { code: 1, stdout: '', stderr: 'dplab: --hubble-port must be an integer from 0 to 65535, not "99999"\n' });
});
