// Pure helpers of the CLI and the demo generator.
import t from 'tap';
import { parsePodsWide, demoRound } from '../src/api/demo.ts';
import { firstUpInterface, statsLines } from '../src/cli/tcpdump.ts';
import { kubectlReadsStdin } from '../src/cli/verbs.ts';

const IP_LINK = `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
2: ens5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 9001 qdisc mq state UP mode DEFAULT group default qlen 1000
3: cilium_net@cilium_host: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 9001 qdisc noqueue state UP mode DEFAULT group default qlen 1000
`;
const ifaceCases: [string, string | undefined][] = [
  [IP_LINK, 'ens5'],
  [IP_LINK.replace('2: ens5: <BROADCAST,MULTICAST,UP,LOWER_UP>', '2: ens5: <BROADCAST,MULTICAST>'), 'cilium_net'],
  ['1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n', undefined],
];
for (const [text, want] of ifaceCases) t.equal(firstUpInterface(text), want, `default interface ${want}`);

t.equal(statsLines(1, 1, 0), '1 packet captured\n1 packet received by filter\n0 packets dropped by kernel\n');
t.equal(statsLines(2, 3, 1), '2 packets captured\n3 packets received by filter\n1 packet dropped by kernel\n');

const stdinCases: [string[], boolean][] = [
  [['apply', '-f', '-'], true], [['apply', '--filename=-'], true], [['apply', '-f', 'x.yaml'], false],
  [['get', 'pods'], false], [['exec', 'p', '--', 'cat', '-'], false],
];
for (const [args, want] of stdinCases) t.equal(kubectlReadsStdin(args), want, `kubectl ${args.join(' ')} reads stdin: ${want}`);

const WIDE = `NAME      READY   STATUS    RESTARTS   AGE   IP             NODE     NOMINATED NODE   READINESS GATES
netpod    1/1     Running   0          0s    172.16.0.230   k8s-s    <none>           <none>
webpod1   1/1     Running   0          0s    172.16.1.111   k8s-w1   <none>           <none>
webpod2   1/1     Running   0          0s    172.16.2.180   k8s-w2   <none>           <none>
pending   0/1     Pending   0          0s    <none>         <none>   <none>           <none>
`;
t.test('demo traffic plans the seed lab commands', async (t) => {
  const pods = parsePodsWide(WIDE);
  t.same(pods.map((p) => p.name), ['netpod', 'webpod1', 'webpod2'], 'pods without an IP are skipped');
  t.same(demoRound(pods, 'netpod', 'webpod', 0), [['curl', '-s', 'webpod'], ['curl', '-s', '172.16.1.111'], ['ping', '-c', '1', '172.16.1.111'], ['nslookup', 'webpod']]);
  t.same(demoRound(pods, 'netpod', 'webpod', 1)[1], ['curl', '-s', '172.16.2.180'], 'rotates the target');
  t.same(demoRound(pods.filter((p) => p.name !== 'netpod'), 'netpod', 'webpod', 0), [], 'no client, no traffic');
  t.same(parsePodsWide('No resources found in default namespace.\n'), []);
});
