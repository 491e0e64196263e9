// The map engine's update/delete watchers (what map events and the map watch
// follow): every change through every path, nothing after unwatch.
import t from 'tap';
import type { MapChange, MapSpec } from '../src/bpf/map.ts';
import { createMap, HashMap, LruHashMap } from '../src/bpf/maps/index.ts';
import type { BpfProgram } from '../src/bpf/program.ts';

const spec = (type: MapSpec['type'], keySize: number, valueSize: number, maxEntries: number): MapSpec => ({ name: `m_${type}`, type, keySize, valueSize, maxEntries, flags: 0 });
const k = (...b: number[]) => new Uint8Array(b);
type Seen = Array<[MapChange, number[], number[] | undefined]>;
function record(m: { watch?: (fn: (c: MapChange, k: Uint8Array, v: Uint8Array | undefined) => void) => () => void }): { seen: Seen; stop: () => void } {
  const seen: Seen = [];
  const stop = m.watch!((c, key, v) => seen.push([c, [...key], v ? [...v] : undefined]));
  return { seen, stop };
}

t.test('hash: update, replace, delete; a refused update or a miss is no event', async (t) => {
  const m = createMap(spec('hash', 2, 1, 2), 1);
  const { seen, stop } = record(m);
  m.update(k(1, 1), k(7)); m.update(k(1, 1), k(8)); m.update(k(2, 2), k(9));
  t.equal(m.update(k(3, 3), k(1)), -7, 'full: E2BIG');
  t.equal(m.delete(k(9, 9)), -2, 'miss: ENOENT');
  m.delete(k(1, 1));
  t.same(seen, [['update', [1, 1], [7]], ['update', [1, 1], [8]], ['update', [2, 2], [9]], ['delete', [1, 1], [8]]]);
  stop();
  m.update(k(4, 4), k(1));
  t.equal(seen.length, 4, 'nothing after unwatch');
});

t.test('LRU: an eviction is a delete of the least recently used entry; sweeps too', async (t) => {
  const m = createMap(spec('lru_hash', 1, 1, 2), 2) as LruHashMap;
  const { seen } = record(m);
  m.update(k(1), k(10)); m.update(k(2), k(20)); m.update(k(3), k(30));
  t.same(seen.slice(2), [['delete', [1], [10]], ['update', [3], [30]]]);
  m.sweep((key) => key[0] === 2);
  t.same(seen.at(-1), ['delete', [2], [20]]);
});

t.test('LPM trie, array, per-CPU hash, prog array', async (t) => {
  const lpm = createMap(spec('lpm_trie', 8, 1, 4), 3);
  const a = record(lpm);
  lpm.update(k(24, 0, 0, 0, 10, 0, 0, 0), k(5)); lpm.delete(k(24, 0, 0, 0, 10, 0, 0, 0));
  t.same(a.seen.map((e) => e[0]), ['update', 'delete']);
  const arr = createMap(spec('array', 4, 2, 4), 4);
  const b = record(arr);
  arr.update(k(1, 0, 0, 0), k(3, 4));
  t.same(b.seen, [['update', [1, 0, 0, 0], [3, 4]]]);
  const pc = createMap(spec('percpu_hash', 1, 2, 4), 5);
  const c = record(pc);
  pc.update(k(1), k(1, 2, 3, 4));
  t.same(c.seen, [['update', [1], [1, 2, 3, 4]]], 'every CPU\'s copy');
  const pa = createMap(spec('prog_array', 4, 4, 8), 6) as unknown as { setProg(i: number, p: BpfProgram<unknown> | undefined): number; watch: never };
  const d = record(pa as never);
  pa.setProg(2, { id: 77 } as BpfProgram<unknown>); pa.setProg(2, undefined);
  t.same(d.seen, [['update', [2, 0, 0, 0], [77, 0, 0, 0]], ['delete', [2, 0, 0, 0], [77, 0, 0, 0]]]);
});

t.test('clear and copyFrom tell each change when watched, and stay bulk when not', async (t) => {
  const src = createMap(spec('hash', 1, 1, 8), 7) as HashMap;
  src.update(k(1), k(1)); src.update(k(2), k(2));
  const dst = createMap(spec('hash', 1, 1, 8), 8) as HashMap;
  dst.update(k(9), k(9));
  const { seen } = record(dst);
  dst.copyFrom(src);
  t.same(seen, [['delete', [9], [9]], ['update', [1], [1]], ['update', [2], [2]]]);
  t.same(dst.entries().map(([kk]) => kk[0]), [1, 2]);
  const quiet = createMap(spec('hash', 1, 1, 8), 9) as HashMap;
  quiet.copyFrom(src);
  t.same(quiet.entries().map(([kk]) => kk[0]), [1, 2]);
  dst.clear();
  t.same(seen.slice(3).map((e) => e[0]), ['delete', 'delete']);
});

t.test('forEach visits what entries() copies, in the same order (scratch buffers)', async (t) => {
  for (const type of ['hash', 'lru_hash', 'percpu_hash'] as const) {
    const m = createMap(spec(type, 2, 3, 16), 10);
    for (let i = 0; i < 10; i++) m.update(k(i, 1), k(i, i * 2, i * 3, i, i, i));
    m.delete(k(4, 1));
    const seen: string[] = [];
    m.forEach!((kk, v) => seen.push(`${[...kk]}=${[...v]}`));
    t.same(seen, m.entries().map(([kk, v]) => `${[...kk]}=${[...v]}`), type);
  }
});
