// Calico's natOutgoing state checked against the real kernel: a calico-ipip
// node's ipsets (`ipset save`) and its cali-* nat rules (`iptables-save`) are
// loaded with the real ipset and iptables-restore into a fresh network
// namespace, and the real `ipset list`, `iptables -t nat -S` and
// `iptables -t nat -L -n -v` print what the emulator prints. Needs root,
// ipset and iptables (nf_tables); without them it fails under CI and says
// why otherwise.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { Cluster } from '../src/cluster/cluster.ts';

function unavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root: network namespaces need CAP_SYS_ADMIN';
  for (const b of ['ip', 'ipset', 'iptables', 'iptables-restore']) if (spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0) return `missing binary: ${b}`;
  return null;
}

/** A fresh namespace for fn, deleted afterwards whatever happens. */
function withNetns<T>(fn: (run: (argv: string[], input?: string) => { stdout: string; stderr: string; code: number }) => T): T {
  const name = `dplab-cali-${process.pid}`;
  execFileSync('ip', ['netns', 'add', name]);
  try {
    return fn((argv, input) => {
      const r = spawnSync('ip', ['netns', 'exec', name, ...argv], { input, encoding: 'utf8', timeout: 60_000 });
      return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', code: r.status ?? -1 };
    });
  } finally { spawnSync('ip', ['netns', 'del', name]); }
}

/** The nat table of an iptables-save dump cut down to Calico's chains and the rules that name them. */
function caliNat(save: string): string {
  const nat = save.slice(save.indexOf('*nat\n'), save.indexOf('COMMIT\n', save.indexOf('*nat\n')));
  const keep = nat.split('\n').filter((l) => l === '*nat' || /^:(PREROUTING|INPUT|OUTPUT|POSTROUTING) /.test(l) || /^:cali-/.test(l) || (l.startsWith('-A ') && l.includes('cali')));
  return keep.join('\n') + '\nCOMMIT\n';
}
const initval = (s: string) => s.replace(/initval 0x[0-9a-f]{8}/g, 'initval 0x_');
const caliLines = (s: string) => s.split('\n').filter((l) => l.includes('cali')).join('\n');

const why = unavailable();
if (why) {
  if (process.env.CI) t.fail(`real-kernel Calico natOutgoing check cannot run: ${why}`);
  else t.comment(`SKIPPED real-kernel Calico natOutgoing check: ${why}`);
  t.pass('nothing to compare');
} else {
  t.test('the real ipset and iptables print the emulator\'s sets and cali-* rules', async (t) => {
    const c = Cluster.lab('calico-ipip', { hubble: false });
    t.teardown(() => c.close());
    const node = (cmd: string) => c.nodeExec('k8s-node2', ['bash', '-c', cmd]).then((r) => r.stdout);
    const [sets, save, natS, listed, ipsetList] = [await node('ipset save'), await node('iptables-save'), await node('iptables -t nat -S'),
      await node('iptables -t nat -L cali-nat-outgoing -n -v'), await node('ipset list')];
    withNetns((run) => {
      const s = run(['ipset', 'restore'], sets);
      t.equal(s.code, 0, `ipset restore: ${s.stderr}`);
      const r = run(['iptables-restore'], caliNat(save));
      t.equal(r.code, 0, `iptables-restore: ${r.stderr}`);
      t.equal(run(['iptables', '-t', 'nat', '-S']).stdout.split('\n').filter((l) => l.includes('cali')).join('\n'), caliLines(natS), 'iptables -t nat -S, Calico\'s lines');
      t.equal(run(['iptables', '-t', 'nat', '-L', 'cali-nat-outgoing', '-n', '-v']).stdout, listed, 'iptables -t nat -L cali-nat-outgoing -n -v');
      t.equal(initval(run(['ipset', 'list']).stdout), initval(ipsetList), 'ipset list (initval drawn at create)');
      const inPool = run(['ipset', 'test', 'cali40all-ipam-pools', '20.109.131.2']);
      t.same([inPool.code, inPool.stderr], [0, 'Warning: 20.109.131.2 is in set cali40all-ipam-pools.\n'], 'ipset test as the emulator answers it');
    });
  });
}
