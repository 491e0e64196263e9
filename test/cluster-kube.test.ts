// The emulated API server: admission errors (naming the field), all-or-nothing
// requests, IPAM, service allocation, endpoint slices, pod env and files.
import t from 'tap';
import { ClusterError } from '../src/cluster/facade.ts';
import { KubeApi } from '../src/cluster/kube/api.ts';
import { podEnv, podFiles } from '../src/cluster/podenv.ts';
import { parseClusterDoc } from '../src/cluster/spec.ts';
import { Sim } from '../src/sim/sim.ts';
import { ipToU32 } from '../src/wire/addr.ts';

function newApi(reserved: Record<string, string[]> = {}): KubeApi {
  const spec = parseClusterDoc({ spec: { podCIDR: '10.244.0.0/16', nodes: [{ name: 'cp', controlPlane: true }, { name: 'w1', labels: { zone: 'a' } }, { name: 'w2', labels: { zone: 'b' } }] } });
  return new KubeApi(spec, new Sim(1), { seed: 42, reservedIPs: (n) => new Set((reserved[n] ?? []).map(ipToU32)) });
}

const pod = (name: string, extra = '') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}${extra}}
spec: {containers: [{name: c, image: traefik/whoami, ports: [{containerPort: 80, name: http}]}]}
`;

function errOf(fn: () => unknown): ClusterError {
  try { fn(); } catch (e) { if (e instanceof ClusterError) return e; throw e; }
  throw new Error('expected a ClusterError');
}

const invalid: Array<{ name: string; yaml: string; field: string; status?: number }> = [
  { name: 'malformed YAML', yaml: 'kind: Pod\n  metadata: [', field: 'yaml', status: 400 },
  { name: 'unknown kind', yaml: 'apiVersion: v1\nkind: Widget\nmetadata: {name: x}', field: 'kind', status: 400 },
  { name: 'bad name', yaml: pod('Bad_Name'), field: 'metadata.name' },
  { name: 'unknown node', yaml: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {nodeName: nope, containers: [{name: c, image: x}]}', field: 'spec.nodeName' },
  { name: 'no containers', yaml: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}', field: 'spec.containers' },
  { name: 'container port range', yaml: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x, ports: [{containerPort: 70000}]}]}', field: 'spec.containers[0].ports[0].containerPort' },
  { name: 'pinned IP malformed', yaml: pod('p', ', annotations: {dplab.dev/pod-ip: 10.244.1.999}'), field: 'metadata.annotations[dplab.dev/pod-ip]' },
  { name: 'pinned IP outside node CIDR', yaml: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, annotations: {dplab.dev/pod-ip: 10.244.2.5}}\nspec: {nodeName: w1, containers: [{name: c, image: x}]}', field: 'metadata.annotations[dplab.dev/pod-ip]' },
  { name: 'service port range', yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 70000}]}', field: 'spec.ports[0].port' },
  { name: 'service unnamed ports', yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}, {port: 81}]}', field: 'spec.ports[0].name' },
  { name: 'clusterIP outside range', yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: 10.200.0.1, ports: [{port: 80}]}', field: 'spec.clusterIP' },
  { name: 'clusterIP taken', yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: 10.96.0.10, ports: [{port: 80}]}', field: 'spec.clusterIP' },
  { name: 'nodePort out of range', yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: NodePort, ports: [{port: 80, nodePort: 80}]}', field: 'spec.ports[0].nodePort' },
  { name: 'nodePort on ClusterIP', yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, nodePort: 30001}]}', field: 'spec.ports[0].nodePort' },
  { name: 'bad externalIP', yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {externalIPs: [1.2.3], ports: [{port: 80}]}', field: 'spec.externalIPs[0]' },
  { name: 'affinity timeout', yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {sessionAffinity: ClientIP, sessionAffinityConfig: {clientIP: {timeoutSeconds: 0}}, ports: [{port: 80}]}', field: 'spec.sessionAffinityConfig.clientIP.timeoutSeconds' },
  { name: 'unknown namespace', yaml: pod('p', ', namespace: nowhere'), field: 'metadata.namespace', status: 404 },
  { name: 'selector mismatch', yaml: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: c}}, spec: {containers: [{name: c, image: x}]}}}', field: 'spec.template.metadata.labels' },
  { name: 'endpoints bad ip', yaml: 'apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\nsubsets: [{addresses: [{ip: x}], ports: [{port: 80}]}]', field: 'subsets[0].addresses[0].ip' },
];

for (const c of invalid) {
  t.test(`rejects ${c.name}, naming ${c.field}, changing nothing`, async (t) => {
    const api = newApi();
    const before = JSON.stringify(api.snapshot());
    // A valid document first: it must not survive the failed request.
    const e = errOf(() => api.apply(pod('first') + '---\n' + c.yaml));
    t.equal(e.field, c.field);
    t.equal(e.status, c.status ?? 422, 'HTTP status: 422 Invalid for field errors');
    if (!['yaml', 'kind', 'metadata.namespace'].includes(c.field)) t.match(e.message, c.field);
    t.equal(JSON.stringify(api.snapshot()), before, 'state unchanged');
    t.notOk(api.get('Pod', 'default', 'first'));
  });
}

t.test('create twice is a 409; duplicate in one request too', async (t) => {
  const api = newApi();
  api.apply(pod('a'), 'create');
  t.equal(errOf(() => api.apply(pod('a'), 'create')).status, 409);
  t.equal(errOf(() => api.apply(pod('b') + '---\n' + pod('b'), 'create')).status, 409);
  t.notOk(api.get('Pod', 'default', 'b'));
  t.same(api.apply(pod('a')), ['pod/a unchanged']);
});

t.test('IPAM: pinned, taken, skipping agent addresses', async (t) => {
  const api = newApi({ w1: ['10.244.1.12'] });
  const pinned = (name: string, ip: string, node = 'w1') => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, annotations: {dplab.dev/pod-ip: ${ip}}}\nspec: {nodeName: ${node}, containers: [{name: c, image: x}]}\n`;
  api.apply(pinned('p1', '10.244.1.111'));
  t.equal(api.get('Pod', 'default', 'p1')!.status.podIP, '10.244.1.111');
  t.equal(errOf(() => api.apply(pinned('p2', '10.244.1.111'))).status, 422, 'taken by a pod: 422 Invalid');
  t.equal(errOf(() => api.apply(pinned('p3', '10.244.1.12'))).status, 422, 'taken by the agent: 422 Invalid');
  // Unpinned pods land in their node's CIDR, never on the agent's or another pod's address.
  for (let i = 0; i < 20; i++) api.apply(`apiVersion: v1\nkind: Pod\nmetadata: {name: q${i}}\nspec: {nodeName: w1, containers: [{name: c, image: x}]}\n`);
  const ips = api.list('Pod', 'default').map((p) => p.status.podIP as string);
  t.equal(new Set(ips).size, ips.length, 'unique');
  t.ok(ips.every((ip) => ip.startsWith('10.244.1.') && ip !== '10.244.1.12' && ip !== '10.244.1.0' && ip !== '10.244.1.255'));
});

