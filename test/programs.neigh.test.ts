// The first packet towards a next hop with no ARP entry. bpf_fib_lookup only reports
// NO_NEIGH; the program redirects with bpf_redirect_neigh and returns; only then does
// the kernel send the ARP request, queue the packet and send it when the reply comes.
// So on a Cilium node the `-> network` trace comes first, then who-has / is-at on ens5,
// then the forwarded packet, and no program ever starts while another one runs.
import t from 'tap';
import type { LinuxNode } from '../src/kernel/node.ts';
import { BPF_FIB_LKUP_RET_NO_NEIGH, BPF_FIB_LKUP_RET_SUCCESS, type FibResult } from '../src/bpf/ctx.ts';
import { BPF_FIB_LKUP_RET_NOT_FWDED } from '../src/kernel/helpers.ts';
import { buildTestbed } from '../src/kernel/testbed.ts';
import { Sim } from '../src/sim/sim.ts';
import { ipToU32, macToString, u32ToIp } from '../src/wire/addr.ts';
import { TcpdumpFormatter } from '../src/wire/tcpdump.ts';
import { inPod, onNode, seedLab } from './helpers/lab.ts';

const NODES = ['k8s-s', 'k8s-w1'];

t.test('first cross-node ping with a cold ARP cache: delivered, in Cilium\'s order, no nested program run', async (t) => {
  const c = seedLab();
  const mac = (n: string) => macToString((c.kernel(n) as LinuxNode).netdev!.mac);
  const before = await onNode(c, 'k8s-s', ['ip', 'neigh']);
  t.notMatch(before.stdout, /192\.168\.10\.101/, 'k8s-s has no neighbour entry for k8s-w1 yet');

  const log: string[] = [];
  const nested: string[] = [];
  const stops: Array<() => void> = [];
  for (const n of NODES) {
    const tcpdump = new TcpdumpFormatter({ link: true });
    stops.push(c.monitor(n, (l) => { if (l.text.startsWith('->')) log.push(`${n} monitor ${l.text}`); }));
    stops.push(c.capture(n, 'ens5', (f) => log.push(`${n} ens5 ${f.dir} ${tcpdump.format(f.frame, f.wallMs).replace(/^\S+ /, '')}`)));
    // A program run records prog ... verdict; another prog before the verdict is a run nested in it.
    const rt = (c.kernel(n) as LinuxNode).runtime;
    let running: string | null = null;
    rt.recorder = (e) => {
      if (e.kind === 'prog') { if (running !== null) nested.push(`${n}: ${e.prog} ran inside ${running}`); running = e.prog; }
      if (e.kind === 'verdict') running = null;
    };
  }
  const r = await inPod(c, 'netpod', ['ping', '-c', '1', '172.16.1.111']);
  for (const s of stops) s();
  for (const n of NODES) (c.kernel(n) as LinuxNode).runtime.recorder = null;

  t.match(r.stdout, /1 packets transmitted, 1 received, 0% packet loss/, 'the first packet is not lost');
  t.match(r.stdout, /icmp_seq=1 ttl=62/);
  t.same(nested, [], 'no program started while another one ran');
  const s = mac('k8s-s'), w1 = mac('k8s-w1');
  const k8sS = log.filter((l) => l.startsWith('k8s-s ')).map((l) => l.replace(/flow 0x[0-9a-f]+ , identity \d+->\d+/, 'flow , identity'));
  t.match(k8sS, [
    /^k8s-s monitor -> network flow , identity state new ifindex ens5 orig-ip 0\.0\.0\.0: 172\.16\.0\.230 -> 172\.16\.1\.111 EchoRequest$/,
    `k8s-s ens5 out ${s} > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.168.10.101 tell 192.168.10.10, length 28`,
    `k8s-s ens5 in ${w1} > ${s}, ethertype ARP (0x0806), length 42: Reply 192.168.10.101 is-at ${w1}, length 28`,
    new RegExp(`^k8s-s ens5 out ${s} > ${w1}, ethertype IPv4 \\(0x0800\\), length 98: 172\\.16\\.0\\.230 > 172\\.16\\.1\\.111: ICMP echo request, id \\d+, seq 1, length 64$`),
    new RegExp(`^k8s-s ens5 in ${w1} > ${s}, ethertype IPv4 \\(0x0800\\), length 98: 172\\.16\\.1\\.111 > 172\\.16\\.0\\.230: ICMP echo reply, id \\d+, seq 1, length 64$`),
    /^k8s-s monitor -> endpoint \d+ flow , identity state reply ifindex lxc\w+ orig-ip 172\.16\.1\.111: 172\.16\.1\.111 -> 172\.16\.0\.230 EchoReply$/,
  ], 'to-network trace, ARP request and reply on ens5, then the queued request, then the reply');
  t.equal(k8sS.length, 6, 'nothing else on k8s-s');
  const after = await onNode(c, 'k8s-s', ['ip', 'neigh']);
  t.match(after.stdout, new RegExp(`^192\\.168\\.10\\.101 dev ens5 lladdr ${w1} REACHABLE$`, 'm'), 'the neighbour is resolved');
});

