// The hubble-relay pod answers Hubble's gRPC on :4245 inside the emulated
// network: a connection from netpod to the hubble-relay Service (ClusterIP
// :80, socket LB to the pod's 4245) reaches the same gRPC server as
// --hubble-port, in process; the listener takes a bounded number of
// connections. And `hubble observe -f` in an agent pod streams new flows until
// the exec is interrupted; `--server hubble-relay:80` there reads the relay.
import t from 'tap';
import * as grpcjs from '@grpc/grpc-js';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { Cluster } from '../src/cluster/cluster.ts';
import { TcpStream } from '../src/cluster/images/tcp_stream.ts';
import { startHubbleGrpc } from '../src/grpc/server.ts';
import { HubbleError } from '../src/hubble/errors.ts';
import { BRIDGE_PREFIX, bridgeStream } from '../src/hubble/grpc/bridge.ts';
import { HubbleClient } from '../src/hubble/grpc/client.ts';
import { healthService } from '../src/hubble/grpc/health.ts';
import type { HubbleService } from '../src/hubble/service.ts';
import type { TcpConnection } from '../src/kernel/api.ts';
import { ipToU32 } from '../src/wire/addr.ts';
import { runCli, startCli } from './helpers/run_cli.ts';

/** Bridge directories left under dir (a bridge removes its own once grpc-js has connected). */
const bridges = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith(BRIDGE_PREFIX));