t.test('scheduling: nodeSelector picks a matching node; workers before the control plane', async (t) => {
  const api = newApi();
  api.apply('apiVersion: v1\nkind: Pod\nmetadata: {name: z}\nspec: {nodeSelector: {zone: b}, containers: [{name: c, image: x}]}');
  t.equal(api.get('Pod', 'default', 'z')!.spec.nodeName, 'w2');
  api.apply(pod('free'));
  t.not(api.get('Pod', 'default', 'free')!.spec.nodeName, 'cp');
});

t.test('service IPs: kubernetes first, kube-dns tenth, fixed and random ones', async (t) => {
  const api = newApi();
  t.equal(api.get('Service', 'default', 'kubernetes')!.spec.clusterIP, '10.96.0.1');
  t.equal(api.get('Service', 'kube-system', 'kube-dns')!.spec.clusterIP, '10.96.0.10');
  t.same(api.get('Service', 'kube-system', 'kube-dns')!.spec.ports.map((p: { name: string; port: number; protocol: string }) => `${p.name} ${p.port}/${p.protocol}`), ['dns 53/UDP', 'dns-tcp 53/TCP', 'metrics 9153/TCP']);
  api.apply('apiVersion: v1\nkind: Service\nmetadata: {name: fixed}\nspec: {clusterIP: 10.96.100.100, ports: [{port: 80}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: rnd}\nspec: {ports: [{port: 80}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: hl}\nspec: {clusterIP: None, selector: {a: b}}');
  t.equal(api.get('Service', 'default', 'fixed')!.spec.clusterIP, '10.96.100.100');
  t.match(api.get('Service', 'default', 'rnd')!.spec.clusterIP, /^10\.(9[6-9]|10[0-9]|11[01])\./);
  t.equal(api.get('Service', 'default', 'hl')!.spec.clusterIP, 'None');
  t.equal(errOf(() => api.apply('apiVersion: v1\nkind: Service\nmetadata: {name: fixed}\nspec: {clusterIP: 10.96.100.101, ports: [{port: 80}]}')).field, 'spec.clusterIP', 'immutable');
});

