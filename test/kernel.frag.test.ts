// MTU, fragmentation, reassembly and PMTU discovery in the emulated kernel (no Cilium):
// what a sender sees (replies, ICMP errors, EMSGSIZE) and the fragments on the wire.
import t from 'tap';
import { Sim } from '../src/sim/sim.ts';
import { buildTestbed } from '../src/kernel/testbed.ts';
import { PingLocalError, type NetDevice } from '../src/kernel/api.ts';
import type { LinuxNode } from '../src/kernel/node.ts';
import { ETH_HLEN, ETH_P_IP, ethType } from '../src/wire/ethernet.ts';
import { ipChecksumOk, ipId, ipTotLen } from '../src/wire/ipv4.ts';
import { readU16, u32ToIp } from '../src/wire/addr.ts';
import { runKernelTool } from '../src/kernel/tools.ts';
import { checksum } from '../src/wire/checksum.ts';
import { ipFragment, Reassembler } from '../src/kernel/frag.ts';
import { buildIcmpEchoFrame } from '../src/wire/build.ts';
import { newSkb, type SkBuff } from '../src/wire/skb.ts';
import { TcpdumpFormatter } from '../src/wire/tcpdump.ts';
import { pcapFile } from '../src/wire/pcap.ts';
import { checkPcapChecksums, findTshark } from './helpers/tshark.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function lab(podMtu: number, linkMtu: number) {
  const sim = new Sim(3);
  const { nodes } = buildTestbed(sim, {
    mtu: podMtu,
    nodes: [
      { name: 'a', ip: '192.168.10.10', routerIp: '172.16.0.12', podCidr: '172.16.0.0', pods: [{ name: 'pa', ip: '172.16.0.230' }] },
      { name: 'b', ip: '192.168.10.101', routerIp: '172.16.1.198', podCidr: '172.16.1.0', pods: [{ name: 'pb', ip: '172.16.1.111' }] },
    ],
  });
  for (const n of nodes) n.node.netdev!.mtu = linkMtu;
  return { sim, a: nodes[0]!, b: nodes[1]!, pa: nodes[0]!.pods[0]!, pb: nodes[1]!.pods[0]! };
}

function tap(node: LinuxNode, dev: NetDevice, want: 'in' | 'out' = 'out'): Uint8Array[] {
  const out: Uint8Array[] = [];
  node.capture(dev, (f, dir) => { if (dir === want && ethType(f) === ETH_P_IP) out.push(f); });
  return out;
}
const fragField = (f: Uint8Array): number => readU16(f, ETH_HLEN + 6);

t.test('ping across a smaller link: -M do, want and dont as Linux treats them', async (t) => {
  const cases: Array<{ name: string; pmtudisc: 'do' | 'want' | 'dont'; size: number; first: string; second: string }> = [
    { name: 'fits the link', pmtudisc: 'do', size: 1400, first: 'reply', second: 'reply' },
    { name: 'do: frag needed from the router, then EMSGSIZE with the learnt PMTU', pmtudisc: 'do', size: 4000, first: 'icmp 3/4 mtu 1500', second: 'EMSGSIZE mtu 1500' },
    { name: 'want: DF while it fits the route, frag needed, then fragmented locally', pmtudisc: 'want', size: 4000, first: 'icmp 3/4 mtu 1500', second: 'reply' },
    { name: 'dont: fragmented by the forwarding node from the start', pmtudisc: 'dont', size: 4000, first: 'reply', second: 'reply' },
  ];
  for (const c of cases) {
    const { sim, a, pa, pb } = lab(9001, 1500);
    const show = async (seq: number): Promise<string> => {
      try {
        const r = await sim.settle(pa.ns.sockets.ping(pb.ip, { seq, id: 5, payloadBytes: c.size, timeoutNs: 2e9, pmtudisc: c.pmtudisc }));
        if (!r) return 'timeout';
        if (r.icmp) return `icmp ${r.icmp.type}/${r.icmp.code} mtu ${r.icmp.info}`;
        return r.bytes === c.size + 8 ? 'reply' : `reply of ${r.bytes}`;
      } catch (e) {
        return e instanceof PingLocalError ? `${e.code} mtu ${e.mtu}` : String(e);
      }
    };
    const wire = tap(a.node, a.node.netdev!);
    t.equal(await show(1), c.first, `${c.name}: first probe`);
    t.equal(await show(2), c.second, `${c.name}: second probe`);
    for (const f of wire) {
      t.ok(ipTotLen(f, ETH_HLEN) <= 1500 && f.length <= 1514, `${c.name}: nothing over the link MTU leaves node a`);
      t.ok(ipChecksumOk(f, ETH_HLEN), `${c.name}: header checksum`);
    }
  }
});