t.test('once resolved, the next packet leaves by a plain redirect with the FIB\'s MACs', async (t) => {
  const c = seedLab();
  await inPod(c, 'netpod', ['ping', '-c', '1', '172.16.1.111']);
  const redirects: string[] = [];
  const rt = (c.kernel('k8s-s') as LinuxNode).runtime;
  rt.recorder = (e) => { if (e.kind === 'redirect') redirects.push(`ifindex ${e.ifindex} flags ${e.flags}${e.nh === undefined ? '' : ` nh ${e.nh}`}`); };
  const arps: string[] = [];
  const stop = c.capture('k8s-s', 'ens5', (f) => { if (f.frame[12] === 0x08 && f.frame[13] === 0x06) arps.push(f.dir); });
  const r = await inPod(c, 'netpod', ['ping', '-c', '1', '172.16.1.111']);
  stop(); rt.recorder = null;
  t.match(r.stdout, /1 received/);
  t.same(arps, [], 'no ARP on ens5');
  t.ok(redirects.includes('ifindex 2 flags 0'), 'bpf_redirect to ens5 (ifindex 2)');
  t.notOk(redirects.some((l) => l.includes(' nh ')), 'no bpf_redirect_neigh');
});

t.test('bpf_fib_lookup is a lookup only: no neighbour entry made, nothing sent', async (t) => {
  const sim = new Sim(1);
  const { nodes: [a, b] } = buildTestbed(sim);
  if (!a || !b) throw new Error('two nodes');
  const pa = a.pods[0]!, pb = b.pods[0]!;
  const ens5 = a.node.netdev!;
  const sent: number[] = [];
  a.node.capture(ens5, (_f, dir) => { if (dir === 'out') sent.push(1); });
  const lookup = (daddr: number) => {
    const out: FibResult = { ret: -1, ifindex: -1, nh: -1, smac: new Uint8Array(6), dmac: new Uint8Array(6) };
    const r = a.node.helpers.fibLookup(pa.lxc.ifindex, pa.ip, daddr, out);
    return { ret: r.ret, ifindex: r.ifindex, nh: u32ToIp(r.nh), smac: macToString(r.smac), dmac: macToString(r.dmac), same: r === out };
  };
  const ZERO = '00:00:00:00:00:00';
  const cold = [
    { name: 'remote pod, next hop not resolved', daddr: pb.ip, want: { ret: BPF_FIB_LKUP_RET_NO_NEIGH, ifindex: ens5.ifindex, nh: '192.168.10.101', smac: ZERO, dmac: ZERO, same: true } },
    { name: 'no route', daddr: ipToU32('10.99.0.1'), want: { ret: BPF_FIB_LKUP_RET_NOT_FWDED, ifindex: 0, nh: '10.99.0.1', smac: ZERO, dmac: ZERO, same: true } },
    { name: 'local address', daddr: a.ip, want: { ret: BPF_FIB_LKUP_RET_NOT_FWDED, ifindex: 0, nh: '192.168.10.10', smac: ZERO, dmac: ZERO, same: true } },
  ];
  for (const c of cold) t.same(lookup(c.daddr), c.want, c.name);
  sim.runSync();
  t.same(sent, [], 'no ARP request left ens5');
  t.same([...a.node.hostNs.neigh.entries.values()].map((n) => u32ToIp(n.ip)), [], 'no neighbour entry was created');
  // Once the stack has resolved k8s-w1 (a ping from the host), the same lookup finds its MAC.
  await sim.settle(a.node.hostNs.sockets.ping(b.ip, { seq: 1, id: 9, payloadBytes: 8, timeoutNs: 1e9 }));
  t.same(lookup(pb.ip), { ret: BPF_FIB_LKUP_RET_SUCCESS, ifindex: ens5.ifindex, nh: '192.168.10.101', smac: macToString(ens5.mac), dmac: macToString(b.node.netdev!.mac), same: true }, 'resolved: success with both MACs');
});
