// Runtime: tail calls (empty slot, MAX_TAIL_CALL_CNT), redirect bookkeeping, perf output, recorder, defineProgram.
import t from 'tap';
import { TC_ACT_OK, TC_ACT_REDIRECT } from '../src/bpf/ctx.ts';
import { newSkb, type SkBuff } from '../src/wire/skb.ts';
import { createMap, ProgArrayMap, PerfEventArrayMap, u32Key } from '../src/bpf/maps/index.ts';
import type { KernelHelpers, RuntimeEvent } from '../src/bpf/program.ts';
import { BpfRuntime, defineProgram, MAX_TAIL_CALL_CNT, progTag } from '../src/bpf/runtime.ts';

const kernel: KernelHelpers = {
  fibLookup: () => ({ ret: 0, ifindex: 0, smac: new Uint8Array(6), dmac: new Uint8Array(6) }),
  ktimeNs: () => 0, prandomU32: () => 4, monoSeconds: () => 0,
};
const calls = () => createMap({ name: 'cilium_calls_00001', type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 50, flags: 0 }, 1) as ProgArrayMap;

t.test('tail call runs the slot program; an empty slot falls through', async (t) => {
  const rt = new BpfRuntime(kernel);
  const m = calls();
  m.setProg(7, defineProgram({ id: 2, name: 'tail_handle_ipv4', run: () => 42 }));
  const entry = defineProgram({ id: 1, name: 'cil_from_container', run: (ctx, r) => r.tailCall(ctx, m, 7) ?? r.tailCall(ctx, m, 8) ?? -1 });
  t.equal(rt.run(entry, newSkb(new Uint8Array(64), 64, 3)), 42);
  const missing = defineProgram({ id: 3, name: 'p', run: (ctx, r) => r.tailCall(ctx, m, 8) ?? TC_ACT_OK });
  t.equal(rt.run(missing, newSkb(new Uint8Array(64), 64, 3)), TC_ACT_OK);
});

t.test('a tail-call chain stops after MAX_TAIL_CALL_CNT calls', async (t) => {
  const rt = new BpfRuntime(kernel);
  const m = calls();
  let runs = 0;
  const self = defineProgram<SkBuff>({ id: 5, name: 'loop', run: (ctx, r) => { runs++; return r.tailCall(ctx, m, 0) ?? runs; } });
  m.setProg(0, self);
  t.equal(rt.run(self, newSkb(new Uint8Array(64), 64, 1)), MAX_TAIL_CALL_CNT + 1, 'entry run + 33 tail calls');
  runs = 0;
  t.equal(rt.run(self, newSkb(new Uint8Array(64), 64, 1)), MAX_TAIL_CALL_CNT + 1, 'the count resets per hook run');
});

t.test('redirect is remembered once; recorder sees every action; off costs nothing observable', async (t) => {
  const rt = new BpfRuntime(kernel);
  const ev = createMap({ name: 'cilium_events', type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 2, flags: 0 }, 2) as PerfEventArrayMap;
  const h = createMap({ name: 'cilium_lxc', type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4, flags: 0 }, 3);
  const samples: number[] = [];
  ev.subscribe((d) => samples.push(d[0]!));
  const prog = defineProgram({ id: 9, name: 'cil_to_container', run: (_ctx, r) => {
    r.mapUpdate(h, u32Key(1), u32Key(2));
    r.mapLookup(h, u32Key(1));
    r.perfEventOutput(ev, new Uint8Array([4]));
    return r.redirect(12, 0);
  } });
  t.equal(rt.run(prog, newSkb(new Uint8Array(64), 64, 10)), TC_ACT_REDIRECT);
  t.same(rt.takeRedirect(), { ifindex: 12, flags: 0 });
  t.equal(rt.takeRedirect(), null, 'consumed');
  t.equal(rt.redirect(3, 8), 2, 'unknown redirect flags: TC_ACT_SHOT');
  t.equal(rt.takeRedirect(), null);
  const events: RuntimeEvent[] = [];
  rt.recorder = (e) => events.push(e);
  rt.run(prog, newSkb(new Uint8Array(64), 64, 10), 10);
  t.same(events.map((e) => e.kind), ['prog', 'map', 'map', 'redirect', 'verdict']);
  t.match(events[2], { kind: 'map', op: 'lookup', map: 'cilium_lxc', hit: true });
  t.same(samples, [4, 4]);
});

t.test('defineProgram: deterministic 16-hex tag, defaults', async (t) => {
  const p = defineProgram({ id: 1312, name: 'cil_from_container', run: () => 0, xlatedBytes: 728, jitedBytes: 545 });
  t.match(p.tag, /^[0-9a-f]{16}$/);
  t.equal(p.tag, progTag('cil_from_container'));
  t.not(p.tag, progTag('cil_to_container'));
  t.equal(p.type, 'sched_cls');
  t.equal(p.xlatedBytes, 728);
});
