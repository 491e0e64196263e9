import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pcapFile } from '../src/wire/pcap.ts';
import { TcpdumpFormatter, tcpdumpFlags, tcpdumpTime } from '../src/wire/tcpdump.ts';
import { sampleCapture } from './helpers/wire_fixtures.ts';

// Expected lines are what tcpdump 4.99.3 -nn -r printed for the same capture.
const EXPECTED = `
11:12:10.998123 IP 172.16.0.230.41320 > 172.16.1.111.80: Flags [S], seq 1234, win 64240, options [mss 8961], length 0
11:12:10.998623 IP 172.16.1.111.80 > 172.16.0.230.41320: Flags [S.], seq 99999, ack 1235, win 65160, options [mss 8961], length 0
11:12:10.999123 IP 172.16.0.230.41320 > 172.16.1.111.80: Flags [.], ack 1, win 502, length 0
11:12:10.999623 IP 172.16.0.230.41320 > 172.16.1.111.80: Flags [P.], seq 1:70, ack 1, win 502, length 69: HTTP: GET / HTTP/1.1
11:12:11.000123 IP 172.16.1.111.80 > 172.16.0.230.41320: Flags [P.], seq 1:44, ack 70, win 509, length 43: HTTP: HTTP/1.1 200 OK
11:12:11.000623 IP 172.16.0.230.41320 > 172.16.1.111.80: Flags [F.], seq 70, ack 44, win 502, length 0
11:12:11.001123 IP 172.16.1.111.80 > 172.16.0.230.41320: Flags [R], seq 100043, win 0, length 0
11:12:11.001623 IP 172.16.0.230 > 172.16.1.111: ICMP echo request, id 1, seq 1, length 64
11:12:11.002123 IP 172.16.1.111 > 172.16.0.230: ICMP echo reply, id 1, seq 1, length 64
11:12:11.002623 ARP, Request who-has 172.16.0.12 tell 172.16.0.230, length 28
11:12:11.003123 ARP, Reply 172.16.0.12 is-at 0a:58:ac:10:01:6f, length 28
11:12:11.003623 IP 172.16.0.230.5353 > 10.96.0.10.53: 12345+ A? kubernetes.default.svc.cluster.local. (54)
11:12:11.004123 IP 10.96.0.10.53 > 172.16.0.230.5353: 12345* 1/0/0 A 10.96.0.1 (70)
11:12:11.004623 IP 10.96.0.10.53 > 172.16.0.230.5353: 7 NXDomain* 0/1/0 (102)
11:12:11.005123 IP 10.96.0.10.53 > 172.16.0.230.5353: 8- 6/0/0 CNAME example.com., A 93.184.216.34, AAAA 2606:2800:220:1::248, SRV web.example.com.:80 0 100, PTR kubernetes.default.svc.cluster.local., TXT "hello world" (234)
11:12:11.005623 IP 10.96.0.10 > 172.16.0.230: ICMP 10.96.0.10 udp port 53 unreachable, length 90
11:12:11.006123 IP 172.16.0.230.40000 > 172.16.1.111.9999: UDP, length 10
11:12:11.006623 IP 192.168.10.10.36050 > 192.168.10.101.8472: OTV, flags [I] (0x08), overlay 0, instance 39126
IP 172.16.0.230 > 172.16.1.111: ICMP echo request, id 1, seq 1, length 64
11:12:11.007123 IP 192.168.10.10.36195 > 192.168.10.101.8472: OTV, flags [I] (0x08), overlay 0, instance 39126
IP 172.16.0.230.41320 > 172.16.1.111.80: Flags [P.], seq 1:70, ack 1, win 502, length 69: HTTP: GET / HTTP/1.1
11:12:11.007623 IP 192.168.10.10.36050 > 192.168.10.101.4789: VXLAN, flags [I] (0x08), vni 5
IP 172.16.0.230 > 172.16.1.111: ICMP echo request, id 1, seq 1, length 64
`.trim();

const EXPECTED_E_PREFIXES = [
  '11:12:10.998123 0a:58:ac:10:00:e6 > 0a:58:ac:10:01:6f, ethertype IPv4 (0x0800), length 58: 172.16.0.230.41320 > 172.16.1.111.80: Flags [S], seq 1234,',
  '11:12:11.002623 0a:58:ac:10:00:e6 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 172.16.0.12 tell 172.16.0.230, length 28',
];

function formatAll(link: boolean): string {
  const f = new TcpdumpFormatter({ link });
  return sampleCapture().map((c) => f.format(c.frame, c.wallMs)).join('\n');
}

t.test('formats the sample capture exactly as tcpdump -nn', async (t) => {
  const got = formatAll(false).split('\n');
  const want = EXPECTED.split('\n');
  for (let i = 0; i < want.length; i++) t.equal(got[i], want[i], `line ${i + 1}`);
  t.equal(got.length, want.length);
});

t.test('-e prints the link-level header instead of "IP"/"ARP,"', async (t) => {
  const lines = formatAll(true).split('\n');
  for (const p of EXPECTED_E_PREFIXES) t.ok(lines.some((l) => l.startsWith(p)), p);
});

t.test('-S keeps absolute sequence numbers', async (t) => {
  const f = new TcpdumpFormatter({ absoluteSeq: true });
  const lines = sampleCapture().slice(0, 4).map((c) => f.format(c.frame, c.wallMs));
  t.match(lines[2], /Flags \[\.\], ack 100000, win 502, length 0$/);
  t.match(lines[3], /seq 1235:1304, ack 100000,/);
});

t.test('flag letters and timestamps', async (t) => {
  const cases: Array<[number, string]> = [[0x02, 'S'], [0x12, 'S.'], [0x18, 'P.'], [0x11, 'F.'], [0x04, 'R'], [0x14, 'R.'], [0, 'none'], [0xc2, 'SEW']];
  for (const [flags, s] of cases) t.equal(tcpdumpFlags(flags), s);
  t.equal(tcpdumpTime(Date.UTC(2024, 9, 21, 23, 59, 59, 999) + 0.4996), '23:59:59.999500', 'rounded to the microsecond');
  t.equal(tcpdumpTime(Date.UTC(2024, 9, 21, 23, 59, 59, 999) + 0.9999), '00:00:00.000000', 'rounding carries into the next second');
  t.equal(tcpdumpTime(Date.UTC(2024, 9, 21, 0, 0, 1, 5)), '00:00:01.005000');
});

// Cross-check against the real tool when present (developer machines); CI installs only tshark.
function hasTcpdump(): boolean {
  try { execFileSync('tcpdump', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

t.test('matches the installed tcpdump, with and without -e', { skip: hasTcpdump() ? false : 'tcpdump not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dplab-tcpdump-'));
  const path = join(dir, 'sample.pcap');
  writeFileSync(path, pcapFile(sampleCapture()));
  for (const link of [false, true]) {
    const real = execFileSync('tcpdump', ['-nn', ...(link ? ['-e'] : []), '-r', path], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trimEnd();
    t.equal(formatAll(link), real, link ? '-nn -e' : '-nn');
  }
});
