// `dplab tcpdump -w FILE` as a user runs it against `dplab serve`: the pcap
// opens in tshark with every IPv4/TCP/UDP/ICMP checksum good, on the node's
// ens5 and on netpod's lxc device, in native routing (the default lab) and in
// tunnel routing (a cluster file), where VXLAN inner headers are checked too.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LABS } from '../src/cluster/labs/index.ts';
import { runCli, startCli, type LiveCli } from './helpers/run_cli.ts';
import { checkPcapChecksums, findTshark } from './helpers/tshark.ts';

const tshark = await findTshark();
const skip = tshark ? false : process.env.CI ? false : 'tshark not installed (CI installs it with apt-get)';
const dir = mkdtempSync(join(tmpdir(), 'dplab-cli-pcap-'));
const COUNT = 20, MAX_ROUNDS = 8;

/** `dplab serve ARGS --port 0`; resolves with the server URL once it serves. */
async function serve(t: { teardown(fn: () => Promise<void>): void }, args: string[]): Promise<string> {
  const s = startCli(['serve', ...args, '--port', '0']);
  t.teardown(async () => { s.child.kill('SIGINT'); await s.exited; });
  await s.waitFor('stdout', /\n/);
  const m = /on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(s.stdout);
  if (!m) throw new Error(`serve printed: ${s.stdout}${s.stderr}`);
  return m[1]!;
}

/** netpod's host-side veth, found as a user would: eth0@ifN in the pod, N: lxc...@ifM on the node. */
async function netpodVeth(env: Record<string, string>): Promise<string> {
  const pod = /^(\d+): eth0@if(\d+):/m.exec((await runCli(['ip', '--pod', 'netpod', 'link', 'show', 'eth0'], env)).stdout);
  const node = pod && new RegExp(`^${pod[2]}: (lxc[0-9a-f]{12})@if${pod[1]}:`, 'm').exec((await runCli(['ip', '--node', 'k8s-s', 'link'], env)).stdout);
  if (!node) throw new Error('netpod\'s veth not found');
  return node[1]!;
}

/** Frame protocol stacks as tshark dissects them (VXLAN on Cilium's 8472). */
async function protocols(path: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('tshark', ['-n', '-r', path, '-d', 'udp.port==8472,vxlan', '-T', 'fields', '-e', 'frame.protocols'], { maxBuffer: 16 << 20 });
  return stdout.split('\n').filter((l) => l !== '');
}

// ICMP and DNS first so that a capture of COUNT frames holds every protocol, whatever the round it ends in.
const TRAFFIC = [['ping', '-c', '1', '172.16.1.111'], ['nslookup', 'webpod'], ['ping', '-c', '1', '8.8.8.8'], ['curl', '-s', 'webpod']];

for (const routing of ['native', 'tunnel'] as const) {
  t.test(`${routing} routing: dplab tcpdump -w on ens5 and netpod's lxc opens in tshark with valid checksums`, { skip, timeout: 180_000 }, async (t) => {
    if (!tshark) { t.fail('tshark is required in CI but is not installed'); return; }
    let args = ['--lab', 'cilium', '--seed', '3'];
    if (routing === 'tunnel') {
      const file = join(dir, 'tunnel-lab.yaml');
      writeFileSync(file, LABS.cilium!.replace('routing: native', 'routing: tunnel'));
      args = ['--cluster', file, '--seed', '3'];
    }
    const env = { DPLAB_SERVER: await serve(t, args) };
    const lxc = await netpodVeth(env);
    const caps: Array<{ name: string; path: string; cli: LiveCli }> = [];
    for (const [name, iface] of [['ens5', 'ens5'], ['lxc', lxc]] as const) {
      const path = join(dir, `${routing}-${name}.pcap`);
      const cli = startCli(['tcpdump', '--node', 'k8s-s', '-i', iface, '-c', String(COUNT), '-w', path], env);
      await cli.waitFor('stderr', /listening on \S+, link-type EN10MB \(Ethernet\), snapshot length 262144 bytes\n/);
      caps.push({ name, path, cli });
    }
    let done = false;
    void Promise.all(caps.map((c) => c.cli.exited)).then(() => { done = true; });
    for (let round = 0; round < MAX_ROUNDS && !done; round++) {
      for (const argv of TRAFFIC) {
        const r = await runCli(['kubectl', 'exec', 'netpod', '--', ...argv], env);
        t.equal(r.code, 0, `round ${round}: ${argv.join(' ')}`);
      }
    }
    for (const c of caps) {
      const r = await c.cli.exited;
      t.equal(r.code, 0, `${c.name}: tcpdump -c ${COUNT} exits 0`);
      t.match(r.stderr, new RegExp(`\\n${COUNT} packets captured\\n`), `${c.name}: ${COUNT} packets captured`);
      const report = await checkPcapChecksums(c.path);
      t.equal(report.packets, COUNT, `${c.name}: tshark reads ${COUNT} packets`);
      t.same(report.bad, [], `${c.name}: every checksum good, no expert error`);
      const stacks = await protocols(c.path);
      t.ok(stacks.some((s) => s.endsWith(':tcp') || s.includes(':tcp:')), `${c.name}: has TCP`);
      t.ok(stacks.some((s) => s.includes(':icmp')), `${c.name}: has ICMP`);
      t.ok(stacks.some((s) => s.includes(':udp:dns')), `${c.name}: has DNS over UDP`);
      if (c.name === 'ens5') {
        const inVxlan = stacks.filter((s) => s.includes(':vxlan:eth:ethertype:ip:'));
        if (routing === 'tunnel') {
          for (const p of [':tcp', ':icmp', ':udp:dns']) t.ok(inVxlan.some((s) => s.split(':vxlan:')[1]!.includes(p)), `ens5: ${p.slice(1)} inside VXLAN, inner headers checked`);
        } else t.equal(inVxlan.length, 0, 'no VXLAN in native routing');
      }
    }
  });
}
