// ipset: the emulator's `ipset list`, `list -n`, `save` and errors beside the
// real ipset 7.17 given the same commands in a fresh network namespace (the
// random initval and the hash-layout-dependent "Size in memory" of hash sets
// aside). Root only; under CI a missing capability fails, otherwise it says
// it skipped. The emulator-only checks run everywhere.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { Ipsets, ipsetTool } from '../src/netfilter/ipset.ts';
import { ipToU32 } from '../src/wire/addr.ts';
import type { Pkt } from '../src/netfilter/types.ts';

const COMMANDS = [
  'create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536',
  'add KUBE-CLUSTER-IP 10.96.0.1,tcp:443', 'add KUBE-CLUSTER-IP 10.96.0.10,udp:53', 'add KUBE-CLUSTER-IP 10.96.0.10,tcp:53',
  'create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 65536',
  'add KUBE-LOOP-BACK 10.244.1.5,tcp:8080,10.244.1.5',
  'create KUBE-LOAD-BALANCER-SOURCE-CIDR hash:ip,port,net family inet hashsize 1024 maxelem 65536',
  'add KUBE-LOAD-BALANCER-SOURCE-CIDR 1.2.3.4,tcp:80,203.0.113.0/25',
  'create KUBE-NET hash:net,port family inet hashsize 1024 maxelem 65536',
  'add KUBE-NET 10.0.0.0/8,tcp:80',
  'create KUBE-NODE-PORT-TCP bitmap:port range 0-65535', 'add KUBE-NODE-PORT-TCP 30080',
  'create KUBE-HC bitmap:port range 30000-32767',
];
const BAD = ['add KUBE-CLUSTER-IP 10.96.0.1,tcp:443', 'add NOPE 1.2.3.4', 'create KUBE-CLUSTER-IP hash:ip,port', 'add KUBE-HC 80', 'create X hash:foo'];

/** initval is random, hash sets' size depends on bucket collisions, and members come in hash order: set those aside. */
const norm = (s: string) => s.replace(/initval 0x[0-9a-f]+/g, 'initval 0xI')
  .replace(/^(Type: hash:.*\nRevision: \d+\nHeader: .*\n)Size in memory: \d+/gm, '$1Size in memory: S')
  .split('\n\n').map((block) => {
    const lines = block.split('\n');
    const at = lines.indexOf('Members:') + 1;
    if (at > 0) return [...lines.slice(0, at), ...lines.slice(at).sort()].join('\n');
    return [...lines.filter((l) => !l.startsWith('add ')), ...lines.filter((l) => l.startsWith('add ')).sort()].join('\n');
  }).join('\n\n');

t.test('the emulator alone: members, lookups, -exist', async (t) => {
  const sets = new Ipsets();
  for (const c of COMMANDS) t.equal(ipsetTool(sets, c.split(' ')).code, 0, c);
  const p = (dst: string, dport: number, proto = 6, src = '10.0.0.1'): Pkt => ({ src: ipToU32(src), dst: ipToU32(dst), proto, sport: 1234, dport, len: 60, tcpFlags: 0, icmpType: 0, icmpCode: 0, icmpId: 0, frag: false, inIf: '', outIf: '', mark: 0 });
  t.ok(sets.test('KUBE-CLUSTER-IP', p('10.96.0.10', 53, 17), ['dst', 'dst']));
  t.notOk(sets.test('KUBE-CLUSTER-IP', p('10.96.0.10', 443), ['dst', 'dst']));
  t.ok(sets.test('KUBE-LOAD-BALANCER-SOURCE-CIDR', p('1.2.3.4', 80, 6, '203.0.113.9'), ['dst', 'dst', 'src']));
  t.notOk(sets.test('KUBE-LOAD-BALANCER-SOURCE-CIDR', p('1.2.3.4', 80, 6, '203.0.113.200'), ['dst', 'dst', 'src']));
  t.ok(sets.test('KUBE-NODE-PORT-TCP', p('172.18.0.2', 30080), ['dst']));
  t.equal(ipsetTool(sets, ['add', 'KUBE-CLUSTER-IP', '10.96.0.1,tcp:443', '-exist']).code, 0);
});

const why = process.getuid?.() !== 0 ? 'not root' : spawnSync('sh', ['-c', 'command -v ipset && command -v ip']).status !== 0 ? 'missing ipset or ip' : null;
if (why) {
  if (process.env.CI) t.fail(`ipset conformance cannot run: ${why}`);
  else t.comment(`SKIPPED ipset conformance against the real ipset: ${why}`);
} else {
  t.test('ipset list / list -n / save / errors equal the real ipset 7.17', async (t) => {
    const ns = `dplab-ipset-${process.pid}`;
    spawnSync('ip', ['netns', 'add', ns]);
    try {
      const real = (args: string[]) => {
        const r = spawnSync('ip', ['netns', 'exec', ns, 'ipset', ...args], { encoding: 'utf8' });
        return { stdout: r.stdout, stderr: r.stderr, code: r.status };
      };
      const sets = new Ipsets();
      for (const c of COMMANDS) t.same(real(c.split(' ')).code, ipsetTool(sets, c.split(' ')).code, c);
      for (const args of [['list'], ['list', 'KUBE-CLUSTER-IP'], ['list', '-n'], ['list', '-t'], ['save']]) {
        t.equal(norm(ipsetTool(sets, args).stdout), norm(real(args).stdout), `ipset ${args.join(' ')}`);
      }
      for (const c of BAD) {
        const r = real(c.split(' ')), e = ipsetTool(sets, c.split(' '));
        t.equal(e.stderr, r.stderr, `ipset ${c}: error text`);
        t.equal(e.code, r.code, `ipset ${c}: exit code`);
      }
    } finally { spawnSync('ip', ['netns', 'del', ns]); }
  });
}
