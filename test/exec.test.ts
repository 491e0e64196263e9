import t from 'tap';
import { fakeCluster } from './helpers/fake_pods.ts';
import { execInPod } from '../src/cluster/exec/index.ts';
import { parseCurlArgs, parseUrl } from '../src/cluster/exec/curl_args.ts';
import { fmtTime } from '../src/cluster/exec/ping.ts';
import { searchCandidates, parseResolvConf } from '../src/cluster/exec/resolver.ts';
import { RESOLV } from './helpers/fake_pods.ts';

const run = (c: ReturnType<typeof fakeCluster>, argv: string[]) => c.sim.settle(execInPod(c.netpod, argv));

t.test('resolv.conf search order is glibc\'s (ndots:5)', async (t) => {
  const rc = parseResolvConf(RESOLV);
  t.same(searchCandidates('wttr.in', rc), ['wttr.in.default.svc.cluster.local', 'wttr.in.svc.cluster.local', 'wttr.in.cluster.local', 'wttr.in']);
  t.same(searchCandidates('a.b.c.d.e.f', rc)[0], 'a.b.c.d.e.f');
  t.same(searchCandidates('x.', rc), ['x']);
});

t.test('curl arguments and URLs', async (t) => {
  t.match(parseCurlArgs(['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--connect-timeout', '1', 'x:9000']), { silent: true, showError: true, output: '/dev/null', writeOut: '%{http_code}', connectTimeoutS: 1, urls: ['x:9000'] });
  t.match(parseCurlArgs(['-m2', '-H', 'X-A: 1', 'u']), { maxTimeS: 2, headers: ['X-A: 1'] });
  t.same(parseUrl('172.16.1.111'), { scheme: 'http', host: '172.16.1.111', port: 80, path: '/', hostHeader: '172.16.1.111' });
  t.same(parseUrl('http://wttr.in:8080/seoul?x=1'), { scheme: 'http', host: 'wttr.in', port: 8080, path: '/seoul?x=1', hostHeader: 'wttr.in:8080' });
  t.equal(parseUrl('ftp://x'), null);
});

t.test('ping time= formatting follows iputils', async (t) => {
  for (const [us, s] of [[214, '0.214'], [1234, '1.23'], [33349, '33.3'], [123456, '123']] as const) t.equal(fmtTime(us), s);
});

t.test('curl through the service and by pod IP', async (t) => {
  const c = fakeCluster();
  const r = await run(c, ['curl', '-s', '172.16.1.111']);
  t.equal(r.exitCode, 0);
  t.equal(r.stdout, 'Hostname: webpod1\nIP: 127.0.0.1\nIP: ::1\nIP: 172.16.1.111\nIP: fe80::c8ae:93ff:feb3:dd53\nRemoteAddr: 172.16.0.230:41320\nGET / HTTP/1.1\r\nHost: 172.16.1.111\r\nUser-Agent: curl/8.7.1\r\nAccept: */*\r\n\r\n');
  const byName = await run(c, ['curl', '-s', 'svc-clusterip:9000']);
  t.match(byName.stdout, /^Hostname: webpod1\n[^]*Host: svc-clusterip:9000\r\n/);
  const code = await run(c, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}\\n', 'wttr.in/seoul']);
  t.same(code, { stdout: '200\n', stderr: '', exitCode: 0 });
  const w = await run(c, ['curl', '-s', 'wttr.in/seoul']);
  t.match(w.stdout, /^Weather report: seoul\n/);
});

t.test('curl failures: exit codes and messages', async (t) => {
  const c = fakeCluster();
  t.same(await run(c, ['curl', '-s', '172.16.1.111:8080']), { stdout: '', stderr: '', exitCode: 7 }, 'seed: exit 7, no output');
  t.same(await run(c, ['curl', '172.16.1.111:8080']), { stdout: '', stderr: "curl: (7) Failed to connect to 172.16.1.111 port 8080 after 0 ms: Couldn't connect to server\n", exitCode: 7 });
  t.same(await run(c, ['curl', '-sS', 'nosuch']), { stdout: '', stderr: 'curl: (6) Could not resolve host: nosuch\n', exitCode: 6 });
  c.net.blackholes.add(0x0a0a0a0a);
  t.same(await run(c, ['curl', '-sS', '--connect-timeout', '1', '10.10.10.10']), { stdout: '', stderr: 'curl: (28) Failed to connect to 10.10.10.10 port 80 after 1000 ms: Timeout was reached\n', exitCode: 28 });
  const h = c.net.addHost('empty', '172.16.9.9');
  h.sockets.tcpListen(80, (conn) => conn.onData(() => conn.end()));
  t.same(await run(c, ['curl', '-sS', '172.16.9.9']), { stdout: '', stderr: 'curl: (52) Empty reply from server\n', exitCode: 52 });
});

