// `hubble` inside the Cilium agent pods: `kubectl exec -n kube-system <agent>
// -c cilium-agent -- hubble ...` reads that node's own observer (the agent's
// unix socket), with the same flags and printer as `dplab hubble`.
import t from 'tap';
import { compactLine } from '../src/hubble/printer/flows.ts';
import { inPod, kubectl, seedLab } from './helpers/lab.ts';

const lab = seedLab();
t.teardown(() => lab.close());

/** Agent pod name -> node, from kubectl as a user reads it. */
async function agents(): Promise<Array<{ name: string; node: string }>> {
  const r = await kubectl(lab, ['get', 'pod', '-n', 'kube-system', '-l', 'k8s-app=cilium', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName}{"\\n"}{end}']);
  return r.stdout.trim().split('\n').map((l) => { const [name, node] = l.split(' '); return { name: name!, node: node! }; });
}
const hubble = (pod: string, ...args: string[]) => kubectl(lab, ['exec', '-n', 'kube-system', pod, '-c', 'cilium-agent', '--', 'hubble', ...args]);

t.before(async () => {
  // Traffic that crosses nodes: each node's observer sees its own side of it.
  const ip = (await kubectl(lab, ['get', 'pod', 'webpod2', '-o', 'jsonpath={.status.podIP}'])).stdout;
  await inPod(lab, 'netpod', ['curl', '-s', ip]);
  await inPod(lab, 'netpod', ['ping', '-c', '1', ip]);
});

t.test('observe: each agent prints its own node\'s flows, as the relay\'s --node-name would', async (t) => {
  const list = await agents();
  t.equal(list.length, 3);
  for (const { name, node } of list) {
    const r = await hubble(name, 'observe', '--pod', 'netpod', '--last', '50');
    t.equal(r.exitCode, 0, node);
    t.equal(r.stderr, '');
    const want: string[] = [];
    await lab.hubbleNode(node)!.getFlows({ number: 50, whitelist: [{ source_pod: ['default/netpod'] }, { destination_pod: ['default/netpod'] }] },
      (x) => { if (x.flow) want.push(compactLine(x.flow, { timeLayout: 'StampMilli', nodeName: false, ipTranslation: true }).trimEnd()); }, new AbortController().signal);
    // netpod (k8s-s) talked to webpod2 (k8s-w2): k8s-w1's observer has nothing of it.
    t.equal(want.length > 0, node !== 'k8s-w1', `${node} saw netpod's traffic or not`);
    t.same(r.stdout === '' ? [] : r.stdout.trimEnd().split('\n'), want, `${node}: the node's observer, hubble's compact lines`);
    const printed = await hubble(name, 'observe', '--pod', 'netpod', '--last', '2', '--print-node-name');
    const lines = printed.stdout === '' ? [] : printed.stdout.trimEnd().split('\n');
    t.equal(lines.length, want.length === 0 ? 0 : 2);
    t.ok(lines.every((l) => l.includes(` [default/${node}]: `)), 'flows carry the agent\'s node name');
  }
});

t.test('status: the local socket, no connected-nodes count', async (t) => {
  const [{ name }] = await agents() as [{ name: string; node: string }];
  const r = await hubble(name, 'status');
  t.equal(r.exitCode, 0);
  t.match(r.stdout, /^Healthcheck \(via unix:\/\/\/var\/run\/cilium\/hubble\.sock\): Ok\nCurrent\/Max Flows: [\d,]+\/4,095 \(\d+\.\d\d%\)\nFlows\/s: (N\/A|\d+\.\d\d)\n$/);
});

t.test('errors as hubble prints them, exit 1', async (t) => {
  const [{ name }] = await agents() as [{ name: string; node: string }];
  t.same(await hubble(name, 'list', 'nodes'), { stdout: '', stderr: 'rpc error: code = Unimplemented desc = GetNodes not implemented\ncommand terminated with exit code 1\n', exitCode: 1 }, 'a node\'s observer knows no peers');
  t.same(await hubble(name, 'observe', '--last', '5', '--all'), { stdout: '', stderr: 'cannot set both --last and --all\ncommand terminated with exit code 1\n', exitCode: 1 });
  const other = await hubble(name, 'observe', '--server', 'localhost:4245');
  t.equal(other.exitCode, 1);
  // Another --server is dialled over the node's network (test/hubble_relay: the relay Service); nothing listens on the node's 4245.
  t.equal(other.stderr, 'failed to connect to \'localhost:4245\': connection error: desc = "transport: error while dialing: dial tcp 127.0.0.1:4245: connect: connection refused"\ncommand terminated with exit code 1\n');
  // A library cluster has no gRPC server behind the relay pod (dplab serve plugs one in): it closes the connection at once.
  t.same(await hubble(name, 'list', 'nodes', '--server', 'hubble-relay:80'), { stdout: '', exitCode: 1,
    stderr: 'rpc error: code = Unavailable desc = connection error: desc = "error reading server preface: EOF"\ncommand terminated with exit code 1\n' });
  const f = await hubble(name, 'observe', '-f');
  t.equal(f.exitCode, 1, 'follow never ends inside an exec here: refused');
});
