// The hubble-relay pod answers Hubble's gRPC on :4245 inside the emulated
// network: a connection from netpod to the hubble-relay Service (ClusterIP
// :80, socket LB to the pod's 4245) reaches the same gRPC server as
// --hubble-port, in process; the listener takes a bounded number of
// connections. And `hubble observe -f` in an agent pod streams new flows until
// the exec is interrupted; `--server hubble-relay:80` there reads the relay.
import t from 'tap';
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { Cluster } from '../src/cluster/cluster.ts';
import { TcpStream } from '../src/cluster/images/tcp_stream.ts';
import { startHubbleGrpc } from '../src/grpc/server.ts';
import { ServerStatusRequest, ServerStatusResponse } from '../src/hubble/proto.ts';
import type { TcpConnection } from '../src/kernel/api.ts';
import { ipToU32 } from '../src/wire/addr.ts';
import { runCli, startCli } from './helpers/run_cli.ts';

/** One unary gRPC call over an HTTP/2 session: the response bytes and grpc-status. */
function unary(session: ClientHttp2Session, path: string, req: Uint8Array): Promise<{ status: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const s = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    // A trailers-only answer (an error before any message) carries grpc-status in its headers.
    s.on('response', (h) => { if (h['grpc-status'] !== undefined) resolve({ status: String(h['grpc-status']), body: Buffer.alloc(0) }); });
    s.on('trailers', (h) => {
      const all = Buffer.concat(chunks);
      resolve({ status: String(h['grpc-status']), body: all.subarray(5, 5 + all.readUInt32BE(1)) });
    });
    s.on('error', reject);
    const frame = Buffer.alloc(5 + req.length);
    frame.writeUInt32BE(req.length, 1);
    frame.set(req, 5);
    s.end(frame);
  });
}