t.test('nodePort: fixed, clash names the field, LoadBalancer gets pool IP and node ports', async (t) => {
  const api = newApi();
  api.apply('apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {type: NodePort, ports: [{port: 80, nodePort: 30080}]}');
  const e = errOf(() => api.apply('apiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {type: NodePort, ports: [{name: x, port: 81}, {name: y, port: 82, nodePort: 30080}]}'));
  t.equal(e.field, 'spec.ports[1].nodePort');
  t.match(e.message, 'provided port is already allocated');
  api.apply('apiVersion: v1\nkind: Service\nmetadata: {name: lb}\nspec: {type: LoadBalancer, ports: [{port: 80}]}');
  const lb = api.get('Service', 'default', 'lb')!;
  t.equal(lb.status.loadBalancer.ingress[0].ip, '172.18.255.200');
  t.ok(lb.spec.ports[0].nodePort >= 30000 && lb.spec.ports[0].nodePort <= 32767);
  t.equal(lb.spec.externalTrafficPolicy, 'Cluster');
});

t.test('endpoint slices resolve named targetPorts per pod and follow the pods', async (t) => {
  const api = newApi();
  api.apply(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: traefik/whoami, ports: [{containerPort: 8080, name: http}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{name: web, port: 80, targetPort: http}]}
`);
  const pods = api.list('Pod', 'default');
  t.equal(pods.length, 3);
  for (const p of pods) t.match(p.metadata.name, /^web-[bcdfghjklmnpqrstvwxz2456789]{1,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  const slices = api.list('EndpointSlice', 'default').filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'web');
  t.equal(slices.length, 1);
  t.match(slices[0]!.metadata.name, /^web-[a-z0-9]{5}$/);
  t.same(slices[0]!.ports, [{ name: 'web', port: 8080, protocol: 'TCP' }]);
  t.equal(slices[0]!.endpoints.length, 3);
  api.patch('Deployment', 'default', 'web', 'merge', '{"spec":{"replicas":1}}');
  t.equal(api.list('EndpointSlice', 'default').find((s) => s.metadata.name === slices[0]!.metadata.name)!.endpoints.length, 1, 'same slice, one endpoint');
  api.deleteNamed('Deployment', 'default', ['web']);
  t.equal(api.list('Pod', 'default').length, 0, 'pods garbage-collected');
});

t.test('services without selector use the user Endpoints', async (t) => {
  const api = newApi();
  api.apply('apiVersion: v1\nkind: Service\nmetadata: {name: ext}\nspec: {ports: [{port: 80}]}\n---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: ext}\nsubsets: [{addresses: [{ip: 1.2.3.4}], ports: [{port: 8080}]}]');
  const sl = api.list('EndpointSlice', 'default').find((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'ext')!;
  t.same(sl.endpoints.map((e: { addresses: string[] }) => e.addresses[0]), ['1.2.3.4']);
  t.equal(sl.metadata.labels!['endpointslice.kubernetes.io/managed-by'], 'endpointslicemirroring-controller.k8s.io');
});

t.test('pod env vars and files', async (t) => {
  const api = newApi();
  api.apply('apiVersion: v1\nkind: Service\nmetadata: {name: my-svc}\nspec: {clusterIP: 10.96.5.5, ports: [{name: http, port: 80}, {name: dns, port: 53, protocol: UDP}]}\n---\n' + pod('p'));
  const p = api.get('Pod', 'default', 'p')!;
  const env = podEnv(api.snapshot(), p, [{ name: 'FOO', value: 'bar' }]);
  t.match(env, {
    MY_SVC_SERVICE_HOST: '10.96.5.5', MY_SVC_SERVICE_PORT: '80', MY_SVC_SERVICE_PORT_HTTP: '80', MY_SVC_SERVICE_PORT_DNS: '53',
    MY_SVC_PORT: 'tcp://10.96.5.5:80', MY_SVC_PORT_53_UDP: 'udp://10.96.5.5:53', MY_SVC_PORT_53_UDP_PROTO: 'udp', MY_SVC_PORT_53_UDP_ADDR: '10.96.5.5',
    KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443', FOO: 'bar', HOSTNAME: 'p',
  });
  t.notOk('KUBE_DNS_SERVICE_HOST' in env, 'other namespaces do not leak');
  const files = podFiles(p, '10.96.0.10');
  t.equal(files['/etc/resolv.conf'], 'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
  t.equal(files['/etc/hostname'], 'p\n');
  t.match(files['/etc/hosts'], new RegExp(`${p.status.podIP.replace(/\./g, '\\.')}\\tp\\n$`));
});

t.test('patch: json and merge; errors leave state', async (t) => {
  const api = newApi();
  api.apply(pod('p'));
  t.same(api.patch('Pod', 'default', 'p', 'merge', '{"metadata":{"labels":{"x":"y"}}}'), ['pod/p patched']);
  t.equal(api.get('Pod', 'default', 'p')!.metadata.labels!.x, 'y');
  t.same(api.patch('Pod', 'default', 'p', 'json', '[{"op":"remove","path":"/metadata/labels/x"}]'), ['pod/p patched']);
  t.equal(errOf(() => api.patch('Pod', 'default', 'nope', 'merge', '{}')).status, 404);
  t.equal(errOf(() => api.patch('Pod', 'default', 'p', 'merge', '{"spec":{"nodeName":"other"}}')).field, 'spec');
});
