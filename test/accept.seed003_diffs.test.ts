// Acceptance: the seed-003 differences of issue 5 (kubectl create of existing
// objects, pings nobody answers, realistic round trips, `ip -c`), each checked
// against the lines the seed transcript shows (test/scenarios/seed003*.txt/yaml).
import t from 'tap';
import { isPublicAddress, NON_PUBLIC } from '../src/cluster/images/internet_paths.ts';
import { errorLine } from '../src/cluster/kubectl/create.ts';
import { ipToU32, parseCidr } from '../src/wire/addr.ts';
import { drain, inPod, ip4, IPPROTO_ICMP, kubectl, onNode, podVeth, record, scenario, seedLab } from './helpers/lab.ts';

/** Lines as the blog shows them: blanks collapsed, empty lines dropped. */
const shown = (s: string): string[] => s.split('\n').map((l) => l.trim().replace(/\s+/g, ' ')).filter((l) => l !== '');
/** The seed's output for one command of test/scenarios/seed003.txt. */
function seedOutput(cmd: string): string[] {
  const lines = scenario('seed003.txt').split('\n');
  const at = lines.indexOf(`$ ${cmd}`);
  if (at < 0) throw new Error(`no "${cmd}" in seed003.txt`);
  const out: string[] = [];
  for (const l of lines.slice(at + 1)) { if (l.startsWith('$ ')) break; out.push(l); }
  return out;
}
const ESC = '\x1b';
const stripSgr = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');

t.test('kubectl create -f - of the seed manifest', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const manifest = scenario('seed003_pods.yaml');

  // The seed lab already runs the three pods: one AlreadyExists line each, in order, nothing created.
  const again = await kubectl(c, ['create', '-f', '-'], manifest);
  t.equal(again.stdout, '');
  t.same(again.stderr.split('\n').filter(Boolean), ['netpod', 'webpod1', 'webpod2'].map((p) => `Error from server (AlreadyExists): error when creating "STDIN": pods "${p}" already exists`));
  t.equal(again.exitCode, 1, 'exit code 1 when any object failed');

  // Without them, kubectl prints what the seed shows.
  t.equal((await kubectl(c, ['delete', 'pod', 'netpod', 'webpod1', 'webpod2'])).exitCode, 0);
  const created = await kubectl(c, ['create', '-f', '-'], manifest);
  t.same(shown(created.stdout), ['pod/netpod created', 'pod/webpod1 created', 'pod/webpod2 created'], 'the seed\'s lines');
  t.equal(created.stderr, '');
  t.equal(created.exitCode, 0);
});

t.test('kubectl create goes on past existing objects: the others are created', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const fresh = 'apiVersion: v1\nkind: Pod\nmetadata: {name: extra}\nspec: {nodeName: k8s-w1, containers: [{name: c, image: nicolaka/netshoot}]}\n';
  const [net, web1] = scenario('seed003_pods.yaml').split(/^---$/m);
  const r = await kubectl(c, ['create', '-f', '-'], [net, fresh, web1].join('---\n'));
  t.equal(r.stdout, 'pod/extra created\n');
  t.equal(r.stderr, 'Error from server (AlreadyExists): error when creating "STDIN": pods "netpod" already exists\n'
    + 'Error from server (AlreadyExists): error when creating "STDIN": pods "webpod1" already exists\n');
  t.equal(r.exitCode, 1);
  t.equal((await kubectl(c, ['get', 'pod', 'extra', '-o', 'jsonpath={.spec.nodeName}'])).stdout, 'k8s-w1', 'the new pod exists');
  const applied = await kubectl(c, ['apply', '-f', '-'], fresh);
  t.same([applied.stdout, applied.exitCode], ['pod/extra unchanged\n', 0], 'apply stays as it was: an existing object is no error');
});