t.test('local sender over its own route MTU: EMSGSIZE for do, fragments for want', async (t) => {
  const { sim, pa, pb } = lab(1500, 9001);
  const err = await sim.settle(pa.ns.sockets.ping(pb.ip, { seq: 1, id: 1, payloadBytes: 9000, timeoutNs: 1e9, pmtudisc: 'do' }).catch((e: unknown) => e));
  t.ok(err instanceof PingLocalError);
  t.equal((err as PingLocalError).code, 'EMSGSIZE');
  t.equal((err as PingLocalError).mtu, 1500);
  const wire = tap(pa.ns.node as LinuxNode, pa.lxc, 'in');
  const r = await sim.settle(pa.ns.sockets.ping(pb.ip, { seq: 2, id: 1, payloadBytes: 9000, timeoutNs: 1e9 }));
  t.equal(r?.bytes, 9008, 'reassembled reply');
  const req = wire.filter((f) => ipId(f, ETH_HLEN) === ipId(wire[0]!, ETH_HLEN));
  t.same(req.map((f) => [fragField(f) & 0x1fff, (fragField(f) & 0x2000) !== 0, ipTotLen(f, ETH_HLEN)]),
    [[0, true, 1500], [185, true, 1500], [370, true, 1500], [555, true, 1500], [740, true, 1500], [925, true, 1500], [1110, false, 148]],
    'offsets in 8-byte units, MF on all but the last, one ID, DF clear');
  const out = new TcpdumpFormatter();
  t.match(out.format(req[0]!, 0), /ICMP echo request, id 1, seq 2, length 1480/);
  t.match(out.format(req[1]!, 0), /172\.16\.0\.230 > 172\.16\.1\.111: ip-proto-1$/);
  const over = await sim.settle(pa.ns.sockets.ping(pb.ip, { seq: 3, id: 1, payloadBytes: 65508, timeoutNs: 1e9 }).catch((e: unknown) => e));
  t.ok(over instanceof PingLocalError && over.code === 'EMSGSIZE', 'nothing over 64 KiB, even fragmented');
});

function echo(size: number, df = false): SkBuff {
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = (i * 7) & 255;
  const f = buildIcmpEchoFrame({ srcMac: new Uint8Array(6), dstMac: new Uint8Array(6), src: 0x0a000001, dst: 0x0a000002, ttl: 64, id: 0x1234, df, reply: false, echoId: 1, seq: 1 }, payload);
  return newSkb(f, f.length, 0);
}
function frags(skb: SkBuff, mtu: number): SkBuff[] { const out: SkBuff[] = []; ipFragment(skb, mtu, (s) => out.push(s)); return out; }

