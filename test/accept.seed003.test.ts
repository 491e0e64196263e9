// Acceptance: the seed-003 transcript replayed on the default lab (native
// routing, socket LB) prints what the real lab printed (test/scenarios/seed003.txt),
// and traffic to the internet leaves masqueraded to the node IP.
import t from 'tap';
import { ciliumOf } from '../src/cilium/plugin.ts';
import { ICMP_ECHO, ICMP_ECHOREPLY } from '../src/wire/icmp.ts';
import { TCP_ACK, TCP_PSH } from '../src/wire/tcp.ts';
import { drain, inPod, ip4, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, kubectl, onNode, podVeth, record, scenario, seedLab, stepArgv, transcript } from './helpers/lab.ts';

/** iputils prints a reply's time with fewer decimals as it grows: 0.214, 3.21, 33.3, 102. */
const RTT = '(?:\\d{3,}|\\d\\d\\.\\d|\\d\\.\\d\\d|0\\.\\d{3})';

const PLACEHOLDERS: Record<string, string> = {
  '{AGE}': '\\d+s', '{MS}': '\\d+\\.\\d{3}', '{RTT}': RTT, '{PORT}': '\\d{1,5}', '{LL6}': 'fe80::[0-9a-f:]+', '{LXC}': 'lxc[0-9a-f]{12}',
  '{TAG}': '[0-9a-f]{16}', '{TIME}': '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\+0000', '{N}': '\\d+', '{ID}': '\\d+', '{EP2}': '\\d\\d',
};
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
function lineRe(expected: string): RegExp {
  let re = escapeRe(expected);
  for (const [k, v] of Object.entries(PLACEHOLDERS)) re = re.split(escapeRe(k)).join(v);
  return new RegExp(`^${re}$`);
}

/**
 * Output as the blog shows it: text copied from a terminal (no colour escapes), blanks
 * collapsed, empty lines dropped, stderr marked with `!`.
 */
function shown(stdout: string, stderr: string): string[] {
  const norm = (s: string, mark: string) => s.replace(/\x1b\[[0-9;]*m/g, '').split('\n').map((l) => l.trim().replace(/\s+/g, ' ')).filter((l) => l !== '').map((l) => mark + l);
  return [...norm(stdout, ''), ...norm(stderr, '!')];
}

/** Lines that do not match, as "i: actual !~ expected"; empty when equal. */
function diff(actual: string[], expected: string[], mask: (l: string) => string = (l) => l): string[] {
  const out: string[] = [];
  for (let i = 0; i < Math.max(actual.length, expected.length); i++) {
    const a = actual[i], e = expected[i];
    if (a === undefined || e === undefined || !lineRe(mask(e)).test(mask(a))) out.push(`${i}: ${JSON.stringify(a)} !~ ${JSON.stringify(e)}`);
  }
  return out;
}

const maskIfindex = (l: string) => l.replace(/^\d+: (\S+?)@if\d+:/, 'N: $1@ifN:');
const maskTtl = (l: string) => l.replace(/ttl=\d+/, 'ttl=N');

/** Blocks of expected lines between `...` lines: each must appear, in order, as consecutive lines. */
function missingBlocks(actual: string[], expected: string[]): string[] {
  const blocks: string[][] = [[]];
  for (const l of expected) if (l === '...') blocks.push([]); else blocks[blocks.length - 1]!.push(l);
  const out: string[] = [];
  let from = 0;
  for (const b of blocks.filter((x) => x.length > 0)) {
    let at = -1;
    for (let i = from; i + b.length <= actual.length && at < 0; i++) if (b.every((e, j) => lineRe(e).test(actual[i + j]!))) at = i;
    if (at < 0) out.push(b.join(' | ')); else from = at + b.length;
  }
  return out;
}

/** `bpftool map list` as id -> name (the kernel's 15-character name). */
const mapNames = (lines: string[]) => new Map(lines.flatMap((l) => { const m = /^(\d+): \S+ name (\S+) /.exec(l); return m ? [[Number(m[1]), m[2]!] as const] : []; }));
const mapIdsOf = (lines: string[]) => (/ map_ids ([\d,]+)$/.exec(lines.find((l) => l.includes(' map_ids ')) ?? '')?.[1] ?? '').split(',').map(Number);

t.test('seed 003 transcript', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const steps = transcript(scenario('seed003.txt'));
  t.equal(steps.length, 18, 'all transcript steps parsed');
  const run = (node: string, cmd: string) => {
    const argv = stepArgv(cmd);
    return argv[0] === 'kubectl' ? kubectl(c, argv.slice(1)) : onNode(c, node, argv);
  };
  for (const { node, cmd, expected } of steps) {
    const r = await run(node, cmd);
    const actual = shown(r.stdout, r.stderr);
    await drain(c);
    const what = node === 'k8s-s' ? cmd : `${node}: ${cmd}`;
    if (cmd.endsWith(':8080')) {
      t.equal(r.exitCode, 7, `${cmd}: exit code 7 (couldn't connect)`);
      t.equal(r.stdout, '', `${cmd}: curl -s prints nothing`);
      t.same(diff(actual, expected), [], cmd);
    } else if (cmd.includes('ip -c -4 addr')) {
      t.same(diff(actual, expected, maskIfindex), [], `${cmd} (ifindexes aside)`);
      t.same(diff(actual, expected), [], `${cmd}: eth0@if10 as in the seed`);
    } else if (cmd.includes('8.8.8.8')) {
      t.same(diff(actual, expected, maskTtl), [], `${cmd} (ttl aside)`);
      t.same(diff(actual, expected), [], `${cmd}: ttl=47 as behind the seed's internet hops`);
    } else if (cmd === 'bpftool map list') {
      t.equal(r.exitCode, 0);
      t.same(missingBlocks(actual, expected), [], `${cmd}: the seed's entries`);
      const names = [...mapNames(actual).values()];
      t.same(names.filter((n) => n.length > 15), [], 'no map name longer than BPF_OBJ_NAME_LEN - 1');
      const netpodEp = (await onNode(c, 'k8s-s', ['cilium-dbg', 'endpoint', 'list'])).stdout.split('\n').find((l) => l.includes('172.16.0.230'))!.trim().split(/\s+/)[0]!;
      t.ok(names.includes(`cilium_calls_${netpodEp.padStart(5, '0').slice(0, 2)}`), `netpod's cilium_calls_${netpodEp.padStart(5, '0')} shows as its first 15 characters`);
    } else {
      t.equal(r.exitCode, 0, `${what}: exit 0`);
      t.same(diff(actual, expected), [], what);
    }
  }
});

