// The calico-ipip lab (seed 001: kubeadm + Calico IP-in-IP + kube-proxy
// iptables): pods on different nodes talk through tunl0, and the underlay
// carries real IP-in-IP (outer protocol 4, node IP to node IP, inner pod
// addresses); `ip route` / `ip addr` / `ip neigh` print what Calico programs.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from '../src/cluster/cluster.ts';
import { readU16, readU32, u32ToIp } from '../src/wire/addr.ts';
import { checksum } from '../src/wire/checksum.ts';
import { pcapFile } from '../src/wire/pcap.ts';
import { TcpdumpFormatter } from '../src/wire/tcpdump.ts';

const c = Cluster.lab('calico-ipip', { hubble: false });
t.teardown(() => c.close());
const SRC = '20.111.156.65', DEST = '20.109.131.2', NODE1 = '192.168.56.31', NODE2 = '192.168.56.32';
/** Calico's VethNameForWorkload, computed independently of the plugin. */
const cali = (ns: string, pod: string) => `cali${createHash('sha1').update(`${ns}.${pod}`).digest('hex').slice(0, 11)}`;
const fromSrc = (argv: string[]) => c.exec('default', 'pod-src', argv);

/** IPv4 fields of an Ethernet frame at offset o (14 for the outer header, 34 for an IP-in-IP inner one). */
const ip = (f: Uint8Array, o: number) => ({ proto: f[o + 9]!, src: u32ToIp(readU32(f, o + 12)), dst: u32ToIp(readU32(f, o + 16)), ttl: f[o + 8]!, csumOk: checksum(f, o, 20) === 0, len: readU16(f, o + 2) });

/** Frames seen on a node's interface while fn runs. */
async function captured(node: string, ifname: string, fn: () => Promise<unknown>): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  const stop = c.capture(node, ifname, (f) => { if (f.dir === 'out' || ifname !== 'eth0') frames.push(f.frame); });
  try { await fn(); } finally { stop(); }
  return frames;
}
const ipipFrames = (fs: Uint8Array[]) => fs.filter((f) => f.length >= 54 && readU16(f, 12) === 0x0800 && f[14 + 9] === 4);

t.test('kubectl get pod -owide: the seed\'s pods on the seed\'s nodes', async (t) => {
  const r = await c.kubectl(['get', 'pod', '-owide']);
  const rows = r.stdout.trim().split('\n').slice(1).map((l) => { const f = l.split(/\s+/); return `${f[0]} ${f[5]} ${f[6]}`; });
  t.same(rows, [`pod-dest ${DEST} k8s-node1`, 'pod-pause 20.109.131.1 k8s-node1', `pod-src ${SRC} k8s-node2`]);
});

t.test('ip route on k8s-node1: a block per other node via tunl0 (proto bird onlink), its own block a blackhole, a scope-link route per pod', async (t) => {
  const r = await c.nodeExec('k8s-node1', ['ip', 'route']);
  const lines = r.stdout.split('\n');
  for (const want of [
    'default via 192.168.56.1 dev eth0',
    `20.108.82.192/26 via 192.168.56.30 dev tunl0 proto bird onlink`,
    'blackhole 20.109.131.0/26 proto bird',
    `20.109.131.1 dev ${cali('default', 'pod-pause')} scope link`,
    `${DEST} dev ${cali('default', 'pod-dest')} scope link`,
    `20.111.156.64/26 via ${NODE2} dev tunl0 proto bird onlink`,
    `192.168.56.0/24 dev eth0 proto kernel scope link src ${NODE1}`,
  ]) t.ok(lines.includes(want), want);
  t.ok(lines.indexOf('blackhole 20.109.131.0/26 proto bird') < lines.indexOf(`20.109.131.1 dev ${cali('default', 'pod-pause')} scope link`), 'FIB order: the block before its pods');
  const n = await c.nodeExec('k8s-node1', ['route', '-n']);
  t.match(n.stdout, /\n20\.109\.131\.0\s+0\.0\.0\.0\s+255\.255\.255\.192 U\s+0\s+0\s+0 \*\n/, 'route -n: the blackhole without a device');
});

