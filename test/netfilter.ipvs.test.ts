// IPVS: virtual services, schedulers and ipvsadm's listing, checked against
// the layouts of the reference (ipvsadm 1.31's format strings) since no
// kernel here has IPVS.

import t from 'tap';
import { ipToU32 } from '../src/wire/addr.ts';
import { Ipvs, ipvsadm } from '../src/netfilter/ipvs.ts';

const ip = ipToU32;

t.test('ipvsadm -Ln: sorted services and destinations, padded columns, connection and packet counts', async (t) => {
  const v = new Ipvs();
  for (const cmd of [
    '-A -t 10.96.0.10:53 -s rr', '-a -t 10.96.0.10:53 -r 10.244.0.3:53 -m -w 1',
    '-A -u 10.96.0.10:53 -s rr -p 10800', '-a -u 10.96.0.10:53 -r 10.244.0.3:53 -m -w 1',
    '-A -t 10.96.0.1:443 -s rr', '-a -t 10.96.0.1:443 -r 172.18.0.2:6443 -m -w 1',
  ]) t.equal(ipvsadm(v, cmd.split(' ')).code, 0, cmd);
  t.equal(ipvsadm(v, ['-Ln']).stdout, [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    'TCP  10.96.0.1:443 rr',
    '  -> 172.18.0.2:6443              Masq    1      0          0         ',
    'TCP  10.96.0.10:53 rr',
    '  -> 10.244.0.3:53                Masq    1      0          0         ',
    'UDP  10.96.0.10:53 rr persistent 10800',
    '  -> 10.244.0.3:53                Masq    1      0          0         ',
    '',
  ].join('\n'));
  t.equal(ipvsadm(v, ['-S', '-n']).stdout, [
    '-A -t 10.96.0.1:443 -s rr', '-a -t 10.96.0.1:443 -r 172.18.0.2:6443 -m -w 1',
    '-A -t 10.96.0.10:53 -s rr', '-a -t 10.96.0.10:53 -r 10.244.0.3:53 -m -w 1',
    '-A -u 10.96.0.10:53 -s rr -p 10800', '-a -u 10.96.0.10:53 -r 10.244.0.3:53 -m -w 1', '',
  ].join('\n'));
  const stats = ipvsadm(v, ['-Ln', '--stats']).stdout.split('\n');
  t.equal(stats[1], 'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes');
  t.equal(stats[2], '  -> RemoteAddress:Port');
  // print_service_entry: "%-33s" then print_largenum's "%9llu" per figure; destinations "  -> %-28s".
  t.equal(stats[3], 'TCP  10.96.0.1:443'.padEnd(33) + '        0'.repeat(5));
  t.equal(stats[4], '  -> ' + '172.18.0.2:6443'.padEnd(28) + '        0'.repeat(5));
  const api = v.find('TCP', ip('10.96.0.1'), 443)!;
  const d = api.connect(ip('10.0.0.5'), api.addr, 0)!;
  api.connect(ip('10.0.0.6'), api.addr, 0);
  api.count(d, 60, true); api.count(d, 60, false);
  api.closed(d);
  t.equal(ipvsadm(v, ['-Ln']).stdout.split('\n')[4], '  -> 172.18.0.2:6443              Masq    1      1          1         ');
  t.equal(ipvsadm(v, ['-Ln', '--stats']).stdout.split('\n')[4], '  -> ' + '172.18.0.2:6443'.padEnd(28) + [2, 1, 1, 60, 60].map((n) => String(n).padStart(9)).join(''));
  t.equal(ipvsadm(v, ['-A', '-t', '10.96.0.1:443']).stderr, 'Service already exists\n');
  t.equal(ipvsadm(v, ['-a', '-t', '10.9.9.9:1', '-r', '1.1.1.1:1']).stderr, 'No such service\n');
  t.equal(ipvsadm(v, ['-A', '-t', '10.96.0.2:80', '-s', 'nope']).stderr, 'Scheduler not found\n');
});

t.test('schedulers: rr cycles, wrr weights, lc/sed/nq look at load, sh sticks, persistence holds then expires', async (t) => {
  const v = new Ipvs();
  const mk = (sched: string, weights = [1, 1, 1], persistent = 0) => {
    const s = v.addService('TCP', ip('10.96.0.5') + v.services.size, 80, sched as 'rr', persistent);
    weights.forEach((w, i) => v.addDest(s, ip(`10.244.${i}.2`), 80, w));
    return s;
  };
  /** The third octet of the destination chosen for n new connections (10.244.<i>.2). */
  const names = (s: ReturnType<typeof mk>, n: number) => Array.from({ length: n }, (_, i) => (s.schedule(ip('10.0.0.1') + i, s.addr, 0)!.addr >>> 8) & 255);
  t.same(names(mk('rr'), 6), [0, 1, 2, 0, 1, 2]);
  const wrr = mk('wrr', [3, 1, 1]);
  const w = Array.from({ length: 10 }, () => (wrr.schedule(1, wrr.addr, 0)!.addr >>> 8) & 255);
  t.equal(w.filter((x) => x === 0).length, 6, `wrr 3:1:1 over 10: ${w}`);
  const lc = mk('lc');
  lc.dests[0]!.active = 2; lc.dests[1]!.active = 1;
  t.equal((lc.schedule(1, lc.addr, 0)!.addr >>> 8) & 255, 2);
  const nq = mk('nq');
  nq.dests[0]!.active = 1; nq.dests[2]!.active = 1;
  t.equal((nq.schedule(1, nq.addr, 0)!.addr >>> 8) & 255, 1);
  const sh = mk('sh');
  const first = sh.schedule(ip('10.0.0.7'), sh.addr, 0);
  for (let i = 0; i < 5; i++) t.equal(sh.schedule(ip('10.0.0.7'), sh.addr, 0), first);
  const p = mk('rr', [1, 1, 1], 10800);
  const a = p.schedule(ip('10.0.0.9'), p.addr, 0);
  t.equal(p.schedule(ip('10.0.0.9'), p.addr, 1e9), a, 'persistent: same client, same server');
  t.not(p.schedule(ip('10.0.0.9'), p.addr, 20000e9), a, 'after the timeout the scheduler runs again (rr moves on)');
  p.dests.forEach((d) => { d.weight = 0; });
  t.equal(mk('rr', [0, 0]).schedule(1, 0, 0), null, 'weight 0 everywhere: no destination');
});
