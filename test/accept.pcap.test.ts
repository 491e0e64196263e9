// Acceptance: what `tcpdump -w` would save on the lab opens cleanly in
// Wireshark: every IPv4/TCP/UDP/ICMP checksum is good on ens5 and on netpod's
// veth, after DNAT/SNAT rewrites, and inside VXLAN in tunnel mode.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pcapFile } from '../src/wire/pcap.ts';
import { drain, inPod, podVeth, record, seedLab } from './helpers/lab.ts';
import { checkPcapChecksums, findTshark } from './helpers/tshark.ts';
const tshark = await findTshark();
const skip = tshark ? false : process.env.CI ? false : 'tshark not installed (CI installs it with apt-get)';
const dir = mkdtempSync(join(tmpdir(), 'dplab-accept-pcap-'));

interface Pkt { ipSrc: string[]; ipDst: string[]; icmpType: string[]; tcpLen: string[]; dnsResponse: string[]; vxlan: boolean }
/** Per-frame fields as Wireshark decodes them (VXLAN on 8472 as Cilium uses it); repeated fields list outer then inner. */
async function dissect(path: string): Promise<Pkt[]> {
  const fields = ['ip.src', 'ip.dst', 'icmp.type', 'tcp.len', 'dns.flags.response', 'vxlan.vni'];
  const { stdout } = await promisify(execFile)('tshark', ['-n', '-r', path, '-d', 'udp.port==8472,vxlan', '-T', 'fields', ...fields.flatMap((f) => ['-e', f]),
    '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=;'], { maxBuffer: 64 << 20 });
  return stdout.split('\n').filter((l) => l !== '').map((l) => {
    const [ipSrc, ipDst, icmpType, tcpLen, dnsResponse, vni] = l.split('|').map((c) => (c === '' ? [] : c.split(';')));
    return { ipSrc: ipSrc!, ipDst: ipDst!, icmpType: icmpType!, tcpLen: tcpLen!, dnsResponse: dnsResponse!, vxlan: vni!.length > 0 };
  });
}
const dnsAnswer = (p: Pkt) => p.dnsResponse.some((v) => v === '1' || v === 'True');
const tcpData = (p: Pkt) => p.tcpLen.some((n) => Number(n) > 0);

for (const routing of ['native', 'tunnel'] as const) {
  t.test(`${routing} routing: ping, curl and DNS captures have valid checksums`, { skip }, async (t) => {
    if (!tshark) { t.fail('tshark is required in CI but is not installed'); return; }
    const c = seedLab({ routing });
    t.teardown(() => c.close());
    const lxc = await podVeth(c, 'netpod', 'k8s-s');
    t.ok(lxc, 'netpod\'s veth');
    const taps = { ens5: record(c, 'k8s-s', 'ens5'), w1: record(c, 'k8s-w1', 'ens5'), lxc: record(c, 'k8s-s', lxc!) };
    const runs = [['ping', '-c', '1', '172.16.1.111'], ['curl', '-s', '172.16.2.180'], ['nslookup', 'webpod'], ['curl', '-s', 'webpod'], ['ping', '-c', '1', '8.8.8.8'], ['curl', '-s', 'wttr.in/seoul']];
    for (const argv of runs) t.equal((await inPod(c, 'netpod', argv)).exitCode, 0, argv.join(' '));
    await drain(c);
    for (const tap of Object.values(taps)) tap.stop();

    for (const [name, tap] of Object.entries(taps)) {
      const path = join(dir, `${routing}-${name}.pcap`);
      writeFileSync(path, pcapFile(tap.frames));
      const r = await checkPcapChecksums(path);
      t.ok(tap.frames.length > 10, `${name}: ${tap.frames.length} frames captured`);
      t.equal(r.packets, tap.frames.length, `${name}: tshark read every frame`);
      t.same(r.bad, [], `${name}: no bad checksum, no expert error`);
      const pkts = await dissect(path);
      t.ok(pkts.some((p) => p.icmpType.includes('0')) && pkts.some(dnsAnswer), `${name}: has echo replies and DNS answers`);
      // k8s-w1 only carries the ping to webpod1 and the DNS to coredns.
      if (name !== 'w1') t.ok(pkts.some(tcpData), `${name}: has TCP data`);
      if (name !== 'ens5') continue;
      if (routing === 'tunnel') {
        const inner = pkts.filter((p) => p.vxlan);
        t.ok(inner.some((p) => p.icmpType.length > 0), 'inner ICMP of VXLAN frames decoded (so checked)');
        t.ok(inner.some(tcpData), 'inner TCP data of VXLAN frames decoded');
        t.ok(inner.some(dnsAnswer), 'inner DNS of VXLAN frames decoded');
      }
      t.equal(pkts.filter((p) => p.ipSrc[0] === '192.168.10.10' && p.ipDst[0] === '8.8.8.8' && p.icmpType.length > 0).length, 1, 'masqueraded echo request in the file');
    }
  });
}
