// Kernel map semantics of the engine: errnos per type x flag x presence, LRU order, LPM matching, arrays.
import t from 'tap';
import { BPF_ANY, BPF_EXIST, BPF_NOEXIST, E2BIG, EEXIST, EINVAL, ENOENT, ENOSPC, type MapSpec, type MapType } from '../src/bpf/map.ts';
import { createMap, LruHashMap, PercpuHashMap, PercpuArrayMap, ProgArrayMap, PerfEventArrayMap, u32Key } from '../src/bpf/maps/index.ts';

const spec = (type: MapType, keySize: number, valueSize: number, maxEntries: number): MapSpec => ({ name: `t_${type}`, type, keySize, valueSize, maxEntries, flags: 0 });
const key4 = (n: number) => u32Key(n);
const lpmKey = (plen: number, a: number, b: number, c: number, d: number) => new Uint8Array([plen, 0, 0, 0, a, b, c, d]);
const val = (n: number) => new Uint8Array([n, 0, 0, 0]);

t.test('update/delete errno by type x flag x presence', async (t) => {
  const cases: Array<{ type: MapType; flag: number; present: boolean; full?: boolean; want: number }> = [
    { type: 'hash', flag: BPF_ANY, present: false, want: 0 },
    { type: 'hash', flag: BPF_ANY, present: true, want: 0 },
    { type: 'hash', flag: BPF_NOEXIST, present: true, want: -EEXIST },
    { type: 'hash', flag: BPF_NOEXIST, present: false, want: 0 },
    { type: 'hash', flag: BPF_EXIST, present: false, want: -ENOENT },
    { type: 'hash', flag: BPF_EXIST, present: true, want: 0 },
    { type: 'hash', flag: BPF_ANY, present: false, full: true, want: -E2BIG },
    { type: 'hash', flag: BPF_ANY, present: true, full: true, want: 0 },
    { type: 'lru_hash', flag: BPF_ANY, present: false, full: true, want: 0 },
    { type: 'lru_hash', flag: BPF_NOEXIST, present: true, want: -EEXIST },
    { type: 'lru_hash', flag: BPF_EXIST, present: false, want: -ENOENT },
    { type: 'percpu_hash', flag: BPF_ANY, present: false, full: true, want: -E2BIG },
    { type: 'percpu_hash', flag: BPF_NOEXIST, present: true, want: -EEXIST },
    { type: 'lpm_trie', flag: BPF_ANY, present: false, full: true, want: -ENOSPC },
    { type: 'lpm_trie', flag: BPF_NOEXIST, present: true, want: -EEXIST },
    { type: 'lpm_trie', flag: BPF_EXIST, present: false, want: -ENOENT },
    { type: 'array', flag: BPF_ANY, present: true, want: 0 },
    { type: 'array', flag: BPF_NOEXIST, present: true, want: -EEXIST },
  ];
  for (const c of cases) {
    const isLpm = c.type === 'lpm_trie';
    const m = createMap(spec(c.type, isLpm ? 8 : 4, 4, 2), 1);
    const k = (i: number) => (isLpm ? lpmKey(32, 10, 0, 0, i) : key4(i));
    if (c.full) { m.update(k(0), val(1)); m.update(k(1), val(1)); }
    const target = c.present ? k(c.full ? 1 : 0) : k(c.full ? 5 : 1);
    if (c.present && !c.full && c.type !== 'array') m.update(target, val(1));
    t.equal(m.update(target, val(9), c.flag), c.want, `${c.type} flag=${c.flag} present=${c.present}${c.full ? ' full' : ''}`);
  }
  const delCases: Array<{ type: MapType; want: number }> = [
    { type: 'hash', want: -ENOENT }, { type: 'lru_hash', want: -ENOENT }, { type: 'percpu_hash', want: -ENOENT },
    { type: 'lpm_trie', want: -ENOENT }, { type: 'array', want: -EINVAL }, { type: 'percpu_array', want: -EINVAL },
    { type: 'prog_array', want: -ENOENT },
  ];
  for (const c of delCases) {
    const m = createMap(spec(c.type, c.type === 'lpm_trie' ? 8 : 4, 4, 4), 1);
    t.equal(m.delete(c.type === 'lpm_trie' ? lpmKey(32, 1, 2, 3, 4) : key4(1)), c.want, `delete missing on ${c.type}`);
  }
});

