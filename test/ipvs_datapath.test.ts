// kube-proxy's IPVS mode end to end on `--lab kind-ipvs` (the seed 000
// cluster, seed 004's proxy mode): what a user sees on a node (ipvsadm -Ln,
// ip addr show kube-ipvs0, ipset list, iptables -t nat -S) and what traffic
// does (rr spread exactly, ClientIP persistence, NodePort from outside, a
// Service without endpoints refused by IPVS itself, counters and rates,
// conntrack entries with the real server in the reply tuple).
import t from 'tap';
import { Cluster } from '../src/cluster/cluster.ts';
import { readU16, readU32, u32ToIp } from '../src/wire/addr.ts';

const c = Cluster.lab('kind-ipvs', { hubble: false });
t.teardown(() => c.close());
const CP = 'myk8s-control-plane';
const pod = (argv: string[]) => c.exec('default', 'net-pod', argv);
const sh = (n: string, cmd: string) => c.nodeExec(n, ['bash', '-c', cmd]);
const VIP = '10.200.1.118';
/** Hostname counts of a zsh curl loop, `uniq -c` style. */
async function spread(n: number): Promise<Map<string, number>> {
  const r = await pod(['zsh', '-c', `for i in {1..${n}}; do curl -s ${VIP}:9000 | grep Hostname; done | sort | uniq -c | sort -nr`]);
  return new Map([...r.stdout.matchAll(/^\s*(\d+) Hostname: (webpod\d)$/gm)].map((m) => [m[2]!, Number(m[1])]));
}
/** Per real server numbers of one service's `ipvsadm -Ln --stats|--rate` rows. */
function rows(out: string): Map<string, number[]> {
  return new Map([...out.matchAll(/^ {2}-> (\d\S+)\s+(.*)$/gm)].map((m) => [m[1]!, m[2]!.trim().split(/\s+/).map(Number)]));
}

t.test('ipvsadm -Ln after applying the lab: one rr virtual server per service port, Masq real servers', async (t) => {
  const r = await c.nodeExec(CP, ['ipvsadm', '-Ln']);
  const rs = (a: string) => `  -> ${a.padEnd(28)} Masq    1      0          0         \n`;
  t.match(r.stdout, /^IP Virtual Server version 1\.2\.1 \(size=4096\)\nProt LocalAddress:Port Scheduler Flags\n {2}-> RemoteAddress:Port {11}Forward Weight ActiveConn InActConn\nTCP {2}10\.200\.1\.1:443 rr\n/);
  // ipvsadm's order: protocol number, then address, then port; each service's real servers by address.
  for (const block of ['TCP  10.200.1.1:443 rr\n' + rs('172.18.0.2:6443'),
    'TCP  10.200.1.10:53 rr\n' + rs('10.10.0.2:53') + rs('10.10.0.3:53') + 'TCP  10.200.1.10:9153 rr\n' + rs('10.10.0.2:9153') + rs('10.10.0.3:9153'),
    `TCP  ${VIP}:9000 rr\n` + rs('10.10.1.2:80') + rs('10.10.2.3:80') + rs('10.10.3.2:80'),
    'UDP  10.200.1.10:53 rr\n' + rs('10.10.0.2:53') + rs('10.10.0.3:53')]) t.match(r.stdout, block);
  t.match(r.stdout, /\nUDP {2}10\.200\.1\.10:53 rr\n.*\n.*\n$/, 'UDP after every TCP service');
  const worker = await c.nodeExec('myk8s-worker3', ['ipvsadm', '-Ln']);
  // NodePort virtual servers are on each node's own IP; the ClusterIP ones are the same everywhere.
  const clusterIPs = (s: string) => s.split(/\n(?=TCP|UDP)/).filter((b) => !/^(TCP|UDP) {2}172\.18\./.test(b)).join('\n');
  t.equal(clusterIPs(worker.stdout), clusterIPs(r.stdout), 'every node programs the same ClusterIP virtual servers');
  t.equal((await c.nodeExec(CP, ['ipvsadm', '-Ln', '--timeout'])).stdout, 'Timeout (tcp tcpfin udp): 900 120 300\n');
  const save = await c.nodeExec(CP, ['ipvsadm', '-S', '-n']);
  t.match(save.stdout, `-A -t ${VIP}:9000 -s rr\n-a -t ${VIP}:9000 -r 10.10.1.2:80 -m -w 1\n`);
  t.match(save.stdout, '-A -u 10.200.1.10:53 -s rr\n');
});