t.test('in the emulated network: netpod -> hubble-relay Service :80 -> the relay pod\'s gRPC (ServerStatus); the listener is bounded', async (t) => {
  const c = Cluster.lab('cilium', { epochMs: Date.now() });
  const grpc = await startHubbleGrpc(c.hubble()!, { port: 0 });
  c.podApps.hubbleRelay = (conn) => grpc.injectConnection(conn);
  c.sim.useWallClock();
  const release = c.sim.holdWallClock();
  t.teardown(async () => { await grpc.close(); release(); await c.sim.wallClockStopped(); c.close(); });

  const vip = (await c.kubectl(['get', 'svc', '-n', 'kube-system', 'hubble-relay', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
  const netns = c.podContext('default', 'netpod').netns;
  const dial = async () => new TcpStream(await netns.sockets.tcpConnect({ ip: ipToU32(vip), port: 80 }));
  const client = await HubbleClient.over(await dial(), 'hubble-relay.kube-system:80');
  t.teardown(() => client.close());
  const status = await client.serverStatus();
  t.equal(status.num_connected_nodes?.value, 3, "the relay's answer: three nodes");
  t.match(status.version, /^1\.16\.3/);
  // An unknown method: UNIMPLEMENTED, from the same grpc-js server.
  const bridge = await bridgeStream(await dial());
  const raw = new grpcjs.Client(bridge.target, grpcjs.credentials.createInsecure());
  t.teardown(() => { raw.close(); bridge.close(); });
  const unknown = await new Promise<grpcjs.ServiceError | null>((resolve) => {
    raw.makeUnaryRequest('/observer.Observer/Nope', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), (e) => resolve(e));
  });
  t.equal(unknown?.code, grpcjs.status.UNIMPLEMENTED);

  // 62 more connections fill the relay's 64; the next one is closed at once (FIN), the others stay open.
  const open: TcpConnection[] = [];
  for (let i = 0; i < 62; i++) open.push(await netns.sockets.tcpConnect({ ip: ipToU32(vip), port: 80 }));
  const extra = await netns.sockets.tcpConnect({ ip: ipToU32(vip), port: 80 });
  const ended = await new Promise<boolean>((resolve) => { extra.onEnd(() => resolve(true)); setTimeout(() => resolve(false), 2000); });
  t.ok(ended, 'the 65th connection is closed by the relay');
  t.equal((await client.serverStatus()).num_connected_nodes?.value, 3, 'the first connection still answers');
  for (const o of open) o.end();
});

t.test('the agent pod\'s hubble --server hubble-relay:80 (grpc-js over the emulated connection): status, list nodes, errors; nothing left behind', async (t) => {
  // The bridges go under os.tmpdir(): this test's own, so other test files' bridges do not count.
  const tmp = mkdtempSync(join(tmpdir(), 'dplab-relay-test-'));
  const savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  const c = Cluster.lab('cilium', { epochMs: Date.now() });
  t.equal((await c.sim.settle(c.kubectl(['exec', 'netpod', '--', 'ping', '-c', '1', '172.16.2.180']))).exitCode, 0);
  const real = c.hubble()!;
  /** What the relay's GetFlows fails with after its flows (none: it ends OK). */
  let failWith: HubbleError | undefined;
  const svc: HubbleService = {
    getFlows: async (req, send, signal) => { await real.getFlows(req, send, signal); if (failWith) throw failWith; },
    serverStatus: () => real.serverStatus(), getNodes: () => real.getNodes(), getNamespaces: () => real.getNamespaces(),
  };
  const server = await startHubbleGrpc(svc, { port: 0 });
  const relayConns: Array<{ destroy(): void }> = [];
  const relay = (conn: Duplex): void => { relayConns.push(conn); server.injectConnection(conn); };
  c.podApps.hubbleRelay = relay;
  c.sim.useWallClock();
  const release = c.sim.holdWallClock();
  t.teardown(async () => {
    await server.close(); release(); await c.sim.wallClockStopped(); c.close();
    if (savedTmp === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = savedTmp;
    rmSync(tmp, { recursive: true, force: true });
  });
  const hubble = async (...args: string[]) => {
    const r = await c.kubectl(['exec', '-n', 'kube-system', 'ds/cilium', '-c', 'cilium-agent', '--', 'hubble', ...args]);
    t.same(bridges(tmp), [], `hubble ${args.join(' ')}: no bridge socket or directory left`);
    return r;
  };

  const st = await hubble('status', '--server', 'hubble-relay:80');
  t.match(st, { exitCode: 0, stderr: '', stdout: /^Healthcheck \(via hubble-relay:80\): Ok\nCurrent\/Max Flows: [\d,]+\/12,285 \(\d+\.\d\d%\)\nFlows\/s: (N\/A|\d+\.\d\d)\nConnected Nodes: 3\/3\n$/ },
    'the relay\'s health service, then its status: every node');
  const json = await hubble('status', '--server', 'hubble-relay:80', '-o', 'json');
  t.equal(json.exitCode, 0);
  t.match(JSON.parse(json.stdout), { num_connected_nodes: 3, max_flows: '12285' }, 'no health line outside compact output');

  const nodes = await hubble('list', 'nodes', '--server', 'hubble-relay:80');
  t.equal(nodes.exitCode, 0, nodes.stderr);
  const lines = nodes.stdout.trimEnd().split('\n');
  t.match(lines[0], /^NAME\s+STATUS\s+AGE\s+FLOWS\/S\s+CURRENT\/MAX-FLOWS$/);
  t.same(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2)), [['default/k8s-s', 'Connected'], ['default/k8s-w1', 'Connected'], ['default/k8s-w2', 'Connected']],
    'GetNodes answered by the relay: the three nodes');
  t.match(await hubble('list', 'nodes'), { exitCode: 1, stderr: /^rpc error: code = Unimplemented desc = GetNodes not implemented\n/ }, 'the local socket: the node\'s own observer, as before');

  const flows = await hubble('observe', '--server', 'hubble-relay:80', '--protocol', 'icmp', '--last', '2');
  t.equal(flows.exitCode, 0);
  // The relay asks each node for its last 2: netpod's node and webpod2's each saw the ping.
  t.match(flows.stdout, /^(\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3}: default\/netpod \(ID:\d+\) (->|<-) default\/webpod2 \(ID:\d+\) \S+ FORWARDED \(ICMPv4 Echo(Request|Reply)\)\n){4}$/);

  // A gRPC error after some flows: the flows, then hubble's rpc error line.
  failWith = new HubbleError('UNAVAILABLE', 'peer k8s-w1 is gone');
  const failed = await hubble('observe', '--server', 'hubble-relay:80', '--protocol', 'icmp', '--last', '1');
  t.match(failed, { exitCode: 1, stdout: /^(\w{3} .*\(ICMPv4 Echo(Request|Reply)\)\n)+$/, stderr: 'rpc error: code = Unavailable desc = peer k8s-w1 is gone\ncommand terminated with exit code 1\n' });
  failWith = undefined;

  // The connection closed mid-stream (a follow, after its first flow): grpc-js's Unavailable, exit 1.
  let out = '', err = '';
  const ac = new AbortController();
  const follow = c.kubectlStream(['exec', '-n', 'kube-system', 'ds/cilium', '-c', 'cilium-agent', '--', 'hubble', 'observe', '-f', '--server', 'hubble-relay:80', '--protocol', 'icmp'],
    (fd, text) => {
      if (fd === 'stderr') { err += text; return; }
      if (out === '') {
        t.same(bridges(tmp), [], 'while the stream runs, no listening bridge socket');
        for (const conn of relayConns.splice(0)) conn.destroy();
      }
      out += text;
    }, ac.signal);
  // A follow prints new flows only: ping until one comes (a bounded number of times).
  for (let i = 0; i < 10 && out === ''; i++) await c.kubectl(['exec', 'netpod', '--', 'ping', '-c', '1', '172.16.2.180']);
  if (out === '') ac.abort();
  const code = await follow;
  t.equal(code, 1);
  t.match(out, /\(ICMPv4 Echo(Request|Reply)\)\n/);
  t.match(err, /^rpc error: code = Unavailable desc = .+\ncommand terminated with exit code 1\n$/);
  t.same(bridges(tmp), []);

  // A relay that closes every connection at once: grpc-go's words for a server gone before its preface.
  c.podApps.hubbleRelay = (conn) => conn.destroy();
  const eof = 'rpc error: code = Unavailable desc = connection error: desc = "error reading server preface: EOF"';
  t.same(await hubble('status', '--server', 'hubble-relay:80'), { stdout: '', stderr: `failed getting status: ${eof}\ncommand terminated with exit code 1\n`, exitCode: 1 });
  t.same(await hubble('list', 'nodes', '--server', 'hubble-relay:80'), { stdout: '', stderr: `${eof}\ncommand terminated with exit code 1\n`, exitCode: 1 });

  // A server whose health service says NOT_SERVING: hubble prints what it answers, and stops there.
  const sick = new grpcjs.Server();
  sick.addService(healthService, { Check: (_call: unknown, cb: grpcjs.sendUnaryData<{ status: number }>) => cb(null, { status: 2 }), Watch: () => {} });
  const injector = sick.createConnectionInjector(grpcjs.ServerCredentials.createInsecure());
  t.teardown(() => { injector.destroy(); sick.forceShutdown(); });
  c.podApps.hubbleRelay = (conn) => injector.injectConnection(conn);
  t.same(await hubble('status', '--server', 'hubble-relay:80'), { stdout: 'Healthcheck (via hubble-relay:80): Unavailable: NOT_SERVING\n', stderr: 'not healthy\ncommand terminated with exit code 1\n', exitCode: 1 });
  c.podApps.hubbleRelay = relay;
});

t.test('kubectl exec ds/cilium -c cilium-agent -- hubble observe -f: new flows stream until Ctrl-C', async (t) => {
  // The server's own os.tmpdir(), to see that the in-pod hubble's bridges leave nothing there.
  const tmp = mkdtempSync(join(tmpdir(), 'dplab-relay-test-'));
  const serve = startCli(['serve', '--ephemeral', '--port', '0', '--hubble-port', '0'], { TMPDIR: tmp });
  t.teardown(() => { serve.child.kill('SIGKILL'); rmSync(tmp, { recursive: true, force: true }); });
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
  t.same(bridges(tmp), [], 'no bridge socket or directory left in the server\'s tmpdir');
  t.same(await agentHubble('observe', '--server', 'nope:80'), { code: 1, stdout: '',
    stderr: 'failed to connect to \'nope:80\': connection error: desc = "transport: error while dialing: dial tcp: lookup nope: no such host"\ncommand terminated with exit code 1\n' });
});