t.test('hash: lookup writes through, entries are copies in insertion order, delete frees a slot', async (t) => {
  const m = createMap(spec('hash', 14, 8, 3), 1);
  const k = (i: number) => { const b = new Uint8Array(14); b[0] = i; b[13] = 0xff - i; return b; };
  for (const i of [3, 1, 2]) t.equal(m.update(k(i), new Uint8Array(8).fill(i)), 0);
  const v = m.lookup(k(1))!;
  v[7] = 42;
  t.equal(m.lookup(k(1))![7], 42, 'in-place write is visible');
  const e = m.entries();
  t.same(e.map(([key]) => key[0]), [3, 1, 2]);
  e[0]![1][0] = 99;
  t.equal(m.lookup(k(3))![0], 3, 'entries() values are copies');
  t.equal(m.update(k(4), new Uint8Array(8)), -E2BIG);
  t.equal(m.delete(k(3)), 0);
  t.equal(m.update(k(4), new Uint8Array(8).fill(4)), 0);
  t.equal(m.size, 3);
  t.equal(m.lookup(k(3)), undefined);
  t.same(m.entries().map(([key]) => key[0]), [1, 2, 4]);
});

t.test('hash: many keys survive growth and deletes (probe chains intact)', async (t) => {
  const m = createMap(spec('hash', 4, 4, 5000), 1);
  for (let i = 0; i < 5000; i++) m.update(key4(i * 7919), val(i & 255));
  for (let i = 0; i < 5000; i += 2) m.delete(key4(i * 7919));
  let ok = 0;
  for (let i = 0; i < 5000; i++) {
    const v = m.lookup(key4(i * 7919));
    if (i % 2 === 0 ? v === undefined : v?.[0] === (i & 255)) ok++;
  }
  t.equal(ok, 5000);
  t.equal(m.size, 2500);
});

t.test('lru: evicts the least recently used; lookups refresh, peek does not', async (t) => {
  const m = createMap(spec('lru_hash', 4, 4, 3), 1) as LruHashMap;
  for (const i of [1, 2, 3]) m.update(key4(i), val(i));
  m.lookup(key4(1));          // order now 2,3,1
  m.peek(key4(2));            // no refresh
  m.update(key4(4), val(4));  // evicts 2
  t.equal(m.lookup(key4(2)), undefined);
  t.same(m.entries().map(([k]) => k[0]), [3, 1, 4]);
  m.update(key4(3), val(33)); // update refreshes: 1,4,3
  m.update(key4(5), val(5));  // evicts 1
  t.same(m.entries().map(([k]) => k[0]), [4, 3, 5]);
  t.equal(m.evictions, 2);
});

t.test('lpm: longest prefix wins, /0 is the default, update/delete are exact', async (t) => {
  const m = createMap(spec('lpm_trie', 8, 4, 16), 1);
  const routes: Array<[number, number[], number]> = [[0, [0, 0, 0, 0], 1], [8, [10, 0, 0, 0], 2], [16, [10, 1, 0, 0], 3], [32, [10, 1, 2, 3], 4], [24, [10, 1, 2, 0], 5]];
  for (const [p, a, v] of routes) t.equal(m.update(lpmKey(p, a[0]!, a[1]!, a[2]!, a[3]!), val(v)), 0);
  const cases: Array<[number[], number]> = [[[10, 1, 2, 3], 4], [[10, 1, 2, 4], 5], [[10, 1, 9, 9], 3], [[10, 9, 9, 9], 2], [[192, 168, 0, 1], 1]];
  for (const [a, want] of cases) t.equal(m.lookup(lpmKey(32, a[0]!, a[1]!, a[2]!, a[3]!))![0], want, `${a.join('.')} -> ${want}`);
  t.equal(m.lookup(lpmKey(16, 10, 1, 2, 3))![0], 3, 'a /16 lookup ignores longer prefixes');
  t.equal(m.update(lpmKey(16, 10, 1, 7, 7), val(6), BPF_EXIST), 0, 'host bits beyond the prefix are ignored');
  t.equal(m.lookup(lpmKey(32, 10, 1, 9, 9))![0], 6);
  t.equal(m.delete(lpmKey(24, 10, 1, 0, 0)), -ENOENT, 'delete is exact');
  t.equal(m.delete(lpmKey(24, 10, 1, 2, 0)), 0);
  t.equal(m.lookup(lpmKey(32, 10, 1, 2, 4))![0], 6);
  t.equal(m.update(lpmKey(33, 0, 0, 0, 0), val(0)), -EINVAL, 'prefixlen beyond the data is invalid');
  t.same(m.entries().map(([k]) => k[0]), [32, 16, 8, 0], 'entries longest prefix first');
  m.delete(lpmKey(0, 0, 0, 0, 0));
  t.equal(m.lookup(lpmKey(32, 192, 168, 0, 1)), undefined, 'no default route, no match');
});

