// The manifests' fast YAML path (src/cluster/kube/yaml_fast.ts) against the
// `yaml` library it stands in for: whatever it answers must be what `yaml`
// gives, key order included (apply's "unchanged" compares JSON text), and it
// must answer the plain manifests a bulk apply carries. Table-driven edge
// cases, then seeded random documents built from tricky pieces.
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { fastDocuments } from '../src/cluster/kube/yaml_fast.ts';
import { Rng } from '../src/sim/sim.ts';

/** `yaml`'s documents as values, empty ones left out; undefined when any document has errors. */
function reference(text: string): unknown[] | undefined {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0)) return Array.isArray(docs) ? undefined : [];
  return docs.map((d) => d.toJS({ maxAliasCount: 100 })).filter((v) => v !== null && v !== undefined);
}

/** The fast path's answer must equal the reference's, or be none. Returns whether it answered. */
function agrees(t: { fail(m: string): void; strictSame(a: unknown, b: unknown): void }, text: string): boolean {
  const fast = fastDocuments(text);
  if (fast === undefined) return false;
  const ref = reference(text);
  const got = fast.filter((v) => v !== null);
  if (ref === undefined) { t.fail(`fast path answered text that yaml refuses: ${JSON.stringify(text)}`); return true; }
  if (JSON.stringify(got) !== JSON.stringify(ref)) t.fail(`differs from yaml on ${JSON.stringify(text)}: ${JSON.stringify(got)} vs ${JSON.stringify(ref)}`);
  else t.strictSame(got, ref);
  return true;
}

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: web-0   # trailing comment
  labels: {app: web, app.kubernetes.io/name: "web"}
  annotations:
    dplab.dev/pod-ip: 10.1.0.5
spec:
  containers:
  - name: web
    image: nginx:1.25
    command: ['sh', '-c', 'echo it''s #1 && sleep 1']
    ports:
      - containerPort: 80
        name: http
      - {containerPort: 8080, protocol: UDP}
  nodeSelector: {}
  tolerations: []
`;

t.test('answers the manifests a bulk apply carries, as yaml reads them', async (t) => {
  const cases = [
    POD,
    `---\n${POD}---\n${POD}`,
    'apiVersion: v1\nkind: Service\nmetadata: {name: bulk}\nspec:\n  selector: {app: bulk}\n  ports: [{port: 80, targetPort: 80}]',
    'apiVersion: v1\nkind: Pod\nmetadata: {name: bulk-0, labels: {app: bulk}}\nspec: {containers: [{name: web, image: traefik/whoami, ports: [{containerPort: 80}]}]}',
    'a:\n  - - x\n    - y\n  -\n    b: 1\n  - c: true\n    d: ~\n',
    '# only a comment\n---\n\n---\nkind: List\nitems: []\n',
  ];
  for (const text of cases) t.ok(agrees(t, text), `answered: ${JSON.stringify(text.slice(0, 50))}`);
});

t.test('leaves to yaml what it is not sure of', async (t) => {
  const cases = [
    'a: &x 1\nb: *x', 'a: !!str 1', 'a: |\n  x\n', 'a: >\n  x\n', 'a: "x\\ty"', 'a: b\n  c', 'a: 1.5', 'a: -1', 'a: 0x1f', 'a: .inf',
    'a: 1\na: 2', '80: x', 'true: x', '__proto__: {x: 1}', 'a:\tb', 'a: b\r\n', 'a: [1,\n 2]', '- a', 'x', '--- a: 1', '...', '%YAML 1.2\n---\na: 1',
    'a: {b: }', 'a: [b,]', 'a: {b}', 'a:b: c', '  a: 1', 'a: b: c', 'a: café', 'a: 12345678901234567', '"a\\"b": 1', 'a: [b: c]', 'a: "x', "a: 'x",
    'a:\n- b\n - c', 'a:\n  b: 1\n c: 2', '? a\n: b', 'a: @x', 'a: `x', 'a: {b: 1, b: 2}',
  ];
  for (const text of cases) t.equal(fastDocuments(text), undefined, JSON.stringify(text));
});

/** Random documents from pieces that sit on the edges of the fast path's subset. */
t.test('seeded random documents: where the fast path answers, it answers as yaml', async (t) => {
  const rng = new Rng(6);
  const pick = <T>(xs: T[]): T => xs[rng.below(xs.length)]!;
  const keys = ['a', 'b', 'app.kubernetes.io/name', '"q k"', "'s k'", 'x-y', 'a b', 'on', 'yes', 'No', 'key_1', '"80"', 'k'];
  const scalars = ['a', 'a b', 'nginx:1.25', 'a:b', '1', '01', '007', '1.5', '10.0.0.1', 'true', 'True', 'FALSE', 'yes', 'null', '~', 'Null', "'q'", "'it''s'",
    '"d q"', '""', "''", 'a #c', 'a#b', 'a, b', 'x]', '0o17', '1e3', '+1', 'http://x/y?z=1', '/dev/log', 'a-b', '"#"', "':'", '2024-01-01', '-', '- x', 'a: b'];
  const flowScalars = ['a', 'b c', 'nginx:1.25', '1', 'true', '~', "'q'", '"d"', 'a/b', 'x.y', '08', '1.0'];
  const flow = (d: number): string => {
    const r = rng.below(d > 2 ? 1 : 3);
    if (r === 1) return `[${Array.from({ length: rng.below(3) }, () => flow(d + 1)).join(pick([', ', ',', ' , ']))}]`;
    if (r === 2) return `{${Array.from({ length: rng.below(3) }, () => `${pick(keys)}: ${flow(d + 1)}`).join(pick([', ', ',']))}}`;
    return pick(flowScalars);
  };
  const value = (): string => (rng.below(3) === 0 ? flow(0) : pick(scalars)) + pick(['', '', ' # c', '  ']);
  const block = (ind: number, d: number): string[] => {
    const pad = ' '.repeat(ind);
    const out: string[] = [];
    const seq = d > 0 && rng.below(3) === 0;
    for (let i = 0, n = 1 + rng.below(3); i < n; i++) {
      if (rng.below(8) === 0) out.push(pick(['', `${pad}# note`, '   ']));
      const head = seq ? `${pad}-` : `${pad}${pick(keys)}:`;
      const r = d > 2 ? 0 : rng.below(4);
      if (r === 0) out.push(`${head} ${value()}`);
      else if (r === 1) { out.push(head); out.push(...block(ind + pick([2, 4]), d + 1)); } else if (r === 2 && !seq) {
        // A sequence at its key's own indent.
        out.push(head);
        for (let j = 0, m = 1 + rng.below(2); j < m; j++) out.push(`${pad}- ${value()}`);
      } else if (seq) {
        const inner = block(ind + 2, d + 1);
        out.push(`${pad}- ${inner[0]!.trimStart()}`, ...inner.slice(1));
      } else out.push(`${head} ${flow(0)}`);
    }
    return out;
  };
  let answered = 0;
  const N = 3000;
  for (let i = 0; i < N; i++) {
    const docs = Array.from({ length: 1 + rng.below(2) }, () => block(0, 0).join('\n'));
    const text = (rng.below(4) === 0 ? '---\n' : '') + docs.join(pick(['\n---\n', '\n---  \n'])) + pick(['', '\n', '\n---\n']);
    if (agrees(t, text)) answered++;
  }
  t.ok(answered > N / 10, `the fast path answered ${answered} of ${N}`);
  t.ok(answered < N, 'and left some to yaml');
});
