// Cluster assembly through the datapath seam: a stand-in CNI and service proxy,
// registered by name as any datapath would be, see CNI ADD/DEL per pod, service
// ports from Services and EndpointSlices, and offer node tools and event
// streams; the spec's choices are checked against the registry.
import t from 'tap';
import type { CniPlugin, PodInfo, ServicePort, ServiceProxyPlugin } from '../src/datapath/contract.ts';
import { DatapathRegistry } from '../src/datapath/registry.ts';
import { ciliumDatapaths } from '../src/cilium/plugin.ts';
import { Cluster } from '../src/cluster/cluster.ts';
import { ClusterError } from '../src/cluster/facade.ts';
import { CILIUM_LAB } from '../src/cluster/labs/cilium.ts';
import type { KernelNode } from '../src/kernel/api.ts';
import { u32ToIp } from '../src/wire/addr.ts';

/** A CNI and a service proxy that record what the cluster asks of them. */
function fakeDatapath() {
  const added: PodInfo[] = [], deleted: string[] = [], joined: string[] = [];
  const listeners = new Map<string, (line: string) => void>();
  let ports: ServicePort[] = [];
  const configs: unknown[] = [];
  const kernels = new Map<string, KernelNode>();
  const cni: CniPlugin = {
    name: 'fakenet', routings: ['direct', 'overlay'],
    create: (ctx) => ({
      name: 'fakenet',
      addNode: (k, n) => { kernels.set(n.name, k); joined.push(`cni ${n.name} ${ctx.config.routing}`); },
      addPod: (p) => { added.push(p); return { netns: kernels.get(p.nodeName)!.createNetns(`cni-${p.name}`), hostIfName: `veth${added.length}`, identity: 1000 + added.length }; },
      deletePod: (ns, name) => { deleted.push(`${ns}/${name}`); },
      nodeTools: (node) => ({ fakectl: async (argv) => ({ stdout: `${node}: ${argv.join(' ')}\n`, stderr: '', exitCode: 0 }) }),
      eventStreams: (node) => ({ monitor: (cb) => { listeners.set(node, cb); return () => listeners.delete(node); } }),
    }),
  };
  const proxy: ServiceProxyPlugin = {
    name: 'fakeproxy',
    // As kube-proxy would check its KubeProxyConfiguration.
    configError: (c) => {
      for (const [k, v] of Object.entries(c)) {
        if (k !== 'masqueradeAll') return `unknown field "${k}"`;
        if (typeof v !== 'boolean') return 'masqueradeAll: must be true or false';
      }
      return undefined;
    },
    create: (ctx) => (configs.push(ctx.config.serviceProxyConfig), {
      name: 'fakeproxy', addNode: (_k, n) => { joined.push(`proxy ${n.name}`); }, syncServices: (p) => { ports = p; },
      nodeTools: () => ({}), eventStreams: () => ({}),
    }),
  };
  return { cni, proxy, added, deleted, joined, listeners, configs, get ports() { return ports; } };
}

const FAKE_LAB = CILIUM_LAB.replace('datapath: cilium', 'cni: fakenet\n  serviceProxy: fakeproxy').replace('routing: native', 'routing: direct');
const portLine = (p: ServicePort) => `${u32ToIp(p.clusterIP)}:${p.port}/${p.protocol} -> ${p.endpoints.map((e) => `${u32ToIp(e.ip)}:${e.port}`).join(',')}`;