t.test('reassembly: any order, duplicates, overlaps, timeouts and the memory bound', async (t) => {
  const sim = new Sim(1);
  const expired: Uint8Array[] = [];
  const mk = (thresh?: number) => new Reassembler({ schedule: (d, fn) => sim.schedule(d, fn), timeExceeded: (f) => expired.push(f) }, undefined, thresh);
  const whole = echo(3000);
  const orig = whole.data.slice(0, whole.len);
  const orders: Array<{ name: string; order: number[]; dup?: number }> = [
    { name: 'in order', order: [0, 1, 2] },
    { name: 'reversed', order: [2, 1, 0] },
    { name: 'last first, duplicate middle', order: [2, 1, 1, 0], dup: 1 },
  ];
  for (const c of orders) {
    const r = mk();
    const fs = frags(echo(3000), 1500);
    t.equal(fs.length, 3);
    let got: SkBuff | null = null;
    for (const i of c.order) got = r.add(newSkb(fs[i]!.data.slice(), fs[i]!.len, 0)) ?? got;
    t.ok(got, `${c.name}: complete`);
    const g = got!.data.subarray(0, got!.len);
    t.equal(g.length, orig.length);
    t.same(g.subarray(ETH_HLEN + 20), orig.subarray(ETH_HLEN + 20), `${c.name}: same bytes`);
    t.equal(readU16(g, ETH_HLEN + 6), 0, `${c.name}: fragment fields cleared`);
    t.ok(ipChecksumOk(g, ETH_HLEN) && checksum(g, ETH_HLEN + 20, g.length - ETH_HLEN - 20) === 0, `${c.name}: checksums`);
    t.equal(r.queueCount, 0); t.equal(r.mem, 0);
  }
  // Overlap: a second first fragment of another size kills the queue.
  {
    const r = mk();
    const a = frags(echo(3000), 1500), b = frags(echo(3000), 1000);
    t.equal(r.add(a[0]!), null);
    t.equal(r.add(b[1]!), null);
    t.equal(r.add(a[1]!), null);
    t.equal(r.add(a[2]!), null, 'overlapping data never completes');
    t.ok(r.stats.fails >= 1);
  }
  // Timeout: ipfrag_time (30 s), ICMP time exceeded only when the first fragment arrived.
  {
    const r = mk();
    const fs = frags(echo(3000), 1500);
    r.add(fs[0]!); r.add(fs[2]!);
    await sim.settle(new Promise<void>((res) => sim.schedule(29.9e9, res)));
    t.equal(r.queueCount, 1, 'still queued at 29.9 s');
    await sim.settle(new Promise<void>((res) => sim.schedule(0.2e9, res)));
    t.equal(r.queueCount, 0, 'expired after 30 s');
    t.equal(expired.length, 1, 'time exceeded about the first fragment');
    t.equal(r.mem, 0);
    const r2 = mk();
    r2.add(frags(echo(3000), 1500)[1]!);
    await sim.settle(new Promise<void>((res) => sim.schedule(31e9, res)));
    t.equal(expired.length, 1, 'no first fragment, no ICMP');
  }
  // Memory bound: over the threshold new fragments are dropped.
  {
    const r = mk(4000);
    for (let id = 0; id < 10; id++) {
      const s = echo(3000); s.data[ETH_HLEN + 5] = id; // distinct IDs
      r.add(frags(s, 1500)[0]!);
    }
    t.ok(r.mem <= 4000, `held ${r.mem} bytes`);
    t.equal(r.queueCount, 2);
  }
});

const tshark = await findTshark();
const skipTshark = tshark ? false : process.env.CI ? false : 'tshark not installed (CI installs it with apt-get)';

t.test('Wireshark dissects the fragments and reassembles the datagram', { skip: skipTshark }, async (t) => {
  if (!tshark) { t.fail('tshark is required in CI but is not installed'); return; }
  const { sim, pa, pb } = lab(1500, 9001);
  const frames: Array<{ frame: Uint8Array; wallMs: number }> = [];
  (pa.ns.node as LinuxNode).capture(pa.lxc, (f, dir) => { if (dir === 'in' && ethType(f) === ETH_P_IP) frames.push({ frame: f, wallMs: 1_700_000_000_000 + frames.length }); });
  const r = await sim.settle(pa.ns.sockets.ping(pb.ip, { seq: 1, id: 9, payloadBytes: 4000, timeoutNs: 1e9 }));
  t.equal(r?.bytes, 4008);
  t.equal(frames.length, 3, 'three fragments');
  const dir = mkdtempSync(join(tmpdir(), 'dplab-frag-'));
  const path = join(dir, 'frags.pcap');
  writeFileSync(path, pcapFile(frames));
  const c = await checkPcapChecksums(path);
  t.same(c.bad, [], 'header checksums good, no expert errors');
  const { stdout } = await promisify(execFile)('tshark', ['-n', '-2', '-r', path, '-o', 'ip.check_checksum:TRUE', '-T', 'fields',
    '-e', 'frame.number', '-e', 'ip.reassembled_in', '-e', 'icmp.type', '-e', 'icmp.checksum.status', '-e', 'ip.reassembled.length', '-E', 'separator=|']);
  const rows = stdout.trim().split('\n').map((l) => l.split('|'));
  t.same(rows.map((x) => x[1]), ['3', '3', ''], 'the first two are reassembled in frame 3');
  t.same(rows[2]!.slice(2), ['8', '1', '4008'], 'frame 3: an echo request of 4008 bytes whose ICMP checksum is good');
});

