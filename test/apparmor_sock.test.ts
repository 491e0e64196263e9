// AppArmor's socket mediation as Ubuntu 24.04's 6.8 kernels run it, seen
// through Cilium's cgroup/getpeername4 hook in Hubble: a confined server's
// first read(2) and first write(2) on a connection each look up the peer
// twice (one pre-xlate-rev TRACED line each), on top of accept(2)'s one.
// recv/send skip the check, a privileged or Unconfined container is not
// mediated, and a connection's granted access is cached.
import t from 'tap';
import type { BpfProgram, SockAddrCtx } from '../src/bpf/program.ts';
import { compactLine } from '../src/hubble/printer/flows.ts';
import type { TcpConnection } from '../src/kernel/api.ts';
import { buildTestbed, SEED_SPEC } from '../src/kernel/testbed.ts';
import { Sim } from '../src/sim/sim.ts';
import { drain, inPod, kubectl, seedLab } from './helpers/lab.ts';

const lab = seedLab();
t.teardown(() => lab.close());

/** A pod on k8s-w2 running image, with extra pod-spec / container lines (YAML, indented to fit) and metadata annotations. */
function pod(name: string, image: string, opts: { podSpec?: string; container?: string; annotations?: string } = {}): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {app: ${name}}
${opts.annotations ? `  annotations: {${opts.annotations}}\n` : ''}spec:
  nodeName: k8s-w2
${opts.podSpec ?? ''}  containers:
    - name: app
      image: ${image}
