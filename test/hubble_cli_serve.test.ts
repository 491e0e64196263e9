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

t.test('serve --hubble-buffer N --flow-store DIR: each node\'s ring holds N, flows past it go to DIR/<node>', async (t) => {
  const { mkdtempSync, readdirSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'dplab-flows-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const serve = startCli(['serve', '--ephemeral', '--port', '0', '--hubble-port', '0', '--clock', 'fast', '--hubble-buffer', '15', '--flow-store', join(dir, 'store')]);
  t.teardown(() => { serve.child.kill('SIGKILL'); });
  await serve.waitFor('stdout', /Hubble API \(gRPC\) on 127\.0\.0\.1:\d+\n/);
  const http = /on (http:\/\/\S+)\n/.exec(serve.stdout)![1]!;
  const grpcAddr = /\(gRPC\) on (\S+)\n/.exec(serve.stdout)![1]!;
  const status = await runCli(['hubble', 'status', '--server', grpcAddr]);
  t.match(status.stdout, /^Current\/Max Flows: \d+\/45 /m, 'three nodes of 15');
  // Each curl is a new connection, 5 traced packets on each node (monitor aggregation hides the rest): more than a ring of 15 holds.
  for (let i = 0; i < 5; i++) t.equal((await runCli(['kubectl', 'exec', 'netpod', '--', 'curl', '-s', '172.16.2.180'], { DPLAB_SERVER: http })).code, 0);
  const nodes = await runCli(['hubble', 'list', 'nodes', '--server', grpcAddr]);
  t.ok(nodes.stdout.trimEnd().split('\n').slice(1).every((r) => / \d+\/15 \( *\d+\.\d\d%\)$/.test(r)), 'each node\'s ring is 15');
  const all = await runCli(['hubble', 'observe', '--server', grpcAddr, '--node-name', 'default/k8s-w2', '--to-pod', 'webpod2', '--port', '80', '--all']);
  t.equal(all.code, 0);
  t.equal(all.stdout.trimEnd().split('\n').filter((l) => /-> default\/webpod2:80 .* to-endpoint FORWARDED \(TCP Flags: SYN\)$/.test(l)).length, 5, 'every SYN, from the store past the ring');
  t.same(readdirSync(join(dir, 'store')).sort(), ['k8s-s', 'k8s-w1', 'k8s-w2']);
  serve.child.kill('SIGINT');
  t.equal((await serve.exited).code, 0);
});

t.test('serve --hubble-buffer: not 2^n-1, or out of range; --flow-store without a directory', async (t) => {
  for (const [v, msg] of <Array<[string, string]>>[['16', 'dplab: --hubble-buffer must be one less than a power of two (1, 3, 7, ... 4095, ... 65535), not "16"\n'],
    ['65536', 'dplab: --hubble-buffer must be an integer from 1 to 65535, not "65536"\n'], ['0', 'dplab: --hubble-buffer must be an integer from 1 to 65535, not "0"\n']]) {
    t.same(await runCli(['serve', '--ephemeral', '--port', '0', '--hubble-buffer', v]), { code: 1, stdout: '', stderr: msg }, `--hubble-buffer ${v}`);
  }
  t.same(await runCli(['serve', '--ephemeral', '--port', '0', '--flow-store', '']), { code: 1, stdout: '', stderr: 'dplab: --flow-store needs a directory\n' });
});
