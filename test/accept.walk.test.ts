// A packet's walk can be recorded: with the runtime recorder on, a cross-node
// ping shows every program, map access, tail call and redirect on both nodes,
// in the order Cilium's datapath takes them (native routing, BPF host routing).
import t from 'tap';
import type { RuntimeEvent } from '../src/bpf/program.ts';
import type { LinuxNode } from '../src/kernel/node.ts';
import { drain, inPod, seedLab } from './helpers/lab.ts';

/** One line per event, as a walk view would print it. */
function line(node: string, e: RuntimeEvent): string {
  switch (e.kind) {
    case 'prog': return `${node} prog ${e.prog}`;
    case 'map': return `${node} map ${e.op} ${e.map}${e.hit === undefined ? '' : e.hit ? ' hit' : ' miss'}`;
    case 'tail_call': return `${node} tail_call ${e.map}[${e.index}] -> ${e.prog ?? '(empty)'}`;
    case 'redirect': return `${node} redirect ifindex ${e.ifindex}${e.flags & 1 ? ' ingress' : ''}`;
    case 'verdict': return `${node} verdict ${e.prog} ${e.ret}`;
  }
}

t.test('cross-node ping walk, native routing', async (t) => {
  const c = seedLab();
  await inPod(c, 'netpod', ['ping', '-c', '1', '172.16.1.111']); // warm ARP and neighbours
  await drain(c);
  const walk: string[] = [];
  const rts = ['k8s-s', 'k8s-w1'].map((n) => (c.kernel(n) as LinuxNode).runtime);
  rts.forEach((rt, i) => { rt.recorder = (e) => walk.push(line(i === 0 ? 'k8s-s' : 'k8s-w1', e)); });
  const r = await inPod(c, 'netpod', ['ping', '-c', '1', '172.16.1.111']);
  for (const rt of rts) rt.recorder = null;
  t.match(r.stdout, /ttl=62/);

  const first = (s: string, from = 0): number => walk.findIndex((l, i) => i >= from && l.startsWith(s));
  // Request: netpod's veth on k8s-s ...
  const a = first('k8s-s prog cil_from_container');
  t.ok(a >= 0, 'cil_from_container runs on the source node');
  const ct = first('k8s-s map lookup cilium_ct_any4_global', a); // ICMP: the non-TCP CT map
  const ipc = first('k8s-s map lookup cilium_ipcache', a);
  const redir = first('k8s-s redirect ifindex 2', a);
  const toNetdev = first('k8s-s prog cil_to_netdev', a);
  t.ok(ct > a && ipc > a, 'conntrack and ipcache are consulted');
  t.ok(redir > ipc, 'then BPF host routing redirects to ens5 (ifindex 2)');
  t.ok(toNetdev > redir, 'where cil_to_netdev runs on egress');
  // ... and on k8s-w1: from the netdev into webpod1's policy program.
  const fromNetdev = first('k8s-w1 prog cil_from_netdev', toNetdev);
  const lxc = first('k8s-w1 map lookup cilium_lxc', fromNetdev);
  const tail = first('k8s-w1 tail_call cilium_call_policy', fromNetdev);
  const toContainer = first('k8s-w1 prog cil_to_container', fromNetdev);
  t.ok(fromNetdev > 0, 'cil_from_netdev runs on the destination node');
  t.ok(lxc > fromNetdev, 'the destination is found in cilium_lxc');
  t.ok(tail > lxc, 'local delivery tail-calls the endpoint policy program');
  t.match(walk[tail]!, /-> cil_lxc_policy$/);
  t.ok(toContainer > tail, 'cil_to_container runs on the lxc egress');
  t.ok(first('k8s-w1 map lookup cilium_ct_any4_global', fromNetdev) > fromNetdev, 'the ingress CT entry is looked up');
  // The reply comes back the same way, in the other direction.
  t.ok(first('k8s-w1 prog cil_from_container', toContainer) > toContainer, 'the reply leaves webpod1 through cil_from_container');
  t.ok(first('k8s-s prog cil_from_netdev', toContainer) > toContainer, 'and enters k8s-s through cil_from_netdev');
});

t.test('recording is off by default', async (t) => {
  const c = seedLab();
  for (const n of c.nodeNames()) t.equal((c.kernel(n) as LinuxNode).runtime.recorder, null, `${n} records nothing`);
});
