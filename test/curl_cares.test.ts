// curl's name lookup as c-ares makes it, seen on the wire and in Hubble: one
// UDP socket connected to kube-dns for the whole search walk (socket LB picks
// one coredns at connect), A then AAAA per name, the next name only after both
// answers; the pod's search list ends with the node's (spec.dnsSearch).
import t from 'tap';
import { decodeDns, DNS_TYPE } from '../src/wire/dns.ts';
import { compactLine } from '../src/hubble/printer/flows.ts';
import { drain, inPod, ip4, IPPROTO_UDP, record, seedLab } from './helpers/lab.ts';

const lab = seedLab();
t.teardown(() => lab.close());

const NAMES = ['wttr.in.default.svc.cluster.local', 'wttr.in.svc.cluster.local', 'wttr.in.cluster.local', 'wttr.in.ap-northeast-2.compute.internal', 'wttr.in'];

t.test('curl wttr.in: 10 queries from one port to one coredns, A and AAAA per search name, in resolv.conf order', async (t) => {
  const resolv = await inPod(lab, 'netpod', ['cat', '/etc/resolv.conf']);
  t.equal(resolv.stdout, 'search default.svc.cluster.local svc.cluster.local cluster.local ap-northeast-2.compute.internal\nnameserver 10.96.0.10\noptions ndots:5\n');
  const cap = record(lab, 'k8s-s', 'ens5');
  const r = await inPod(lab, 'netpod', ['curl', '-s', 'wttr.in/seoul']);
  await drain(lab);
  cap.stop();
  t.equal(r.exitCode, 0);
  t.match(r.stdout, /^Weather report: seoul\n/);
  const dns = cap.frames.map((f) => ({ f, h: ip4(f.frame) })).filter(({ h }) => h?.proto === IPPROTO_UDP && (h.dport === 53 || h.sport === 53));
  const queries = dns.filter(({ h }) => h!.dport === 53 && h!.src === '172.16.0.230');
  const answers = dns.filter(({ h }) => h!.sport === 53 && h!.dst === '172.16.0.230');
  const q = queries.map(({ f, h }) => ({ ...h!, m: decodeDns(f.frame.subarray(h!.l4 + 8)) }));
  t.same(q.map((x) => [x.m.questions[0]!.name, x.m.questions[0]!.type]), NAMES.flatMap((n) => [[n, DNS_TYPE.A], [n, DNS_TYPE.AAAA]]), 'A then AAAA for each name of the search walk');
  t.equal(new Set(q.map((x) => x.sport)).size, 1, 'one socket: every query from one source port');
  t.same([...new Set(q.map((x) => x.dst))], ['172.16.1.210'], 'one coredns (socket LB translated at connect, never the ClusterIP on the wire)');
  t.equal(answers.length, 10);
  // The next name goes out only after both answers of the previous one came back.
  const at = (x: { f: { tsNs: number } }): number => x.f.tsNs;
  for (let i = 1; i < NAMES.length; i++) {
    const sent = at(queries[2 * i]!);
    t.ok(answers.slice(0, 2 * i).every((a) => at(a) <= sent), `${NAMES[i]} after ${NAMES[i - 1]}'s answers`);
  }
});

t.test('the same lookup in Hubble on k8s-s: socket LB at connect once (pre/post-xlate-fwd), then a reverse translation per answer read', async (t) => {
  const lines: string[] = [];
  const req = { number: 100, whitelist: [{ source_pod: ['netpod'], event_type: [{ type: 7 }], node_name: ['default/k8s-s'] }, { destination_pod: ['netpod'], event_type: [{ type: 7 }], node_name: ['default/k8s-s'] }] };
  await lab.hubble()!.getFlows(req, (r) => { if (r.flow) lines.push(compactLine(r.flow, { timeLayout: 'StampMilli', nodeName: false, ipTranslation: true }).replace(/^.*?: /, '').replace(/\(ID:\d+\)/g, '(ID:N)').trimEnd()); }, new AbortController().signal);
  t.same(lines, [
    'default/netpod (ID:34280) <> kube-system/kube-dns:53 (world) pre-xlate-fwd TRACED (UDP)',
    'default/netpod (ID:34280) <> kube-system/coredns-55cb58b774-2xvk2:53 (ID:63316) post-xlate-fwd TRANSLATED (UDP)',
    ...Array.from({ length: 10 }, () => [
      'kube-system/coredns-55cb58b774-2xvk2:53 (ID:63316) <> default/netpod (ID:34280) pre-xlate-rev TRACED (UDP)',
      'kube-system/kube-dns:53 (world) <> default/netpod (ID:34280) post-xlate-rev TRANSLATED (UDP)',
    ]).flat(),
  ].map((l) => l.replace(/\(ID:\d+\)/g, '(ID:N)')), 'the TCP connect to wttr.in (no service) emits none');
});