${opts.container ?? ''}`;
}

/** The pre-xlate-rev lines node's Hubble (k8s-w2's unless named) holds for connections to pod. */
async function tracedFor(podName: string, node = 'k8s-w2'): Promise<number> {
  let n = 0;
  await lab.hubbleNode(node)!.getFlows({ number: 1000, whitelist: [{ destination_pod: [podName] }] }, (r) => {
    if (r.flow && compactLine(r.flow, { timeLayout: 'StampMilli', nodeName: false, ipTranslation: true }).includes(' pre-xlate-rev TRACED (TCP)')) n++;
  }, new AbortController().signal);
  return n;
}

const CASES: Array<{ name: string; yaml: string; port: number; want: number; why: string }> = [
  { name: 'who-default', yaml: pod('who-default', 'traefik/whoami'), port: 80, want: 5, why: 'Go: accept4 (1), first read(2) (2), first write(2) (2)' },
  { name: 'who-priv', yaml: pod('who-priv', 'traefik/whoami', { container: '      securityContext: {privileged: true}\n' }), port: 80, want: 1, why: 'privileged: unconfined, accept4 only' },
  { name: 'who-unconf', yaml: pod('who-unconf', 'traefik/whoami', { podSpec: '  securityContext: {appArmorProfile: {type: Unconfined}}\n' }), port: 80, want: 1, why: 'appArmorProfile Unconfined' },
  { name: 'who-annot', yaml: pod('who-annot', 'traefik/whoami', { annotations: 'container.apparmor.security.beta.kubernetes.io/app: unconfined' }), port: 80, want: 1, why: 'the beta annotation' },
  { name: 'who-rtdef', yaml: pod('who-rtdef', 'traefik/whoami', { container: '      securityContext: {appArmorProfile: {type: RuntimeDefault}}\n' }), port: 80, want: 5, why: 'RuntimeDefault is confined' },
  { name: 'web-nginx', yaml: pod('web-nginx', 'nginx'), port: 80, want: 3, why: 'nginx: accept4 (1), recv(2) (0), first writev(2) (2)' },
  { name: 'web-node', yaml: pod('web-node', 'gcr.io/google-samples/node-hello:1.0', { container: '      ports: [{containerPort: 8080}]\n' }), port: 8080, want: 5, why: 'libuv: accept4 (1), read(2) on data (2), write(2) (2)' },
];

t.test('pre-xlate-rev lines per connection a server in k8s-w2 accepts from netpod', async (t) => {
  for (const c of CASES) {
    const applied = await kubectl(lab, ['apply', '-f', '-'], c.yaml);
    t.equal(applied.exitCode, 0, `${c.name}: ${applied.stderr}`);
    await drain(lab);
    const ip = (await kubectl(lab, ['get', 'pod', c.name, '-o', 'jsonpath={.status.podIP}'])).stdout;
    const r = await inPod(lab, 'netpod', ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `${ip}:${c.port}`]);
    t.equal(r.stdout, '200', `${c.name}: answered`);
    await drain(lab);
    t.equal(await tracedFor(c.name), c.want, `${c.name}: ${c.why}`);
  }
});

t.test('a second connection asks again: each accepted socket is a new file', async (t) => {
  const before = await tracedFor('who-default');
  const ip = (await kubectl(lab, ['get', 'pod', 'who-default', '-o', 'jsonpath={.status.podIP}'])).stdout;
  await inPod(lab, 'netpod', ['curl', '-s', '-o', '/dev/null', `${ip}/again`]);
  await drain(lab);
  t.equal(await tracedFor('who-default') - before, 5);
});

t.test('the hubble-relay pod (grpc-go: write(2) of its preface and read(2) at accept) on k8s-w1', async (t) => {
  // Whatever serves the relay's connections; this one hangs up at once, after the relay's own reads and writes.
  lab.podApps.hubbleRelay = (conn) => conn.destroy();
  t.teardown(() => { delete lab.podApps.hubbleRelay; });
  const relay = (await kubectl(lab, ['get', 'pod', '-n', 'kube-system', '-l', 'k8s-app=hubble-relay', '-o', 'jsonpath={.items[0].metadata.name} {.items[0].status.podIP}'])).stdout.split(' ');
  await inPod(lab, 'netpod', ['curl', '-s', `${relay[1]}:4245`]);
  await drain(lab);
  t.equal(await tracedFor(`kube-system/${relay[0]}`, 'k8s-w1'), 5);
});

t.test('the kernel: fileAccess runs getpeername4 twice per access not yet granted, only for a confined task on an AppArmor node', async (t) => {
  const rows: Array<{ name: string; appArmor: boolean; confined: boolean; want: number }> = [
    { name: 'AppArmor node, confined task', appArmor: true, confined: true, want: 1 + 2 + 2 },
    { name: 'AppArmor node, unconfined task', appArmor: true, confined: false, want: 1 },
    { name: 'no AppArmor', appArmor: false, confined: true, want: 1 },
  ];
  for (const row of rows) {
    const sim = new Sim(1);
    const { nodes } = buildTestbed(sim, { ...SEED_SPEC, nodeOpts: { appArmor: row.appArmor } });
    const [a, b] = [nodes[0]!.pods[0]!, nodes[1]!.pods[0]!];
    let runs = 0;
    const counter: BpfProgram<SockAddrCtx> = { id: 1, name: 'count', type: 'cgroup_sock_addr', tag: '0000000000000000', mapIds: [], loadedAtMs: 0, run: () => { runs++; return 1; } };
    nodes[1]!.node.cgroup.getpeername4.push(counter);
    let server: TcpConnection | undefined;
    b.ns.sockets.tcpListen(80, (c) => {
      server = c;
      // read(2) three times and write(2) twice: only the first of each is checked.
      for (const access of ['read', 'read', 'write', 'read', 'write'] as const) c.fileAccess!(access, row.confined);
    });
    const c = await sim.settle(a.ns.sockets.tcpConnect({ ip: b.ip, port: 80 }));
    await sim.settle(sim.sleep(1e6));
    t.equal(runs, row.want, row.name);
    // A socket the peer has closed answers getpeername with ENOTCONN: no hook runs for it.
    c.end(); server!.end();
    await sim.settle(sim.sleep(1e9));
    runs = 0;
    server!.fileAccess!('read', row.confined);
    t.equal(runs, 0, `${row.name}: nothing for a closed socket`);
  }
});
