// The exec shell and the whoami image over the real kernel sockets (two-node testbed, no Cilium).
import t from 'tap';
import { Sim } from '../src/sim/sim.ts';
import { buildTestbed } from '../src/kernel/testbed.ts';
import { startWhoami } from '../src/cluster/images/whoami.ts';
import { runShell } from '../src/cluster/exec/shell.ts';
import { RESOLV } from './helpers/fake_pods.ts';

t.test('curl, ping and ip from netpod to webpod1 over the kernel', async (t) => {
  const sim = new Sim(3);
  const { nodes } = buildTestbed(sim);
  const netpod = nodes[0]!.pods[0]!, webpod1 = nodes[1]!.pods[0]!;
  startWhoami(webpod1.ns, sim, 'webpod1');
  const sh = { netns: netpod.ns, sim, hostname: 'netpod', files: { '/etc/resolv.conf': RESOLV, '/etc/hostname': 'netpod\n' }, env: { HOSTNAME: 'netpod' } };
  const run = (argv: string[]) => sim.settle(runShell(sh, argv));

  const curl = await run(['curl', '-s', '172.16.1.111']);
  t.equal(curl.exitCode, 0);
  t.match(curl.stdout, /^Hostname: webpod1\nIP: 127\.0\.0\.1\nIP: ::1\nIP: 172\.16\.1\.111\nIP: fe80::[0-9a-f:]+\nRemoteAddr: 172\.16\.0\.230:\d+\nGET \/ HTTP\/1\.1\r\nHost: 172\.16\.1\.111\r\nUser-Agent: curl\/8\.7\.1\r\nAccept: \*\/\*\r\n\r\n$/);
  t.same(await run(['curl', '-s', '172.16.1.111:8080']), { stdout: '', stderr: '', exitCode: 7 }, 'RST on a closed port: exit 7, no output');
  const ping = await run(['ping', '-c', '1', '172.16.1.111']);
  t.match(ping.stdout, /^PING 172\.16\.1\.111 \(172\.16\.1\.111\) 56\(84\) bytes of data\.\n64 bytes from 172\.16\.1\.111: icmp_seq=1 ttl=62 time=\d+\.\d{3} ms\n\n--- 172\.16\.1\.111 ping statistics ---\n1 packets transmitted, 1 received, 0% packet loss, time 0ms\nrtt min\/avg\/max\/mdev = [\d./]+ ms\n$/);
  const route = await run(['route', '-n']);
  t.match(route.stdout, /^Kernel IP routing table\n/);
  t.match((await run(['ip', '-4', 'addr'])).stdout, /inet 172\.16\.0\.230\/32 scope global eth0/);
});
