// The iptables datapath end to end on the seed 000 lab (kind + kindnet +
// kube-proxy iptables): the seed's commands replayed print the seed's lines,
// curls to the ClusterIP are DNATed by the node's netfilter to webpods on
// every worker (real bytes on the wire, checksums valid), conntrack shows the
// translated entries, a Service without endpoints REJECTs.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from '../src/cluster/cluster.ts';
import { checksum, sum16 } from '../src/wire/checksum.ts';
import { readU16, readU32, u32ToIp } from '../src/wire/addr.ts';

const SEED = readFileSync(join(import.meta.dirname, 'scenarios/kind-iptables/seed000.txt'), 'utf8');
/** The seed's output block after a prompt line ending in `cmd` (up to the next blank line). */
function seedBlock(cmd: string): string {
  const lines = SEED.split('\n');
  const i = lines.findIndex((l) => l.endsWith(cmd));
  if (i < 0) throw new Error(`seed has no ${cmd}`);
  const out: string[] = [];
  for (let k = i + 1; k < lines.length && lines[k] !== ''; k++) out.push(lines[k]!);
  return out.join('\n') + '\n';
}

const c = Cluster.lab('kind-iptables', { hubble: false });
t.teardown(() => c.close());
const pod = (argv: string[]) => c.exec('default', 'net-pod', argv);
const node = (n: string, cmd: string) => c.nodeExec(n, ['bash', '-c', cmd]);

t.test('kubectl get pod -owide: the seed\'s pods, nodes and addresses', async (t) => {
  const r = await c.kubectl(['get', 'pod', '-owide']);
  const cols = (s: string) => s.trim().split('\n').map((l) => { const f = l.split(/\s+/); return [f[0], f[5], f[6]].join(' '); });
  t.same(cols(r.stdout), cols(seedBlock('kubectl get pod -owide')));
});

t.test('iptables -t nat -S | grep $SVC1 on every node prints the seed\'s two rules', async (t) => {
  const want = seedBlock('docker exec -it myk8s-control-plane iptables -t nat -S | grep $SVC1');
  for (const n of ['myk8s-control-plane', 'myk8s-worker', 'myk8s-worker2', 'myk8s-worker3']) {
    const r = await node(n, 'iptables -t nat -S | grep 10.200.1.118');
    t.equal(r.stdout, want, n);
  }
});

t.test('iptables -t nat -S | grep KUBE-POSTROUTING as the seed prints it', async (t) => {
  const r = await node('myk8s-control-plane', 'iptables -t nat -S | grep KUBE-POSTROUTING');
  t.equal(r.stdout, seedBlock('iptables -t nat -S | grep KUBE-POSTROUTING'));
});

t.test('ip route on the workers: kindnet\'s /24 per other node and /32 per local pod (veth names aside)', async (t) => {
  for (const n of ['myk8s-worker', 'myk8s-worker2', 'myk8s-worker3']) {
    const r = await c.nodeExec(n, ['ip', 'route']);
    const norm = (s: string) => s.replace(/veth[0-9a-f]{8}/g, 'vethXXXXXXXX');
    t.equal(norm(r.stdout), norm(seedBlock(`root@${n}:/# ip -c route`)), n);
    t.match(r.stdout, /dev veth[0-9a-f]{8} scope host\n/, `${n}: the pod's veth is veth<8 hex>`);
  }
});

t.test('ip addr on myk8s-worker: the veth holds the gateway /32, its peer in a cni-<uuid> netns (as the seed)', async (t) => {
  const r = await c.nodeExec('myk8s-worker', ['ip', 'addr']);
  t.match(r.stdout, /^\d+: veth[0-9a-f]{8}@if\d+: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default/m);
  t.match(r.stdout, /link-netns cni-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n {4}inet 10\.10\.3\.1\/32 scope global veth[0-9a-f]{8}\n/);
  t.match(r.stdout, /\n {4}inet 172\.18\.0\.3\/16 brd 172\.18\.255\.255 scope global eth0\n/);
});

