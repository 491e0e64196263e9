// The Cilium agent pods: the DaemonSets and operator Cilium's chart installs,
// the daemon controller keeping a pod per eligible node, and the seed-003
// commands run as the study types them (c0/c0bpf aliases, kubectl exec into
// the agent pod of a node), with values that agree across commands.
import t from 'tap';
import { Cluster } from '../src/cluster/cluster.ts';
import { KubeApi } from '../src/cluster/kube/api.ts';
import { LABS } from '../src/cluster/labs/index.ts';
import { Sim } from '../src/sim/sim.ts';
import { kubectl, onNode, podVeth, scenario, seedLab } from './helpers/lab.ts';
import type { KObject } from '../src/cluster/kube/types.ts';

const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';
const blank = (s: string): string[] => s.split('\n').map((l) => l.trim().replace(/\s+/g, ' ')).filter((l) => l !== '');

/** `kubectl get pods -o wide` rows as {name, ip, node}. */
async function podsOf(c: Cluster, args: string[]): Promise<Array<{ ns: string; name: string; ip: string; node: string }>> {
  const out = (await kubectl(c, ['get', 'pods', '-o', 'wide', '--no-headers', ...args])).stdout;
  const all = args.includes('-A');
  return blank(out).map((l) => { const f = l.split(' '); const o = all ? 1 : 0; return { ns: all ? f[0]! : '', name: f[o]!, ip: f[o + 5]!, node: f[o + 6]! }; });
}

t.test('the agent DaemonSet: one host-network pod per node, named from the seed', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const agents = await podsOf(c, ['-n', 'kube-system', '-l', 'k8s-app=cilium']);
  t.same(agents.map((p) => p.node).sort(), ['k8s-s', 'k8s-w1', 'k8s-w2'], 'one per node');
  const nodeIp: Record<string, string> = { 'k8s-s': '192.168.10.10', 'k8s-w1': '192.168.10.101', 'k8s-w2': '192.168.10.102' };
  for (const p of agents) {
    t.match(p.name, new RegExp(`^cilium-${SAFE}{5}$`), `${p.name}: cilium-<5 chars>`);
    t.equal(p.ip, nodeIp[p.node], `${p.name}: host network, the node's IP`);
  }
  const all = await podsOf(c, ['-A']);
  t.equal(all.filter((p) => /^cilium-envoy-/.test(p.name)).length, 3, 'cilium-envoy on every node');
  t.equal(all.filter((p) => /^cilium-operator-[a-z0-9]+-[a-z0-9]{5}$/.test(p.name)).length, 1, 'one operator');
  t.same(all.filter((p) => p.ns === 'default').map((p) => p.name), ['netpod', 'webpod1', 'webpod2'], 'the seed\'s pods, where they were');
  t.same(blank((await kubectl(c, ['get', 'pod', '-o', 'wide'])).stdout).map((l) => l.replace(/ \d+s /, ' AGE ')), [
    'NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES',
    'netpod 1/1 Running 0 AGE 172.16.0.230 k8s-s <none> <none>',
    'webpod1 1/1 Running 0 AGE 172.16.1.111 k8s-w1 <none> <none>',
    'webpod2 1/1 Running 0 AGE 172.16.2.180 k8s-w2 <none> <none>',
  ], 'kubectl get pod -o wide as the seed shows it');

  const ds = await kubectl(c, ['get', 'ds', '-A']);
  t.same(blank(ds.stdout).map((l) => l.replace(/ \d+s$/, ' AGE')), [
    'NAMESPACE NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE',
    'kube-system cilium 3 3 3 3 3 kubernetes.io/os=linux AGE',
    'kube-system cilium-envoy 3 3 3 3 3 kubernetes.io/os=linux AGE',
  ]);
  t.match((await kubectl(c, ['get', 'ds', 'cilium', '-n', 'kube-system', '-o', 'wide'])).stdout, /\ncilium +3 +3 +3 +3 +3 +kubernetes\.io\/os=linux +\d+s +cilium-agent +quay\.io\/cilium\/cilium:v1\.16\.3 +k8s-app=cilium\n$/);
  const spec = JSON.parse((await kubectl(c, ['get', 'pod', agents[0]!.name, '-n', 'kube-system', '-o', 'json'])).stdout);
  t.same(spec.spec.initContainers.map((x: { name: string }) => x.name), ['config', 'mount-cgroup', 'apply-sysctl-overwrites', 'mount-bpf-fs', 'clean-cilium-state', 'install-cni-binaries'], "Cilium 1.16's init containers");
  t.same([spec.spec.hostNetwork, spec.metadata.ownerReferences[0].kind, spec.metadata.labels['k8s-app']], [true, 'DaemonSet', 'cilium']);
  t.match((await kubectl(c, ['describe', 'pod', agents[0]!.name, '-n', 'kube-system'])).stdout, /\nIP: +192\.168\.10\.\d+\n(.*\n)*Controlled By: +DaemonSet\/cilium\n(.*\n)* +Host Port: +4244\/TCP, 9962\/TCP, 9965\/TCP\n/, 'describe pod: the node IP, the DaemonSet, host ports = container ports');
  t.match((await kubectl(c, ['describe', 'ds', 'cilium', '-n', 'kube-system'])).stdout, /^Name: +cilium\nSelector: +k8s-app=cilium\n(.*\n)*Pods Status: +3 Running \/ 0 Waiting \/ 0 Succeeded \/ 0 Failed\n/);

  const names = (x: Cluster) => podsOf(x, ['-n', 'kube-system', '-l', 'k8s-app=cilium']).then((ps) => ps.map((p) => p.name));
  const again = seedLab(), other = seedLab({ seed: 4 });
  t.teardown(() => { again.close(); other.close(); });
  t.same(await names(again), agents.map((p) => p.name), 'same seed, same names');
  t.notSame(await names(other), agents.map((p) => p.name), 'another seed, other names');
});

