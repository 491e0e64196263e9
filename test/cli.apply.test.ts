// `dplab apply` / `dplab kubectl apply` against the seed lab: the API server's
// 422 Invalid for taken ports and addresses, and kubectl's YAML parse errors
// naming STDIN or the file given.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../src/api/server.ts';
import { Cluster } from '../src/cluster/cluster.ts';
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
