// The kernel's netfilter hooks as a user meets them on the kind-iptables lab:
// a rule typed on a node changes what a pod's connection gets (DROP: a
// timeout; REJECT --reject-with tcp-reset / icmp-port-unreachable: refused at
// once), kindnet's masquerade takes pods to the outside, and a Cilium node
// has no netfilter at all (its path pays one null check).
import t from 'tap';
import { Cluster } from '../src/cluster/cluster.ts';
import type { NetnsImpl } from '../src/kernel/netns.ts';

const c = Cluster.lab('kind-iptables', { hubble: false });
t.teardown(() => c.close());
const curl = (target: string) => c.exec('default', 'net-pod', ['curl', '-s', '--connect-timeout', '1', target]);
const ipt = (n: string, ...argv: string[]) => c.nodeExec(n, ['iptables', ...argv]);

const cases: Array<[string, string[], number]> = [
  ['DROP in FORWARD: the SYN vanishes, curl times out', ['-j', 'DROP'], 28],
  ['REJECT --reject-with tcp-reset: a RST, connection refused', ['-j', 'REJECT', '--reject-with', 'tcp-reset'], 7],
  ['REJECT (icmp-port-unreachable): connection refused', ['-j', 'REJECT'], 7],
];
for (const [name, target, code] of cases) {
  t.test(name, async (t) => {
    const rule = ['FORWARD', '-d', '10.10.3.2/32', '-p', 'tcp', '--dport', '80', ...target];
    t.equal((await ipt('myk8s-control-plane', '-I', ...rule)).exitCode, 0);
    t.equal((await curl('10.10.3.2')).exitCode, code);
    const l = await ipt('myk8s-control-plane', '-v', '-n', '-x', '-L', 'FORWARD', '1');
    t.match(l.stdout, /^\s*[1-9]\d*\s+\d+ (DROP|REJECT) /, 'the rule counted the packet');
    t.equal((await ipt('myk8s-control-plane', '-D', ...rule)).exitCode, 0);
    t.equal((await curl('10.10.3.2')).exitCode, 0, 'rule gone: the webpod answers again');
  });
}

t.test('kindnet masquerades pods to the outside with the node address', async (t) => {
  const r = await curl('http://example.com');
  t.equal(r.exitCode, 0);
  const s = await c.nodeExec('myk8s-control-plane', ['iptables', '-t', 'nat', '-S', 'KIND-MASQ-AGENT']);
  t.equal(s.stdout, [
    '-N KIND-MASQ-AGENT',
    '-A KIND-MASQ-AGENT -d 10.10.0.0/16 -m comment --comment "kind-masq-agent: local traffic is not subject to MASQUERADE" -j RETURN',
    '-A KIND-MASQ-AGENT -m comment --comment "kind-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)" -j MASQUERADE', ''].join('\n'));
  const ct = await c.nodeExec('myk8s-control-plane', ['conntrack', '-L', '-p', 'tcp', '--src', '10.10.0.6', '--dport', '80']);
  t.match(ct.stdout, / dst=172\.18\.0\.2 sport=80 /, 'the reply tuple is addressed to the node: SNAT by MASQUERADE');
});

t.test('a Cilium node has no netfilter: the hooks are skipped on a null check', async (t) => {
  const cl = Cluster.lab('cilium', { hubble: false });
  t.teardown(() => cl.close());
  for (const n of cl.nodeNames()) t.equal((cl.kernel(n).hostNs as NetnsImpl).netfilter, null, n);
  for (const n of c.nodeNames()) t.not((c.kernel(n).hostNs as NetnsImpl).netfilter, null, `${n} (kind-iptables)`);
});