t.test('system objects draw nothing from the state\'s stream: every other name stays as it was', async (t) => {
  const spec = Cluster.lab('kind').spec;
  const ds = (Cluster.lab('kind').api.get('DaemonSet', 'kube-system', 'cilium'))!;
  const plain = new KubeApi(spec, new Sim(1), { seed: 7 });
  const withDs = new KubeApi(spec, new Sim(1), { seed: 7, systemObjects: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'cilium', namespace: 'kube-system' }, spec: ds.spec } as KObject] });
  t.equal(withDs.snapshot().draws, plain.snapshot().draws, 'no draw for the DaemonSet and its pods');
  const coredns = (api: KubeApi) => api.list('Pod', 'kube-system').filter((p) => p.metadata.name.startsWith('coredns')).map((p) => `${p.metadata.name} ${p.metadata.uid}`);
  t.same(coredns(withDs), coredns(plain), 'coredns pods keep their names and uids');
  t.equal(withDs.list('Pod', 'kube-system').filter((p) => p.metadata.labels?.['k8s-app'] === 'cilium').length, 3);
});

t.test('the daemon controller: a deleted pod comes back under a new name; nodeSelector and taints decide where pods run', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const agents = await podsOf(c, ['-n', 'kube-system', '-l', 'k8s-app=cilium']);
  const w1 = agents.find((p) => p.node === 'k8s-w1')!;
  t.equal((await kubectl(c, ['delete', 'pod', w1.name, '-n', 'kube-system'])).exitCode, 0);
  const after = await podsOf(c, ['-n', 'kube-system', '-l', 'k8s-app=cilium']);
  const back = after.find((p) => p.node === 'k8s-w1')!;
  t.equal(after.length, 3, 'still one per node');
  t.not(back.name, w1.name, 'a new pod, a new name');
  t.match(back.name, new RegExp(`^cilium-${SAFE}{5}$`));
  t.match((await kubectl(c, ['get', 'ds', 'cilium', '-n', 'kube-system'])).stdout, /\ncilium +3 +3 +3 +3 +3 /);

  const daemon = (extra: string) => `apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: probe}\nspec:\n  selector: {matchLabels: {app: probe}}\n  template:\n    metadata: {labels: {app: probe}}\n    spec:\n${extra}      containers: [{name: c, image: nicolaka/netshoot}]\n`;
  t.equal((await kubectl(c, ['apply', '-f', '-'], daemon('      nodeSelector: {disk: ssd}\n'))).stdout, 'daemonset.apps/probe created\n');
  const probes = async () => (await podsOf(c, ['-l', 'app=probe'])).map((p) => p.node).sort();
  t.same(await probes(), [], 'no node has disk=ssd');
  const label = (node: string, v: string | null) => kubectl(c, ['patch', 'node', node, '--type', 'merge', '-p', JSON.stringify({ metadata: { labels: { disk: v } } })]);
  await label('k8s-w1', 'ssd');
  t.same(await probes(), ['k8s-w1'], 'a node labelled: a pod there');
  await label('k8s-w2', 'ssd');
  t.same(await probes(), ['k8s-w1', 'k8s-w2']);
  await label('k8s-w1', null);
  t.same(await probes(), ['k8s-w2'], 'the label gone: its pod gone');
  const probe = (await podsOf(c, ['-l', 'app=probe']))[0]!;
  t.match(probe.ip, /^172\.16\.2\.\d+$/, 'a pod network pod gets an address of its node\'s podCIDR');
  t.match((await kubectl(c, ['get', 'ds', 'probe'])).stdout, /\nprobe +1 +1 +1 +1 +1 +disk=ssd +\d+s\n$/);
  t.equal((await kubectl(c, ['apply', '-f', '-'], daemon('      nodeSelector: {disk: ssd}\n'))).stdout, 'daemonset.apps/probe unchanged\n');
  t.equal((await kubectl(c, ['apply', '-f', '-'], daemon('      nodeSelector: {disk: ssd}\n').replace('nicolaka/netshoot', 'traefik/whoami'))).stdout, 'daemonset.apps/probe configured\n');
  const updated = (await podsOf(c, ['-l', 'app=probe']))[0]!;
  t.not(updated.name, probe.name, 'a new template: a new pod');
  t.equal((await kubectl(c, ['get', 'pod', updated.name, '-o', 'jsonpath={.spec.containers[0].image}'])).stdout, 'traefik/whoami');

  t.equal((await kubectl(c, ['apply', '-f', '-'], daemon('').replace('probe', 'everywhere').replace(/probe/g, 'all'))).exitCode, 0);
  t.same((await podsOf(c, ['-l', 'app=all'])).map((p) => p.node).sort(), ['k8s-w1', 'k8s-w2'], 'no pod on the tainted control plane without a toleration');
  t.same(await kubectl(c, ['get', 'ds', 'nope']), { stdout: '', stderr: 'Error from server (NotFound): daemonsets.apps "nope" not found\n', exitCode: 1 });
  t.equal((await kubectl(c, ['delete', 'ds', 'everywhere'])).exitCode, 0);
  t.same(await podsOf(c, ['-l', 'app=all']), [], 'deleting the DaemonSet deletes its pods');
  const bad = await kubectl(c, ['apply', '-f', '-'], 'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: bad}\nspec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: c}}, spec: {containers: [{name: c, image: x}]}}}\n');
  t.same([bad.exitCode, bad.stderr], [1, 'The DaemonSet "bad" is invalid: spec.template.metadata.labels: Invalid value: {"a":"c"}: `selector` does not match template `labels`\n']);
});

