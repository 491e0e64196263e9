// Hubble figures as JSON: monitor events parsed into flow.Flow per CPU second
// (one core), the same plus the ring write (an observer reading cilium_events),
// and a filtered GetFlows over a full ring. Samples are the real ones of the
// seed lab's traffic (ping, curl :80 / :8080, DNS, the world), replayed.
// Run: node --expose-gc --import tsx bench/hubble.bench.ts [--rounds N] [--only parse,observe,query]

import { ciliumOf } from '../src/cilium/plugin.ts';
import { Cluster } from '../src/cluster/cluster.ts';
import { LABS } from '../src/cluster/labs/index.ts';
import { NodeObserver } from '../src/hubble/observer.ts';
import { ClusterState, NodeGetters } from '../src/hubble/parser/getters.ts';
import { Parser } from '../src/hubble/parser/index.ts';
import { Rng } from '../src/sim/sim.ts';
import { runBench } from './lib/harness.ts';
import { perSec, span, type Measured } from './lib/figures.ts';

const c = Cluster.fromYaml(LABS.cilium!, { seed: 3 });
const cilium = ciliumOf(c.cni)!;
const samples: Array<{ node: string; data: Uint8Array }> = [];
for (const node of cilium.nodeNames()) cilium.agent(node).maps.events.subscribe((d) => { samples.push({ node, data: d.slice() }); });
for (const cmd of ['ping -c 1 172.16.1.111', 'ping -c 1 172.16.2.180', 'curl -s 172.16.1.111', 'curl -s 172.16.2.180',
  'curl -s 172.16.2.180:8080', 'nslookup webpod', 'ping -c 1 8.8.8.8', 'curl -s wttr.in/seoul']) {
  await c.sim.settle(c.kubectl(['exec', 'netpod', '--', ...cmd.split(' ')]));
  await c.sim.settle(c.sim.sleep(50e6));
}

const state = new ClusterState(cilium);
const parsers = new Map(cilium.nodeNames().map((n) => [n, new Parser(new NodeGetters(n, state), new Rng(7), `default/${n}`)]));
const time = { seconds: 1729509000, nanos: 0 };
let flowsMade = 0;
for (const s of samples) if (parsers.get(s.node)!.decode(s.data, time)) flowsMade++;

/** fn over n rounds of every sample, per CPU second of this process (one core). */
function rate(n: number, fn: (s: { node: string; data: Uint8Array }) => void): Measured {
  for (const s of samples) fn(s);
  const stop = span();
  for (let i = 0; i < n; i++) for (const s of samples) fn(s);
  return perSec(n * samples.length, stop().cpuMs, 'cpu');
}

const observers = new Map(cilium.nodeNames().map((n) => [n, new NodeObserver(parsers.get(n)!, c.sim)]));
const ring = observers.get('k8s-s')!;
const query = async (): Promise<Measured> => {
  // A full ring (4095 flows) read with `--pod netpod` and `--last 20`, as `hubble observe --pod netpod` asks.
  while (ring.ring.written < 4095) for (const s of samples) if (s.node === 'k8s-s') ring.onSample(s.data);
  const stop = span();
  const n = 200;
  for (let i = 0; i < n; i++) {
    await ring.getFlows({ number: 20, whitelist: [{ source_pod: ['netpod'] }, { destination_pod: ['netpod'] }] }, () => {}, new AbortController().signal);
  }
  return perSec(n, stop().cpuMs, 'cpu');
};

await runBench({
  header: {
    bench: 'hubble',
    method: 'CPU time of this process (one core); samples: the cilium_events records of the seed traffic on the default lab, replayed',
    samples: samples.length,
    flowsPerRound: flowsMade,
  },
  rounds: 5,
  cases: [
    { name: 'parse', run: () => ({ flowsParsedPerSec: rate(2000, (s) => { parsers.get(s.node)!.decode(s.data, time); }) }) },
    { name: 'observe', run: () => ({ eventsObservedPerSec: rate(2000, (s) => { observers.get(s.node)!.onSample(s.data); }) }) },
    { name: 'query', run: async () => ({ lastTwentyOfFullRingPerSec: await query() }) },
  ],
  done: () => { state.close(); c.close(); },
});