t.test('conntrack -E as an event stream: NEW, UPDATEs and DESTROY of a curl\'s entry', async (t) => {
  t.ok(c.eventStreams('myk8s-control-plane').includes('conntrack'));
  const lines: string[] = [];
  const stop = c.events('myk8s-control-plane', 'conntrack', (l) => lines.push(l.text));
  await curl('10.200.1.118:9000');
  stop();
  const mine = lines.filter((l) => l.includes('dst=10.200.1.118'));
  t.match(mine[0], /^ {4}\[NEW\] tcp {6}6 120 SYN_SENT src=10\.10\.0\.6 dst=10\.200\.1\.118 sport=(\d+) dport=9000 \[UNREPLIED\] src=10\.10\.\d\.\d dst=10\.10\.0\.6 sport=80 dport=\1$/);
  t.ok(mine.some((l) => /^ \[UPDATE\] tcp {6}6 86400 ESTABLISHED .* \[ASSURED\]$/.test(l)), 'ESTABLISHED with kube-proxy\'s 86400 s');
});

t.test('fragments: conntrack sees whole datagrams (nf_defrag), forwarded ones are fragmented again', async (t) => {
  const r = await c.exec('default', 'net-pod', ['ping', '-c', '2', '-s', '3000', '10.10.3.2']);
  t.equal(r.exitCode, 0);
  t.match(r.stdout, /^3008 bytes from 10\.10\.3\.2: icmp_seq=2 ttl=62 /m);
  const ct = await c.nodeExec('myk8s-control-plane', ['conntrack', '-L', '-p', 'icmp', '--src', '10.10.0.6']);
  t.match(ct.stdout, /^icmp {5}1 \d+ src=10\.10\.0\.6 dst=10\.10\.3\.2 type=8 code=0 id=\d+ src=10\.10\.3\.2 dst=10\.10\.0\.6 type=0 code=0 id=\d+ mark=0 use=1$/m, 'one entry for the reassembled echo');
});

t.test('kube-proxy re-syncs over a user\'s changes: flushed tables come back, a blocking rule fails the sync but not the API', async (t) => {
  const { syncErrorsOf } = await import('../src/kubeproxy/plugin.ts');
  await ipt('myk8s-worker', '-t', 'nat', '-F');
  await ipt('myk8s-worker', '-t', 'nat', '-X');
  t.equal((await ipt('myk8s-worker', '-t', 'nat', '-S', 'PREROUTING')).stdout, '-P PREROUTING ACCEPT\n', 'nat flushed by hand');
  c.apply('apiVersion: v1\nkind: Service\nmetadata: {name: svc-b}\nspec:\n  clusterIP: 10.200.1.90\n  selector: {app: webpod}\n  ports: [{name: web, port: 9000, targetPort: 80}]\n');
  t.equal((await ipt('myk8s-worker', '-t', 'nat', '-S', 'PREROUTING')).stdout,
    '-P PREROUTING ACCEPT\n-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n', 'the next sync ensured the jump again');
  const svcChain = /-j (KUBE-SVC-\w+)\n/.exec((await c.nodeExec('myk8s-worker', ['bash', '-c', 'iptables -t nat -S KUBE-SERVICES | grep svc-b'])).stdout)![1]!;
  t.equal((await ipt('myk8s-worker', '-t', 'nat', '-A', 'OUTPUT', '-j', svcChain)).exitCode, 0, 'a user rule jumps into the service chain');
  t.ok(c.delete('apiVersion: v1\nkind: Service\nmetadata: {name: svc-b}\n').length > 0, 'the delete commits');
  const errs = syncErrorsOf(c.serviceProxy, 'myk8s-worker');
  t.equal(errs.length, 1);
  t.match(errs[0], /^iptables-restore: /, 'the nat block could not delete the chain still referenced');
  t.equal(syncErrorsOf(c.serviceProxy, 'myk8s-worker2').length, 0, 'other nodes synced');
  await ipt('myk8s-worker', '-t', 'nat', '-D', 'OUTPUT', '-j', svcChain);
  c.apply('apiVersion: v1\nkind: Service\nmetadata: {name: svc-c}\nspec:\n  selector: {app: webpod}\n  ports: [{name: web, port: 9000, targetPort: 80}]\n');
  t.equal((await ipt('myk8s-worker', '-t', 'nat', '-S', svcChain)).exitCode, 1, 'the next sync deleted the stale chain');
  t.equal((await c.nodeExec('myk8s-worker', ['curl', '-s', '10.200.1.118:9000'])).exitCode, 0);
});
