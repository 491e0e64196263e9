// The admission fuzzer: seeded streams of manifests and patches, valid and
// broken, fed through apply / patch / delete. A model predicts, for each
// request, whether the API server must accept it and what the user's objects
// then are; the run fails on any 5xx, any exception that is not an API error,
// a prediction the server disagrees with, a refused request that changed the
// state, or a polluted Object.prototype.
//
// `npm run fuzz -- --ops 100000 --seed 1` runs it alone; test/fuzz.test.ts runs a fast subset.

import { stringify } from 'yaml';
import { Rng, Sim } from '../../src/sim/sim.ts';
import { ClusterError } from '../../src/cluster/facade.ts';
import { KubeApi } from '../../src/cluster/kube/api.ts';
import { LABS } from '../../src/cluster/labs/index.ts';
import { isClusterDoc, resolveClusterDoc } from '../../src/cluster/spec.ts';
import type { Any, KObject } from '../../src/cluster/kube/types.ts';
import { parseAllDocuments } from 'yaml';

/** What a run talks to: the API server's three writes, and a way to list the user's objects. */
export interface Target {
  apply(yaml: string): Promise<Outcome>;
  patch(kind: string, ns: string, name: string, type: 'merge' | 'strategic' | 'json', patch: string): Promise<Outcome>;
  delete(kind: string, ns: string, name: string): Promise<Outcome>;
  /** Objects of kind (any namespace). */
  list(kind: string): KObject[];
  /** Opaque state identity: equal before and after a refused request. */
  version(): unknown;
}

/** The status of an answer (200 on success) and its message. */
export interface Outcome { status: number; error?: string }

/** A KubeApi of its own (no datapath): the fastest way to drive admission. */
export function apiTarget(seed: number): Target {
  const docs = parseAllDocuments(LABS.cilium!).map((d) => d.toJS());
  const spec = resolveClusterDoc(docs.find((d: Any) => d && isClusterDoc(d)));
  const api = new KubeApi(spec, new Sim(seed), { seed });
  const run = (f: () => unknown): Promise<Outcome> => {
    try { f(); return Promise.resolve({ status: 200 }); } catch (e) {
      if (e instanceof ClusterError) return Promise.resolve({ status: e.status, error: e.message });
      throw e; // not an API answer: the fuzzer reports it
    }
  };
  return {
    apply: (yaml) => run(() => api.apply(yaml)),
    patch: (kind, ns, name, type, p) => run(() => api.patch(kind, ns, name, type, p)),
    delete: (kind, ns, name) => run(() => api.deleteNamed(kind, ns, [name])),
    list: (kind) => api.list(kind),
    version: () => api.snapshot(),
  };
}

// ---- generation -------------------------------------------------------------

const NAMESPACES = ['default', 'fz'];
const NAMES: Record<string, string[]> = {
  Pod: ['fz-p1', 'fz-p2', 'fz-p3', 'fz-p4'],
  Service: ['fz-s1', 'fz-s2', 'fz-s3'],
  Deployment: ['fz-d1', 'fz-d2'],
  NetworkPolicy: ['fz-n1', 'fz-n2'],
};
const KINDS = Object.keys(NAMES);
const IMAGES = ['traefik/whoami', 'nicolaka/netshoot', 'nginx:1.27'];
const LABEL_KEYS = ['app', 'tier', 'example.com/team', 'constructor', 'prototype', 'v'];
const LABEL_VALUES = ['a', 'b', 'web', 'x.y_z', ''];

class Gen {
  constructor(readonly r: Rng) {}
  int(n: number): number { return this.r.u32() % n; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }
  chance(p: number): boolean { return this.r.u32() / 2 ** 32 < p; }
  labels(): Record<string, string> {
    const out: Record<string, string> = {};
    for (let i = this.int(3); i > 0; i--) out[this.pick(LABEL_KEYS)] = this.pick(LABEL_VALUES);
    return out;
  }
}

