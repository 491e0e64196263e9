// Acceptance: a lab is a function of its seed. Two clusters built with the
// same seed and driven by the same commands put byte-identical frames on every
// node's ens5 at the same virtual times, end with identical BPF maps, and print
// identical monitor lines; another seed draws other identities and ports.
import t from 'tap';
import { ciliumOf } from '../src/cilium/plugin.ts';
import type { Cluster } from '../src/cluster/cluster.ts';
import type { BpfMap } from '../src/bpf/map.ts';
import { drain, inPod, kubectl, seedLab, type LabOptions } from './helpers/lab.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const COMMANDS = [['ping', '-c', '1', '172.16.1.111'], ['curl', '-s', '172.16.2.180'], ['curl', '-s', '172.16.1.111:8080'], ['nslookup', 'webpod'],
  ['curl', '-s', 'webpod'], ['ping', '-c', '1', '8.8.8.8'], ['curl', '-s', 'wttr.in/seoul']];

interface Run { outputs: string[]; frames: string[]; maps: string[]; monitor: string[] }

/** Every entry of every map the node's agent created, as `node map key value` hex lines. */
function dumpMaps(c: Cluster): string[] {
  const out: string[] = [];
  for (const node of c.nodeNames()) {
    const maps: BpfMap[] = ciliumOf(c.cni)!.agent(node).maps.list();
    for (const m of maps) for (const [k, v] of m.entries()) out.push(`${node} ${m.id} ${m.spec.name} ${hex(k)} ${hex(v)}`);
  }
  return out;
}

async function run(opts: LabOptions): Promise<Run> {
  const c = seedLab(opts);
  const r: Run = { outputs: [], frames: [], maps: [], monitor: [] };
  const stops = c.nodeNames().flatMap((node) => [
    c.capture(node, 'ens5', (f) => r.frames.push(`${node} ${f.tsNs} ${f.dir} ${hex(f.frame)}`)),
    c.monitor(node, (l) => r.monitor.push(`${node} ${l.wallMs} ${l.text}`)),
  ]);
  for (const argv of COMMANDS) {
    const x = await inPod(c, 'netpod', argv);
    r.outputs.push(`${x.exitCode} ${x.stdout}${x.stderr}`);
  }
  r.outputs.push((await kubectl(c, ['get', 'cep', '-A'])).stdout);
  await drain(c);
  for (const stop of stops) stop();
  r.maps = dumpMaps(c);
  c.close();
  return r;
}

for (const routing of ['native', 'tunnel'] as const) {
  t.test(`${routing}: same seed, same bytes`, async (t) => {
    const a = await run({ seed: 3, routing }), b = await run({ seed: 3, routing });
    t.ok(a.frames.length > 50 && a.maps.length > 50 && a.monitor.length > 20, `non-trivial run: ${a.frames.length} frames, ${a.maps.length} map entries, ${a.monitor.length} monitor lines`);
    t.ok(a.maps.some((l) => l.includes(' cilium_ct4_global ')) && a.maps.some((l) => l.includes(' cilium_snat_v4_external ')), 'conntrack and NAT entries included');
    t.same(b.outputs, a.outputs, 'identical command output');
    t.equal(b.frames.length, a.frames.length, 'same number of frames');
    t.same(b.frames, a.frames, 'identical frames, times and directions on every ens5');
    t.same(b.maps, a.maps, 'identical map contents on every node');
    t.same(b.monitor, a.monitor, 'identical monitor lines');
  });
}

t.test('another seed draws other identities and ephemeral ports', async (t) => {
  const a = await run({ seed: 3 }), b = await run({ seed: 4 });
  const ids = (r: Run) => r.outputs.at(-1)!.split('\n').filter((l) => l.includes('ready')).map((l) => l.split(/\s+/)[2]);
  t.notSame(ids(b), ids(a), `identities differ (${ids(a).join(',')} vs ${ids(b).join(',')})`);
  const port = (r: Run) => /RemoteAddr: 172\.16\.0\.230:(\d+)/.exec(r.outputs[1]!)?.[1];
  t.ok(port(a) && port(b) && port(a) !== port(b), `client ports differ (${port(a)} vs ${port(b)})`);
  t.notSame(b.frames, a.frames, 'different bytes on the wire');
});