t.test("bpftool prog show: netpod's entry programs list their maps in first-use order (seed: 175,66 and 66,175)", async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const lines = async (cmd: string) => shown((await onNode(c, 'k8s-s', cmd.split(' '))).stdout, '');
  const names = mapNames(await lines('bpftool map list'));
  const from = mapIdsOf(await lines('bpftool prog show id 1312')), to = mapIdsOf(await lines('bpftool prog show id 1311'));
  t.match(names.get(from[0]!), /^cilium_calls_\d\d$/, "cil_from_container: the endpoint's tail-call map first");
  t.same(from.map((id) => names.get(id)), [names.get(from[0]!), 'cilium_metrics'], 'cil_from_container: calls, metrics');
  t.same(to, [...from].reverse(), 'cil_to_container: the same two maps, metrics first');
});

t.test('curl to a webpod: whoami body byte-exact apart from the port and link-local address', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  for (const [pod, ip] of [['webpod1', '172.16.1.111'], ['webpod2', '172.16.2.180']] as const) {
    const r = await inPod(c, 'netpod', ['curl', '-s', ip!]);
    t.match(r.stdout, new RegExp(`^Hostname: ${pod}\nIP: 127\\.0\\.0\\.1\nIP: ::1\nIP: ${ip.replace(/\./g, '\\.')}\nIP: fe80::[0-9a-f:]+\n` +
      `RemoteAddr: 172\\.16\\.0\\.230:\\d{4,5}\n` +
      // whoami echoes the request with Go's Request.Write: CRLF line ends.
      `GET / HTTP/1\\.1\r\nHost: ${ip.replace(/\./g, '\\.')}\r\nUser-Agent: curl/8\\.7\\.1\r\nAccept: \\*/\\*\r\n\r\n$`), pod);
    t.equal(r.stderr, '');
  }
});