t.test('ip addr: tunl0@NONE (mtu 1480, link/ipip, the block\'s first address /32) and cali interfaces with ee:ee:ee:ee:ee:ee', async (t) => {
  const tun = await c.nodeExec('k8s-node2', ['ip', 'addr', 'show', 'tunl0']);
  t.match(tun.stdout, /^\d+: tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN group default qlen 1000\n    link\/ipip 0\.0\.0\.0 brd 0\.0\.0\.0\n    inet 20\.111\.156\.64\/32 brd 20\.111\.156\.64 scope global tunl0\n       valid_lft forever preferred_lft forever\n$/);
  const veth = cali('default', 'pod-src');
  const a = await c.nodeExec('k8s-node2', ['ip', 'addr', 'show', veth]);
  t.match(a.stdout, new RegExp(`^\\d+: ${veth}@if\\d+: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1480 qdisc noqueue state UP group default qlen 1000\\n    link/ether ee:ee:ee:ee:ee:ee brd ff:ff:ff:ff:ff:ff link-netns cni-[0-9a-f-]+\\n    inet6 fe80::ecee:eeff:feee:eeee/64 scope link\\n`));
  const l = await c.nodeExec('k8s-node2', ['ip', 'link', 'show', 'tunl0']);
  t.match(l.stdout, /^\d+: tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n    link\/ipip 0\.0\.0\.0 brd 0\.0\.0\.0\n$/);
  const neigh = await c.nodeExec('k8s-node2', ['ip', 'neigh', 'show', 'dev', veth]);
  t.match(neigh.stdout, new RegExp(`^${SRC.replace(/\./g, '\\.')} lladdr [0-9a-f:]{17} PERMANENT\n$`), 'Felix\'s static ARP entry for the pod');
});

t.test('inside a pod: the /32 address, default via 169.254.1.1, answered by proxy ARP with the cali MAC', async (t) => {
  const r = await fromSrc(['ip', 'route']);
  t.equal(r.stdout, 'default via 169.254.1.1 dev eth0\n169.254.1.1 dev eth0 scope link\n');
  const a = await fromSrc(['ip', '-4', 'addr', 'show', 'eth0']);
  t.match(a.stdout, new RegExp(`mtu 1480 .*\\n    inet ${SRC.replace(/\./g, '\\.')}/32 scope global eth0\\n`));
  await fromSrc(['ping', '-c', '1', DEST]);
  const n = await fromSrc(['ip', 'neigh']);
  t.equal(n.stdout, '169.254.1.1 dev eth0 lladdr ee:ee:ee:ee:ee:ee REACHABLE\n');
});

t.test('ping pod-src -> pod-dest (other node): IP-in-IP on the underlay both ways, ttl 62 at the pod', async (t) => {
  let out = '';
  const frames = await captured('k8s-node2', 'eth0', async () => { out = (await fromSrc(['ping', '-c', '2', DEST])).stdout; });
  t.match(out, /64 bytes from 20\.109\.131\.2: icmp_seq=1 ttl=62 /);
  t.match(out, /2 packets transmitted, 2 received, 0% packet loss/);
  const enc = ipipFrames(frames);
  t.equal(enc.length, 2, 'both echo requests left node2 encapsulated');
  for (const f of enc) {
    const outer = ip(f, 14), inner = ip(f, 34);
    t.same({ ...outer, len: undefined }, { proto: 4, src: NODE2, dst: NODE1, ttl: 63, csumOk: true, len: undefined }, 'outer: protocol 4, node2 -> node1, TTL inherited after one forward');
    t.equal(outer.len, inner.len + 20, 'outer length = inner + 20');
    t.same([inner.proto, inner.src, inner.dst, inner.csumOk], [1, SRC, DEST, true], 'inner: ICMP pod-src -> pod-dest');
    t.equal(f[34 + 20], 8, 'echo request');
  }
  const line = new TcpdumpFormatter().format(enc[0]!, 0).slice(16);
  t.match(line, /^IP 192\.168\.56\.32 > 192\.168\.56\.31: IP 20\.111\.156\.65 > 20\.109\.131\.2: ICMP echo request, id \d+, seq 1, length 64$/);
  const back = await captured('k8s-node1', 'eth0', () => fromSrc(['ping', '-c', '1', DEST]));
  const rep = ipipFrames(back).map((f) => [ip(f, 14).src, ip(f, 14).dst, ip(f, 34).src, ip(f, 34).dst, f[54]]);
  t.same(rep, [[NODE1, NODE2, DEST, SRC, 0]], 'the echo reply goes back node1 -> node2 encapsulated');
});

t.test('tunl0 shows the inner packets; no IP-in-IP between pods of one node', async (t) => {
  const inner = await captured('k8s-node1', 'tunl0', () => fromSrc(['ping', '-c', '1', DEST]));
  const ins = inner.map((f) => ip(f, 14));
  t.same(ins.map((x) => [x.proto, x.src, x.dst]), [[1, SRC, DEST], [1, DEST, SRC]], 'the request in and the reply out on tunl0, without the outer header');
  const local = await captured('k8s-node1', 'eth0', () => c.exec('default', 'pod-pause', ['ping', '-c', '1', DEST]));
  t.equal(ipipFrames(local).length, 0);
});

