// Cilium beside kube-proxy (`cni: cilium, serviceProxy: iptables`, Helm's
// kubeProxyReplacement=false): Cilium's programs run on every pod as usual; the
// agent still programs ClusterIPs, so bpf_lxc translates pod -> ClusterIP per
// packet (cilium/cilium#10651, #16197); kube-proxy's iptables rules translate
// what Cilium leaves alone: the host's own connections and NodePorts. No socket
// LB, no BPF host routing ("Host: Legacy").
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, Cluster } from '../src/index.ts';
import { openSqliteStore } from '../src/cluster/store/sqlite.ts';

const CLUSTER = `
apiVersion: dplab.dev/v1alpha1
kind: Cluster
metadata: {name: kp}
spec:
  cni: cilium
  serviceProxy: iptables
  nodes: [{controlPlane: true}, {}]
---
apiVersion: v1
kind: Pod
metadata: {name: far}
spec:
  nodeName: kp-control-plane
  containers: [{name: shell, image: nicolaka/netshoot, command: [tail], args: [-f, /dev/null]}]
---
apiVersion: v1
kind: Pod
metadata: {name: near}
spec:
  nodeName: kp-worker
  containers: [{name: shell, image: nicolaka/netshoot, command: [tail], args: [-f, /dev/null]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeName: kp-worker
      containers: [{name: whoami, image: traefik/whoami}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, nodePort: 30080}]
`;

const lab = Lab.fromYaml(CLUSTER, { seed: 7, hubble: true });
t.teardown(() => lab.close());
const { clusterIP } = lab.service('web');
const backends = () => lab.backends('web').map((p) => p.name);
const hostnameOf = (out: string) => /^Hostname: (\S+)$/m.exec(out)?.[1];

/** Packets counted by the KUBE-SVC chain jump of default/web's ClusterIP on a node (`iptables -t nat -L KUBE-SERVICES -v -n -x`). */
async function svcJumps(node: string): Promise<number> {
  const r = await lab.nodeExec(node, ['iptables', '-t', 'nat', '-L', 'KUBE-SERVICES', '-v', '-n', '-x']);
  const line = r.stdout.split('\n').find((l) => l.includes('/* default/web cluster IP */'));
  return Number(line?.trim().split(/\s+/)[0] ?? NaN);
}

t.test('the assembled datapath: Cilium CNI, kube-proxy iptables, no socket LB', async (t) => {
  t.same(lab.datapath, { cni: 'cilium', serviceProxy: 'iptables', routing: 'tunnel', socketLB: false });
  const status = (await lab.nodeExec('kp-worker', ['cilium-dbg', 'status'])).stdout;
  t.match(status, /^KubeProxyReplacement:\s+False\s*$/m, 'no device list when the mode is False');
  t.match(status, /^Routing:\s+Network: Tunnel \[vxlan\]\s+Host: Legacy$/m, 'BPF host routing needs kube-proxy replacement');
  const verbose = (await lab.nodeExec('kp-worker', ['cilium-dbg', 'status', '--verbose'])).stdout;
  t.equal(verbose.slice(verbose.indexOf('KubeProxyReplacement Details:'), verbose.indexOf('Encryption:')), [
    'KubeProxyReplacement Details:',
    '  Status:                 False',
    '  Socket LB:              Disabled',
    '  Socket LB Tracing:      Disabled',
    '  Socket LB Coverage:     Full',
    '  Session Affinity:       Disabled',
    '  Graceful Termination:   Enabled',
    '  NAT46/64 Support:       Disabled',
    '  Services:',
    '  - ClusterIP:      Enabled',
    '  - NodePort:       Disabled ',
    '  - LoadBalancer:   Disabled ',
    '  - externalIPs:    Disabled ',
    '  - HostPort:       Disabled',
    '',
  ].join('\n'), 'no devices, mode or backend selection without NodePort; ClusterIP stays Cilium\'s');
});