t.test('kubectl create: how each failure is worded, alone and among others', async (t) => {
  const cases: Array<{ name: string; msg: string; alone: string; among: string }> = [
    { name: 'already exists', msg: 'Error from server (AlreadyExists): pods "netpod" already exists',
      alone: 'Error from server (AlreadyExists): error when creating "STDIN": pods "netpod" already exists',
      among: 'Error from server (AlreadyExists): error when creating "STDIN": pods "netpod" already exists' },
    { name: 'missing namespace', msg: 'Error from server (NotFound): namespaces "nowhere" not found',
      alone: 'Error from server (NotFound): error when creating "STDIN": namespaces "nowhere" not found',
      among: 'Error from server (NotFound): error when creating "STDIN": namespaces "nowhere" not found' },
    { name: 'invalid (422)', msg: 'The Pod "bad" is invalid: spec.containers: Required value',
      alone: 'The Pod "bad" is invalid: spec.containers: Required value',
      among: 'Error from server (Invalid): error when creating "STDIN": Pod "bad" is invalid: spec.containers: Required value' },
    { name: 'unparsable stream', msg: 'error: error parsing STDIN: error converting YAML to JSON: yaml: line 2: mapping values are not allowed in this context',
      alone: 'error: error parsing STDIN: error converting YAML to JSON: yaml: line 2: mapping values are not allowed in this context',
      among: 'error parsing STDIN: error converting YAML to JSON: yaml: line 2: mapping values are not allowed in this context' },
  ];
  for (const k of cases) {
    t.equal(errorLine(k.msg, 'STDIN', true), k.alone, `${k.name}, alone`);
    t.equal(errorLine(k.msg, 'STDIN', false), k.among, `${k.name}, among others`);
  }
  t.equal(errorLine(cases[0]!.msg, 'pods.yaml', true), 'Error from server (AlreadyExists): error when creating "pods.yaml": pods "netpod" already exists', 'a file is named as given');

  const c = seedLab();
  t.teardown(() => c.close());
  const bad = 'apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec: {containers: []}\n';
  const r = await kubectl(c, ['create', '-f', '-'], `${bad}---\n${scenario('seed003_pods.yaml').split(/^---$/m)[0]}`);
  t.same([r.stdout, r.stderr], ['', `${cases[2]!.among}\n${cases[0]!.among}\n`], 'two failures: each as StandardErrorMessage prints it');
  const empty = await kubectl(c, ['create', '-f', '-'], '');
  t.same([empty.stderr, empty.exitCode], ['error: no objects passed to create\n', 1]);
});