t.test('nslookup through kube-dns: socket LB sends the query to a coredns pod, never to the VIP', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const vip = (await kubectl(c, ['get', 'svc', 'webpod', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
  t.match(vip, /^10\.(9[6-9]|1[01][0-9])\.\d+\.\d+$/, 'ClusterIP from the service CIDR');
  const cap = record(c, 'k8s-s', 'ens5');
  const r = await inPod(c, 'netpod', ['nslookup', 'webpod']);
  cap.stop();
  t.equal(r.exitCode, 0);
  t.equal(r.stdout, `Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\nName:\twebpod.default.svc.cluster.local\nAddress: ${vip}\n\n`);
  const udp = cap.frames.map((f) => ip4(f.frame)).filter((h) => h?.proto === IPPROTO_UDP);
  t.ok(udp.some((h) => h!.src === '172.16.0.230' && /^172\.16\.1\.(210|221)$/.test(h!.dst) && h!.dport === 53), 'query on the wire to a coredns pod');
  t.ok(udp.some((h) => h!.dst === '172.16.0.230' && h!.sport === 53), 'answer back from the pod');
  t.notOk(udp.some((h) => h!.dst === '10.96.0.10' || h!.src === '10.96.0.10'), 'the VIP never appears on the wire');
});

t.test('internet access is masqueraded to the node IP', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const lxc = await podVeth(c, 'netpod', 'k8s-s');
  t.ok(lxc, `netpod's lxc device found (${lxc})`);
  const wire = record(c, 'k8s-s', 'ens5');
  const veth = record(c, 'k8s-s', lxc!);

  const ping = await inPod(c, 'netpod', ['ping', '-c', '1', '8.8.8.8']);
  t.match(ping.stdout, new RegExp(`^64 bytes from 8\\.8\\.8\\.8: icmp_seq=1 ttl=\\d+ time=${RTT} ms$`, 'm'));
  t.match(ping.stdout, /1 packets transmitted, 1 received, 0% packet loss/);
  const curl = await inPod(c, 'netpod', ['curl', '-s', 'wttr.in/seoul']);
  t.match(curl.stdout, /^Weather report: seoul\n/);
  await drain(c);
  wire.stop(); veth.stop();

  const out = wire.frames.filter((f) => f.dir === 'out').map((f) => ip4(f.frame)).filter((h) => h !== null);
  const inn = wire.frames.filter((f) => f.dir === 'in').map((f) => ip4(f.frame)).filter((h) => h !== null);
  t.ok(out.some((h) => h.dst === '8.8.8.8' && h.src === '192.168.10.10' && h.proto === IPPROTO_ICMP), 'echo request leaves from 192.168.10.10');
  t.ok(inn.some((h) => h.src === '8.8.8.8' && h.dst === '192.168.10.10' && h.proto === IPPROTO_ICMP), 'echo reply comes back to the node IP');
  t.ok(out.some((h) => h.dst === '5.9.243.187' && h.dport === 80 && h.src === '192.168.10.10' && h.proto === IPPROTO_TCP), 'HTTP to wttr.in leaves from the node IP');
  t.notOk(out.some((h) => h.src.startsWith('172.16.') && !h.dst.startsWith('172.16.')), 'no pod address leaves for the internet');

  const toPod = veth.frames.map((f) => ({ h: ip4(f.frame), f: f.frame })).filter((x) => x.h?.dst === '172.16.0.230');
  t.ok(toPod.some(({ h, f }) => h!.src === '8.8.8.8' && h!.proto === IPPROTO_ICMP && f[h!.l4] === ICMP_ECHOREPLY), 'the pod gets the echo reply from 8.8.8.8');
  t.ok(veth.frames.some((f) => { const h = ip4(f.frame); return h?.src === '172.16.0.230' && h.dst === '8.8.8.8' && f.frame[h.l4] === ICMP_ECHO; }), 'the pod sent it from its own IP');
  t.ok(toPod.some(({ h }) => h!.src === '5.9.243.187' && h!.sport === 80 && h!.payload > 0), 'the pod gets the HTTP response from wttr.in');
});

t.test('what Hubble builds on: PSH on data segments, socket-LB translation events for DNS replies', async (t) => {
  const c = seedLab();
  t.teardown(() => c.close());
  const lines: string[] = [];
  const cilium = ciliumOf(c.cni)!;
  const stop = cilium.subscribeMonitor('k8s-s', (l) => lines.push(l), { debug: true });
  const wire = record(c, 'k8s-s', 'ens5');
  t.equal((await inPod(c, 'netpod', ['curl', '-s', '172.16.1.111'])).exitCode, 0);
  await drain(c);
  wire.stop();
  const data = wire.frames.map((f) => ({ dir: f.dir, h: ip4(f.frame) })).filter((x) => x.h?.proto === IPPROTO_TCP && x.h.payload > 0);
  const req = data.find((x) => x.dir === 'out'), resp = data.find((x) => x.dir === 'in');
  t.equal(req?.h?.tcpFlags, TCP_ACK | TCP_PSH, 'the HTTP request segment is ACK, PSH');
  t.equal(resp?.h?.tcpFlags, TCP_ACK | TCP_PSH, 'the HTTP response segment is ACK, PSH');
  // cilium-dbg monitor's GetConnectionSummary names only SYN, ACK, RST, FIN: the same segment prints as "tcp ACK".
  t.ok(lines.some((l) => new RegExp(`-> network .*172\\.16\\.0\\.230:${req?.h?.sport} -> 172\\.16\\.1\\.111:80 tcp ACK$`).test(l)), 'monitor prints it as tcp ACK');

  lines.length = 0;
  t.equal((await inPod(c, 'netpod', ['nslookup', 'webpod'])).exitCode, 0);
  await drain(c);
  stop();
  const pre = lines.filter((l) => /\[pre-xlate-rev\] .*dst \[172\.16\.1\.(210|221)\]:53 udp/.test(l));
  const post = lines.filter((l) => /\[post-xlate-rev\] .*dst \[10\.96\.0\.10\]:53 udp/.test(l));
  t.ok(pre.length >= 2, `pre-xlate-rev sock traces for the answers from coredns (${pre.length})`);
  t.equal(post.length, pre.length, 'each answer is rev-translated back to kube-dns 10.96.0.10:53');
});