t.test('cilium-dbg service list: the ClusterIPs only; NodePorts are kube-proxy\'s', async (t) => {
  const list = (await lab.nodeExec('kp-worker', ['cilium-dbg', 'service', 'list'])).stdout;
  t.match(list, new RegExp(`${clusterIP.replace(/\./g, '\\.')}:80/TCP\\s+ClusterIP\\s+1 => `));
  t.notMatch(list, /NodePort|:30080/);
  const nat = (await lab.nodeExec('kp-worker', ['iptables', '-t', 'nat', '-S', 'KUBE-NODEPORTS'])).stdout;
  t.match(nat, /--dport 30080 -j KUBE-EXT-/, 'kube-proxy wrote the NodePort rules');
});

for (const [client, where] of [['near', 'same node'], ['far', 'cross node']] as const) {
  t.test(`pod -> ClusterIP, ${where}: bpf_lxc translates it, kube-proxy's rule never sees it`, async (t) => {
    const node = lab.pod(client).node;
    const before = await svcJumps(node);
    const r = await lab.exec(client, `curl -s -m 5 http://${clusterIP}/`);
    t.equal(r.exitCode, 0);
    const host = hostnameOf(r.stdout);
    t.ok(host && backends().includes(host), `answered by ${host}`);
    t.match(r.stdout, `RemoteAddr: ${lab.pod(client).ip}:`, 'the backend sees the client pod itself');
    t.equal(await svcJumps(node), before, 'KUBE-SVC jump counter unchanged');
    // Cilium's CT holds the translated flow (client -> backend) and the service entry.
    const ct = await lab.ciliumCt(node);
    const backendIps = lab.backends('web').map((p) => p.ip);
    t.ok(ct.some((e) => e.src === lab.pod(client).ip && backendIps.includes(e.dst) && e.dport === 80), 'CT entry to a backend');
    t.equal((await lab.conntrack(node)).filter((e) => e.orig.dst === clusterIP).length, 0, 'no nf_conntrack DNAT entry');
  });
}

t.test('kubectl exec curl prints the backend\'s answer', async (t) => {
  const r = await lab.cluster.kubectl(['exec', 'far', '--', 'curl', '-s', `http://${clusterIP}/`]);
  t.equal(r.exitCode, 0);
  t.ok(backends().includes(hostnameOf(r.stdout) ?? ''), r.stdout.split('\n')[0] ?? '');
  t.equal(r.stderr, '');
});

t.test('node -> ClusterIP: kube-proxy\'s rules DNAT it (counters move, conntrack -L shows the DNAT)', async (t) => {
  for (const node of lab.nodes()) {
    const before = await svcJumps(node);
    const r = await lab.nodeExec(node, ['curl', '-s', '-m', '5', `http://${clusterIP}/`]);
    t.equal(r.exitCode, 0, `${node}: curl`);
    t.ok(backends().includes(hostnameOf(r.stdout) ?? ''), `${node}: answered by a backend`);
    t.equal(await svcJumps(node), before + 1, `${node}: one new connection through KUBE-SVC`);
    const ct = (await lab.nodeExec(node, ['conntrack', '-L', '-d', clusterIP])).stdout.trim().split('\n');
    t.equal(ct.length, 1, `${node}: one entry`);
    t.match(ct[0], new RegExp(`^tcp\\s+6 \\d+ \\S+ src=\\S+ dst=${clusterIP.replace(/\./g, '\\.')} sport=\\d+ dport=80 src=(\\S+) dst=\\S+ sport=80 `));
    const replySrc = /dport=80 src=(\S+)/.exec(ct[0]!)?.[1];
    t.ok(lab.backends('web').some((p) => p.ip === replySrc), `${node}: reply comes from backend ${replySrc}`);
  }
});

