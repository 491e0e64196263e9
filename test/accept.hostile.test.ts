// Acceptance (issue 6): hostile and careless input against the HTTP API, as
// `dplab serve` sees it. Each row asserts the status and the JSON message,
// that /healthz still answers, that no prototype was polluted, and that the
// state is unchanged when the request was refused.
import t, { type Test } from 'tap';
import { buildApp } from '../src/api/app.ts';
import type { Cluster } from '../src/cluster/cluster.ts';
import { seedLab } from './helpers/lab.ts';

// Several labs, a 1,256-pod deployment and multi-megabyte bodies: more than tap's 120 s on a loaded 2-core machine.
t.setTimeout(300_000);

const pod = (name: string, meta = '', spec = '') =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n${meta}spec:\n${spec}  containers: [{name: c, image: nicolaka/netshoot}]\n`;
const svc = (name: string, spec: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}}\nspec:\n${spec}`;
const dep = (name: string, replicas: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${name}}\nspec:\n  replicas: ${replicas}\n  selector: {matchLabels: {app: ${name}}}\n  template:\n    metadata: {labels: {app: ${name}}}\n    spec: {containers: [{name: c, image: traefik/whoami}]}\n`;
const netpol = (spec: string) => `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\nspec:\n${spec}`;
const aliasBomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`)].join('\n');
const LABEL_RE = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const NAME_PART = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