t.test('ping output as iputils prints it', async (t) => {
  const c = fakeCluster();
  const r = await run(c, ['ping', '-c', '1', '172.16.1.111']);
  t.same(r, { stdout: 'PING 172.16.1.111 (172.16.1.111) 56(84) bytes of data.\n64 bytes from 172.16.1.111: icmp_seq=1 ttl=64 time=0.214 ms\n\n--- 172.16.1.111 ping statistics ---\n1 packets transmitted, 1 received, 0% packet loss, time 0ms\nrtt min/avg/max/mdev = 0.214/0.214/0.214/0.000 ms\n', stderr: '', exitCode: 0 });
  const three = await run(c, ['ping', '-c', '3', '-i', '0.2', '172.16.1.111']);
  t.match(three.stdout, /3 packets transmitted, 3 received, 0% packet loss, time 400ms\n/);
  const lost = await run(c, ['ping', '-c', '1', '-W', '1', '172.16.77.1']);
  t.same(lost, { stdout: 'PING 172.16.77.1 (172.16.77.1) 56(84) bytes of data.\n\n--- 172.16.77.1 ping statistics ---\n1 packets transmitted, 0 received, 100% packet loss, time 0ms\n\n', stderr: '', exitCode: 1 });
  const named = await run(c, ['ping', '-c', '1', 'wttr.in']);
  t.match(named.stdout, /^PING wttr.in \(5\.9\.243\.187\) 56\(84\) bytes of data\.\n64 bytes from wttr.in \(5\.9\.243\.187\): icmp_seq=1/);
});

t.test('nslookup formats (BIND)', async (t) => {
  const c = fakeCluster();
  const head = 'Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n';
  const cases: Array<[string[], string, number]> = [
    [['nslookup', 'svc-clusterip'], head + 'Name:\tsvc-clusterip.default.svc.cluster.local\nAddress: 10.200.1.118\n\n', 0],
    [['nslookup', 'hello-headless-service'], head + 'Name:\thello-headless-service.default.svc.cluster.local\nAddress: 10.244.1.3\nName:\thello-headless-service.default.svc.cluster.local\nAddress: 10.244.2.3\n\n', 0],
    [['nslookup', '-type=SRV', '_svc-webport._tcp.svc-clusterip'], head + '_svc-webport._tcp.svc-clusterip.default.svc.cluster.local\tservice = 0 100 9000 svc-clusterip.default.svc.cluster.local.\n\n', 0],
    [['nslookup', '-type=srv', '_svc-webport._tcp.svc-clusterip'], head + '_svc-webport._tcp.svc-clusterip.default.svc.cluster.local\tservice = 0 100 9000 svc-clusterip.default.svc.cluster.local.\n\n', 0],
    [['nslookup', 'search-engine.default.svc.cluster.local'], head + 'search-engine.default.svc.cluster.local\tcanonical name = google.com.\nName:\tgoogle.com\nAddress: 172.217.174.110\nName:\tgoogle.com\nAddress: 2404:6800:4004:810::200e\n\n', 0],
    [['nslookup', 'nosuch'], head + "** server can't find nosuch: NXDOMAIN\n\n", 1],
    [['nslookup', '10.200.1.118'], head + '118.1.200.10.in-addr.arpa\tname = svc-clusterip.default.svc.cluster.local.\n\n', 0],
    [['nslookup', 'wttr.in'], head + 'Non-authoritative answer:\nName:\twttr.in\nAddress: 5.9.243.187\n\n', 0],
  ];
  for (const [argv, stdout, exitCode] of cases) t.same(await run(c, argv), { stdout, stderr: '', exitCode }, argv.join(' '));
});

t.test('a zsh pipeline with our curl inside just-bash', async (t) => {
  const c = fakeCluster();
  const r = await run(c, ['zsh', '-c', 'for i in {1..10}; do curl -s svc-clusterip:9000 | grep Hostname; done | sort | uniq -c | sort -nr']);
  t.same(r, { stdout: '      5 Hostname: webpod2\n      5 Hostname: webpod1\n', stderr: '', exitCode: 0 });
});

t.test('the filesystem is the pod\'s own and nothing else', async (t) => {
  const c = fakeCluster();
  t.same(await run(c, ['cat', '/etc/hostname']), { stdout: 'netpod\n', stderr: '', exitCode: 0 });
  t.same(await run(c, ['cat', '/root/x']), { stdout: '', stderr: 'cat: /root/x: No such file or directory\n', exitCode: 1 });
  t.same(await run(c, ['cat', '/etc/passwd']), { stdout: '', stderr: 'cat: /etc/passwd: No such file or directory\n', exitCode: 1 });
  const host = await run(c, ['sh', '-c', 'cat /work/main/package.json /proc/self/environ /etc/os-release 2>&1; ls /etc']);
  t.notMatch(host.stdout, /dplab|"name"/, 'no host file is reachable');
  t.match(host.stdout, /hostname\nhosts\nresolv.conf\n$/);
  t.same(await run(c, ['hostname']), { stdout: 'netpod\n', stderr: '', exitCode: 0 });
  const env = await run(c, ['env']);
  t.match(env.stdout, /^PATH=\/usr\/local\/sbin[^\n]*\nHOSTNAME=netpod\nKUBERNETES_SERVICE_HOST=10\.96\.0\.1\n/);
  t.notMatch(env.stdout, /IFS=|SHELLOPTS/);
  const sleep = await run(c, ['sh', '-c', 'sleep 5; date']);
  t.equal(sleep.stdout, 'Mon Oct 21 11:10:05 UTC 2024\n', 'sleep and date use the virtual clock');
});