t.test('node -> NodePort on another node: kube-proxy\'s KUBE-NODEPORTS, Cilium delivers to the pod', async (t) => {
  const workerIp = (await lab.cluster.kubectl(['get', 'node', 'kp-worker', '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}'])).stdout;
  const r = await lab.nodeExec('kp-control-plane', ['curl', '-s', '-m', '5', `http://${workerIp}:30080/`]);
  t.equal(r.exitCode, 0);
  t.ok(backends().includes(hostnameOf(r.stdout) ?? ''));
  t.ok((await lab.conntrack('kp-worker')).some((e) => e.orig.dst === workerIp && e.orig.dport === 30080), 'the worker\'s nf_conntrack has the NodePort DNAT');
});

t.test('Hubble: flows from the client pod to the backend pod (translated before the first trace)', async (t) => {
  const agents = (await lab.cluster.kubectl(['get', 'pod', '-n', 'kube-system', '-l', 'k8s-app=cilium', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName}{"\\n"}{end}'])).stdout;
  const agent = agents.split('\n').find((l) => l.endsWith(' kp-control-plane'))?.split(' ')[0];
  t.ok(agent);
  const r = await lab.cluster.kubectl(['exec', '-n', 'kube-system', agent!, '-c', 'cilium-agent', '--', 'hubble', 'observe', '--pod', 'default/far', '--last', '100']);
  t.equal(r.exitCode, 0, r.stderr);
  const toBackend = r.stdout.split('\n').filter((l) => /default\/far:\d+ \(ID:\d+\) -> default\/web-\S+:80 /.test(l));
  t.ok(toBackend.length > 0, 'far -> web-... flows');
  t.ok(toBackend.some((l) => l.includes('to-overlay FORWARDED')), 'leaves through the overlay');
  t.notOk(r.stdout.includes(`${clusterIP}:80`), 'the ClusterIP never appears in a flow');
});

// Every routing with both kube-proxy modes: the same paths work; legacy host routing hands
// pod traffic that is neither local nor tunnelled to the stack (Hubble: to-stack, not to-network).
for (const [routing, proxy] of [['native', 'iptables'], ['tunnel', 'ipvs'], ['native', 'ipvs']] as const) {
  t.test(`routing ${routing}, kube-proxy ${proxy}: pod and node paths`, async (t) => {
    const yaml = CLUSTER.replace('serviceProxy: iptables', `serviceProxy: ${proxy}\n  routing: ${routing}`);
    const l = Lab.fromYaml(yaml, { seed: 7, hubble: true });
    t.teardown(() => l.close());
    t.same(l.datapath, { cni: 'cilium', serviceProxy: proxy, routing, socketLB: false });
    const cip = l.service('web').clusterIP;
    const web = l.backends('web').map((p) => p.name);
    for (const pod of ['near', 'far']) {
      t.ok(web.includes(hostnameOf((await l.exec(pod, `curl -s -m 5 http://${cip}/`)).stdout) ?? ''), `${pod} -> ClusterIP`);
      t.ok(web.includes(hostnameOf((await l.exec(pod, `curl -s -m 5 http://${l.backends('web')[0]!.ip}/`)).stdout) ?? ''), `${pod} -> pod`);
      t.equal((await l.exec(pod, 'curl -s -m 5 -o /dev/null -w %{http_code} http://example.com/')).stdout, '200', `${pod} -> world`);
    }
    for (const node of l.nodes()) t.ok(web.includes(hostnameOf((await l.nodeExec(node, ['curl', '-s', '-m', '5', `http://${cip}/`])).stdout) ?? ''), `${node} -> ClusterIP`);
    if (routing === 'native') {
      const agents = (await l.cluster.kubectl(['get', 'pod', '-n', 'kube-system', '-l', 'k8s-app=cilium', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName}{"\\n"}{end}'])).stdout;
      const agent = agents.split('\n').find((l) => l.endsWith(' kp-control-plane'))!.split(' ')[0]!;
      const flows = (await l.cluster.kubectl(['exec', '-n', 'kube-system', agent, '-c', 'cilium-agent', '--', 'hubble', 'observe', '--pod', 'default/far', '--last', '200'])).stdout;
      t.match(flows, /default\/far:\d+ \(ID:\d+\) -> default\/web-\S+:80 \(ID:\d+\) to-stack FORWARDED \(TCP Flags: SYN\)/, 'the remote pod through the stack');
      t.notMatch(flows, /to-network/, 'no BPF host routing');
    }
  });
}

t.test('a kind config with disableDefaultCNI and kubeProxyMode: iptables is this combination', async (t) => {
  const kind = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: kp
networking: {disableDefaultCNI: true, kubeProxyMode: iptables}
nodes: [{role: control-plane}, {role: worker}]
`;
  const l = Lab.fromYaml(kind + '---' + CLUSTER.slice(CLUSTER.indexOf('---') + 3), { seed: 7 });
  t.teardown(() => l.close());
  t.same(l.datapath, { cni: 'cilium', serviceProxy: 'iptables', routing: 'tunnel', socketLB: false });
  t.match((await l.nodeExec('kp-worker', ['cilium-dbg', 'status'])).stdout, /^KubeProxyReplacement:\s+False\s*$/m);
  t.ok(backends().length === 2 && l.backends('web').length === 2);
  t.match((await l.exec('far', `curl -s -m 5 http://${l.service('web').clusterIP}/`)).stdout, /^Hostname: web-/m);
});

t.test('a restart keeps the identities and the ClusterIP service and backend ids', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dplab-kp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const view = async (c: Cluster) => ({
    services: (await c.nodeExec('kp-worker', ['cilium-dbg', 'service', 'list'])).stdout,
    identities: (await c.nodeExec('kp-worker', ['cilium-dbg', 'identity', 'list'])).stdout,
  });
  const s1 = openSqliteStore(dir);
  const c1 = Cluster.fromYaml(CLUSTER, { seed: 7, store: s1 });
  // A service that comes and goes leaves a gap a fresh start would not have.
  c1.apply('apiVersion: v1\nkind: Service\nmetadata: {name: gone}\nspec: {selector: {app: web}, ports: [{port: 81}]}\n');
  await c1.kubectl(['delete', 'svc', 'gone']);
  c1.apply('apiVersion: v1\nkind: Service\nmetadata: {name: later}\nspec: {selector: {app: web}, ports: [{port: 82}]}\n');
  const before = await view(c1);
  t.match(before.services, /:82\/TCP/);
  c1.close(); s1.close();
  const s2 = openSqliteStore(dir);
  t.teardown(() => s2.close());
  const c2 = Cluster.fromYaml(CLUSTER, { seed: 7, store: s2 });
  t.teardown(() => c2.close());
  t.same(await view(c2), before, 'cilium-dbg service list and identity list as before the restart');
});

t.test('the default Cilium lab is unchanged: kube-proxy replacement, NodePorts in Cilium, BPF host routing', async (t) => {
  const kpr = Lab.fromYaml(CLUSTER, { datapath: 'cilium', seed: 7 });
  t.teardown(() => kpr.close());
  const status = (await kpr.nodeExec('kp-worker', ['cilium-dbg', 'status'])).stdout;
  t.match(status, /^KubeProxyReplacement:\s+True\s+\[eth0/m);
  t.match(status, /Host: BPF$/m);
  t.match((await kpr.nodeExec('kp-worker', ['cilium-dbg', 'service', 'list'])).stdout, /:30080\/TCP\s+NodePort/);
  const r = await kpr.exec('far', `curl -s -m 5 http://${kpr.service('web').clusterIP}/`);
  t.equal(r.exitCode, 0);
  t.notMatch((await kpr.nodeExec('kp-worker', ['iptables-save'])).stdout, /KUBE-SERVICES/, 'no kube-proxy rules');
});