/** The user's view of an object: what the model tracks. */
interface ModelObj { labels: Record<string, string>; podSig?: string }
type Model = Map<string, ModelObj>;
const keyOf = (kind: string, ns: string, name: string) => `${kind}/${ns}/${name}`;

/** Some pods always ask for a node by name (the same one each time, so updates can keep it); the rest are scheduled. */
const PINNED_NODE: Record<string, string> = { 'fz-p1': 'k8s-w1', 'fz-p3': 'k8s-w2' };

function podSpec(g: Gen, name?: string): Any {
  const c: Any = { name: 'c', image: g.pick(IMAGES) };
  if (g.chance(0.5)) c.ports = [{ containerPort: g.pick([80, 8080]), ...(g.chance(0.5) ? { name: 'http' } : {}) }];
  const node = name === undefined ? undefined : PINNED_NODE[name];
  return { containers: [c], ...(node ? { nodeName: node } : {}) };
}

/** The fields of a pod spec an update may not change: all but images. */
const podSig = (spec: Any) => JSON.stringify({ ...spec, containers: spec.containers.map((c: Any) => ({ ...c, image: undefined })) });

function validObject(g: Gen, kind: string, ns: string, name: string): KObject {
  const metadata: Any = { name, namespace: ns };
  const labels = g.labels();
  if (Object.keys(labels).length) metadata.labels = labels;
  switch (kind) {
    case 'Pod': return { apiVersion: 'v1', kind, metadata, spec: podSpec(g, name) };
    case 'Service': {
      const ports = [{ name: 'http', port: g.pick([80, 8080]), ...(g.chance(0.5) ? { targetPort: g.pick([80, 'http']) } : {}) }];
      if (g.chance(0.3)) ports.push({ name: 'dns', port: 53, protocol: 'UDP' } as Any);
      return { apiVersion: 'v1', kind, metadata, spec: { type: g.pick(['ClusterIP', 'NodePort']), selector: { app: g.pick(['a', 'web']) }, ports } };
    }
    case 'Deployment': {
      const app = name;
      return { apiVersion: 'apps/v1', kind, metadata, spec: { replicas: g.int(4), selector: { matchLabels: { app } }, template: { metadata: { labels: { app, ...(g.chance(0.3) ? { tier: 'web' } : {}) } }, spec: podSpec(g) } } };
    }
    default: {
      const cidr = g.pick(['10.0.0.0/8', '172.16.0.0/16']);
      const peer: Any = g.chance(0.5) ? { ipBlock: { cidr, ...(g.chance(0.5) ? { except: [cidr.startsWith('10.') ? '10.1.0.0/24' : '172.16.1.0/24'] } : {}) } } : { podSelector: {} };
      return { apiVersion: 'networking.k8s.io/v1', kind, metadata, spec: { podSelector: { matchLabels: { app: g.pick(['a', 'web']) } }, policyTypes: ['Ingress'], ingress: [{ from: [peer], ports: [{ port: g.pick([80, 'http']) }] }] } };
    }
  }
}