t.test('more nodes, more agents', async (t) => {
  const c = Cluster.fromYaml(LABS.kind!.replace('nodes: [{role: control-plane}, {role: worker}, {role: worker}]', 'nodes: [{role: control-plane}, {role: worker}, {role: worker}, {role: worker}]'), { seed: 3 });
  t.teardown(() => c.close());
  t.equal(c.nodeNames().length, 4);
  t.same((await podsOf(c, ['-n', 'kube-system', '-l', 'k8s-app=cilium'])).map((p) => p.node).sort(), [...c.nodeNames()].sort());
});

t.test('kubectl exec into the agent pods: the node\'s tools, ds/cilium picks a pod as kubectl does', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const agents = await podsOf(c, ['-n', 'kube-system', '-l', 'k8s-app=cilium']);
  const exec = (target: string, ...cmd: string[]) => kubectl(c, ['exec', '-n', 'kube-system', target, '-c', 'cilium-agent', '--', ...cmd]);
  for (const p of agents) t.same(await exec(p.name, 'hostname'), { stdout: `${p.node}\n`, stderr: '', exitCode: 0 }, `${p.name} runs on ${p.node}`);
  t.equal((await c.sim.settle(c.exec('kube-system', agents[0]!.name, ['hostname']))).stdout, `${agents[0]!.node}\n`, 'the API\'s exec (POST /v1/exec) too');
  const first = [...agents].sort((a, b) => (a.name < b.name ? -1 : 1))[0]!;
  t.equal((await exec('ds/cilium', 'hostname')).stdout, `${first.node}\n`, 'equal pods: the first by name');
  t.equal((await kubectl(c, ['exec', '-n', 'kube-system', 'daemonset/cilium', '--', 'hostname'])).stderr, '', 'the default-container annotation: no notice');
  // Delete that pod: its replacement is the youngest, so kubectl picks the oldest of the others.
  await c.sim.settle(c.sim.sleep(2e9));
  await kubectl(c, ['delete', 'pod', first.name, '-n', 'kube-system']);
  const next = agents.filter((p) => p !== first).sort((a, b) => (a.name < b.name ? -1 : 1))[0]!;
  t.equal((await exec('ds/cilium', 'hostname')).stdout, `${next.node}\n`, 'a newer pod ranks after the older ones');
  const live = await podsOf(c, ['-n', 'kube-system', '-l', 'k8s-app=cilium']);
  const ip = await exec(live[0]!.name, 'ip', '-4', 'addr', 'show', 'dev', 'ens5');
  t.match(ip.stdout, /inet 192\.168\.10\.\d+\/24 /, 'ip sees the node\'s ens5');
  t.match((await exec(live[0]!.name, 'tc', 'qdisc', 'show', 'dev', 'ens5')).stdout, /^qdisc fq_codel 0: dev ens5 root /);
  t.same(await exec(live[0]!.name, 'cilium-dbg', 'map', 'get', 'cilium_lxc'), await exec(live[0]!.name, 'cilium', 'map', 'get', 'cilium_lxc'), 'cilium and cilium-dbg are the same command');
  t.same(await kubectl(c, ['exec', '-n', 'kube-system', live[0]!.name, '-c', 'nope', '--', 'hostname']), { stdout: '', stderr: `Error from server (BadRequest): container nope is not valid for pod ${live[0]!.name}\n`, exitCode: 1 });
  t.same(await kubectl(c, ['exec', '-n', 'kube-system', live[0]!.name, '-c', 'config', '--', 'hostname']), { stdout: '', stderr: 'error: unable to upgrade connection: container not found ("config")\n', exitCode: 1 });
  t.same(await kubectl(c, ['exec', '-n', 'kube-system', 'ds/nope', '--', 'hostname']), { stdout: '', stderr: 'Error from server (NotFound): daemonsets.apps "nope" not found\n', exitCode: 1 });
  t.same(await kubectl(c, ['exec', 'deploy/nope', '--', 'hostname']), { stdout: '', stderr: 'Error from server (NotFound): deployments.apps "nope" not found\n', exitCode: 1 });
  t.equal((await kubectl(c, ['exec', '-n', 'kube-system', 'deploy/coredns', '--', 'hostname'])).stdout, 'coredns-55cb58b774-2xvk2\n', 'deploy/NAME: its first pod');
  t.equal((await kubectl(c, ['exec', 'svc/webpod', '--', 'hostname'])).stdout, 'webpod1\n', 'svc/NAME: the first pod it selects');
  t.equal((await kubectl(c, ['exec', '-n', 'kube-system', 'hubble-ui-59bb4cb67b-vr67b', '--', 'true'])).stderr, 'Defaulted container "frontend" out of: frontend, backend\n', 'two containers, no annotation: kubectl says which it took');
  const fs = await kubectl(c, ['get', '-l', 'k8s-app=cilium', 'pods', '-n', 'kube-system', '--field-selector', 'spec.nodeName=k8s-w2', '-o', 'jsonpath={.items[0].metadata.name}']);
  t.equal(fs.stdout, live.find((p) => p.node === 'k8s-w2')!.name, '--field-selector spec.nodeName, as the study finds CILIUMPOD2');
  t.match((await kubectl(c, ['get', 'pods', '--field-selector', 'spec.bogus=1'])).stderr, /field label not supported: spec\.bogus\n$/);
});