interface Refused { name: string; yaml: string; status: number; error: string | RegExp; field?: string }
const REFUSED: Refused[] = [
  { name: 'label value over 63 characters', yaml: pod('a', `  labels: {x: ${'v'.repeat(64)}}\n`), status: 422, field: 'metadata.labels', error: `The Pod "a" is invalid: metadata.labels: Invalid value: "${'v'.repeat(64)}": must be no more than 63 characters` },
  { name: 'label value with spaces', yaml: pod('a', '  labels: {x: "a b"}\n'), status: 422, field: 'metadata.labels', error: `The Pod "a" is invalid: metadata.labels: Invalid value: "a b": ${LABEL_RE}` },
  { name: 'label key __proto__', yaml: pod('a', '  labels: {__proto__: x}\n'), status: 422, field: 'metadata.labels', error: `The Pod "a" is invalid: metadata.labels: Invalid value: "__proto__": ${NAME_PART}` },
  { name: 'numeric label value', yaml: pod('a', '  labels: {v: 1}\n'), status: 400, field: 'metadata.labels', error: 'Error from server (BadRequest): Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string' },
  { name: '3.5 MB annotation', yaml: pod('a', `  annotations: {big: ${'x'.repeat(3_500_000)}}\n`), status: 422, field: 'metadata.annotations', error: 'The Pod "a" is invalid: metadata.annotations: Too long: must have at most 262144 bytes' },
  { name: 'two identical port/protocol pairs', yaml: svc('s', '  ports: [{name: a, port: 80}, {name: b, port: 80, targetPort: 8080}]\n'), status: 422, field: 'spec.ports[1]', error: 'The Service "s" is invalid: spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}' },
  { name: 'clusterIP is the range\'s network address', yaml: svc('s', '  clusterIP: 10.96.0.0\n  ports: [{port: 80}]\n'), status: 422, field: 'spec.clusterIP', error: 'The Service "s" is invalid: spec.clusterIP: Invalid value: "10.96.0.0": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12' },
  { name: 'clusterIP is the range\'s broadcast address', yaml: svc('s', '  clusterIP: 10.111.255.255\n  ports: [{port: 80}]\n'), status: 422, field: 'spec.clusterIP', error: 'The Service "s" is invalid: spec.clusterIP: Invalid value: "10.111.255.255": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12' },
  { name: 'externalIPs 0.0.0.0', yaml: svc('s', '  externalIPs: [0.0.0.0]\n  ports: [{port: 80}]\n'), status: 422, field: 'spec.externalIPs[0]', error: 'The Service "s" is invalid: spec.externalIPs[0]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)' },
  { name: 'externalIPs loopback', yaml: svc('s', '  externalIPs: [127.0.0.1]\n  ports: [{port: 80}]\n'), status: 422, field: 'spec.externalIPs[0]', error: 'The Service "s" is invalid: spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)' },
  { name: 'externalIPs with a leading zero', yaml: svc('s', '  externalIPs: [10.0.0.01]\n  ports: [{port: 80}]\n'), status: 422, field: 'spec.externalIPs[0]', error: 'The Service "s" is invalid: spec.externalIPs[0]: Invalid value: "10.0.0.01": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)' },
  { name: 'loadBalancerIP outside the pool', yaml: svc('s', '  type: LoadBalancer\n  loadBalancerIP: 8.8.8.8\n  ports: [{port: 80}]\n'), status: 422, field: 'spec.loadBalancerIP', error: 'The Service "s" is invalid: spec.loadBalancerIP: Invalid value: "8.8.8.8": not in the LoadBalancer IP pool 192.168.10.200/29' },
  { name: 'list-valued selector', yaml: svc('s', '  selector: {app: [a, b]}\n  ports: [{port: 80}]\n'), status: 400, field: 'spec.selector', error: 'Error from server (BadRequest): Service in version "v1" cannot be handled as a Service: json: cannot unmarshal array into Go struct field ServiceSpec.spec.selector of type string' },
  { name: 'selector that is a list', yaml: svc('s', '  selector: [a, b]\n  ports: [{port: 80}]\n'), status: 400, field: 'spec.selector', error: 'Error from server (BadRequest): Service in version "v1" cannot be handled as a Service: json: cannot unmarshal array into Go struct field ServiceSpec.spec.selector of type map[string]string' },
  { name: 'invalid externalName', yaml: svc('s', '  type: ExternalName\n  externalName: "my_db host"\n'), status: 422, field: 'spec.externalName', error: /^The Service "s" is invalid: spec\.externalName: Invalid value: "my_db host": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '\.', and must start and end with an alphanumeric character \(e\.g\. 'example\.com', regex used for validation is/ },
  { name: 'clusterIP None with type NodePort', yaml: svc('s', '  type: NodePort\n  clusterIP: None\n  ports: [{port: 80}]\n'), status: 422, field: 'spec.clusterIPs[0]', error: 'The Service "s" is invalid: spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort services' },
  { name: 'Service name that is not a DNS-1035 label', yaml: svc('1web', '  ports: [{port: 80}]\n'), status: 422, field: 'metadata.name', error: /^The Service "1web" is invalid: metadata\.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character/ },
  { name: 'NetworkPolicy whose spec is a string', yaml: 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\nspec: allow-all\n', status: 400, field: 'spec', error: 'Error from server (BadRequest): NetworkPolicy in version "v1" cannot be handled as a NetworkPolicy: json: cannot unmarshal string into Go struct field NetworkPolicy.spec of type v1.NetworkPolicySpec' },
  { name: 'NetworkPolicy ipBlock with a bad CIDR', yaml: netpol('  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]\n'), status: 422, field: 'spec.ingress[0].from[0].ipBlock.cidr', error: 'The NetworkPolicy "np" is invalid: spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)' },
  { name: 'NetworkPolicy except outside its CIDR', yaml: netpol('  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}}]}]\n'), status: 422, field: 'spec.egress[0].to[0].ipBlock.except[0]', error: 'The NetworkPolicy "np" is invalid: spec.egress[0].to[0].ipBlock.except[0]: Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`' },
  { name: 'NetworkPolicy peer of two types', yaml: netpol('  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]\n'), status: 422, field: 'spec.ingress[0].from[0]', error: 'The NetworkPolicy "np" is invalid: spec.ingress[0].from[0]: Forbidden: may not specify more than 1 peer type' },
  { name: 'NetworkPolicy empty peer', yaml: netpol('  ingress: [{from: [{}]}]\n'), status: 422, field: 'spec.ingress[0].from[0]', error: 'The NetworkPolicy "np" is invalid: spec.ingress[0].from[0]: Required value: must specify a peer' },
  { name: 'NetworkPolicy unknown policy type', yaml: netpol('  policyTypes: [Sideways]\n'), status: 422, field: 'spec.policyTypes[0]', error: 'The NetworkPolicy "np" is invalid: spec.policyTypes[0]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"' },
  { name: 'NetworkPolicy selector operator', yaml: netpol('  podSelector: {matchExpressions: [{key: app, operator: Near, values: [a]}]}\n'), status: 422, field: 'spec.podSelector.matchExpressions[0].operator', error: 'The NetworkPolicy "np" is invalid: spec.podSelector.matchExpressions[0].operator: Unsupported value: "Near": supported values: "In", "NotIn", "Exists", "DoesNotExist"' },
  { name: 'replicas beyond int32', yaml: dep('d', '3000000000'), status: 400, field: 'spec.replicas', error: 'Error from server (BadRequest): Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas of type int32' },
  { name: 'YAML alias bomb', yaml: aliasBomb, status: 400, field: 'yaml', error: 'error: error parsing STDIN: error converting YAML to JSON: yaml: document contains excessive aliasing' },
  { name: '100,000 nested lists', yaml: `a: ${'['.repeat(100_000)}`, status: 400, field: 'yaml', error: 'error: error parsing STDIN: error converting YAML to JSON: yaml: exceeded max depth of 512' },
  { name: 'deep nesting hidden behind a block scalar\'s quote', yaml: `a: |\n  '\nb: ${'['.repeat(60_000)}\nc: |\n  '\n`, status: 400, field: 'yaml', error: 'error: error parsing STDIN: error converting YAML to JSON: yaml: exceeded max depth of 512' },
  { name: 'deep nesting between quoted closing brackets', yaml: `x: ${'[ "]", '.repeat(60_000)}`, status: 400, field: 'yaml', error: 'error: error parsing STDIN: error converting YAML to JSON: yaml: exceeded max depth of 512' },
  { name: 'top-level __proto__ field', yaml: '{"__proto__": {"nodeName": "k8s-s"}, "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}', status: 400, field: '__proto__', error: 'Error from server (BadRequest): Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "__proto__"' },
  { name: 'constructor.prototype inside spec', yaml: pod('p', '', '  constructor: {prototype: {nodeName: k8s-s}}\n'), status: 400, field: 'spec.constructor', error: 'Error from server (BadRequest): Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.constructor"' },
  { name: 'malformed YAML', yaml: 'apiVersion: v1\nkind: Pod\nmetadata: {name: x\n', status: 400, field: 'yaml', error: "error: error parsing STDIN: error converting YAML to JSON: yaml: line 3: did not find expected ',' or '}'" },
  { name: 'unknown kind', yaml: 'apiVersion: v1\nkind: Widget\nmetadata: {name: w}\n', status: 400, field: 'kind', error: 'resource mapping not found for name: "w" namespace: "" from "STDIN": no matches for kind "Widget" in version "v1"' },
  { name: 'a good pod, then a bad service: nothing applied', yaml: `${pod('good', '', '  nodeName: k8s-w2\n')}---\n${svc('s', '  ports: [{port: 0}]\n')}`, status: 422, field: 'spec.ports[0].port', error: 'The Service "s" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive' },
  { name: 'more objects than one request may create', yaml: Array.from({ length: 20_001 }, (_, i) => `{apiVersion: v1, kind: Namespace, metadata: {name: n${i}}}`).join('\n---\n'), status: 413, field: 'yaml', error: 'Error from server (RequestEntityTooLarge): the request holds more than 20000 objects; dplab admits at most 20000 per request' },
];

/** Own-property names of Object.prototype, to see that nothing was added. */
const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype).sort().join(',');
const unpolluted = (t: Test) => {
  t.equal(Object.getOwnPropertyNames(Object.prototype).sort().join(','), PROTO_NAMES, 'Object.prototype untouched');
  t.equal(({} as Record<string, unknown>).nodeName, undefined, 'a fresh object has no nodeName');
};
const stateOf = (c: Cluster) => JSON.stringify(c.api.snapshot());

function lab(t: Test) {
  const c = seedLab();
  const app = buildApp(c);
  t.teardown(async () => { await app.close(); c.close(); });
  const healthy = async () => t.equal((await app.inject('/healthz')).statusCode, 200, '/healthz answers');
  return { c, app, healthy };
}

t.test('refused manifests: status, message, nothing applied, server answers', async (t) => {
  const { c, app, healthy } = lab(t);
  for (const k of REFUSED) {
    t.test(k.name, async (t) => {
      const before = stateOf(c);
      const r = await app.inject({ method: 'POST', url: '/v1/apply', payload: { yaml: k.yaml } });
      t.equal(r.statusCode, k.status, 'HTTP status');
      const body = r.json();
      if (typeof k.error === 'string') t.equal(body.error, k.error, 'message'); else t.match(body.error, k.error, 'message');
      t.equal(body.field, k.field, 'field');
      t.same(Object.keys(body).sort(), ['error', 'field'], 'the {error, field} shape');
      t.equal(stateOf(c), before, 'state unchanged');
      unpolluted(t);
      await healthy();
    });
  }
});

t.test('requests that never reach admission keep the JSON error shape', async (t) => {
  const { c, app, healthy } = lab(t);
  const before = stateOf(c);
  const cases = [
    { name: 'empty yaml', req: { method: 'POST' as const, url: '/v1/apply', payload: { yaml: '' } }, status: 400, field: 'yaml' },
    { name: 'yaml is a number', req: { method: 'POST' as const, url: '/v1/apply', payload: { yaml: 1 } }, status: 400, field: 'yaml' },
    { name: 'body is not JSON', req: { method: 'POST' as const, url: '/v1/apply', payload: '{"yaml":', headers: { 'content-type': 'application/json' } }, status: 400 },
    { name: 'text/plain body', req: { method: 'POST' as const, url: '/v1/apply', payload: 'kind: Pod', headers: { 'content-type': 'text/plain' } }, status: 400 },
    { name: 'XML body', req: { method: 'POST' as const, url: '/v1/apply', payload: '<pod/>', headers: { 'content-type': 'application/xml' } }, status: 415 },
    { name: 'unknown route', req: { method: 'GET' as const, url: '/v1/nope' }, status: 404, error: 'no route GET /v1/nope' },
  ];
  for (const k of cases) {
    const r = await app.inject(k.req);
    t.equal(r.statusCode, k.status, `${k.name}: status`);
    const body = r.json();
    t.type(body.error, 'string', `${k.name}: error message`);
    if (k.error) t.equal(body.error, k.error, `${k.name}: message`);
    if (k.field) t.equal(body.field, k.field, `${k.name}: field`);
  }
  t.equal(stateOf(c), before, 'state unchanged');
  await healthy();
});

interface PatchCase { name: string; argv: string[]; stderr: string | RegExp }
const P = (type: string, patch: string) => ['patch', 'svc', 'webpod', '--type', type, '-p', patch];
const STRICT = (f: string) => `Error from server (BadRequest): Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "${f}"\n`;
const PATCHES: PatchCase[] = [
  { name: 'merge __proto__', argv: P('merge', '{"__proto__":{"nodeName":"k8s-s"}}'), stderr: STRICT('__proto__') },
  { name: 'strategic __proto__', argv: P('strategic', '{"__proto__":{"nodeName":"k8s-s"}}'), stderr: STRICT('__proto__') },
  { name: 'merge spec.__proto__', argv: P('merge', '{"spec":{"__proto__":{"polluted":true}}}'), stderr: STRICT('spec.__proto__') },
  { name: 'merge constructor.prototype', argv: P('merge', '{"constructor":{"prototype":{"nodeName":"k8s-s"}}}'), stderr: STRICT('constructor') },
  { name: 'merge prototype in a list item', argv: P('merge', '{"spec":{"ports":[{"port":80,"prototype":{"x":1}}]}}'), stderr: STRICT('spec.ports[0].prototype') },
  { name: 'json add /__proto__/nodeName', argv: P('json', '[{"op":"add","path":"/__proto__/nodeName","value":"k8s-s"}]'), stderr: /path \/__proto__\/nodeName not found/ },
  { name: 'json add /constructor/prototype/nodeName', argv: P('json', '[{"op":"add","path":"/constructor/prototype/nodeName","value":"k8s-s"}]'), stderr: /path \/constructor\/prototype\/nodeName not found/ },
  { name: 'json add /spec/__proto__/x', argv: P('json', '[{"op":"add","path":"/spec/__proto__/x","value":1}]'), stderr: /path \/spec\/__proto__\/x not found/ },
  { name: 'json add /__proto__', argv: P('json', '[{"op":"add","path":"/__proto__","value":{"nodeName":"k8s-s"}}]'), stderr: STRICT('__proto__') },
  { name: 'json replace /constructor', argv: P('json', '[{"op":"replace","path":"/constructor","value":1}]'), stderr: /replace operation does not apply: doc is missing key: \/constructor/ },
  { name: 'json remove /metadata/toString', argv: P('json', '[{"op":"remove","path":"/metadata/toString"}]'), stderr: /remove operation does not apply: doc is missing path: \/metadata\/toString/ },
  { name: 'merge patch 1,000 levels deep', argv: P('merge', `${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}`), stderr: 'error: unable to parse the patch: exceeded max depth of 512\n' },
];

t.test('pollution attempts through every write path', async (t) => {
  const { c, app, healthy } = lab(t);
  const kubectl = async (argv: string[], stdin?: string) => (await app.inject({ method: 'POST', url: '/v1/kubectl', payload: { argv, ...(stdin ? { stdin } : {}) } })).json();
  for (const k of PATCHES) {
    t.test(k.name, async (t) => {
      const before = stateOf(c);
      const r = await kubectl(k.argv);
      t.equal(r.exitCode, 1, 'exit code');
      t.equal(r.stdout, '');
      if (typeof k.stderr === 'string') t.equal(r.stderr, k.stderr, 'stderr'); else t.match(r.stderr, k.stderr, 'stderr');
      t.equal(stateOf(c), before, 'state unchanged');
      unpolluted(t);
      await healthy();
    });
  }
  t.test('apply of a manifest with __proto__ through kubectl', async (t) => {
    const before = stateOf(c);
    const r = await kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: {name: webpod}\n__proto__: {nodeName: k8s-s}\nspec: {ports: [{port: 80}]}\n');
    t.same([r.exitCode, r.stderr], [1, STRICT('__proto__')]);
    t.equal(stateOf(c), before, 'state unchanged');
    unpolluted(t);
  });
  t.test('constructor and prototype are fine label keys: stored as own keys', async (t) => {
    const r = await kubectl(P('merge', '{"metadata":{"labels":{"constructor":"a","prototype":"b"}}}'));
    t.same([r.exitCode, r.stdout], [0, 'service/webpod patched\n']);
    t.same(c.api.get('Service', 'default', 'webpod')!.metadata.labels, { constructor: 'a', prototype: 'b' });
    unpolluted(t);
  });
  t.test('a new pod without nodeName does not land on the tainted control plane', async (t) => {
    const r = await app.inject({ method: 'POST', url: '/v1/apply', payload: { yaml: pod('after') } });
    t.equal(r.statusCode, 200);
    t.not(c.api.get('Pod', 'default', 'after')!.spec.nodeName, 'k8s-s');
  });
});

t.test('accepted as the API server accepts it', async (t) => {
  const { c, app, healthy } = lab(t);
  const apply = async (yaml: string) => app.inject({ method: 'POST', url: '/v1/apply', payload: { yaml } });

  t.test('changing a pod\'s container image', async (t) => {
    const old = c.api.get('Pod', 'default', 'netpod')!;
    // What `kubectl edit` sends: the stored object with one image changed.
    const edited = structuredClone(old);
    edited.spec.containers[0].image = 'nicolaka/netshoot:v0.13';
    const r = await apply(JSON.stringify(edited));
    t.same([r.statusCode, r.json()], [200, { lines: ['pod/netpod configured'] }]);
    const now = c.api.get('Pod', 'default', 'netpod')!;
    t.equal(now.spec.containers[0].image, 'nicolaka/netshoot:v0.13');
    t.equal(now.status.containerStatuses[0].restartCount, 1, 'kubelet restarted the container');
    t.equal(now.status.podIP, old.status.podIP, 'same pod, same IP');
  });

  t.test('a NetworkPolicy with ipBlock, except and named ports', async (t) => {
    const r = await apply(netpol('  podSelector: {matchLabels: {app: webpod}}\n  policyTypes: [Ingress, Egress]\n  ingress: [{from: [{ipBlock: {cidr: 172.16.0.0/16, except: [172.16.1.0/24]}}, {namespaceSelector: {}, podSelector: {matchExpressions: [{key: app, operator: Exists}]}}], ports: [{port: http}, {protocol: UDP, port: 53}]}]\n  egress: [{}]\n'));
    t.same([r.statusCode, r.json()], [200, { lines: ['networkpolicy.networking.k8s.io/np created'] }]);
  });

  t.test('a pinned pod IP without nodeName runs on the node owning that address', async (t) => {
    const r = await apply(pod('pinned', '  annotations: {dplab.dev/pod-ip: 172.16.2.50}\n'));
    t.same([r.statusCode, r.json()], [200, { lines: ['pod/pinned created'] }]);
    const p = c.api.get('Pod', 'default', 'pinned')!;
    t.same([p.spec.nodeName, p.status.podIP], ['k8s-w2', '172.16.2.50']);
  });

  t.test('a pinned pod IP outside every node', async (t) => {
    const before = stateOf(c);
    const r = await apply(pod('lost', '  annotations: {dplab.dev/pod-ip: 10.1.2.3}\n'));
    t.equal(r.statusCode, 422);
    t.equal(r.json().error, 'The Pod "lost" is invalid: metadata.annotations[dplab.dev/pod-ip]: Invalid value: "10.1.2.3": outside every node\'s podCIDR (172.16.0.0/24, 172.16.1.0/24, 172.16.2.0/24)');
    t.equal(stateOf(c), before);
  });

  t.test('replicas: 1000000000 answers at once and leaves a bounded number of Pending pods', async (t) => {
    const r = await apply(dep('huge', '1000000000'));
    t.same([r.statusCode, r.json()], [200, { lines: ['deployment.apps/huge created'] }]);
    await healthy();
    const pods = c.api.list('Pod').filter((p) => p.metadata.labels?.app === 'huge');
    const pending = pods.filter((p) => p.status?.phase === 'Pending');
    t.ok(pods.length < 2000, `bounded: ${pods.length} pods`);
    t.ok(pods.length - pending.length > 400, 'every free pod address is used');
    t.ok(pending.length > 0 && pending.length <= pods.length, 'the rest stay Pending');
    const cond = pending[0]!.status.conditions[0];
    t.same([cond.type, cond.status, cond.reason], ['PodScheduled', 'False', 'Unschedulable']);
    t.equal(cond.message, '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Too many pods. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.');
    const kubectl = async (argv: string[]) => (await app.inject({ method: 'POST', url: '/v1/kubectl', payload: { argv } })).json();
    const name = pending[0]!.metadata.name;
    const row = await kubectl(['get', 'pod', name]);
    t.match(row.stdout, new RegExp(`^NAME +READY +STATUS +RESTARTS +AGE\n${name} +0/1 +Pending +0 +`), 'kubectl get: Pending, 0/1');
    const desc = (await kubectl(['describe', 'pod', name])).stdout;
    t.match(desc, /^Node: +<none>$/m, 'describe: no node');
    t.match(desc, /^Events:\n  Type +Reason +Age +From +Message\n  ---- +------ +---- +---- +-------\n  Warning +FailedScheduling +\d+s +default-scheduler +0\/3 nodes are available: 1 node\(s\) had untolerated taint/m, 'describe: the scheduler\'s event');
    t.notMatch(desc, /State: +Running/, 'no container state before scheduling');
    const again = await apply(dep('huge', '1000000000'));
    t.equal(again.statusCode, 200);
    t.equal(c.api.list('Pod').filter((p) => p.metadata.labels?.app === 'huge').length, pods.length, 'a second apply adds no Pending pods');
    const small = await apply(dep('huge', '2'));
    t.same(small.json(), { lines: ['deployment.apps/huge configured'] });
    t.equal(c.api.list('Pod').filter((p) => p.metadata.labels?.app === 'huge' && p.status?.podIP).length, 2, 'scaled down to two running pods');
    const late = await apply(pod('late'));
    t.equal(c.api.get('Pod', 'default', 'late')!.status.phase, 'Running', 'freed addresses serve new pods');
  });
});

t.test('WebSocket abuse and exec escape attempts leave the lab as it was', async (t) => {
  const { c, app, healthy } = lab(t);
  await app.ready(); // the websocket plugin decorates injectWS once ready
  const before = stateOf(c);
  const streams = [
    { url: '/v1/nodes/k8s-w9/capture?iface=eth0', code: 4404, error: 'node "k8s-w9" not found' },
    { url: '/v1/nodes/k8s-w1/capture', code: 4400, error: 'capture needs ?iface=NAME' },
    { url: '/v1/nodes/..%2F..%2Fetc/monitor', code: 4404, error: 'node "../../etc" not found' },
    { url: '/v1/nodes/__proto__/monitor', code: 4404, error: 'node "__proto__" not found' },
  ];
  for (const k of streams) {
    const got = await new Promise<{ msgs: string[]; code: number }>((resolve, reject) => {
      const msgs: string[] = [];
      app.injectWS(k.url, {}, {
        onInit: (ws) => {
          ws.on('message', (d: Buffer) => msgs.push(d.toString()));
          ws.on('close', (code: number) => { resolve({ msgs, code }); ws.terminate(); });
          ws.on('open', () => ws.send('garbage the server must ignore'));
        },
      }).catch(reject);
    });
    t.equal(got.code, k.code, `${k.url}: close code`);
    t.equal(JSON.parse(got.msgs[0]!).error, k.error, `${k.url}: message`);
  }
  const execs: Array<{ argv: string[]; exitCode: number; stderr: string | RegExp }> = [
    { argv: ['cat', '/etc/shadow'], exitCode: 1, stderr: 'cat: /etc/shadow: No such file or directory\n' },
    { argv: ['cat', '../../../../../../etc/passwd'], exitCode: 1, stderr: 'cat: ../../../../../../etc/passwd: No such file or directory\n' },
    { argv: ['cat', `${process.cwd()}/package.json`], exitCode: 1, stderr: `cat: ${process.cwd()}/package.json: No such file or directory\n` },
    { argv: ['sh', '-c', 'cat /proc/self/environ'], exitCode: 1, stderr: /No such file or directory/ },
    { argv: ['sh', '-c', 'node -e "process.exit(3)"'], exitCode: 127, stderr: /node: (command )?not found/ },
  ];
  for (const k of execs) {
    const r = await app.inject({ method: 'POST', url: '/v1/exec', payload: { pod: 'netpod', argv: k.argv } });
    t.equal(r.statusCode, 200, `${k.argv.join(' ')}: answered`);
    const out = r.json();
    t.equal(out.exitCode, k.exitCode, `${k.argv.join(' ')}: exit code`);
    if (typeof k.stderr === 'string') t.equal(out.stderr, k.stderr, `${k.argv.join(' ')}: message`); else t.match(out.stderr, k.stderr, `${k.argv.join(' ')}: message`);
    t.notMatch(out.stdout, /dplab|root:x:0|"name"/, 'nothing of the host');
  }
  t.equal(stateOf(c), before, 'state unchanged');
  unpolluted(t);
  await healthy();
});