t.test('TCP lowers its MSS on fragmentation needed: the stream crosses a smaller link', async (t) => {
  // Pods with MTU 9001 over 1500-byte node links: both ends announce MSS 8961, node a's
  // forwarding answers the first big segment with "fragmentation needed" (mtu 1500).
  const { sim, a, pa, pb } = lab(9001, 1500);
  const size = 40_000;
  const payload = new Uint8Array(size).map((_, i) => (i * 13) & 255);
  let got = 0, ended = false;
  const done = new Promise<void>((res) => {
    pb.ns.sockets.tcpListen(80, (c) => { c.onData((d) => { got += d.length; }); c.onEnd(() => { ended = true; c.end(); res(); }); });
  });
  const wire = tap(a.node, a.node.netdev!);
  const fromPod = tap(pa.ns.node as LinuxNode, pa.lxc, 'in');
  const c = await sim.settle(pa.ns.sockets.tcpConnect({ ip: pb.ip, port: 80 }));
  c.write(payload);
  c.end();
  await sim.settle(done);
  t.equal(got, size, 'every byte arrived');
  t.ok(ended, 'and the FIN after them');
  const tcpLen = (f: Uint8Array): number => ipTotLen(f, ETH_HLEN) - 20 - (f[ETH_HLEN + 20 + 12]! >>> 4) * 4;
  const segs = fromPod.filter((f) => f[ETH_HLEN + 9] === 6).map(tcpLen).filter((n) => n > 0);
  t.same(segs.slice(0, 5), [8949, 8949, 8949, 8949, 4204], 'the first flight used the announced MSS less the 12-byte timestamp option');
  const again = segs.slice(5);
  t.ok(again.every((n) => n <= 1460), `then every segment fits the learnt PMTU (${[...new Set(again)].join(', ')} bytes)`);
  t.equal(again.reduce((x, y) => x + y, 0), size, 'the dropped flight was sent again once, cut to the new MSS');
  t.ok(wire.every((f) => ipTotLen(f, ETH_HLEN) <= 1500), 'nothing over the link MTU crossed it');
  const r = runKernelTool(pa.ns, ['ip', 'route', 'get', u32ToIp(pb.ip)])!;
  t.match(r.stdout, /^172\.16\.1\.111 via \S+ dev eth0 src 172\.16\.0\.230 uid 0 \n {4}cache expires 59\dsec mtu 1500 \n$/, 'ip route get shows the cached PMTU');
});

t.test('UDP as IP_PMTUDISC_WANT: DF while it fits, fragmented once frag needed taught a smaller PMTU', async (t) => {
  const { sim, a, pa, pb } = lab(9001, 1500);
  const rx = pb.ns.sockets.udpBind(9999);
  const tx = pa.ns.sockets.udpBind(0);
  const wire = tap(a.node, a.node.netdev!);
  const send = async (n: number): Promise<number | null> => {
    tx.send({ ip: pb.ip, port: 9999 }, new Uint8Array(n).fill(7));
    const m = await sim.settle(rx.recv(1e9));
    return m ? m.data.length : null;
  };
  t.equal(await send(4000), null, 'the first datagram (DF, fits the route MTU 9001) dies at the 1500-byte link');
  t.equal(await send(4000), 4000, 'the next one is fragmented by the sender and reassembled');
  t.equal(await send(1000), 1000, 'small datagrams as before');
  t.ok(wire.length >= 3 && wire.every((f) => ipTotLen(f, ETH_HLEN) <= 1500), 'nothing over the link MTU crossed it');
  tx.close(); rx.close();
});
