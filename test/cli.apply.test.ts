// `dplab apply` / `dplab kubectl apply` against the seed lab: the API server's
// 422 Invalid for taken ports and addresses, and kubectl's YAML parse errors
// naming STDIN or the file given; JSON bodies as the API server takes them,
// and what the client sends as JSON (kubectl parses YAML on the client).
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../src/api/server.ts';
import { Cluster } from '../src/cluster/cluster.ts';
import { manifestObjects } from '../src/cli/manifest.ts';
import { runCli } from './helpers/run_cli.ts';

const cluster = Cluster.lab('cilium', { seed: 3 });
const server = await startServer(cluster, { port: 0, clock: 'manual' });
t.teardown(async () => { await server.close(); cluster.close(); });
const env = { DPLAB_SERVER: server.url };
const dir = mkdtempSync(join(tmpdir(), 'dplab-cli-apply-'));
const file = (name: string, text: string): string => { const p = join(dir, name); writeFileSync(p, text); return p; };

const BROKEN = 'apiVersion: v1\nkind: Pod\nmetadata: {name: x\n';
const PARSE = "error converting YAML to JSON: yaml: line 3: did not find expected ',' or '}'";
const svc = (name: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}}\nspec:\n  type: NodePort\n  selector: {app: webpod}\n  ports: [{port: 80, nodePort: 30088}]\n`;
const CLASH = 'The Service "clash" is invalid: spec.ports[0].nodePort: Invalid value: 30088: provided port is already allocated';
const broken = file('broken.yaml', BROKEN);
const clash = file('clash.yaml', svc('clash'));
const widget = file('widget.yaml', 'apiVersion: v1\nkind: Widget\nmetadata: {name: w}\n');

t.test('setup: a NodePort service holds 30088', async (t) => {
  const r = await runCli(['apply', '-f', file('np.yaml', svc('np'))], env);
  t.same([r.code, r.stdout, r.stderr], [0, 'service/np created\n', '']);
});

const cases: { name: string; args: string[]; stdin?: string; stderr: string }[] = [
  { name: 'kubectl apply -f - of broken YAML', args: ['kubectl', 'apply', '-f', '-'], stdin: BROKEN, stderr: `error: error parsing STDIN: ${PARSE}\n` },
  { name: 'dplab apply -f - of broken YAML', args: ['apply', '-f', '-'], stdin: BROKEN, stderr: `dplab: error: error parsing STDIN: ${PARSE}\n` },
  { name: 'dplab apply -f FILE of broken YAML names the file', args: ['apply', '-f', broken], stderr: `dplab: error: error parsing ${broken}: ${PARSE}\n` },
  { name: 'dplab delete -f FILE of broken YAML names the file', args: ['delete', '-f', broken], stderr: `dplab: error: error parsing ${broken}: ${PARSE}\n` },
  { name: 'kubectl apply of a nodePort clash: 422 Invalid, printed bare', args: ['kubectl', 'apply', '-f', '-'], stdin: svc('clash'), stderr: `${CLASH}\n` },
  { name: 'dplab apply -f FILE of a nodePort clash', args: ['apply', '-f', clash], stderr: `dplab: ${CLASH}\n` },
  { name: 'dplab apply -f FILE of an unknown kind names the file', args: ['apply', '-f', widget], stderr: `dplab: resource mapping not found for name: "w" namespace: "" from "${widget}": no matches for kind "Widget" in version "v1"\n` },
];
for (const c of cases) {
  t.test(c.name, async (t) => {
    const r = await runCli(c.args, env, c.stdin);
    t.same([r.code, r.stdout, r.stderr], [1, '', c.stderr]);
  });
}

t.test('the HTTP API answers a clash with 422 and the field', async (t) => {
  const res = await fetch(`${server.url}/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ yaml: svc('clash') }) });
  t.equal(res.status, 422);
  t.same(await res.json(), { error: CLASH, field: 'spec.ports[0].nodePort' });
  const pinned = await fetch(`${server.url}/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ yaml: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {dplab.dev/pod-ip: 172.16.1.111}\nspec:\n  nodeName: k8s-w1\n  containers: [{name: c, image: nicolaka/netshoot}]\n' }) });
  t.equal(pinned.status, 422);
  t.match(await pinned.json(), { error: /^The Pod "p" is invalid: metadata\.annotations\[dplab\.dev\/pod-ip\]: Invalid value: "172\.16\.1\.111": address already in use$/ });
});

// JSON bodies, as the API server takes them (and as `dplab apply` sends them):
// one object, a List, an array; the same limits and error shape as YAML.
const jpod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'j' } }, spec: { containers: [{ name: 'c', image: 'nicolaka/netshoot' }] } });
const TOO_DEEP = 'error: error parsing STDIN: error converting YAML to JSON: yaml: exceeded max depth of 512';
const post = async (path: string, body: string) => {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, body: await res.json() as { lines?: string[]; error?: string; field?: string } };
};
const jsonCases: { name: string; path: string; body: string; status: number; want: object }[] = [
  { name: 'one object', path: '/v1/apply', body: JSON.stringify(jpod('j1')), status: 200, want: { lines: ['pod/j1 created'] } },
  { name: 'a List', path: '/v1/apply', body: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [jpod('j2'), jpod('j3')] }), status: 200, want: { lines: ['pod/j2 created', 'pod/j3 created'] } },
  { name: 'an array, applied again', path: '/v1/apply', body: JSON.stringify([jpod('j1'), jpod('j4')]), status: 200, want: { lines: ['pod/j1 unchanged', 'pod/j4 created'] } },
  { name: 'delete of an array', path: '/v1/delete', body: JSON.stringify([jpod('j3'), jpod('j4')]), status: 200, want: { lines: ['pod "j3" deleted', 'pod "j4" deleted'] } },
  { name: 'malformed JSON', path: '/v1/apply', body: '[{"kind": "Pod"', status: 400, want: { error: "Body is not valid JSON but content-type is set to 'application/json'" } },
  { name: 'an array holding a number', path: '/v1/apply', body: '[5]', status: 400, want: { error: 'error validating document 1: not an object', field: 'yaml' } },
  { name: 'nested past the limit', path: '/v1/apply', body: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"d"},"spec":${'{"a":'.repeat(300000)}1${'}'.repeat(300000)}}`, status: 400, want: { error: TOO_DEEP, field: 'yaml' } },
  { name: 'arrays nested past the limit', path: '/v1/apply', body: `[${'['.repeat(600)}${']'.repeat(600)}]`, status: 400, want: { error: TOO_DEEP, field: 'yaml' } },
  { name: 'more objects than a request may hold', path: '/v1/apply', body: JSON.stringify(Array.from({ length: 20001 }, () => ({}))), status: 413,
    want: { error: 'Error from server (RequestEntityTooLarge): the request holds more than 20000 objects; dplab admits at most 20000 per request', field: 'yaml' } },
  { name: 'an object without kind is not a manifest', path: '/v1/apply', body: '{}', status: 400, want: { error: "body must have required property 'yaml'", field: 'yaml' } },
];
for (const c of jsonCases) {
  t.test(`JSON body: ${c.name}`, async (t) => {
    const r = await post(c.path, c.body);
    t.same([r.status, r.body], [c.status, c.want]);
  });
}