t.test('a datapath registered by name: pods through CNI ADD/DEL, services as service ports', async (t) => {
  const fake = fakeDatapath();
  const c = Cluster.fromYaml(FAKE_LAB, { seed: 1, deps: { datapaths: new DatapathRegistry([{ cnis: [fake.cni], serviceProxies: [fake.proxy] }]) } });
  t.teardown(() => c.close());
  t.same(fake.joined, ['cni k8s-s direct', 'cni k8s-w1 direct', 'cni k8s-w2 direct', 'proxy k8s-s', 'proxy k8s-w1', 'proxy k8s-w2'], 'nodes join the CNI, then the proxy');
  t.same(fake.added.map((p) => `${p.namespace}/${p.name} ${u32ToIp(p.ip)} ${p.nodeName}`).sort(), [
    'default/netpod 172.16.0.230 k8s-s', 'default/webpod1 172.16.1.111 k8s-w1', 'default/webpod2 172.16.2.180 k8s-w2',
    'kube-system/coredns-55cb58b774-2xvk2 172.16.1.210 k8s-w1', 'kube-system/coredns-55cb58b774-7v788 172.16.1.221 k8s-w1',
    'kube-system/hubble-relay-88f7f89d4-jgwk2 172.16.1.78 k8s-w1', 'kube-system/hubble-ui-59bb4cb67b-vr67b 172.16.1.79 k8s-w1',
  ]);
  const netpod = fake.added.find((p) => p.name === 'netpod')!;
  t.equal(netpod.namespaceLabels['kubernetes.io/metadata.name'], 'default');
  t.equal(fake.added.find((p) => p.name.startsWith('coredns'))!.serviceAccount, 'coredns');
  t.same(fake.ports.filter((p) => p.name === 'kube-dns').map(portLine),
    ['10.96.0.10:53/UDP -> 172.16.1.210:53,172.16.1.221:53', '10.96.0.10:53/TCP -> 172.16.1.210:53,172.16.1.221:53', '10.96.0.10:9153/TCP -> 172.16.1.210:9153,172.16.1.221:9153']);
  t.same(fake.ports.filter((p) => p.name === 'kubernetes').map(portLine), ['10.96.0.1:443/TCP -> 192.168.10.10:6443']);

  c.apply(`apiVersion: v1
kind: Service
metadata: {name: lb}
spec:
  type: LoadBalancer
  selector: {app: webpod}
  externalIPs: [192.168.10.250]
  sessionAffinity: ClientIP
  loadBalancerSourceRanges: [10.0.0.0/8]
  ports: [{name: web, port: 8080, targetPort: 80, nodePort: 31000}]
`);
  const lb = fake.ports.find((p) => p.name === 'lb')!;
  t.match(lb, { portName: 'web', type: 'LoadBalancer', port: 8080, nodePort: 31000, affinityTimeoutSec: 10800, externalTrafficPolicy: 'Cluster' });
  t.same([lb.externalIPs.map(u32ToIp), lb.loadBalancerIPs.map(u32ToIp), lb.loadBalancerSourceRanges.map((r) => `${u32ToIp(r.ip)}/${r.prefixLen}`)],
    [['192.168.10.250'], ['192.168.10.200'], ['10.0.0.0/8']]);
  t.same(lb.endpoints.map((e) => `${u32ToIp(e.ip)}:${e.port} ${e.nodeName} ${e.ready}`).sort(), ['172.16.1.111:80 k8s-w1 true', '172.16.2.180:80 k8s-w2 true']);

  c.delete('apiVersion: v1\nkind: Pod\nmetadata: {name: webpod2}\n');
  t.same(fake.deleted, ['default/webpod2'], 'CNI DEL');
  t.equal(fake.ports.find((p) => p.name === 'lb')!.endpoints.length, 1, 'the endpoint is gone with its pod');
  t.equal(c.identityOf('default', 'netpod'), 1000 + fake.added.indexOf(netpod) + 1);
  const cep = await c.kubectl(['get', 'cep']);
  t.match(cep.stdout, /^NAME +SECURITY IDENTITY   ENDPOINT STATE   IPV4 +IPV6\nnetpod +\d+ +ready +172\.16\.0\.230   \n/);
});

t.test('node tools and event streams come from the datapath', async (t) => {
  const fake = fakeDatapath();
  const c = Cluster.fromYaml(FAKE_LAB, { seed: 1, deps: { datapaths: new DatapathRegistry([{ cnis: [fake.cni], serviceProxies: [fake.proxy] }]) } });
  t.teardown(() => c.close());
  t.same(await c.nodeExec('k8s-w1', ['fakectl', 'status', '--verbose']), { stdout: 'k8s-w1: status --verbose\n', stderr: '', exitCode: 0 });
  t.equal((await c.nodeExec('k8s-w1', ['cilium-dbg', 'status'])).exitCode, 127, 'no cilium-dbg without Cilium');
  t.same(c.eventStreams('k8s-s'), ['monitor']);
  const lines: string[] = [];
  const stop = c.monitor('k8s-s', (l) => lines.push(`${l.node} ${l.text}`));
  fake.listeners.get('k8s-s')!('-> endpoint 1 flow 0x0');
  stop();
  t.same(lines, ['k8s-s -> endpoint 1 flow 0x0']);
  t.notOk(fake.listeners.has('k8s-s'), 'unsubscribed');
  const err = (fn: () => unknown) => { try { fn(); return 'no error'; } catch (e) { return `${(e as ClusterError).status} ${(e as Error).message}`; } };
  t.equal(err(() => c.events('k8s-s', 'conntrack', () => {})), '501 conntrack is not available on node k8s-s (cni fakenet, service proxy fakeproxy)');
  t.equal(err(() => c.monitor('nope', () => {})), '404 node "nope" not found');
});

t.test('Cilium as CNI only: another service proxy gets the services, Cilium loads no socket LB', async (t) => {
  const fake = fakeDatapath();
  const datapaths = new DatapathRegistry([ciliumDatapaths, { serviceProxies: [fake.proxy] }]);
  const c = Cluster.fromYaml(CILIUM_LAB.replace('datapath: cilium', 'cni: cilium\n  serviceProxy: fakeproxy'), { seed: 1, deps: { datapaths } });
  t.teardown(() => c.close());
  t.equal(c.cni.name, 'cilium');
  t.ok(fake.ports.some((p) => p.name === 'kube-dns'), 'the proxy has the services');
  const progs = (await c.nodeExec('k8s-s', ['bpftool', 'prog', 'show'])).stdout;
  t.match(progs, /cil_from_container/, 'Cilium plumbs and programs the pods');
  t.notMatch(progs, /cil_sock4_connect/, 'no socket LB without kube-proxy replacement');
  // kubeProxyReplacement=false: the agent still programs ClusterIPs for bpf_lxc (cilium#10651), never NodePorts.
  const list = (await c.nodeExec('k8s-s', ['cilium-dbg', 'service', 'list'])).stdout;
  t.match(list, /ClusterIP/, 'Cilium programs the ClusterIPs');
  t.notMatch(list, /NodePort|LoadBalancer|ExternalIPs/, 'and no other frontend');
  t.equal((await c.nodeExec('k8s-s', ['cilium-dbg', 'version'])).exitCode, 0, 'cilium-dbg is still the CNI agent\'s');
  const withKpr = Cluster.lab('cilium', { seed: 1 });
  t.teardown(() => withKpr.close());
  t.match((await withKpr.nodeExec('k8s-s', ['bpftool', 'prog', 'show'])).stdout, /cil_sock4_connect/, 'with kube-proxy replacement it does');
});