t.test('ip addr show kube-ipvs0: every ClusterIP as a /32 on a dummy that stays DOWN (seed 004\'s layout)', async (t) => {
  const r = await c.nodeExec(CP, ['ip', 'addr', 'show', 'kube-ipvs0']);
  const addr = (ip: string) => `    inet ${ip}/32 scope global kube-ipvs0\n       valid_lft forever preferred_lft forever\n`;
  t.match(r.stdout, /^\d+: kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN group default\n {4}link\/ether [0-9a-f:]{17} brd ff:ff:ff:ff:ff:ff\n/);
  const svcs = (await c.kubectl(['get', 'svc', '-A', '-o', 'jsonpath={.items[*].spec.clusterIP}'])).stdout.split(' ');
  const bound = [...r.stdout.matchAll(/inet (\S+)\/32/g)].map((m) => m[1]);
  t.same(bound.slice().sort(), svcs.slice().sort(), 'exactly the ClusterIPs of `kubectl get svc -A`');
  t.match(r.stdout, addr('10.200.1.1') + addr('10.200.1.10'));
  t.notMatch(r.stdout, 'inet6', 'no inet6: a device never set up gets no link-local');
});

t.test('ipset list KUBE-CLUSTER-IP and ipset test: the service ip,proto:port entries', async (t) => {
  const r = await c.nodeExec(CP, ['ipset', 'list', 'KUBE-CLUSTER-IP']);
  t.match(r.stdout, /^Name: KUBE-CLUSTER-IP\nType: hash:ip,port\nRevision: 7\nHeader: family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x[0-9a-f]{8}\n/);
  t.match(r.stdout, /\nReferences: 3\nNumber of entries: \d+\nMembers:\n/, 'the two nat rules of seed 004 and KUBE-IPVS-FILTER\'s RETURN use it');
  const members = r.stdout.split('Members:\n')[1]!.trim().split('\n');
  t.equal(Number(/Number of entries: (\d+)/.exec(r.stdout)![1]), members.length);
  for (const m of ['10.200.1.1,tcp:443', '10.200.1.10,tcp:53', '10.200.1.10,tcp:9153', '10.200.1.10,udp:53', `${VIP},tcp:9000`]) t.ok(members.includes(m), m);
  const inSet = await c.nodeExec(CP, ['ipset', 'test', 'KUBE-CLUSTER-IP', `${VIP},tcp:9000`]);
  t.same([inSet.exitCode, inSet.stderr], [0, `Warning: ${VIP},tcp:9000 is in set KUBE-CLUSTER-IP.\n`]);
  const out = await c.nodeExec(CP, ['ipset', 'test', 'KUBE-CLUSTER-IP', `${VIP},tcp:80`]);
  t.same([out.exitCode, out.stderr], [1, `${VIP},tcp:80 is NOT in set KUBE-CLUSTER-IP.\n`]);
  const names = await c.nodeExec(CP, ['ipset', '-L', '-n']);
  t.match(names.stdout, /^KUBE-LOOP-BACK\nKUBE-CLUSTER-IP\n/);
  t.match(names.stdout, /\nKUBE-IPVS-IPS\n$/);
});

t.test('iptables in IPVS mode: seed 004\'s KUBE-SERVICES, no per-service chains', async (t) => {
  const l = await c.nodeExec(CP, ['iptables', '-t', 'nat', '-L', 'KUBE-SERVICES', '-n']);
  t.equal(l.stdout, 'Chain KUBE-SERVICES (2 references)\n'
    + 'target     prot opt source               destination         \n'
    + 'RETURN     0    --  127.0.0.0/8          0.0.0.0/0           \n'
    + 'KUBE-MARK-MASQ  0    -- !10.10.0.0/16         0.0.0.0/0            /* Kubernetes service cluster ip + port for masquerade purpose */ match-set KUBE-CLUSTER-IP dst,dst\n'
    + 'KUBE-NODE-PORT  0    --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type LOCAL\n'
    + 'ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            match-set KUBE-CLUSTER-IP dst,dst\n');
  const s = await sh(CP, 'iptables-save | grep -c -e KUBE-SVC- -e KUBE-SEP-');
  t.equal(s.stdout, '0\n');
  const f = await sh(CP, 'iptables -S KUBE-IPVS-FILTER');
  t.match(f.stdout, '-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT --reject-with icmp-port-unreachable\n');
});