t.test('in the emulated network: netpod -> hubble-relay Service :80 -> the relay pod\'s gRPC (ServerStatus); the listener is bounded', async (t) => {
  const c = Cluster.lab('cilium', { epochMs: Date.now() });
  const grpc = await startHubbleGrpc(c.hubble()!, { port: 0 });
  c.podApps.hubbleRelay = (conn) => grpc.injectConnection(conn);
  c.sim.useWallClock();
  const release = c.sim.holdWallClock();
  t.teardown(async () => { await grpc.close(); release(); await c.sim.wallClockStopped(); c.close(); });

  const vip = (await c.kubectl(['get', 'svc', '-n', 'kube-system', 'hubble-relay', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
  const netns = c.podContext('default', 'netpod').netns;
  const conn = await netns.sockets.tcpConnect({ ip: ipToU32(vip), port: 80 });
  const stream = new TcpStream(conn);
  const session = h2connect('http://hubble-relay.kube-system', { createConnection: () => stream });
  t.teardown(() => session.destroy());
  const r = await unary(session, '/observer.Observer/ServerStatus', ServerStatusRequest.encode({}).finish());
  t.equal(r.status, '0', 'grpc-status OK');
  const status = ServerStatusResponse.toObject(ServerStatusResponse.decode(r.body)) as { num_connected_nodes?: { value?: number }; version?: string };
  t.equal(status.num_connected_nodes?.value, 3, "the relay's answer: three nodes");
  t.match(status.version, /^1\.16\.3/);
  const unknown = await unary(session, '/observer.Observer/Nope', new Uint8Array());
  t.equal(unknown.status, '12', 'an unknown method: UNIMPLEMENTED, from the same grpc-js server');

  // 63 more connections fill the relay's 64; the next one is closed at once (FIN), the others stay open.
  const open: TcpConnection[] = [];
  for (let i = 0; i < 63; i++) open.push(await netns.sockets.tcpConnect({ ip: ipToU32(vip), port: 80 }));
  const extra = await netns.sockets.tcpConnect({ ip: ipToU32(vip), port: 80 });
  const ended = await new Promise<boolean>((resolve) => { extra.onEnd(() => resolve(true)); setTimeout(() => resolve(false), 2000); });
  t.ok(ended, 'the 65th connection is closed by the relay');
  const r2 = await unary(session, '/observer.Observer/ServerStatus', ServerStatusRequest.encode({}).finish());
  t.equal(r2.status, '0', 'the first connection still answers');
  for (const o of open) o.end();
});

t.test('kubectl exec ds/cilium -c cilium-agent -- hubble observe -f: new flows stream until Ctrl-C', async (t) => {
  const serve = startCli(['serve', '--ephemeral', '--port', '0', '--hubble-port', '0']);
  t.teardown(() => { serve.child.kill('SIGKILL'); });
  await serve.waitFor('stdout', /Hubble API \(gRPC\) on \S+\n/);
  const env = { DPLAB_SERVER: /on (http:\/\/\S+)\n/.exec(serve.stdout)![1]! };

  const follow = startCli(['kubectl', 'exec', '-n', 'kube-system', 'ds/cilium', '-c', 'cilium-agent', '--', 'hubble', 'observe', '-f', '--protocol', 'icmp'], env);
  t.teardown(() => { follow.child.kill('SIGKILL'); });
  // Whichever node ds/cilium lands on, netpod's pings to both webpods pass it (netpod's node sees both).
  let pings = 0;
  while (!/EchoReply/.test(follow.stdout) && pings < 10) {
    t.equal((await runCli(['kubectl', 'exec', 'netpod', '--', 'sh', '-c', 'ping -c 1 172.16.1.111; ping -c 1 172.16.2.180'], env)).code, 0);
    pings++;
  }
  t.match(follow.stdout, /^\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3}: default\/netpod \(ID:\d+\) -> default\/webpod\d \(ID:\d+\) to-\S+ FORWARDED \(ICMPv4 EchoRequest\)$/m, 'a new flow, printed while the command still runs');
  t.ok(follow.stdout.trimEnd().split('\n').every((l) => /\(ICMPv4 Echo(Request|Reply)\)$/.test(l)), 'only what --protocol icmp lets through');
  t.equal(follow.child.exitCode, null, 'still following');

  follow.child.kill('SIGINT');
  const r = await follow.exited;
  t.equal(r.code, 130, 'interrupted as kubectl is by Ctrl-C');
  t.equal(r.stderr, '');
  const after = await runCli(['kubectl', 'exec', '-n', 'kube-system', 'ds/cilium', '-c', 'cilium-agent', '--', 'hubble', 'observe', '--last', '1', '--protocol', 'icmp'], env);
  t.equal(after.code, 0, 'the server goes on: a one-shot observe after it');
  t.equal(after.stdout.trimEnd().split('\n').length, 1);

  const bad = await runCli(['kubectl', 'exec', '-n', 'kube-system', 'ds/cilium', '-c', 'cilium-agent', '--', 'hubble', 'observe', '-f', '-o', 'table'], env);
  t.same(bad, { code: 1, stdout: '', stderr: 'table output format is not compatible with follow mode\ncommand terminated with exit code 1\n' });

  // --server HOST:PORT: the agent pod's hubble dials the relay Service over the node's network (names through cluster DNS).
  const agentHubble = (...args: string[]) => runCli(['kubectl', 'exec', '-n', 'kube-system', 'ds/cilium', '-c', 'cilium-agent', '--', 'hubble', ...args], env);
  const viaRelay = await agentHubble('observe', '--server', 'hubble-relay:80', '--protocol', 'icmp', '--to-pod', 'webpod2', '--last', '1');
  t.equal(viaRelay.code, 0);
  t.match(viaRelay.stdout, /^\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3}: default\/netpod \(ID:\d+\) -> default\/webpod2 \(ID:\d+\) to-\S+ FORWARDED \(ICMPv4 EchoRequest\)$/m, 'flows from the relay');
  const st = await agentHubble('status', '--server', 'hubble-relay.kube-system.svc.cluster.local:80');
  t.match(st, { code: 0, stdout: /^Healthcheck \(via hubble-relay\.kube-system\.svc\.cluster\.local:80\): Ok\n[^]*\nConnected Nodes: 3\/3\n$/ }, 'the relay\'s status: every node');
  t.same(await agentHubble('observe', '--server', 'nope:80'), { code: 1, stdout: '',
    stderr: 'failed to connect to \'nope:80\': connection error: desc = "transport: error while dialing: dial tcp: lookup nope: no such host"\ncommand terminated with exit code 1\n' });
});