/** Ways to break an object so that the API server must refuse it (4xx). */
const BREAKERS: Array<(g: Gen, o: Any) => void> = [
  (g, o) => { o.metadata.labels = { app: 'v'.repeat(64 + g.int(10)) }; },
  (_g, o) => { o.metadata.labels = { app: 'a b' }; },
  (g, o) => { o.metadata.labels = { [g.pick(['-bad', '__proto__', 'a/b/c', 'UPPER/x'])]: 'x' }; },
  (_g, o) => { o.metadata.labels = { v: 1 }; },
  (g, o) => { o.metadata.name = g.pick(['Fz_Bad', '', 'fz..x', '-fz']); },
  (g, o) => { o.spec = g.pick(['string', 42, [1, 2], true]); },
  (g, o) => { o.spec = { ...o.spec, [g.pick(['__proto__', 'constructor', 'prototype'])]: { nodeName: 'k8s-s' } }; },
  (_g, o) => { Object.defineProperty(o, '__proto__', { value: { polluted: true }, enumerable: true }); },
  (g, o) => { o.kind = g.pick(['Widget', 'pod', '']); },
  (_g, o) => { o.apiVersion = 'v9'; },
  (_g, o) => { delete o.metadata; },
  (g, o) => {
    switch (o.kind) {
      case 'Pod': o.spec.containers = g.pick([[], [{ name: 'c' }], 'c', [{ name: 'c', image: 'x' }, { name: 'c', image: 'y' }]]); break;
      case 'Service': o.spec.ports = g.pick([[{ port: 0 }], [{ port: 70000 }], [{ name: 'a', port: 80 }, { name: 'b', port: 80 }], []]); break;
      case 'Deployment': o.spec.replicas = g.pick([-1, 'three', 1.5, 3e9]); break;
      default: o.spec.ingress = [{ from: [g.pick([{ ipBlock: { cidr: '10.0.0.0/33' } }, { ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.0.0/8'] } }, {}, { ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }])] }];
    }
  },
  (g, o) => {
    switch (o.kind) {
      case 'Pod': o.spec.nodeName = 'k8s-nope'; break;
      case 'Service': if (g.chance(0.5)) o.spec.externalIPs = [g.pick(['0.0.0.0', '127.0.0.1', '1.2.3', '010.1.1.1'])]; else { o.spec.type = 'NodePort'; o.spec.clusterIP = 'None'; } break;
      case 'Deployment': o.spec.template.metadata.labels = { app: 'other' }; break;
      default: if (g.chance(0.5)) o.spec = [o.spec]; else o.spec.policyTypes = [g.pick(['Sideways', 'ingress', 'Ingress,Egress'])];
    }
  },
  (_g, o) => { if (o.kind === 'Service') o.spec.selector = { app: ['a', 'b'] }; else o.metadata.annotations = { big: 'x'.repeat(262_145) }; },
];

/** Text-level breakage: what no object serializes to. */
const TEXT_BREAKERS: Array<(g: Gen, text: string) => string> = [
  (_g, t) => `${t}\n{unclosed: [`,
  (g, t) => t.slice(0, Math.max(1, g.int(t.length))) + '\n\t- tab: x',
  () => ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefg'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefg'[i]}`).join(',')}]`)].join('\n'),
  (g) => `a: ${'['.repeat(600 + g.int(2000))}`,
  () => '- 1\n- 2\n',
];

function serialize(g: Gen, objs: KObject[]): string {
  return objs.map((o) => (g.chance(0.5) ? JSON.stringify(o) : stringify(o))).join('\n---\n');
}

/** One request and what the model says it must do. */
interface Op { describe: string; expectOk: boolean; send(t: Target): Promise<Outcome>; commit?(m: Model): void }

function applyOp(g: Gen, m: Model): Op {
  const n = 1 + g.int(3);
  const objs: KObject[] = [];
  let ok = true;
  const next = new Map(m);
  for (let i = 0; i < n; i++) {
    const kind = g.pick(KINDS), ns = g.pick(NAMESPACES), name = g.pick(NAMES[kind]!);
    const o = validObject(g, kind, ns, name);
    if (g.chance(0.3)) { g.pick(BREAKERS)(g, o); ok = false; }
    objs.push(o);
    if (!ok) continue;
    const k = keyOf(kind, ns, name);
    const old = next.get(k);
    const sig = kind === 'Pod' ? podSig(o.spec) : undefined;
    // A pod update may change images only.
    if (old && kind === 'Pod' && old.podSig !== sig) { ok = false; continue; }
    next.set(k, { labels: o.metadata.labels ?? {}, podSig: sig });
  }
  let text = serialize(g, objs);
  if (g.chance(0.03)) { text = g.pick(TEXT_BREAKERS)(g, text); ok = false; }
  return {
    describe: `apply ${objs.map((o) => `${o.kind}/${o.metadata?.name}`).join(',')}`, expectOk: ok,
    send: (t) => t.apply(text), commit: (mm) => { mm.clear(); for (const [k, v] of next) mm.set(k, v); },
  };
}

function existing(g: Gen, m: Model): [string, string, string] {
  const keys = [...m.keys()];
  if (keys.length && g.chance(0.85)) return g.pick(keys).split('/') as [string, string, string];
  const kind = g.pick(KINDS);
  return [kind, g.pick(NAMESPACES), g.pick(NAMES[kind]!)];
}

function deleteOp(g: Gen, m: Model): Op {
  const [kind, ns, name] = existing(g, m);
  const k = keyOf(kind, ns, name);
  return { describe: `delete ${k}`, expectOk: m.has(k), send: (t) => t.delete(kind, ns, name), commit: (mm) => { mm.delete(k); } };
}

const BAD_PATCHES: Array<{ type: 'merge' | 'strategic' | 'json'; patch: string }> = [
  { type: 'merge', patch: '{"__proto__":{"nodeName":"k8s-s"}}' },
  { type: 'strategic', patch: '{"spec":{"__proto__":{"polluted":1}}}' },
  { type: 'merge', patch: '{"constructor":{"prototype":{"polluted":1}}}' },
  { type: 'merge', patch: '{"metadata":{"labels":{"app":"a b"}}}' },
  { type: 'merge', patch: '{"metadata":{"name":"other"}}' },
  { type: 'merge', patch: '{"kind":"Namespace"}' },
  { type: 'merge', patch: '{"spec":"x"}' },
  { type: 'merge', patch: '{not json' },
  { type: 'merge', patch: `${'{"a":'.repeat(600)}1${'}'.repeat(600)}` },
  { type: 'json', patch: '[{"op":"add","path":"/__proto__/polluted","value":1}]' },
  { type: 'json', patch: '[{"op":"add","path":"/constructor/prototype/polluted","value":1}]' },
  { type: 'json', patch: '[{"op":"add","path":"/__proto__","value":{"polluted":1}}]' },
  { type: 'json', patch: '[{"op":"replace","path":"/metadata/nope/x","value":1}]' },
  { type: 'json', patch: '[{"op":"move","from":"/spec","path":"/x"}]' },
  { type: 'json', patch: '{"op":"add"}' },
  { type: 'json', patch: '[null]' },
  { type: 'json', patch: '[{"op":"add","path":"/metadata/labels","value":{"k":"v v"}}]' },
];

function patchOp(g: Gen, m: Model): Op {
  const [kind, ns, name] = existing(g, m);
  const k = keyOf(kind, ns, name);
  const cur = m.get(k);
  if (!cur || g.chance(0.3)) {
    const bad = g.pick(BAD_PATCHES);
    return { describe: `patch ${k} ${bad.type} ${bad.patch.slice(0, 60)}`, expectOk: false, send: (t) => t.patch(kind, ns, name, bad.type, bad.patch) };
  }
  const key = g.pick(LABEL_KEYS), value = g.pick(LABEL_VALUES);
  const labels = { ...cur.labels };
  let type: 'merge' | 'strategic' | 'json', patch: string;
  if (g.chance(0.5)) {
    const remove = g.chance(0.3);
    type = g.pick(['merge', 'strategic'] as const);
    patch = JSON.stringify({ metadata: { labels: { [key]: remove ? null : value } } });
    if (remove) delete labels[key]; else labels[key] = value;
  } else {
    type = 'json';
    const has = Object.keys(cur.labels).length > 0;
    patch = JSON.stringify(has ? [{ op: 'add', path: `/metadata/labels/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, value }] : [{ op: 'add', path: '/metadata/labels', value: { [key]: value } }]);
    labels[key] = value;
  }
  return { describe: `patch ${k} ${type} ${patch}`, expectOk: true, send: (t) => t.patch(kind, ns, name, type, patch), commit: (mm) => { mm.set(k, { ...cur, labels }); } };
}

/** The user's objects as the server holds them (controller-made pods left out). */
function observed(t: Target): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const kind of KINDS) {
    for (const o of t.list(kind)) {
      if (!o.metadata.name.startsWith('fz-') || (kind === 'Pod' && o.metadata.ownerReferences?.length)) continue;
      out.set(keyOf(kind, o.metadata.namespace!, o.metadata.name), { ...(o.metadata.labels ?? {}) });
    }
  }
  return out;
}

function sameState(t: Target, m: Model): string | undefined {
  const seen = observed(t);
  for (const [k, v] of m) {
    const got = seen.get(k);
    if (!got) return `${k} missing`;
    if (JSON.stringify(sortObj(got)) !== JSON.stringify(sortObj(v.labels))) return `${k} labels ${JSON.stringify(got)} != model ${JSON.stringify(v.labels)}`;
  }
  for (const k of seen.keys()) if (!m.has(k)) return `${k} present but not in the model`;
  return undefined;
}

const sortObj = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));

export interface FuzzReport { ops: number; accepted: number; refused: number; byStatus: Record<string, number>; failures: string[] }

const PROTO = () => Object.getOwnPropertyNames(Object.prototype).sort().join(',');

/** Run `ops` generated requests against target; stops at the first failure (kept in the report). */
export async function fuzz(target: Target, opts: { seed: number; ops: number; checkEvery?: number }): Promise<FuzzReport> {
  const g = new Gen(new Rng(opts.seed));
  const model: Model = new Map();
  const report: FuzzReport = { ops: 0, accepted: 0, refused: 0, byStatus: {}, failures: [] };
  const proto = PROTO();
  const setup = await target.apply('apiVersion: v1\nkind: Namespace\nmetadata: {name: fz}\n');
  if (setup.status !== 200) report.failures.push(`setup: ${setup.error}`);
  for (let i = 0; i < opts.ops && report.failures.length === 0; i++) {
    const r = g.int(10);
    const op = r < 6 ? applyOp(g, model) : r < 8 ? patchOp(g, model) : deleteOp(g, model);
    const before = target.version();
    let out: Outcome;
    try { out = await op.send(target); } catch (e) {
      report.failures.push(`op ${i} ${op.describe}: uncaught ${(e as Error).stack ?? String(e)}`);
      break;
    }
    report.ops++;
    report.byStatus[out.status] = (report.byStatus[out.status] ?? 0) + 1;
    const fail = (why: string) => report.failures.push(`op ${i} (seed ${opts.seed}) ${op.describe}: ${why}`);
    if (out.status >= 500) fail(`HTTP ${out.status}: ${out.error}`);
    else if (out.status === 200) {
      report.accepted++;
      if (!op.expectOk) fail('accepted, but the API server refuses it');
      op.commit?.(model);
    } else {
      report.refused++;
      if (op.expectOk) fail(`refused (${out.status} ${out.error}), but the API server accepts it`);
      if (target.version() !== before) fail('refused, yet the state changed');
    }
    if (PROTO() !== proto || ({} as Any).polluted !== undefined || ({} as Any).nodeName !== undefined) fail('Object.prototype polluted');
    if (report.failures.length === 0 && (i % (opts.checkEvery ?? 1) === 0 || i === opts.ops - 1)) {
      const diff = sameState(target, model);
      if (diff) fail(`state differs from the model: ${diff}`);
    }
  }
  return report;
}

// `npm run fuzz -- --ops N --seed S`
if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, def: number) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : def; };
  const ops = arg('ops', 100_000), seed = arg('seed', 1);
  const t0 = process.hrtime.bigint();
  const report = await fuzz(apiTarget(seed), { seed, ops, checkEvery: 1 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ seed, ...report, failures: report.failures.length, seconds: Math.round(seconds * 10) / 10 }));
  for (const f of report.failures) console.error(f);
  process.exit(report.failures.length ? 1 : 0);
}
