// `dplab serve` with the real seed lab, then client verbs against it.
import t from 'tap';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { runCli, startCli } from './helpers/run_cli.ts';

const haveCluster = existsSync(resolve(import.meta.dirname, '../src/cluster/cluster.ts'));

t.test('serve the seed lab on an ephemeral port, use it, stop it', { skip: haveCluster ? false : 'src/cluster/cluster.ts not there yet' }, async (t) => {
  const serve = startCli(['serve', '--lab', 'cilium', '--port', '0', '--seed', '3']);
  t.teardown(() => { serve.child.kill('SIGKILL'); });
  await serve.waitFor('stdout', /\n/);
  const m = /^dplab serving lab "cilium" on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(serve.stdout);
  t.ok(m, `serving line: ${serve.stdout}`);
  const env = { DPLAB_SERVER: m![1] };

  const pods = await runCli(['kubectl', 'get', 'pods'], env);
  t.equal(pods.code, 0);
  t.match(pods.stdout, /^NAME +READY +STATUS +RESTARTS +AGE\n(.*\n)*netpod +1\/1 +Running/);
  const bpf = await runCli(['bpftool', '--node', 'k8s-w1', 'net', 'show'], env);
  t.equal(bpf.code, 0);
  t.match(bpf.stdout, /tcx\/ingress cil_from_netdev/);
  const health = await fetch(`${m![1]}/healthz`).then((r) => r.json()) as { nowNs: number };
  t.ok(health.nowNs > 0, 'server mode: the virtual clock follows the wall clock');

  serve.child.kill('SIGINT');
  const r = await serve.exited;
  t.equal(r.code, 0, 'clean exit on SIGINT');
  t.equal(r.stderr, '');
});

t.test('serve --clock fast: the launcher serves the lab, SIGTERM stops it', { skip: haveCluster ? false : 'no cluster yet' }, async (t) => {
  const serve = startCli(['serve', '--clock', 'fast', '--lab', 'kind', '--port', '0']);
  t.teardown(() => { serve.child.kill('SIGKILL'); });
  await serve.waitFor('stdout', /\n/);
  const m = /^dplab serving lab "kind" on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(serve.stdout);
  t.ok(m, `serving line: ${serve.stdout}`);
  const nodes = await runCli(['bpftool', 'net', 'show'], { DPLAB_SERVER: m![1] });
  t.equal(nodes.code, 0);
  t.match(nodes.stdout, /tcx\/ingress cil_from_netdev/);
  serve.child.kill('SIGTERM');
  t.same(await serve.exited, { code: 0, stdout: serve.stdout, stderr: '' });
});

const bad: { args: string[]; stderr: RegExp }[] = [
  { args: ['serve', '--lab', 'nope', '--port', '0'], stderr: /^dplab: unknown lab "nope" \(known: cilium, kind, kind-iptables, kind-ipvs, calico-ipip\)\n$/ },
  { args: ['serve', '--port', '99999'], stderr: /^dplab: --port must be an integer from 0 to 65535, not "99999"\n$/ },
  { args: ['serve', '--lab', 'cilium', '--cluster', 'x.yaml'], stderr: /^dplab: give --lab or --cluster, not both\n$/ },
  { args: ['serve', '--cluster', '/nonexistent/c.yaml', '--port', '0'], stderr: /^dplab: cannot read cluster file "\/nonexistent\/c\.yaml"\n$/ },
];
for (const c of bad) {
  t.test(`serve ${c.args.slice(1).join(' ')} fails with one line`, { skip: haveCluster ? false : 'no cluster yet' }, async (t) => {
    const r = await runCli(c.args);
    t.equal(r.code, 1);
    t.match(r.stderr, c.stderr);
    t.equal(r.stdout, '');
  });
}