t.test('curl pod-src -> pod-dest:8080 across nodes, TCP inside IP-in-IP', async (t) => {
  let r = { stdout: '', exitCode: -1 };
  const frames = await captured('k8s-node2', 'eth0', async () => { r = await fromSrc(['curl', '-s', '--connect-timeout', '2', `${DEST}:8080`]); });
  t.equal(r.exitCode, 0);
  t.match(r.stdout, /pod-dest/);
  const tcp = ipipFrames(frames).filter((f) => f[34 + 9] === 6);
  t.ok(tcp.length >= 3, 'handshake, request and close all encapsulated');
  t.ok(tcp.every((f) => readU16(f, 54 + 2) === 8080 && ip(f, 34).src === SRC), 'to pod-dest:8080 from pod-src');
});

t.test('curl svc-clusterip:8080: kube-proxy DNATs on node2, the wire carries pod-dest\'s address inside IP-in-IP', async (t) => {
  const svc = await c.kubectl(['get', 'svc', 'svc-clusterip']);
  const clusterIP = svc.stdout.split('\n')[1]!.split(/\s+/)[2]!;
  let r = { stdout: '', exitCode: -1 };
  const frames = await captured('k8s-node2', 'eth0', async () => { r = await fromSrc(['curl', '-s', '--connect-timeout', '2', `${clusterIP}:8080`]); });
  t.equal(r.exitCode, 0, `curl ${clusterIP}:8080`);
  t.match(r.stdout, /pod-dest/);
  const tcp = ipipFrames(frames).filter((f) => f[34 + 9] === 6);
  t.ok(tcp.length > 0 && tcp.every((f) => ip(f, 34).dst === DEST), 'inner destination is the backend, never the ClusterIP');
});

t.test('MTU: tunl0 and the pods\' veths are 1480, so a full-size DF packet fills the 1500-byte underlay exactly', async (t) => {
  let ok = { stdout: '', exitCode: -1 };
  const frames = await captured('k8s-node2', 'eth0', async () => { ok = await fromSrc(['ping', '-c', '1', '-M', 'do', '-s', '1452', DEST]); });
  t.equal(ok.exitCode, 0, ok.stdout);
  t.same(ipipFrames(frames).filter((f) => f[34 + 9] === 1).map((f) => ip(f, 14).len), [1500], 'the echo request: 1480 inside, 1500 outside');
  const big = await fromSrc(['ping', '-c', '1', '-M', 'do', '-s', '1453', DEST]);
  t.not(big.exitCode, 0, 'one byte more does not fit the pod\'s 1480');
});

t.test('an unused address of a block: the owning node\'s blackhole route discards it, no ICMP error comes back', async (t) => {
  let r = { stdout: '', exitCode: -1 };
  const back = await captured('k8s-node1', 'eth0', async () => { r = await fromSrc(['ping', '-c', '1', '-W', '1', '20.109.131.50']); });
  t.match(r.stdout, /1 packets transmitted, 0 received, 100% packet loss/);
  t.equal(ipipFrames(back).length, 0, 'node1 sends nothing back');
  const get = await c.nodeExec('k8s-node1', ['ip', 'route', 'get', '20.109.131.50']);
  t.not(get.exitCode, 0, 'no device to route through');
});

function hasTcpdump(): boolean {
  try { execFileSync('tcpdump', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

t.test('the installed tcpdump reads the underlay capture: IPIP (4) with correct checksums, printed as dplab prints it', { skip: hasTcpdump() ? false : 'tcpdump not installed' }, async (t) => {
  const frames: { frame: Uint8Array; wallMs: number }[] = [];
  const stop = c.capture('k8s-node2', 'eth0', (f) => frames.push({ frame: f.frame, wallMs: f.wallMs }));
  await fromSrc(['curl', '-s', '--connect-timeout', '2', `${DEST}:8080`]);
  await fromSrc(['ping', '-c', '1', DEST]);
  stop();
  const path = join(mkdtempSync(join(tmpdir(), 'dplab-calico-')), 'eth0.pcap');
  writeFileSync(path, pcapFile(frames));
  const run = (args: string[]) => execFileSync('tcpdump', [...args, '-r', path], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, TZ: 'UTC' } }).toString();
  const vv = run(['-nn', '-vv']);
  t.ok((vv.match(/proto IPIP \(4\)/g) ?? []).length >= 8, 'outer headers decoded as IPIP');
  t.notMatch(vv, /bad cksum|incorrect/, 'every outer, inner and TCP/ICMP checksum correct');
  const f = new TcpdumpFormatter();
  t.equal(frames.map((x) => f.format(x.frame, x.wallMs)).join('\n'), run(['-nn']).trimEnd(), 'dplab tcpdump -nn = tcpdump -nn');
});