// ---- the seed's commands, verbatim through the aliases ----

const PLACEHOLDERS: Record<string, string> = {
  '{ID}': '\\d+', '{N}': '\\d+', '{MAC}': '[0-9A-F]{2}(?::[0-9A-F]{2}){5}', '{LXC}': 'lxc[0-9a-f]{12}', '{TAG}': '[0-9a-f]{16}',
  '{TIME}': '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\+0000',
};
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
function lineRe(expected: string): RegExp {
  let re = escapeRe(expected);
  for (const [k, v] of Object.entries(PLACEHOLDERS)) re = re.split(escapeRe(k)).join(v);
  return new RegExp(`^${re}$`);
}
/** Expected lines not matched in order (line i against line i). */
const inOrder = (actual: string[], expected: string[]) => expected.flatMap((e, i) => (actual[i] !== undefined && lineRe(e).test(actual[i]!) ? [] : [`${i}: ${JSON.stringify(actual[i])} !~ ${e}`])).concat(actual.length > expected.length ? [`extra: ${actual.slice(expected.length).join(' | ')}`] : []);
/** Expected lines without a distinct matching line, in any order (hash-map order and random ids decide the real order). */
function anyOrder(actual: string[], expected: string[]): string[] {
  const left = [...actual];
  const missing = expected.filter((e) => { const i = left.findIndex((a) => lineRe(e).test(a)); if (i < 0) return true; left.splice(i, 1); return false; });
  return [...missing.map((m) => `missing: ${m}`), ...left.map((l) => `extra: ${l}`)];
}
/** Blocks between `...` lines appear in order, each as consecutive lines. */
function blocks(actual: string[], expected: string[]): string[] {
  const bs: string[][] = [[]];
  for (const l of expected) if (l === '...') bs.push([]); else bs[bs.length - 1]!.push(l);
  const out: string[] = [];
  let from = 0;
  for (const b of bs.filter((x) => x.length)) {
    let at = -1;
    for (let i = from; i + b.length <= actual.length && at < 0; i++) if (b.every((e, j) => lineRe(e).test(actual[i + j]!))) at = i;
    if (at < 0) out.push(b.join(' | ')); else from = at + b.length;
  }
  return out;
}
const ANY_ORDER = new Set(['c0 endpoint list', 'c0 bpf endpoint list', 'c0 map get cilium_ipcache']);