t.test('curl $SVC1:9000 answers from a webpod with the ClusterIP in Host', async (t) => {
  const r = await pod(['curl', '-s', '--connect-timeout', '1', '10.200.1.118:9000']);
  t.equal(r.exitCode, 0);
  t.match(r.stdout, /^Hostname: webpod[123]\n/);
  t.match(r.stdout, /\nRemoteAddr: 10\.10\.0\.6:\d+\n/, 'the webpod sees net-pod\'s own address (no SNAT from a pod)');
  t.match(r.stdout, /\nHost: 10\.200\.1\.118:9000\r\n/, "whoami echoes the request line by line, CRLF kept");
  const dns = await pod(['curl', '-s', 'svc-clusterip:9000']);
  t.match(dns.stdout, /^Hostname: webpod[123]\n/, 'the name resolves through kube-dns, itself behind kube-proxy\'s UDP rules');
});

t.test('300 curls spread about a third to each webpod; the SVC chain counts them', async (t) => {
  const r = await pod(['zsh', '-c', 'for i in {1..300}; do curl -s 10.200.1.118:9000 | grep Hostname; done | sort | uniq -c | sort -nr']);
  const counts = new Map([...r.stdout.matchAll(/^\s*(\d+) Hostname: (webpod\d)$/gm)].map((m) => [m[2]!, Number(m[1])]));
  t.same([...counts.keys()].sort(), ['webpod1', 'webpod2', 'webpod3']);
  t.equal([...counts.values()].reduce((a, b) => a + b, 0), 300);
  for (const [name, n] of counts) t.ok(n >= 60 && n <= 140, `${name}: ${n} of 300`);
  const l = await c.nodeExec('myk8s-control-plane', ['iptables', '-v', '--numeric', '--table', 'nat', '--list', 'KUBE-SVC-KBDEBIL6IU6WL7RF']);
  const seps = [...l.stdout.matchAll(/^\s*(\d+)\s+\d+ KUBE-SEP-\w+ .* -> (10\.10\.\d+\.\d+):80 \*\//gm)];
  t.equal(seps.length, 3, 'one SEP rule per endpoint');
  t.ok(seps.reduce((a, m) => a + Number(m[1]), 0) >= 300, 'each new connection counted on its SEP rule');
});

t.test('conntrack -L --src 10.10.0.6 shows the DNATed entries as the seed does', async (t) => {
  await pod(['curl', '-s', '10.200.1.118:9000']);
  const r = await c.nodeExec('myk8s-control-plane', ['conntrack', '-L', '--src', '10.10.0.6']);
  const line = /^tcp {6}6 \d+ TIME_WAIT src=10\.10\.0\.6 dst=10\.200\.1\.118 sport=(\d+) dport=9000 src=10\.10\.(?:3\.2|1\.2|2\.3) dst=10\.10\.0\.6 sport=80 dport=\1 \[ASSURED\] mark=0 use=1$/m;
  t.match(r.stdout, line);
  t.match(r.stderr, /^conntrack v1\.4\.7 \(conntrack-tools\): \d+ flow entries have been shown\.\n$/);
  for (const seedLine of seedBlock('conntrack -L --src 10.10.0.6').split('\n').filter((l) => l.startsWith('tcp'))) t.match(seedLine, line, 'the seed\'s lines have this shape');
});

t.test('on the wire: pod addresses only, never the ClusterIP; checksums valid after NAT', async (t) => {
  const frames: Uint8Array[] = [];
  const stops = ['myk8s-worker', 'myk8s-worker2', 'myk8s-worker3'].map((n) => c.capture(n, 'eth0', (f) => frames.push(f.frame)));
  for (let i = 0; i < 6; i++) await pod(['curl', '-s', '10.200.1.118:9000']);
  for (const s of stops) s();
  const tcp = frames.filter((f) => readU16(f, 12) === 0x0800 && f[23] === 6);
  t.ok(tcp.length > 0, 'the curls crossed the workers\' eth0');
  let bad = 0, cluster = 0, port80 = 0;
  for (const f of tcp) {
    const src = readU32(f, 26), dst = readU32(f, 30);
    if ([src, dst].some((a) => u32ToIp(a) === '10.200.1.118')) cluster++;
    const ihl = (f[14]! & 15) * 4, tot = readU16(f, 16), l4 = 14 + ihl, len = tot - ihl;
    const pseudo = sum16(f, 26, 8, 6 + len);
    if (checksum(f, 14, ihl) !== 0 || checksum(f, l4, len, pseudo) !== 0) bad++;
    if (readU16(f, l4) === 80 || readU16(f, l4 + 2) === 80) port80++;
  }
  t.equal(port80, tcp.length, 'every segment to or from port 80 (the targetPort), none 9000');
  t.equal(cluster, 0, 'no frame carries the ClusterIP');
  t.equal(bad, 0, 'every IP and TCP checksum verifies');
});

t.test('a node curls the ClusterIP: OUTPUT DNAT, MASQUERADE to the node\'s address', async (t) => {
  const r = await c.nodeExec('myk8s-worker', ['curl', '-s', '10.200.1.118:9000']);
  t.match(r.stdout, /^Hostname: webpod[123]\n/);
  t.match(r.stdout, /\nRemoteAddr: (172\.18\.0\.3|10\.10\.3\.1):\d+\n/, 'the source is the node (its eth0, or the veth for the local webpod)');
});

t.test('a Service without endpoints: REJECT in filter KUBE-SERVICES, curl gets connection refused', async (t) => {
  c.apply('apiVersion: v1\nkind: Service\nmetadata: {name: svc-none}\nspec:\n  clusterIP: 10.200.1.80\n  selector: {app: nothing}\n  ports: [{name: web, port: 9100, targetPort: 80}]\n');
  const rules = await node('myk8s-control-plane', 'iptables -S | grep svc-none');
  t.equal(rules.stdout, '-A KUBE-SERVICES -d 10.200.1.80/32 -p tcp -m comment --comment "default/svc-none:web has no endpoints" -m tcp --dport 9100 -j REJECT --reject-with icmp-port-unreachable\n');
  const r = await pod(['curl', '-s', '--connect-timeout', '1', '10.200.1.80:9100']);
  t.equal(r.exitCode, 7, 'curl: (7) connection refused, at once (no timeout: 28)');
  c.delete('apiVersion: v1\nkind: Service\nmetadata: {name: svc-none}\n');
  const gone = await node('myk8s-control-plane', 'iptables-save | grep -c svc-none');
  t.equal(gone.stdout, '0\n', 'the next sync removes its rules');
});

t.test('sessionAffinity ClientIP: xt_recent pins net-pod to one webpod', async (t) => {
  const patch = await c.kubectl(['patch', 'svc', 'svc-clusterip', '-p', '{"spec":{"sessionAffinity":"ClientIP"}}']);
  t.equal(patch.stdout, 'service/svc-clusterip patched\n');
  const recent = await node('myk8s-control-plane', 'iptables -t nat -S | grep recent');
  t.equal(recent.stdout.split('\n').filter(Boolean).length, 6, 'a --set per SEP, an --rcheck per endpoint in the SVC chain');
  const r = await pod(['zsh', '-c', 'for i in {1..30}; do curl -s 10.200.1.118:9000 | grep Hostname; done | sort | uniq -c | sort -nr']);
  t.match(r.stdout, /^\s+30 Hostname: webpod[123]\n$/);
  await c.kubectl(['patch', 'svc', 'svc-clusterip', '-p', '{"spec":{"sessionAffinity":"None"}}']);
});

t.test('node tools: iptables-restore and conntrack -F / -D', async (t) => {
  const add = await c.nodeExec('myk8s-worker', ['iptables-restore', '--noflush'], '*filter\n:LAB - [0:0]\n-A LAB -s 10.10.0.6/32 -j ACCEPT\nCOMMIT\n');
  t.equal(add.exitCode, 0, add.stderr);
  t.equal((await c.nodeExec('myk8s-worker', ['iptables', '-S', 'LAB'])).stdout, '-N LAB\n-A LAB -s 10.10.0.6/32 -j ACCEPT\n');
  const bad = await c.nodeExec('myk8s-worker', ['iptables-restore', '--bogus']);
  t.equal(bad.exitCode, 1);
  await pod(['curl', '-s', '10.200.1.118:9000']);
  const del = await c.nodeExec('myk8s-control-plane', ['conntrack', '-D', '-p', 'tcp', '--dst', '10.200.1.118']);
  t.equal(del.exitCode, 0);
  t.match(del.stderr, /flow entries have been deleted/);
  const flush = await c.nodeExec('myk8s-control-plane', ['conntrack', '-F']);
  t.equal(flush.stderr, 'conntrack v1.4.7 (conntrack-tools): connection tracking table has been emptied.\n');
  const none = await c.nodeExec('myk8s-control-plane', ['conntrack', '-L', '--dst', '10.200.1.118']);
  t.equal(none.stdout, '');
});
