// Runtime: tail calls (empty slot, MAX_TAIL_CALL_CNT), redirect bookkeeping, perf output, recorder, defineProgram,
// per-run frames (a nested run cannot corrupt the outer one), bpf_redirect_neigh.
import t from 'tap';
import { BPF_F_INGRESS, BPF_F_NEIGH, BPF_F_NEXTHOP, TC_ACT_OK, TC_ACT_REDIRECT, TC_ACT_SHOT } from '../src/bpf/ctx.ts';
import { newSkb, type SkBuff } from '../src/wire/skb.ts';
import { createMap, ProgArrayMap, PerfEventArrayMap, u32Key } from '../src/bpf/maps/index.ts';
import type { KernelHelpers, RuntimeEvent } from '../src/bpf/program.ts';
import { BpfRuntime, defineProgram, MAX_TAIL_CALL_CNT, progTag, runLocal } from '../src/bpf/runtime.ts';

const kernel: KernelHelpers = {
  fibLookup: (_i, _s, _d, out) => out,
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
  t.same(rt.takeRedirect(), { ifindex: 12, flags: 0, nh: 0 });
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

t.test('a run nested inside a helper has its own frame: the outer run keeps its scratch, tail-call count and redirect', async (t) => {
  // The helper starts another program mid-run, as a transmitting helper would (a packet sent from
  // inside bpf_fib_lookup runs the egress device's program before the first program returned).
  let nested: (() => void) | null = null;
  const rt = new BpfRuntime({ ...kernel, ktimeNs: () => { const n = nested; nested = null; n?.(); return 0; } });
  const m = calls();
  const scratch = runLocal(() => ({ owner: 0 }));
  const inner = defineProgram({ id: 21, name: 'inner', run: (ctx, r) => {
    r.local(scratch).owner = ctx.ifindex;
    return r.redirect(99, 0);
  } });
  let runs = 0;
  const outer = defineProgram<SkBuff>({ id: 20, name: 'outer', run: (ctx, r) => {
    runs++;
    if (runs === 1) { r.local(scratch).owner = ctx.ifindex; r.redirect(12, 0); }
    if (runs === 5) {
      nested = () => { t.equal(rt.run(inner, newSkb(new Uint8Array(64), 64, 7)), TC_ACT_REDIRECT); t.same(rt.takeRedirect(), { ifindex: 99, flags: 0, nh: 0 }, 'the nested run redirects on its own'); };
      r.kernel.ktimeNs();
      t.equal(r.local(scratch).owner, 3, 'the outer scratch is still the outer packet\'s');
    }
    return r.tailCall(ctx, m, 0) ?? TC_ACT_REDIRECT;
  } });
  m.setProg(0, outer);
  t.equal(rt.run(outer, newSkb(new Uint8Array(64), 64, 3)), TC_ACT_REDIRECT);
  t.equal(runs, MAX_TAIL_CALL_CNT + 1, 'the nested run did not reset the outer chain\'s tail-call count');
  t.same(rt.takeRedirect(), { ifindex: 12, flags: 0, nh: 0 }, 'the outer redirect survived the nested run');
});

t.test('bpf_redirect_neigh: egress with the kernel resolving the next hop; flags are rejected', async (t) => {
  const rt = new BpfRuntime(kernel);
  const events: RuntimeEvent[] = [];
  rt.recorder = (e) => events.push(e);
  const cases = [
    { name: 'with a next hop', nh: 0xc0a80a65, flags: 0, ret: TC_ACT_REDIRECT, target: { ifindex: 2, flags: BPF_F_NEIGH | BPF_F_NEXTHOP, nh: 0xc0a80a65 } },
    { name: 'route\'s next hop', nh: 0, flags: 0, ret: TC_ACT_REDIRECT, target: { ifindex: 2, flags: BPF_F_NEIGH, nh: 0 } },
    { name: 'any flag', nh: 0, flags: BPF_F_INGRESS, ret: TC_ACT_SHOT, target: null },
  ];
  for (const c of cases) {
    const p = defineProgram({ id: 30, name: 'cil_from_container', run: (_ctx, r) => r.redirectNeigh(2, c.nh, c.flags) });
    t.equal(rt.run(p, newSkb(new Uint8Array(64), 64, 10)), c.ret, c.name);
    t.same(rt.takeRedirect(), c.target, `${c.name}: target`);
  }
  t.match(events.filter((e) => e.kind === 'redirect'), [{ flags: BPF_F_NEIGH | BPF_F_NEXTHOP, nh: 0xc0a80a65 }, { flags: BPF_F_NEIGH, nh: 0 }]);
});