t.test('ping to a ClusterIP: ICMP is not load-balanced, the echo leaves by the default route and is lost', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const vip = (await kubectl(c, ['get', 'svc', 'webpod', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
  const wire = record(c, 'k8s-s', 'ens5');
  const r = await inPod(c, 'netpod', ['ping', '-c', '1', vip]);
  await drain(c);
  wire.stop();
  t.equal(r.stdout, `PING ${vip} (${vip}) 56(84) bytes of data.\n\n--- ${vip} ping statistics ---\n1 packets transmitted, 0 received, 100% packet loss, time 0ms\n\n`);
  t.equal(r.stderr, 'command terminated with exit code 1\n');
  const icmp = wire.frames.map((f) => ({ dir: f.dir, h: ip4(f.frame) })).filter((x) => x.h?.proto === IPPROTO_ICMP);
  t.ok(icmp.some((x) => x.dir === 'out' && x.h!.dst === vip), 'the echo request leaves the node for the gateway, to the VIP itself');
  t.notOk(icmp.some((x) => x.dir === 'in'), 'nothing answers');
});

// Addresses nobody on the internet owns: the emulated internet must not answer, whoever asks.
const REFUSED: Array<[string, string]> = [
  ['unused ClusterIP (service CIDR)', '10.100.200.200'], ['kube-dns-like address in 10/8', '10.255.0.1'],
  ['pod CIDR, on no node', '172.16.200.9'], ['LoadBalancer pool', '172.18.255.201'], ['RFC 1918 172.16/12', '172.31.255.254'],
  ['RFC 1918 192.168/16', '192.168.99.1'], ['CGNAT 100.64/10', '100.64.0.1'], ['link-local', '169.254.169.254'],
  ['TEST-NET-1', '192.0.2.10'], ['TEST-NET-2', '198.51.100.7'], ['TEST-NET-3', '203.0.113.99'], ['benchmarking 198.18/15', '198.19.1.1'],
  ['IETF protocol assignments', '192.0.0.9'], ['reserved 240/4', '240.1.2.3'],
];
const ANSWERED: Array<[string, string]> = [['Google DNS', '8.8.8.8'], ['Cloudflare', '1.1.1.1'], ['wttr.in', '5.9.243.187'], ['example.com', '93.184.215.14']];

t.test('the internet never answers for private, cluster or reserved addresses', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  for (const [what, ip] of REFUSED) {
    const r = await inPod(c, 'netpod', ['ping', '-c', '1', '-W', '1', ip]);
    t.match(r.stdout, '1 packets transmitted, 0 received, 100% packet loss', `ping ${ip} (${what}): no reply`);
  }
  for (const [what, ip] of ANSWERED) {
    const r = await inPod(c, 'netpod', ['ping', '-c', '1', ip]);
    t.match(r.stdout, new RegExp(`^64 bytes from ${ip.replace(/\./g, '\\.')}: icmp_seq=1 ttl=47 time=`, 'm'), `ping ${ip} (${what}): answered`);
  }
  const node = await onNode(c, 'k8s-w1', ['ping', '-c', '1', '-W', '1', '10.1.1.1']);
  t.match(node.stdout, '100% packet loss', 'from a node too');
  const tcp = await inPod(c, 'netpod', ['curl', '-s', '-m', '2', '10.100.200.200']);
  t.equal(tcp.exitCode, 28, 'HTTP to an unused ClusterIP times out: no emulated web server answers it');
  const web = await inPod(c, 'netpod', ['curl', '-s', '93.184.215.14']);
  t.match(web.stdout, 'the emulated internet', 'a public address still gets the web server');
});

t.test('isPublicAddress: every special-purpose block, its edges, and the cluster\'s own ranges', async (t) => {
  const u32 = (s: string) => ipToU32(s);
  for (const b of NON_PUBLIC) {
    const last = (b.ip + 2 ** (32 - b.prefixLen) - 1) >>> 0;
    t.notOk(isPublicAddress(b.ip), `${b.ip >>> 24}.x first address refused`);
    t.notOk(isPublicAddress(last), `${b.ip >>> 24}.x last address refused`);
  }
  const edges: Array<[string, boolean]> = [
    ['9.255.255.255', true], ['11.0.0.0', true], ['100.63.255.255', true], ['100.128.0.0', true], ['172.15.255.255', true],
    ['172.32.0.0', true], ['192.167.255.255', true], ['192.169.0.0', true], ['223.255.255.255', true], ['224.0.0.1', false],
  ];
  for (const [ip, pub] of edges) t.equal(isPublicAddress(u32(ip)), pub, `${ip} ${pub ? 'public' : 'refused'}`);
  const cluster = [parseCidr('44.0.0.0/16'), parseCidr('45.96.0.0/12')];
  t.notOk(isPublicAddress(u32('44.0.3.3'), cluster), 'a public-looking pod CIDR belongs to the cluster');
  t.notOk(isPublicAddress(u32('45.100.0.1'), cluster), 'a public-looking service CIDR belongs to the cluster');
  t.ok(isPublicAddress(u32('44.1.0.1'), cluster), 'next to it: the internet');
});

/** `time=` values of a ping's output, in ms. */
const times = (out: string): number[] => [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
const stats = (out: string): number[] => (/rtt min\/avg\/max\/mdev = ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(out) ?? []).slice(1).map(Number);

t.test('round trips: seeded latency and jitter in the seed\'s ranges', async (t) => {
  const run = async (seed: number) => {
    const c = seedLab({ seed });
    try {
      await inPod(c, 'netpod', ['ping', '-c', '1', '172.16.1.111']); // ARP and neighbours warm, as on the seed's cluster
      await inPod(c, 'netpod', ['ping', '-c', '1', '8.8.8.8']);
      return {
        w1: (await inPod(c, 'netpod', ['ping', '-c', '10', '-i', '0.2', '172.16.1.111'])).stdout,
        w2: (await inPod(c, 'netpod', ['ping', '-c', '10', '-i', '0.2', '172.16.2.180'])).stdout,
        google: (await inPod(c, 'netpod', ['ping', '-c', '5', '-i', '0.2', '8.8.8.8'])).stdout,
      };
    } finally { c.close(); }
  };
  const a = await run(3), b = await run(3), other = await run(4);
  t.same(a, b, 'same seed, same round trips');
  t.not(a.w1, other.w1, 'another seed, other round trips');

  // The seed: 0.214 ms to webpod1, 0.416 ms to webpod2 (cross-node, native routing); 33.349 ms to 8.8.8.8.
  for (const [name, out] of [['webpod1', a.w1], ['webpod2', a.w2]] as const) {
    const ts = times(out);
    t.equal(ts.length, 10, `${name}: ten replies`);
    t.ok(ts.every((x) => x >= 0.19 && x <= 0.7), `${name}: every rtt between 0.19 and 0.7 ms, as the seed's 0.214 and 0.416 (${ts.join(' ')})`);
    t.ok(new Set(ts).size > 3, `${name}: rtts vary`);
    t.ok(stats(out)[3]! > 0, `${name}: mdev is not 0.000`);
  }
  const g = stats(a.google);
  t.ok(Math.abs(g[1]! - 33.349) < 1.5, `8.8.8.8 averages ${g[1]} ms, near the seed's 33.349 ms`);
  t.ok(g[3]! > 0 && g[3]! < 1, `8.8.8.8 jitters a little (mdev ${g[3]} ms)`);
  t.match(a.google, /time=3\d\.\d ms/, 'printed with one decimal as iputils does above 10 ms (the seed: time=33.3 ms)');
});

t.test('links stay FIFO under jitter: a burst arrives in the order it was sent', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const client = c.podContext('default', 'netpod').netns, sink = c.podContext('default', 'webpod2').netns;
  const got: number[] = [];
  const srv = sink.sockets.udpBind(9100, (d) => { got.push(new DataView(d.buffer, d.byteOffset).getUint32(0)); });
  const u = client.sockets.udpBind(0);
  const send = (i: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, i); u.send({ ip: ipToU32('172.16.2.180'), port: 9100 }, b); };
  // After each quiet spell the link draws a new delay; the next frames, sent 10µs apart while it is still
  // in flight, must keep it (a fresh draw could be shorter and overtake).
  for (let burst = 0; burst < 40; burst++) {
    await c.sim.settle(c.sim.sleep(1_500_000));
    for (let j = 0; j < 10; j++) { send(burst * 10 + j); await c.sim.settle(c.sim.sleep(10_000)); }
  }
  await drain(c);
  srv.close(); u.close();
  t.equal(got.length, 400, 'every datagram arrived');
  t.same(got, [...got].sort((x, y) => x - y), 'in the order sent');
});

