// Sim: hops queued in per-delay lanes still run in (time, schedule order) with timers on the heap.
import t from 'tap';
import { Sim } from '../src/sim/sim.ts';

t.test('lanes and timers interleave by time, then by scheduling order', (t) => {
  const sim = new Sim(1);
  const log: string[] = [];
  const hop = (a: string, b: number) => { log.push(`${a}@${sim.now()}:${b}`); };
  sim.schedule2(1000, hop, 'veth', 1);
  sim.schedule(1000, () => log.push(`timer@${sim.now()}`));
  sim.schedule2(100_000, hop, 'wire', 2);
  sim.schedule2(0, hop, 'redirect', 3);
  sim.schedule2(1000, hop, 'veth', 4);
  // A hop scheduled while running lands after everything already due at its time.
  sim.schedule(500, () => { log.push(`timer@${sim.now()}`); sim.schedule2(500, hop, 'late', 5); });
  t.equal(sim.pending(), 6);
  t.equal(sim.runSync(), 7);
  t.same(log, ['redirect@0:3', 'timer@500', 'veth@1000:1', 'timer@1000', 'veth@1000:4', 'late@1000:5', 'wire@100000:2']);
  t.equal(sim.pending(), 0);
  t.end();
});

t.test('more distinct delays than lanes fall back to the heap in order', (t) => {
  const sim = new Sim(1);
  const log: number[] = [];
  for (let d = 20; d > 0; d--) sim.schedule2(d, (x: number) => { log.push(x); }, d, 0);
  sim.runSync();
  t.same(log, Array.from({ length: 20 }, (_, i) => i + 1));
  t.end();
});

t.test('runUntilIdle drives lanes too', async (t) => {
  const sim = new Sim(1);
  let n = 0;
  sim.schedule2(10, () => { n++; }, 0, 0);
  await sim.runUntilIdle();
  t.equal(n, 1);
  t.equal(sim.now(), 10);
});
