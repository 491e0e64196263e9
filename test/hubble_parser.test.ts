// Hubble's parser on events the seed lab does not produce by itself: drops
// and policy verdicts (written with the struct layouts of maps/notify.ts
// around a real captured packet), samples Hubble refuses, and the tunnel
// mode's to-overlay observation points.
import t from 'tap';
import { ciliumOf } from '../src/cilium/plugin.ts';
import { decodeTraceNotify, DROP_NOTIFY, POLICY_VERDICT_NOTIFY, TRACE_SOCK_NOTIFY } from '../maps/notify.ts';
import { ClusterState, NodeGetters } from '../src/hubble/parser/getters.ts';
import { Parser } from '../src/hubble/parser/index.ts';
import type { FlowObject } from '../src/hubble/proto.ts';
import { Rng } from '../src/sim/sim.ts';
import { drain, inPod, seedLab } from './helpers/lab.ts';

const time = { seconds: 1729509000, nanos: 0 };

t.test('drops and policy verdicts around a captured SYN', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const cilium = ciliumOf(c.cni)!;
  let syn: Uint8Array | undefined;
  const stop = cilium.agent('k8s-s').maps.events.subscribe((d) => {
    if (d[0] === 4 && !syn) { const tn = decodeTraceNotify(d); if (tn.payload.length > 47 && tn.payload[47] === 0x02) syn = tn.payload.slice(); }
  });
  await inPod(c, 'netpod', ['curl', '-s', '172.16.2.180:8080']);
  await drain(c);
  stop();
  t.ok(syn, 'a SYN captured from a trace event');
  const net = cilium.endpoints('k8s-s').find((e) => e.podName === 'netpod')!, web = cilium.endpoints('k8s-w2').find((e) => e.podName === 'webpod2')!;
  const state = new ClusterState(cilium);
  t.teardown(() => state.close());
  const parser = (node: string) => new Parser(new NodeGetters(node, state), new Rng(1), `default/${node}`);

  /** A notify struct of `size` bytes, fields written at the struct's offsets, then the packet. */
  function event(size: number, fields: Array<[number, number, 1 | 2 | 4]>): Uint8Array {
    const b = new Uint8Array(size + syn!.length), d = new DataView(b.buffer);
    for (const [off, v, w] of fields) { if (w === 1) b[off] = v; else if (w === 2) d.setUint16(off, v, true); else d.setUint32(off, v >>> 0, true); }
    b.set(syn!, size);
    return b;
  }
  const D = DROP_NOTIFY.off;
  const drop = event(DROP_NOTIFY.size, [[D.type, 1, 1], [D.subtype, 133, 1], [D.source, net.id, 2], [D.len_cap, syn!.length, 2], [D.version, 2, 2],
    [D.src_label, net.identity, 4], [D.dst_label, web.identity, 4], [D.line, 1234, 2], [D.file, 2, 1], [D.ifindex, net.ifindex, 4]]);
  const f = parser('k8s-s').decode(drop, time)!;
  t.match(f, {
    verdict: 2, drop_reason: 133, drop_reason_desc: 133, event_type: { type: 1, sub_type: 133 }, file: { name: 'bpf_lxc.c', line: 1234 },
    Summary: 'TCP Flags: SYN', Type: 1, traffic_direction: 2, node_name: 'default/k8s-s',
    source: { ID: net.id, identity: net.identity, pod_name: 'netpod' }, destination: { identity: web.identity, pod_name: 'webpod2' },
    l4: { TCP: { destination_port: 8080, flags: { SYN: true } } },
  }, 'a drop at netpod egress');
  t.equal(f.is_reply, undefined, 'drops have no is_reply (the CLI prints <>)');

  const P = POLICY_VERDICT_NOTIFY.off;
  const verdict = (v: number, flags: number) => event(POLICY_VERDICT_NOTIFY.size, [[P.type, 5, 1], [P.source, web.id, 2], [P.version, 1, 2],
    [P.len_cap, syn!.length, 2], [P.remote_label, net.identity, 4], [P.verdict, v, 4], [P.dst_port, 8080, 2], [P.proto, 6, 1], [P.flags, flags, 1]]);
  const INGRESS = 1, L3_L4 = 2 << 3, AUDITED = 0x40;
  const cases: Array<[string, number, number, Partial<FlowObject>]> = [
    ['denied', -133, INGRESS | L3_L4, { verdict: 2, drop_reason: 133, drop_reason_desc: 133 }],
    ['allowed', 0, INGRESS | L3_L4, { verdict: 1, is_reply: { value: false } }],
    ['audited', 0, INGRESS | L3_L4 | AUDITED, { verdict: 4 }],
    ['redirected to a proxy', 15001, INGRESS | L3_L4, { verdict: 5 }],
  ];
  for (const [name, v, flags, want] of cases) {
    const pv = parser('k8s-w2').decode(verdict(v, flags), time)!;
    t.match(pv, { ...want, event_type: { type: 5, sub_type: 0 }, traffic_direction: 1, policy_match_type: 2,
      source: { identity: net.identity, pod_name: 'netpod' }, destination: { ID: web.id, identity: web.identity } }, `policy verdict ${name}`);
    if (v < 0) t.equal(pv.is_reply, undefined, 'a denial has no is_reply');
  }
  const egress = parser('k8s-s').decode(event(POLICY_VERDICT_NOTIFY.size, [[P.type, 5, 1], [P.source, net.id, 2], [P.remote_label, web.identity, 4], [P.flags, 2 | (1 << 3), 1]]), time)!;
  t.match(egress, { traffic_direction: 2, policy_match_type: 1, destination: { identity: web.identity }, source: { ID: net.id } }, 'egress: the remote label is the destination\'s');

  const refused: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['a debug message', Uint8Array.of(2, 0, 0, 0)],
    ['a truncated drop header', drop.subarray(0, 20)],
    ['a truncated TCP header', drop.subarray(0, DROP_NOTIFY.size + 14 + 20 + 10)],
    ['a socket event of no pod (cgroup 0)', (() => { const b = new Uint8Array(TRACE_SOCK_NOTIFY.size); b[TRACE_SOCK_NOTIFY.off.type] = 7; b[TRACE_SOCK_NOTIFY.off.xlate_point] = 3; return b; })()],
  ];
  for (const [name, data] of refused) t.equal(parser('k8s-s').decode(data, time), null, `${name}: no flow`);

  // Mangled samples (bytes flipped, cut short) never throw: a flow or null.
  const rng = new Rng(42), p = parser('k8s-s');
  let flows = 0, threw = 0;
  for (let i = 0; i < 3000; i++) {
    const base = [drop, verdict(0, 1), verdict(-133, 2)][i % 3]!.slice(0, rng.below(drop.length + 1));
    for (let k = 0; k < 4; k++) if (base.length) base[rng.below(base.length)] = rng.below(256);
    try { if (p.decode(base, time)) flows++; } catch { threw++; }
  }
  t.equal(threw, 0, `3000 mangled samples, none threw (${flows} still made flows)`);
});

t.test('tunnel mode: to-overlay on the sending node, to-endpoint on the receiving one', async (t) => {
  const c = seedLab({ routing: 'tunnel' });
  t.teardown(() => c.close());
  await inPod(c, 'netpod', ['ping', '-c', '1', '172.16.2.180']);
  await drain(c);
  const fs: FlowObject[] = [];
  await c.hubble()!.getFlows({ whitelist: [{ protocol: ['icmp'] }] }, (r) => { if (r.flow) fs.push(r.flow); }, new AbortController().signal);
  t.same(fs.map((f) => [f.node_name, f.trace_observation_point, f.interface?.name?.replace(/^lxc[0-9a-f]{12}$/, 'lxc'), f.Summary]), [
    ['default/k8s-s', 4, 'cilium_vxlan', 'ICMPv4 EchoRequest'],
    ['default/k8s-w2', 101, 'lxc', 'ICMPv4 EchoRequest'],
    ['default/k8s-w2', 4, 'cilium_vxlan', 'ICMPv4 EchoReply'],
    ['default/k8s-s', 101, 'lxc', 'ICMPv4 EchoReply'],
  ]);
});