t.test('a JSON body and the same manifest in YAML are one object: applying the other is "unchanged"', async (t) => {
  const yaml = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: same\n  labels: {app: j}\nspec:\n  containers:\n  - {name: c, image: nicolaka/netshoot}\n';
  t.same((await post('/v1/apply', JSON.stringify({ yaml }))).body, { lines: ['pod/same created'] });
  t.same((await post('/v1/apply', JSON.stringify(jpod('same')))).body, { lines: ['pod/same unchanged'] });
  const r = await runCli(['apply', '-f', file('same.yaml', yaml)], env);
  t.same([r.code, r.stdout, r.stderr], [0, 'pod/same unchanged\n', '']);
});

t.test('dplab kubectl apply / delete -f - of plain YAML (sent as JSON)', async (t) => {
  const yaml = '# two pods\napiVersion: v1\nkind: Pod\nmetadata: {name: k1}\nspec: {containers: [{name: c, image: nicolaka/netshoot}]}\n---\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: k2}\nspec: {containers: [{name: c, image: nicolaka/netshoot}]}\n';
  const a = await runCli(['kubectl', 'apply', '-f', '-'], env, yaml);
  t.same([a.code, a.stdout, a.stderr], [0, 'pod/k1 created\npod/k2 created\n', '']);
  const d = await runCli(['kubectl', 'delete', '-f', '-'], env, yaml);
  t.same([d.code, d.stdout, d.stderr], [0, 'pod "k1" deleted\npod "k2" deleted\n', '']);
  const none = await runCli(['kubectl', 'apply', '-f', '-'], env, '# nothing\n');
  t.same([none.code, none.stdout, none.stderr], [1, '', 'error: no objects passed to apply\n']);
});

// What the client cannot read as the server's YAML path would goes as YAML,
// so the user sees the server's words, as before the client parsed.
const bomb = `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`).join('\n')}\n`;
const asYaml: { name: string; text: string }[] = [
  { name: 'broken YAML', text: BROKEN },
  { name: 'a scalar document', text: 'apiVersion: v1\nkind: Pod\nmetadata: {name: s}\n---\njust text\n' },
  { name: 'a sequence document', text: '- a\n- b\n' },
  { name: 'duplicate keys', text: 'kind: Pod\nkind: Pod\n' },
  { name: 'an alias bomb', text: bomb },
  { name: 'flow nesting past the limit', text: `a: ${'['.repeat(600)}${']'.repeat(600)}\n` },
  { name: 'a prototype key', text: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, __proto__: {x: 1}}\n' },
  { name: 'an infinite number', text: 'apiVersion: v1\nkind: Service\nmetadata: {name: inf}\nspec: {ports: [{port: .inf}]}\n' },
];
for (const c of asYaml) {
  t.test(`the client sends ${c.name} as YAML: manifestObjects declines, the CLI prints the server's message`, async (t) => {
    t.equal(manifestObjects(c.text), undefined);
    const server = await post('/v1/apply', JSON.stringify({ yaml: c.text }));
    t.ok(server.status >= 400 && server.status < 500, `${server.status} ${server.body.error}`);
    const r = await runCli(['apply', '-f', '-'], env, c.text);
    t.same([r.code, r.stdout, r.stderr], [1, '', `dplab: ${server.body.error}\n`]);
  });
}

t.test('manifestObjects reads plain manifests as the server\'s YAML path does', async (t) => {
  const text = '# c\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: a  # n\n  labels: {x: "1", y: yes}\nspec:\n  containers:\n  - name: c\n    image: i\n    args: [a, 1, 1.5, true, null, "q"]\n---\nkind: List\nitems: []\n';
  t.same(manifestObjects(text), [
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', labels: { x: '1', y: 'yes' } }, spec: { containers: [{ name: 'c', image: 'i', args: ['a', 1, 1.5, true, null, 'q'] }] } },
    { kind: 'List', items: [] },
  ]);
  t.same(manifestObjects('# only a comment\n'), []);
});