t.test('ip -c: iproute2\'s colours (light palette), the seed\'s text once they are stripped', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const r = await inPod(c, 'netpod', ['ip', '-c', '-4', 'addr']);
  t.same(shown(stripSgr(r.stdout)), seedOutput('kubectl exec netpod -- ip -c -4 addr'), 'the seed\'s lines (the blog lost the colours)');
  const lines = r.stdout.split('\n');
  t.equal(lines[0], `1: ${ESC}[36mlo: ${ESC}[0m<LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000`, 'ifname cyan; UNKNOWN uncoloured');
  t.equal(lines[3], `9: ${ESC}[36meth0@if10: ${ESC}[0m<BROADCAST,MULTICAST,UP,LOWER_UP> mtu 9001 qdisc noqueue state ${ESC}[32mUP ${ESC}[0mgroup default qlen 1000 link-netnsid 0`, 'UP green');
  t.equal(lines[4], `    inet ${ESC}[35m172.16.0.230${ESC}[0m/32 scope global eth0`, 'IPv4 magenta');

  // The seed's `ip -c addr show dev $LXC` on the node: MAC yellow, IPv6 blue.
  const lxc = (await podVeth(c, 'netpod', 'k8s-s'))!;
  const node = await onNode(c, 'k8s-s', ['ip', '-c', 'addr', 'show', 'dev', lxc]);
  const seedLxc = ['10: lxc7408fc78b9ff@if9: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 9001 qdisc noqueue state UP group default qlen 1000',
    'link/ether 5e:b5:9a:19:fb:b3 brd ff:ff:ff:ff:ff:ff link-netns cni-35c57e23-01ba-0bc8-9858-769f1479059c',
    'inet6 fe80::5cb5:9aff:fe19:fbb3/64 scope link', 'valid_lft forever preferred_lft forever'];
  const mask = (l: string) => l.replace(/lxc[0-9a-f]{12}/, 'LXC').replace(/link\/ether \S+/, 'link/ether MAC').replace(/link-netns \S+/, 'link-netns NS').replace(/fe80::\S+\/64/, 'fe80::X/64');
  t.same(shown(stripSgr(node.stdout)).map(mask), seedLxc.map(mask), 'the seed\'s lines, names and addresses aside');
  const nl = node.stdout.split('\n');
  t.match(nl[1], new RegExp(`^    link/ether ${ESC}\\[33m[0-9a-f:]{17}${ESC}\\[0m brd ${ESC}\\[33mff:ff:ff:ff:ff:ff${ESC}\\[0m link-netns `), 'MACs yellow');
  t.match(nl[2], new RegExp(`^    inet6 ${ESC}\\[34mfe80::[0-9a-f:]+${ESC}\\[0m/64 scope link$`), 'IPv6 blue');
});

