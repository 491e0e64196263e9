// ping's size checks and -M as iputils', and what a user sees when packets meet an MTU:
// the seed lab (Cilium's programs on the path, 9001-byte links) and a static
// two-node testbed whose link is narrower than its pods' routes (a router answers
// "fragmentation needed").
import t from 'tap';
import { inPod, ip4, IPPROTO_ICMP, record, seedLab } from './helpers/lab.ts';
import { Sim } from '../src/sim/sim.ts';
import { buildTestbed } from '../src/kernel/testbed.ts';
import { runShell } from '../src/cluster/exec/shell.ts';
import { RESOLV } from './helpers/fake_pods.ts';

const NO_REPLY = (host: string, n: number, errors: number) =>
  `\n--- ${host} ping statistics ---\n${n} packets transmitted, 0 received, +${errors} errors, 100% packet loss, time `;

t.test('ping in the seed lab: refused sizes, local EMSGSIZE, fragments through Cilium', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const cases: Array<{ argv: string[]; exitCode: number; stdout: RegExp | string; stderr: RegExp | string }> = [
    { argv: ['ping', '-c', '1', '-s', '70000', '172.16.1.111'], exitCode: 2, stdout: '', stderr: 'ping: packet size 70000 is too large. Maximum is 65507\n' },
    { argv: ['ping', '-c', '1', '-s', '65508', '172.16.1.111'], exitCode: 2, stdout: '', stderr: 'ping: packet size 65508 is too large. Maximum is 65507\n' },
    { argv: ['ping', '-c', '1', '-s', '200000', '172.16.1.111'], exitCode: 1, stdout: '', stderr: "ping: invalid argument: '200000': out of range: 0 <= value <= 127992\n" },
    { argv: ['ping', '-c', '1', '-s', 'big', '172.16.1.111'], exitCode: 1, stdout: '', stderr: "ping: invalid argument: 'big'\n" },
    { argv: ['ping', '-c', '1', '-M', 'maybe', '172.16.1.111'], exitCode: 2, stdout: '', stderr: 'ping: invalid -M argument: maybe\n' },
    { argv: ['ping', '-c', '1', '-M'], exitCode: 2, stdout: '', stderr: "ping: option requires an argument -- 'M'\n" },
    {
      argv: ['ping', '-c', '2', '-M', 'do', '-s', '9000', '172.16.1.111'], exitCode: 1,
      stdout: new RegExp(`^PING 172\\.16\\.1\\.111 \\(172\\.16\\.1\\.111\\) 9000\\(9028\\) bytes of data\\.\\n${NO_REPLY('172.16.1.111', 2, 2).replace(/[.()+]/g, '\\$&')}\\d+ms\\n`),
      stderr: 'ping: local error: message too long, mtu=9001\nping: local error: message too long, mtu=9001\n',
    },
    { argv: ['ping', '-c', '1', '-M', 'do', '-s', '8973', '172.16.1.111'], exitCode: 0, stdout: /^8981 bytes from 172\.16\.1\.111: icmp_seq=1 ttl=\d+ time=/m, stderr: '' },
    { argv: ['ping', '-c', '1', '-s', '20000', '172.16.1.111'], exitCode: 0, stdout: /^20008 bytes from 172\.16\.1\.111: icmp_seq=1 ttl=\d+ time=[\d.]+ ms$/m, stderr: '' },
    { argv: ['ping', '-c', '1', '-M', 'dont', '-s', '65507', '172.16.1.111'], exitCode: 0, stdout: /^65515 bytes from 172\.16\.1\.111: icmp_seq=1 /m, stderr: '' },
  ];
  for (const k of cases) {
    const r = await inPod(c, 'netpod', k.argv);
    const name = k.argv.join(' ');
    t.equal(r.exitCode, k.exitCode, `${name}: exit code`);
    if (typeof k.stdout === 'string') t.equal(r.stdout, k.stdout, `${name}: stdout`); else t.match(r.stdout, k.stdout, `${name}: stdout`);
    // kubectl exec adds its own line after a failed command.
    const kubectlTail = k.exitCode !== 0 ? `command terminated with exit code ${k.exitCode}\n` : '';
    if (typeof k.stderr === 'string') t.equal(r.stderr, k.stderr + kubectlTail, `${name}: stderr`); else t.match(r.stderr, k.stderr, `${name}: stderr`);
  }

  // On the wire: the 20000-byte request leaves k8s-s as 9001-byte fragments with one ID.
  const wire = record(c, 'k8s-s', 'ens5');
  const r = await inPod(c, 'netpod', ['ping', '-c', '1', '-s', '20000', '172.16.1.111']);
  wire.stop();
  t.equal(r.exitCode, 0);
  const out = wire.frames.filter((f) => f.dir === 'out').map((f) => ({ f: f.frame, h: ip4(f.frame) })).filter((x) => x.h?.proto === IPPROTO_ICMP);
  const frag = (f: Uint8Array) => (f[20]! << 8) | f[21]!;
  t.same(out.map((x) => [frag(x.f) & 0x1fff, (frag(x.f) & 0x2000) !== 0, (x.f[16]! << 8) | x.f[17]!]),
    [[0, true, 8996], [1122, true, 8996], [2244, false, 2076]], "8976 data bytes a fragment (9001 - 20, down to a multiple of 8): offsets 0, 8976, 17952; MF, then the last");
  t.equal(new Set(out.map((x) => (x.f[18]! << 8) | x.f[19]!)).size, 1, 'one IP ID');
  t.ok(out.every((x) => x.f.length <= 9001 + 14), 'no frame over the link MTU');
});

