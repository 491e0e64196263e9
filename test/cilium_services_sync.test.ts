// Service sync on every node: copied maps (ClusterIP-only frontends) hold exactly what a per-node rewrite writes.
import t from 'tap';
import { Cluster } from '../src/cluster/cluster.ts';
import { ciliumOf } from '../src/cilium/plugin.ts';
import { expandFrontends } from '../src/cilium/frontends.ts';
import { servicePorts } from '../src/cluster/service_ports.ts';
import { LbIds, syncAllNodeServices, syncNodeServices } from '../src/cilium/services.ts';

const dump = (c: Cluster, node: string) => {
  const m = ciliumOf(c.cni)!.agent(node).maps;
  return [m.lbServices, m.lbBackends, m.lbRevNat].map((x) => x.entries().map(([k, v]) => `${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`));
};

const cases: Array<[string, string]> = [
  ['ClusterIP only (copied from the first node)', ''],
  ['with a NodePort service (per-node rewrite)', '\n---\napiVersion: v1\nkind: Service\nmetadata: {name: np}\nspec: {type: NodePort, selector: {app: webpod}, ports: [{port: 81, targetPort: 80}]}'],
  ['with internalTrafficPolicy Local (per-node rewrite)', '\n---\napiVersion: v1\nkind: Service\nmetadata: {name: loc}\nspec: {internalTrafficPolicy: Local, selector: {app: webpod}, ports: [{port: 82, targetPort: 80}]}'],
];
for (const [name, extra] of cases) {
  t.test(name, async (t) => {
    const c = Cluster.fromYaml((await import('../src/cluster/labs/cilium.ts')).CILIUM_LAB + extra, { seed: 5 });
    const agents = c.nodeNames().map((n) => ciliumOf(c.cni)!.agent(n));
    const fes = expandFrontends(servicePorts(c.api.snapshot()), agents.map((a) => a.node.ip));
    const ids = new LbIds();
    for (const a of agents) syncNodeServices(a, fes, ids);
    const rewritten = c.nodeNames().map((n) => dump(c, n));
    syncAllNodeServices(agents, fes, ids);
    c.nodeNames().forEach((n, i) => {
      t.same(dump(c, n), rewritten[i], `${n}: maps equal a per-node rewrite`);
      t.ok(rewritten[i]![0]!.length > 0, `${n}: has service entries`);
    });
    c.close();
  });
}