/** The study's setup: CILIUMPODn by node, the aliases, WEBPOD1IP and the pod's veth (LXC). */
async function shell(c: Cluster) {
  const lxc = (await podVeth(c, 'netpod', 'k8s-s'))!;
  const find = (n: number, node: string) => `export CILIUMPOD${n}=$(kubectl get -l k8s-app=cilium pods -n kube-system --field-selector spec.nodeName=${node} -o jsonpath='{.items[0].metadata.name}')`;
  const setup = [find(0, 'k8s-s'), find(1, 'k8s-w1'), find(2, 'k8s-w2'),
    "export WEBPOD1IP=$(kubectl get pods webpod1 -o jsonpath='{.status.podIP}')", `export LXC=${lxc}`].join('; ');
  const alias = (pod: number, tool: string) => `kubectl exec -it $CILIUMPOD${pod} -n kube-system -c cilium-agent -- ${tool}`;
  const aliases: Record<string, string> = { c0: alias(0, 'cilium'), c1: alias(1, 'cilium'), c2: alias(2, 'cilium'), c0bpf: alias(0, 'bpftool'), c1bpf: alias(1, 'bpftool'), c2bpf: alias(2, 'bpftool') };
  return (cmd: string) => {
    const [a, ...rest] = cmd.split(' ');
    return onNode(c, 'k8s-s', ['sh', '-c', `${setup}; ${[aliases[a!] ?? a, ...rest].join(' ')}`]);
  };
}

t.test('seed 003: the c0/c0bpf commands through kubectl exec into the agent pods print what the seed prints', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const run = await shell(c);
  const steps: Array<{ cmd: string; expected: string[] }> = [];
  for (const line of scenario('seed003_agent.txt').split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    if (line.startsWith('$ ')) steps.push({ cmd: line.slice(2), expected: [] }); else steps[steps.length - 1]!.expected.push(line);
  }
  t.equal(steps.length, 14, 'all steps parsed');
  for (const { cmd, expected } of steps) {
    const r = await run(cmd);
    t.equal(r.exitCode, 0, `${cmd}: exit 0`);
    t.equal(r.stderr, '', `${cmd}: nothing on stderr`);
    const actual = blank(r.stdout);
    const diff = expected.includes('...') ? blocks(actual, expected) : ANY_ORDER.has(cmd) ? anyOrder(actual, expected) : inOrder(actual, expected);
    t.same(diff, [], cmd);
  }
});

