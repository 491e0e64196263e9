// Calico's natOutgoing on the calico-ipip lab (seed 001): Felix's nat chains
// and ipsets as a user reads them on a node (iptables -t nat -S, -v -n -L,
// ipset list), a pod reaching the internet with its node's address (what
// tcpdump on the node's eth0 prints, conntrack's reply tuple), pod-to-pod
// across nodes keeping the pod's address, and natOutgoing: false.
import t from 'tap';
import { Cluster } from '../src/cluster/cluster.ts';
import { LABS } from '../src/cluster/labs/index.ts';
import { TcpdumpFormatter } from '../src/wire/tcpdump.ts';

const c = Cluster.lab('calico-ipip', { hubble: false });
t.teardown(() => c.close());
const SRC = '20.111.156.65', DEST = '20.109.131.2', NODE2 = '192.168.56.32';
const sh = async (node: string, cmd: string) => (await c.nodeExec(node, ['bash', '-c', cmd])).stdout;
const fromSrc = (argv: string[]) => c.exec('default', 'pod-src', argv);

/** `tcpdump -nn -i eth0` lines on a node while fn runs (without the timestamp), frames leaving only. */
async function tcpdump(cl: Cluster, node: string, fn: () => Promise<unknown>): Promise<string[]> {
  const f = new TcpdumpFormatter();
  const lines: string[] = [];
  const stop = cl.capture(node, 'eth0', (x) => { if (x.dir === 'out') lines.push(f.format(x.frame, x.wallMs).slice(16)); });
  try { await fn(); } finally { stop(); }
  return lines;
}

t.test('iptables -t nat -S: Felix\'s jumps first in the built-in chains, then cali-nat-outgoing\'s MASQUERADE', async (t) => {
  for (const node of ['k8s-master', 'k8s-node1', 'k8s-node2']) {
    t.equal(await sh(node, 'iptables -t nat -S POSTROUTING'), [
      '-P POSTROUTING ACCEPT',
      '-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING',
      '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING', ''].join('\n'), `${node}: POSTROUTING`);
    t.equal(await sh(node, 'iptables -t nat -S PREROUTING | head -2'), '-P PREROUTING ACCEPT\n-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING\n');
  }
  t.equal(await sh('k8s-node2', 'iptables -t nat -S | grep cali'), [
    '-N cali-OUTPUT', '-N cali-POSTROUTING', '-N cali-PREROUTING', '-N cali-fip-dnat', '-N cali-fip-snat', '-N cali-nat-outgoing',
    '-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING',
    '-A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT',
    '-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING',
    '-A cali-OUTPUT -m comment --comment "cali:GBTAv2p5CwevEyJm" -j cali-fip-dnat',
    '-A cali-POSTROUTING -m comment --comment "cali:Z-c7XtVd2Bq7s_hA" -j cali-fip-snat',
    '-A cali-POSTROUTING -m comment --comment "cali:nYKhEzDlr11Jccal" -j cali-nat-outgoing',
    '-A cali-PREROUTING -m comment --comment "cali:r6XmIziWUJsdOK6Z" -j cali-fip-dnat',
    '-A cali-nat-outgoing -m comment --comment "cali:flqWnvo8yq4ULQLa" -m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE --random-fully',
    ''].join('\n'));
});

t.test('ipset list: the IP pool in both hash:net sets, each used by one rule', async (t) => {
  const out = await sh('k8s-node2', 'ipset list');
  for (const name of ['cali40all-ipam-pools', 'cali40masq-ipam-pools']) {
    t.match(out, new RegExp(`Name: ${name}\nType: hash:net\nRevision: 7\nHeader: family inet hashsize 1024 maxelem 1048576 bucketsize 12 initval 0x[0-9a-f]{8}\n`
      + 'Size in memory: 504\nReferences: 1\nNumber of entries: 1\nMembers:\n20\\.96\\.0\\.0/12\n'), name);
  }
  const test = await c.nodeExec('k8s-node2', ['ipset', 'test', 'cali40all-ipam-pools', DEST]);
  t.same([test.exitCode, test.stderr], [0, `Warning: ${DEST} is in set cali40all-ipam-pools.\n`], 'a pod address is inside the pool');
  const out8 = await c.nodeExec('k8s-node2', ['ipset', 'test', 'cali40all-ipam-pools', '8.8.8.8']);
  t.same([out8.exitCode, out8.stderr], [1, '8.8.8.8 is NOT in set cali40all-ipam-pools.\n']);
});