t.test('array: zero-filled, index bounds, delete fails', async (t) => {
  const m = createMap(spec('array', 4, 4, 4), 1);
  t.same([...m.lookup(key4(3))!], [0, 0, 0, 0]);
  t.equal(m.lookup(key4(4)), undefined);
  t.equal(m.update(key4(4), val(1)), -E2BIG);
  t.equal(m.update(key4(2), val(7)), 0);
  t.equal(m.lookup(key4(2))![0], 7);
  t.equal(m.delete(key4(2)), -EINVAL);
  t.equal(m.size, 4);
});

t.test('per-CPU maps: programs see CPU 0, dumps see every CPU', async (t) => {
  const h = createMap(spec('percpu_hash', 4, 4, 4), 1) as PercpuHashMap;
  h.update(key4(1), new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]));
  t.equal(h.lookup(key4(1))![0], 1);
  h.lookup(key4(1))![0] = 5;
  t.same(h.perCpuValues(key4(1))!.map((v) => v[0]), [5, 2]);
  t.equal(h.entries()[0]![1].length, 8);
  const a = createMap(spec('percpu_array', 4, 4, 2), 1) as PercpuArrayMap;
  a.lookup(key4(1))![0] = 3;
  t.same(a.perCpuValues(key4(1))!.map((v) => v[0]), [3, 0]);
});

t.test('prog array and perf event array', async (t) => {
  const p = createMap(spec('prog_array', 4, 4, 3), 1) as ProgArrayMap;
  const prog = { id: 1300, name: 'x', type: 'sched_cls' as const, tag: '0', mapIds: [], loadedAtMs: 0, run: () => 0 };
  t.equal(p.setProg(1, prog), 0);
  t.equal(p.setProg(3, prog), -E2BIG);
  t.equal(p.getProg(1), prog);
  t.same([...p.lookup(key4(1))!], [0x14, 0x05, 0, 0], 'userspace view is the prog id');
  t.equal(p.size, 1);
  t.equal(p.delete(key4(1)), 0);
  t.equal(p.getProg(1), undefined);
  const e = createMap(spec('perf_event_array', 4, 4, 2), 1) as PerfEventArrayMap;
  e.output(new Uint8Array([1]));
  t.equal(e.lost, 1, 'no reader: sample lost');
  const got: number[] = [];
  const off = e.subscribe((d, cpu) => got.push(d[0]!, cpu));
  e.output(new Uint8Array([7]));
  off();
  e.output(new Uint8Array([8]));
  t.same(got, [7, 0]);
  t.equal(e.delivered, 1);
  t.equal(e.lost, 2);
});

t.test('memlock follows the kernel formulas the seed shows', async (t) => {
  t.equal(createMap({ name: 'cilium_calls_00416', type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 50, flags: 0 }, 1).memlock, 720);
  const m = createMap({ name: 'cilium_metrics', type: 'percpu_hash', keySize: 8, valueSize: 16, maxEntries: 1024, flags: 1 }, 1);
  for (let i = 0; i < 25; i++) m.update(new Uint8Array([i, 1, 0, 0, 0, 0, 0, 0]), new Uint8Array(16));
  t.equal(m.memlock, 19384);
});