t.test('seed 003: values agree across commands, as on a real node', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const run = await shell(c);
  const out = async (cmd: string) => { const r = await run(cmd); t.equal(r.exitCode, 0, cmd); return blank(r.stdout); };

  // sec_id in cilium_lxc = IDENTITY in endpoint list = ip list -n = ipcache = kubectl get cep; lxc id = ENDPOINT.
  const lxc = (await out('c0 map get cilium_lxc')).find((l) => l.startsWith('172.16.0.230:0 '))!;
  const [, epId, secId] = /id=(\d+) sec_id=(\d+)/.exec(lxc)!;
  t.ok((await out('c0 endpoint list')).some((l) => l.startsWith(`${epId} Disabled Disabled ${secId} k8s:app=netpod `)), `endpoint ${epId} with identity ${secId}`);
  t.ok((await out('c0 ip list -n')).includes(`172.16.0.230/32 ${secId} custom-resource`), 'ip list -n: the same identity');
  t.ok((await out('c0 map get cilium_ipcache')).includes(`172.16.0.230/32 identity=${secId} encryptkey=0 tunnelendpoint=0.0.0.0, flags=<none> sync`), 'ipcache: the same identity, local');
  t.match((await kubectl(c, ['get', 'cep', 'netpod'])).stdout, new RegExp(`\\nnetpod +${secId} +ready +172\\.16\\.0\\.230`), 'kubectl get cep: the same identity');

  // ipcache tunnel endpoints: the owning node's IP for every remote pod, 0.0.0.0 for local ones.
  const nodeIp: Record<string, string> = {};
  for (const l of blank((await kubectl(c, ['get', 'nodes', '-o', 'wide', '--no-headers'])).stdout)) { const f = l.split(' '); nodeIp[f[0]!] = f[5]!; }
  const ipcache = new Map((await out('c0 map get cilium_ipcache')).flatMap((l) => { const m = /^(\S+)\/32 identity=\d+ encryptkey=0 tunnelendpoint=(\S+),/.exec(l); return m ? [[m[1]!, m[2]!] as const] : []; }));
  const pods = (await podsOf(c, ['-A'])).filter((p) => !Object.values(nodeIp).includes(p.ip));
  t.ok(pods.length >= 7, `${pods.length} pod-network pods`);
  for (const p of pods) t.equal(ipcache.get(p.ip), p.node === 'k8s-s' ? '0.0.0.0' : nodeIp[p.node], `${p.ns}/${p.name} (${p.ip}) on ${p.node}`);
  for (const te of ipcache.values()) t.ok(te === '0.0.0.0' || Object.values(nodeIp).includes(te), `tunnel endpoint ${te}: none (local) or a node IP`);

  // On every node: each program of net show is in prog show; each map of prog show is in map list.
  for (const a of ['c0bpf', 'c1bpf', 'c2bpf']) {
    const progIds = new Set((await out(`${a} prog show`)).flatMap((l) => /^(\d+): /.exec(l)?.[1] ?? []));
    const mapIds = new Set((await out(`${a} map list`)).flatMap((l) => /^(\d+): /.exec(l)?.[1] ?? []));
    const attached = (await out(`${a} net show`)).flatMap((l) => / prog_id (\d+) /.exec(l)?.[1] ?? []);
    t.ok(attached.length >= 7, `${a}: ${attached.length} tcx programs`);
    t.same(attached.filter((id) => !progIds.has(id)), [], `${a}: every net show prog id is in prog show`);
    const used = (await out(`${a} prog show`)).flatMap((l) => (/ map_ids ([\d,]+)$/.exec(l)?.[1] ?? '').split(',').filter(Boolean));
    t.ok(used.length > 0, `${a}: programs use maps`);
    t.same(used.filter((id) => !mapIds.has(id)), [], `${a}: every prog show map id is in map list`);
    // The same through JSON, and a pinned map read back by bpftool.
    const json = JSON.parse((await run(`${a} -j map show pinned /sys/fs/bpf/tc/globals/cilium_lxc`)).stdout);
    t.equal(json.name, 'cilium_lxc');
    const dump = JSON.parse((await run(`${a} -j map dump id ${json.id}`)).stdout) as unknown[];
    t.equal(dump.length, (await out(`${a.replace('bpf', '')} bpf endpoint list`)).length - 1, `${a}: cilium_lxc has as many entries in bpftool as in cilium bpf endpoint list`);
  }
});