t.test('datapath: cilium is short for cni: cilium, serviceProxy: cilium', async (t) => {
  const short = Cluster.lab('cilium', { seed: 1 });
  const long = Cluster.fromYaml(CILIUM_LAB.replace('datapath: cilium', 'cni: cilium\n  serviceProxy: cilium'), { seed: 1 });
  t.teardown(() => { short.close(); long.close(); });
  t.same([short.spec.cni, short.spec.serviceProxy], ['cilium', 'cilium']);
  t.same(long.spec, short.spec);
  const list = ['cilium-dbg', 'service', 'list'];
  t.same(await long.nodeExec('k8s-w1', list), await short.nodeExec('k8s-w1', list));
});

const doc = (spec: string) => `apiVersion: dplab.dev/v1alpha1\nkind: Cluster\nmetadata: {name: x}\nspec: ${spec}\n`;
const bad: Array<[string, string, string, string]> = [
  ['unknown CNI', doc('{cni: flannel}'), 'spec.cni', 'spec.cni: unknown CNI "flannel" (known: cilium, kindnet, calico)'],
  ['unknown service proxy', doc('{serviceProxy: kube-router}'), 'spec.serviceProxy', 'spec.serviceProxy: unknown service proxy "kube-router" (known: cilium, iptables, ipvs)'],
  ['short form not registered', doc('{datapath: nftables}'), 'spec.datapath', 'spec.datapath: unknown datapath "nftables" (known: cilium, iptables, ipvs)'],
  ['routing the CNI lacks', doc('{routing: ipip}'), 'spec.routing', 'spec.routing: CNI cilium routes tunnel or native, got "ipip"'],
  ['settings Cilium does not take', doc('{cniConfig: {bpfMasquerade: false}}'), 'spec.cniConfig', 'spec.cniConfig: CNI cilium takes no settings, got "bpfMasquerade"'],
  ['settings that are not a map', doc('{serviceProxyConfig: [1]}'), 'spec.serviceProxyConfig', 'spec.serviceProxyConfig: must be a map, got [1]'],
];
for (const [name, yaml, field, message] of bad) {
  t.test(`rejected: ${name}`, async (t) => {
    try { Cluster.fromYaml(yaml); t.fail('no error'); } catch (e) {
      t.type(e, ClusterError);
      t.match(e, { status: 400, field, message });
    }
  });
}

t.test('rejected: kube-proxy replacement without Cilium as the CNI', async (t) => {
  const fake = fakeDatapath();
  const datapaths = new DatapathRegistry([ciliumDatapaths, { cnis: [fake.cni] }]);
  t.throws(() => Cluster.fromYaml(doc('{cni: fakenet, serviceProxy: cilium}'), { deps: { datapaths } }),
    { status: 400, field: 'spec.serviceProxy', message: 'spec.serviceProxy: service proxy "cilium" runs only with CNI cilium, not "fakenet"' });
  t.throws(() => Cluster.fromYaml(doc('{cni: fakenet}'), { deps: { datapaths } }),
    { field: 'spec.serviceProxy', message: /runs only with CNI cilium/ }, 'datapath: cilium fills only the missing half');
});

t.test('a service proxy gets its own settings, and rejects bad ones in its words', async (t) => {
  const fake = fakeDatapath();
  const datapaths = new DatapathRegistry([{ cnis: [fake.cni], serviceProxies: [fake.proxy] }]);
  const file = (cfg: string) => doc(`{cni: fakenet, serviceProxy: fakeproxy, serviceProxyConfig: ${cfg}}`);
  Cluster.fromYaml(file('{masqueradeAll: true}'), { deps: { datapaths } }).close();
  t.same(fake.configs, [{ masqueradeAll: true }]);
  t.throws(() => Cluster.fromYaml(file('{masqueradeAll: yes please}'), { deps: { datapaths } }),
    { status: 400, field: 'spec.serviceProxyConfig', message: 'spec.serviceProxyConfig: masqueradeAll: must be true or false' });
  t.throws(() => Cluster.fromYaml(file('{ipvs: {scheduler: rr}}'), { deps: { datapaths } }),
    { field: 'spec.serviceProxyConfig', message: 'spec.serviceProxyConfig: unknown field "ipvs"' });
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
