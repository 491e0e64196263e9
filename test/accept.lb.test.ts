// Acceptance: ClusterIP load balancing as a user measures it, with socket LB
// (the seed's setting) and with tc LB: 1000 curls spread evenly over three
// backends (chi-square), and sessionAffinity: ClientIP pins them to one.
import t from 'tap';
import { CHI2_DF2_P001, chiSquareUniform, drain, inPod, ip4, kubectl, podVeth, record, scenario, seedLab, uniqCounts } from './helpers/lab.ts';

const N = 1000;
const loop = (target: string) => `for i in {1..${N}}; do curl -s ${target} | grep Hostname; done | sort | uniq -c | sort -nr`;

for (const socketLB of [true, false]) {
  t.test(`ClusterIP spread and session affinity with ${socketLB ? 'socket' : 'tc'} LB`, async (t) => {
    const c = seedLab({ socketLB });
    t.teardown(() => c.close());
    const applied = await kubectl(c, ['apply', '-f', '-'], scenario('whoami-lb.yaml'));
    t.equal(applied.stdout, 'deployment.apps/webapp created\nservice/webapp created\n');
    const pods = (await kubectl(c, ['get', 'pod', '-l', 'app=webapp', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName}{"\\n"}{end}'])).stdout
      .trim().split('\n').map((l) => l.split(' '));
    t.same(pods.map((p) => p[1]).sort(), ['k8s-s', 'k8s-w1', 'k8s-w2'], 'one replica per node');
    const names = pods.map((p) => p[0]!).sort();
    const vip = (await kubectl(c, ['get', 'svc', 'webapp', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;

    // Socket LB rewrites at connect(): the VIP never reaches netpod's veth. tc LB DNATs in cil_from_container.
    const lxc = await podVeth(c, 'netpod', 'k8s-s');
    t.ok(lxc, 'netpod\'s veth');
    const veth = record(c, 'k8s-s', lxc!);
    const r = await inPod(c, 'netpod', ['zsh', '-c', loop(`webapp:9000`)]);
    await drain(c);
    veth.stop();
    t.equal(r.exitCode, 0);
    t.match(r.stdout, /^( {4}\d{3} Hostname: webapp-[0-9a-f]+-[a-z0-9]{5}\n){3}$/, 'uniq -c output, three backends');
    const counts = uniqCounts(r.stdout);
    t.same([...counts.keys()].sort(), names, 'every replica answered');
    const n = [...counts.values()];
    t.equal(n.reduce((a, b) => a + b, 0), N, 'every curl answered');
    t.same(n, [...n].sort((a, b) => b - a), 'sort -nr order');
    const chi2 = chiSquareUniform(n);
    t.ok(chi2 < CHI2_DF2_P001, `uniform over 3 backends: chi2 = ${chi2.toFixed(3)} < ${CHI2_DF2_P001} (df 2, p 0.001); counts ${n.join('/')}`);
    const vipOnVeth = veth.frames.filter((f) => { const h = ip4(f.frame); return h?.dst === vip || h?.src === vip; }).length;
    if (socketLB) t.equal(vipOnVeth, 0, 'socket LB: the VIP never appears on the veth');
    else t.ok(vipOnVeth >= N, `tc LB: the pod's packets carry the VIP (${vipOnVeth} frames)`);

    const patched = await kubectl(c, ['patch', 'svc', 'webapp', '-p', '{"spec":{"sessionAffinity":"ClientIP"}}']);
    t.equal(patched.stdout, 'service/webapp patched\n');
    const pinned = await inPod(c, 'netpod', ['zsh', '-c', loop(`${vip}:9000`)]);
    const one = uniqCounts(pinned.stdout);
    t.equal(one.size, 1, `ClientIP affinity: one backend (${pinned.stdout.trim()})`);
    t.equal([...one.values()][0], N, `all ${N} curls to it`);
    t.ok(names.includes([...one.keys()][0]!), 'a replica of the deployment');
  });
}