t.test('300 curls to the ClusterIP: rr gives exactly 100 to each webpod, ipvsadm --stats counts them', async (t) => {
  t.equal((await c.nodeExec(CP, ['ipvsadm', '-Z', '-t', `${VIP}:9000`])).exitCode, 0);
  const counts = await spread(300);
  t.same(Object.fromEntries(counts), { webpod1: 100, webpod2: 100, webpod3: 100 });
  const st = await c.nodeExec(CP, ['ipvsadm', '-Ln', '--stats', '-t', `${VIP}:9000`]);
  t.match(st.stdout, /^IP Virtual Server version 1\.2\.1 \(size=4096\)\nProt LocalAddress:Port {15}Conns {3}InPkts {2}OutPkts {2}InBytes OutBytes\n {2}-> RemoteAddress:Port\nTCP {2}10\.200\.1\.118:9000 {17}300 /);
  for (const [rs, nums] of rows(st.stdout)) {
    t.equal(nums[0], 100, `${rs}: 100 connections`);
    t.ok(nums[1]! >= 500 && nums[2]! >= 300, `${rs}: packets both ways (${nums[1]} in, ${nums[2]} out)`);
  }
  const l = await c.nodeExec(CP, ['ipvsadm', '-Ln', '-t', `${VIP}:9000`]);
  const inact = [...l.stdout.matchAll(/Masq {4}1 {6}(\d+) +(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  t.equal(inact.length, 3);
  t.ok(inact.every(([a, i]) => a! <= 1 && i! >= 99), `closed connections wait in InActConn (TIME_WAIT): ${JSON.stringify(inact)}`);
  await pod(['sleep', '130']);
  const later = await c.nodeExec(CP, ['ipvsadm', '-Ln', '-t', `${VIP}:9000`]);
  t.equal([...later.stdout.matchAll(/Masq {4}1 {6}0 {10}0 {9}\n/g)].length, 3, 'expired after IPVS\'s 120 s TIME_WAIT');
});

t.test('ipvsadm --rate: the 2-second estimator over the virtual clock', async (t) => {
  await pod(['zsh', '-c', `for i in {1..12}; do curl -s ${VIP}:9000 >/dev/null; sleep 0.5; done`]);
  const r = await c.nodeExec(CP, ['ipvsadm', '-Ln', '--rate', '-t', `${VIP}:9000`]);
  t.match(r.stdout, /\nProt LocalAddress:Port {17}CPS {4}InPPS {3}OutPPS {4}InBPS {3}OutBPS\n/);
  const svc = /TCP {2}10\.200\.1\.118:9000\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\n/.exec(r.stdout)!;
  t.ok(Number(svc[1]) >= 1 && Number(svc[2]) >= 3 && Number(svc[4]) > 100, `about 1.5 connections/s: ${svc[0].trim()}`);
  await pod(['sleep', '120']);
  const idle = await c.nodeExec(CP, ['ipvsadm', '-Ln', '--rate', '-t', `${VIP}:9000`]);
  t.match(idle.stdout, /TCP {2}10\.200\.1\.118:9000 +0 +0 +0 +0 +0\n/, 'the averages decay to 0 when idle');
});

t.test('conntrack -L: the ClusterIP in the original tuple, the chosen webpod in the reply (vs/conntrack=1)', async (t) => {
  await c.nodeExec(CP, ['conntrack', '-F']);
  await pod(['curl', '-s', `${VIP}:9000`]);
  await pod(['sleep', '1']);
  const r = await c.nodeExec(CP, ['conntrack', '-L', '--dst', VIP]);
  t.match(r.stdout, /^tcp {6}6 \d+ TIME_WAIT src=10\.10\.0\.6 dst=10\.200\.1\.118 sport=(\d+) dport=9000 src=10\.10\.(?:3\.2|1\.2|2\.3) dst=10\.10\.0\.6 sport=80 dport=\1 \[ASSURED\] mark=0 use=1\n$/);
});

t.test('kubectl exec net-pod -- curl: whoami answers, the client address kept (no SNAT from a pod)', async (t) => {
  const r = await c.kubectl(['exec', 'net-pod', '--', 'curl', '-s', `${VIP}:9000`]);
  t.equal(r.exitCode, 0);
  t.match(r.stdout, /^Hostname: webpod[123]\nIP: 127\.0\.0\.1\n/);
  t.match(r.stdout, /\nRemoteAddr: 10\.10\.0\.6:\d+\nGET \/ HTTP\/1\.1\r\nHost: 10\.200\.1\.118:9000\r\n/);
  const dns = await pod(['curl', '-s', 'svc-clusterip:9000']);
  t.match(dns.stdout, /^Hostname: webpod[123]\n/, 'the name resolves through the UDP virtual server of kube-dns');
  const udp = await c.nodeExec(CP, ['ipvsadm', '-Ln', '--stats', '-u', '10.200.1.10:53']);
  t.match(udp.stdout, /UDP {2}10\.200\.1\.10:53 +[1-9]/);
});

t.test('on the wire: the ClusterIP never leaves the client\'s node, checksums valid after IPVS\'s rewrite', async (t) => {
  const frames: Uint8Array[] = [];
  const stops = ['myk8s-worker', 'myk8s-worker2', 'myk8s-worker3'].map((n) => c.capture(n, 'eth0', (f) => frames.push(f.frame)));
  for (let i = 0; i < 3; i++) await pod(['curl', '-s', `${VIP}:9000`]);
  for (const s of stops) s();
  const tcp = frames.filter((f) => readU16(f, 12) === 0x0800 && f[23] === 6);
  t.ok(tcp.length >= 18, 'the curls crossed the workers\' eth0');
  t.equal(tcp.filter((f) => [readU32(f, 26), readU32(f, 30)].some((a) => u32ToIp(a) === VIP)).length, 0);
  t.equal(tcp.filter((f) => readU16(f, 36) !== 80 && readU16(f, 34) !== 80).length, 0, 'port 80 (targetPort) on every segment');
});

t.test('a node curls the ClusterIP: its source is the VIP (local route), KUBE-MARK-MASQ then MASQUERADE', async (t) => {
  const r = await c.nodeExec('myk8s-worker', ['curl', '-s', `${VIP}:9000`]);
  t.match(r.stdout, /^Hostname: webpod[123]\n/);
  t.match(r.stdout, /\nRemoteAddr: (172\.18\.0\.3|10\.10\.3\.1):\d+\n/);
  const ct = await c.nodeExec('myk8s-worker', ['conntrack', '-L', '--dst', VIP]);
  t.match(ct.stdout, /src=10\.200\.1\.118 dst=10\.200\.1\.118 sport=\d+ dport=9000 src=10\.10\.\d+\.\d+ dst=(172\.18\.0\.3|10\.10\.3\.1) sport=80/);
});

t.test('a Service without endpoints: its VIP and virtual server exist, IPVS answers port unreachable', async (t) => {
  c.apply('apiVersion: v1\nkind: Service\nmetadata: {name: svc-none}\nspec:\n  clusterIP: 10.200.1.80\n  selector: {app: nothing}\n  ports: [{name: web, port: 9100, targetPort: 80}]\n');
  const l = await c.nodeExec(CP, ['ipvsadm', '-Ln', '-t', '10.200.1.80:9100']);
  t.match(l.stdout, /\nTCP {2}10\.200\.1\.80:9100 rr\n$/, 'a virtual server with no real server');
  t.match((await c.nodeExec(CP, ['ip', 'addr', 'show', 'kube-ipvs0'])).stdout, 'inet 10.200.1.80/32 scope global kube-ipvs0');
  const r = await pod(['curl', '-sS', '--connect-timeout', '1', '10.200.1.80:9100']);
  t.same([r.exitCode, r.stderr], [7, "curl: (7) Failed to connect to 10.200.1.80 port 9100 after 0 ms: Couldn't connect to server\n"],
    'ip_vs_leave: ICMP port unreachable at once, not a timeout');
  const other = await pod(['curl', '-sS', '--connect-timeout', '1', `${VIP}:9100`]);
  t.equal(other.exitCode, 7, 'a VIP port with no virtual server: KUBE-IPVS-FILTER REJECTs');
  const ping = await pod(['ping', '-c', '1', '-W', '1', VIP]);
  t.match(ping.stdout, 'Destination Port Unreachable', 'ping to a ClusterIP is rejected too');
  c.delete('apiVersion: v1\nkind: Service\nmetadata: {name: svc-none}\n');
  t.notMatch((await c.nodeExec(CP, ['ip', 'addr', 'show', 'kube-ipvs0'])).stdout, '10.200.1.80', 'the next sync unbinds the VIP');
  t.notMatch((await c.nodeExec(CP, ['ipvsadm', '-Ln'])).stdout, '10.200.1.80', 'and deletes its virtual server');
});

t.test('NodePort from outside: a virtual server per node IP, masqueraded to the node', async (t) => {
  c.apply('apiVersion: v1\nkind: Service\nmetadata: {name: svc-np}\nspec:\n  type: NodePort\n  selector: {app: webpod}\n  ports: [{name: web, port: 9200, targetPort: 80, nodePort: 30080}]\n');
  t.match((await sh('myk8s-worker', 'ipvsadm -Ln | grep 30080')).stdout, /^TCP {2}172\.18\.0\.3:30080 rr\n$/);
  t.match((await c.nodeExec(CP, ['ipset', 'list', 'KUBE-NODE-PORT-TCP'])).stdout, /\nMembers:\n(?:\d+\n)*30080\n/);
  const r = await c.nodeExec('internet', ['curl', '-s', '172.18.0.3:30080']);
  t.match(r.stdout, /^Hostname: webpod[123]\n/);
  t.match(r.stdout, /\nRemoteAddr: (172\.18\.0\.3|10\.10\.3\.1):\d+\n/, 'KUBE-NODE-PORT-TCP marks it: the backend sees the node');
  const st = await sh('myk8s-worker', 'ipvsadm -Ln --stats | grep "172.18.0.3:30080"');
  t.match(st.stdout, /^TCP {2}172\.18\.0\.3:30080 +1 /);
  c.delete('apiVersion: v1\nkind: Service\nmetadata: {name: svc-np}\n');
});

t.test('sessionAffinity ClientIP: a persistent virtual server pins net-pod to one webpod', async (t) => {
  await c.kubectl(['patch', 'svc', 'svc-clusterip', '-p', '{"spec":{"sessionAffinity":"ClientIP"}}']);
  t.match((await c.nodeExec(CP, ['ipvsadm', '-Ln'])).stdout, `TCP  ${VIP}:9000 rr persistent 10800\n`);
  const counts = await spread(30);
  t.equal(counts.size, 1, 'one webpod');
  t.equal([...counts.values()][0], 30);
  const lnc = await c.nodeExec(CP, ['ipvsadm', '-Lnc']);
  t.match(lnc.stdout, /^IPVS connection entries\npro expire state {7}source {13}virtual {12}destination\n/);
  t.match(lnc.stdout, /\nTCP 0[01]:\d\d  TIME_WAIT   10\.10\.0\.6:\d+ +10\.200\.1\.118:9000 +10\.10\.\d+\.\d+:80\n/, 'the closed connections wait in TIME_WAIT');
  t.match(lnc.stdout, /\nTCP 1[78]\d:\d\d {2}NONE {8}10\.10\.0\.6:0 {8}10\.200\.1\.118:9000  10\.10\.\d+\.\d+:80\n/, 'the persistence template: client port 0, 10800 s');
  await c.kubectl(['patch', 'svc', 'svc-clusterip', '-p', '{"spec":{"sessionAffinity":"None"}}']);
  t.match((await c.nodeExec(CP, ['ipvsadm', '-Ln'])).stdout, `TCP  ${VIP}:9000 rr\n`);
  t.equal((await spread(30)).size, 3, 'rr again');
});

t.test('endpoint changes re-sync the real servers; a user\'s own virtual server survives the sync', async (t) => {
  const add = await c.nodeExec(CP, ['ipvsadm', '-A', '-t', '10.9.9.9:80', '-s', 'lc']);
  t.equal(add.exitCode, 0);
  t.equal((await c.nodeExec(CP, ['ipvsadm', '-a', '-t', '10.9.9.9:80', '-r', '10.10.1.2:80', '-m'])).exitCode, 0);
  const dup = await c.nodeExec(CP, ['ipvsadm', '-A', '-t', '10.9.9.9:80']);
  t.same([dup.exitCode, dup.stderr], [1, 'Service already exists\n']);
  t.equal((await c.nodeExec(CP, ['ipvsadm', '-A', '-u', '10.9.9.9:53'])).exitCode, 0);
  t.match((await c.nodeExec(CP, ['ipvsadm', '-Ln', '-u', '10.9.9.9:53'])).stdout, '\nUDP  10.9.9.9:53 wlc\n', 'ipvsadm\'s own default scheduler');
  const bad = await c.nodeExec(CP, ['ipvsadm', '-A', '-t', '10.9.9.9']);
  t.same([bad.exitCode, bad.stderr], [1, 'Illegal virtual server address[:port] specified\n']);
  const none = await c.nodeExec(CP, ['ipset', 'list', 'NOPE']);
  t.same([none.exitCode, none.stderr], [1, 'ipset v7.17: The set with the given name does not exist\n']);
  c.delete('apiVersion: v1\nkind: Pod\nmetadata: {name: webpod3}\n');
  const l = await c.nodeExec(CP, ['ipvsadm', '-Ln']);
  t.match(l.stdout, `TCP  ${VIP}:9000 rr\n  -> 10.10.1.2:80 `);
  t.notMatch(l.stdout, '10.10.2.3:80', 'webpod3 is no longer a real server');
  t.match(l.stdout, 'TCP  10.9.9.9:80 lc\n  -> 10.10.1.2:80                 Masq    1 ');
  t.same(Object.keys(Object.fromEntries(await spread(10))).sort(), ['webpod1', 'webpod2']);
});