t.test('ip colour options as iproute2\'s matches_color() reads them', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const cases: Array<{ opts: string[]; color: boolean | 'error' }> = [
    { opts: [], color: false }, { opts: ['-c'], color: true }, { opts: ['-col'], color: true }, { opts: ['-color'], color: true },
    { opts: ['--color'], color: true }, { opts: ['-c=always'], color: true }, { opts: ['-color=always'], color: true },
    { opts: ['-c=never'], color: false }, { opts: ['-c', '-c=never'], color: false }, { opts: ['-c=auto'], color: false },
    { opts: ['-colour'], color: 'error' }, { opts: ['-c=yes'], color: 'error' }, { opts: ['-colors'], color: 'error' },
  ];
  const plain = (await inPod(c, 'netpod', ['ip', 'link'])).stdout;
  for (const k of cases) {
    const r = await inPod(c, 'netpod', ['ip', ...k.opts, 'link']);
    if (k.color === 'error') {
      const shownOpt = k.opts[0]!.replace(/^--/, '-');
      t.same([r.stdout, r.stderr, r.exitCode], ['', `Option "${shownOpt}" is unknown, try "ip -help".\ncommand terminated with exit code 255\n`, 255], `${k.opts.join(' ')}: unknown option`);
    } else {
      t.equal(r.stdout.includes(ESC), k.color, `${k.opts.join(' ') || '(none)'}: ${k.color ? 'coloured' : 'plain'}`);
      t.equal(stripSgr(r.stdout), plain, `${k.opts.join(' ') || '(none)'}: same text`);
    }
  }
  await inPod(c, 'netpod', ['ping', '-c', '1', '172.16.1.111']); // an ARP entry for the router
  const neigh = (await inPod(c, 'netpod', ['ip', '-c', 'neigh'])).stdout;
  t.match(neigh, new RegExp(`^${ESC}\\[35m172\\.16\\.0\\.12 ${ESC}\\[0mdev ${ESC}\\[36meth0 ${ESC}\\[0mlladdr ${ESC}\\[33m[0-9a-f:]{17} ${ESC}\\[0m[A-Z]+$`, 'm'), 'ip -c neigh: address, device and MAC coloured');
});
