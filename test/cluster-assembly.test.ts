// Cluster assembly with a stand-in Cilium control: CNI ADD/DEL per pod,
// service frontends (ClusterIP, NodePort per node, ExternalIPs, LoadBalancer).
import t from 'tap';
import type { CiliumControl, LbFrontend, PodInfo } from '../src/cilium/api.ts';
import { Cluster } from '../src/cluster/cluster.ts';
import { u32ToIp } from '../src/wire/addr.ts';

function fakeCilium() {
  const added: PodInfo[] = []; const deleted: string[] = []; let frontends: LbFrontend[] = [];
  const kernels = new Map<string, import('../src/kernel/api.ts').KernelNode>();
  const control: CiliumControl = {
    addNode: (k, n) => { kernels.set(n.name, k); },
    addPod: (p) => { added.push(p); return { netns: kernels.get(p.nodeName)!.createNetns(`cni-${p.name}`), endpointId: added.length, identity: 1000 + added.length, hostIfName: 'lxc0' }; },
    deletePod: (ns, name) => { deleted.push(`${ns}/${name}`); },
    syncServices: (f) => { frontends = f; },
  };
  return { control, added, deleted, get frontends() { return frontends; } };
}

t.test('pods go through CNI ADD/DEL, services become frontends', async (t) => {
  const fake = fakeCilium();
  const c = Cluster.lab('cilium', { seed: 1, deps: { createCilium: () => fake.control } });
  t.same(fake.added.map((p) => `${p.namespace}/${p.name} ${u32ToIp(p.ip)} ${p.nodeName}`).sort(), [
    'default/netpod 172.16.0.230 k8s-s', 'default/webpod1 172.16.1.111 k8s-w1', 'default/webpod2 172.16.2.180 k8s-w2',
    'kube-system/coredns-55cb58b774-2xvk2 172.16.1.210 k8s-w1', 'kube-system/coredns-55cb58b774-7v788 172.16.1.221 k8s-w1',
    'kube-system/hubble-relay-88f7f89d4-jgwk2 172.16.1.78 k8s-w1', 'kube-system/hubble-ui-59bb4cb67b-vr67b 172.16.1.79 k8s-w1',
  ]);
  const netpod = fake.added.find((p) => p.name === 'netpod')!;
  t.equal(netpod.namespaceLabels['kubernetes.io/metadata.name'], 'default');
  t.equal(fake.added.find((p) => p.name.startsWith('coredns'))!.serviceAccount, 'coredns');
  const dns = fake.frontends.filter((f) => f.name === 'kube-dns').map((f) => `${u32ToIp(f.ip)}:${f.port}/${f.proto} -> ${f.backends.map((b) => `${u32ToIp(b.ip)}:${b.port}`).join(',')}`);
  t.same(dns, ['10.96.0.10:53/UDP -> 172.16.1.210:53,172.16.1.221:53', '10.96.0.10:53/TCP -> 172.16.1.210:53,172.16.1.221:53', '10.96.0.10:9153/TCP -> 172.16.1.210:9153,172.16.1.221:9153']);
  t.same(fake.frontends.filter((f) => f.name === 'kubernetes').map((f) => `${u32ToIp(f.ip)}:${f.port} -> ${u32ToIp(f.backends[0]!.ip)}:${f.backends[0]!.port}`), ['10.96.0.1:443 -> 192.168.10.10:6443']);

  c.apply(`apiVersion: v1
kind: Service
metadata: {name: lb}
spec:
  type: LoadBalancer
  selector: {app: webpod}
  externalIPs: [192.168.10.250]
  sessionAffinity: ClientIP
  ports: [{port: 8080, targetPort: 80, nodePort: 31000}]
`);
  const lb = fake.frontends.filter((f) => f.name === 'lb').map((f) => `${f.type} ${u32ToIp(f.ip)}:${f.port} n=${f.backends.length} aff=${f.affinityTimeoutSec}`);
  t.same(lb, ['ClusterIP ' + lb[0]!.split(' ')[1] + ' n=2 aff=10800', 'NodePort 192.168.10.10:31000 n=2 aff=10800', 'NodePort 192.168.10.101:31000 n=2 aff=10800',
    'NodePort 192.168.10.102:31000 n=2 aff=10800', 'ExternalIPs 192.168.10.250:8080 n=2 aff=10800', 'LoadBalancer 192.168.10.200:8080 n=2 aff=10800']);

  c.delete('apiVersion: v1\nkind: Pod\nmetadata: {name: webpod2}\n');
  t.same(fake.deleted, ['default/webpod2']);
  t.equal(fake.frontends.find((f) => f.name === 'lb')!.backends.length, 1, 'backend gone with its pod');
  t.equal(c.identityOf('default', 'netpod'), 1000 + fake.added.indexOf(netpod) + 1);
  const cep = await c.kubectl(['get', 'cep']);
  t.match(cep.stdout, /^NAME +SECURITY IDENTITY   ENDPOINT STATE   IPV4 +IPV6\nnetpod +\d+ +ready +172\.16\.0\.230   \n/);
  c.close();
});

t.test('unknown node and interface errors', async (t) => {
  const c = Cluster.lab('cilium');
  const status = (fn: () => unknown) => { try { fn(); return 0; } catch (e) { return (e as { status: number }).status; } };
  t.equal(status(() => c.kernel('nope')), 404);
  t.equal(status(() => c.capture('k8s-s', 'eth9', () => {})), 404);
  const stop = c.capture('k8s-s', 'ens5', () => {});
  stop();
  t.equal(status(() => Cluster.lab('nolab')), 404);
  c.close();
});