t.test('ping through a narrower link: Frag needed from the router, then the learnt PMTU', async (t) => {
  const cases: Array<{ name: string; argv: string[]; lines: RegExp[]; stderr: string; exitCode: number }> = [
    {
      name: '-M do', argv: ['ping', '-c', '3', '-i', '0.2', '-M', 'do', '-s', '2000', '172.16.1.111'], exitCode: 1,
      lines: [/^From 192\.168\.10\.10 icmp_seq=1 Frag needed and DF set \(mtu = 1500\)$/m, /^3 packets transmitted, 0 received, \+3 errors, 100% packet loss, time \d+ms$/m],
      stderr: 'ping: local error: message too long, mtu=1500\nping: local error: message too long, mtu=1500\n',
    },
    {
      name: 'default (want)', argv: ['ping', '-c', '3', '-i', '0.2', '-s', '2000', '172.16.1.111'], exitCode: 0,
      lines: [/^From 192\.168\.10\.10 icmp_seq=1 Frag needed and DF set \(mtu = 1500\)$/m, /^2008 bytes from 172\.16\.1\.111: icmp_seq=2 ttl=62 /m, /^2008 bytes from 172\.16\.1\.111: icmp_seq=3 ttl=62 /m,
        /^3 packets transmitted, 2 received, \+1 errors, 33\.3333% packet loss, time \d+ms$/m],
      stderr: '',
    },
    {
      name: '-M dont', argv: ['ping', '-c', '2', '-i', '0.2', '-M', 'dont', '-s', '2000', '172.16.1.111'], exitCode: 0,
      lines: [/^2008 bytes from 172\.16\.1\.111: icmp_seq=1 ttl=62 /m, /^2 packets transmitted, 2 received, 0% packet loss, time \d+ms$/m],
      stderr: '',
    },
  ];
  for (const c of cases) {
    const sim = new Sim(3);
    const { nodes } = buildTestbed(sim);
    for (const n of nodes) n.node.netdev!.mtu = 1500;
    const netpod = nodes[0]!.pods[0]!;
    const sh = { netns: netpod.ns, sim, hostname: 'netpod', files: { '/etc/resolv.conf': RESOLV, '/etc/hostname': 'netpod\n' }, env: { HOSTNAME: 'netpod' } };
    const r = await sim.settle(runShell(sh, c.argv));
    t.equal(r.exitCode, c.exitCode, `${c.name}: exit code`);
    for (const l of c.lines) t.match(r.stdout, l, `${c.name}: ${l.source}`);
    t.equal(r.stderr, c.stderr, `${c.name}: stderr`);
  }
});