t.test('ping 8.8.8.8 from pod-src: it leaves k8s-node2\'s eth0 with the node\'s address, and the reply comes back', async (t) => {
  let out = '';
  const lines = await tcpdump(c, 'k8s-node2', async () => { out = (await fromSrc(['ping', '-c', '1', '8.8.8.8'])).stdout; });
  t.match(out, /64 bytes from 8\.8\.8\.8: icmp_seq=1 ttl=47/);
  const echo = lines.filter((l) => l.includes('ICMP echo request'));
  t.equal(echo.length, 1);
  t.match(echo[0]!, new RegExp(`^IP ${NODE2.replace(/\./g, '\\.')} > 8\\.8\\.8\\.8: ICMP echo request, id \\d+, seq 1, length 64$`));
  t.notOk(lines.some((l) => l.includes(SRC)), 'the pod\'s address never reaches the wire');
  t.match(await sh('k8s-node2', 'conntrack -L -p icmp'), new RegExp(`^icmp +1 \\d+ src=${SRC} dst=8\\.8\\.8\\.8 type=8 code=0 id=\\d+ src=8\\.8\\.8\\.8 dst=${NODE2} type=0 code=0 id=\\d+ mark=0 use=1$`, 'm'),
    'conntrack: the reply is addressed to the node');
});

t.test('curl the emulated internet: masqueraded, one cali-nat-outgoing hit per connection', async (t) => {
  const before = await sh('k8s-node2', 'iptables -t nat -v -n -x -L cali-nat-outgoing');
  const pkts = (s: string) => Number(s.split('\n')[2]!.trim().split(/\s+/)[0]);
  let r = { stdout: '', exitCode: -1 };
  const lines = await tcpdump(c, 'k8s-node2', async () => { r = await fromSrc(['curl', '-s', '--connect-timeout', '2', 'http://1.2.3.4/']); });
  t.equal(r.exitCode, 0);
  t.match(r.stdout, /Hello from 1\.2\.3\.4 \(the emulated internet\)/);
  t.match(lines.find((l) => l.includes('Flags [S]')) ?? '', new RegExp(`^IP ${NODE2.replace(/\./g, '\\.')}\\.\\d+ > 1\\.2\\.3\\.4\\.80: Flags \\[S\\]`));
  const after = await sh('k8s-node2', 'iptables -t nat -v -n -x -L cali-nat-outgoing');
  t.equal(pkts(after) - pkts(before), 1, 'the nat table saw the connection\'s first packet only');
  t.match(after, /MASQUERADE +0 +-- +\* +\* +0\.0\.0\.0\/0 +0\.0\.0\.0\/0 +\/\* cali:flqWnvo8yq4ULQLa \*\/ match-set cali40masq-ipam-pools src ! match-set cali40all-ipam-pools dst random-fully/);
});

t.test('pod to pod across nodes keeps the pod address (the destination is in a pool)', async (t) => {
  const before = await sh('k8s-node2', 'iptables -t nat -v -n -x -L cali-nat-outgoing');
  let r = { stdout: '', exitCode: -1 };
  const lines = await tcpdump(c, 'k8s-node2', async () => { r = await fromSrc(['curl', '-s', '--connect-timeout', '2', `${DEST}:8080`]); });
  t.equal(r.exitCode, 0);
  const syn = lines.find((l) => l.includes('Flags [S]')) ?? '';
  t.match(syn, new RegExp(`^IP ${NODE2.replace(/\./g, '\\.')} > 192\\.168\\.56\\.31: IP ${SRC.replace(/\./g, '\\.')}\\.\\d+ > ${DEST.replace(/\./g, '\\.')}\\.8080: Flags \\[S\\]`),
    'IP-in-IP outside, the pod addresses inside');
  t.equal(await sh('k8s-node2', 'iptables -t nat -v -n -x -L cali-nat-outgoing'), before, 'cali-nat-outgoing matched nothing');
});

t.test('natOutgoing: false: cali-nat-outgoing stays empty, the pod address leaves as is and no reply finds its way back', async (t) => {
  const yaml = LABS['calico-ipip']!.replace('  serviceProxy: iptables\n', '  serviceProxy: iptables\n  cniConfig: {natOutgoing: false}\n');
  const off = Cluster.fromYaml(yaml, { hubble: false });
  t.teardown(() => off.close());
  t.equal((await off.nodeExec('k8s-node2', ['iptables', '-t', 'nat', '-S', 'cali-nat-outgoing'])).stdout, '-N cali-nat-outgoing\n');
  t.match((await off.nodeExec('k8s-node2', ['ipset', 'list', 'cali40masq-ipam-pools'])).stdout, /Number of entries: 0\nMembers:\n$/);
  let r = { stdout: '', exitCode: -1 };
  const lines = await tcpdump(off, 'k8s-node2', async () => { r = await off.exec('default', 'pod-src', ['ping', '-c', '1', '-W', '1', '8.8.8.8']); });
  t.equal(r.exitCode, 1);
  t.match(lines.find((l) => l.includes('echo request')) ?? '', new RegExp(`^IP ${SRC.replace(/\./g, '\\.')} > 8\\.8\\.8\\.8: ICMP echo request`));
  t.throws(() => Cluster.fromYaml(yaml.replace('{natOutgoing: false}', '{natOutgoing: maybe}'), { hubble: false }), /natOutgoing: must be true or false/);
});
