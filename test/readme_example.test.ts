// README "Library API": the example tap test, as written there, run here. The
// one change: it imports from the source path, not from 'dplab' — the package
// name resolves to dist/ (built by `npm run build`), which lags the sources
// while the tree is edited; the two export the same module.
import t from 'tap';
import { Lab } from '../src/index.ts';

const CLUSTER = `
apiVersion: dplab.dev/v1alpha1
kind: Cluster
metadata: {name: demo}
spec:
  nodes: [{controlPlane: true}, {}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  nodeName: demo-control-plane
  containers: [{name: shell, image: nicolaka/netshoot, command: [tail], args: [-f, /dev/null]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeName: demo-worker
      containers: [{name: whoami, image: traefik/whoami}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
`;

for (const datapath of ['cilium', 'iptables']) {
  t.test(`${datapath}: the same Service, another datapath`, async (t) => {
    const lab = Lab.fromYaml(CLUSTER, { datapath, seed: 42 });
    t.teardown(() => lab.close());
    const { clusterIP } = lab.service('web');
    const backends = lab.backends('web').map((p) => p.name);

    const eth0 = lab.capture({ pod: 'client' });
    const r = await lab.exec('client', `curl -s http://${clusterIP}/`);
    eth0.stop();

    // Equivalence (what Kubernetes promises): a backend of the Service answers,
    // and it sees the client pod's own address.
    const hostname = /^Hostname: (\S+)$/m.exec(r.stdout)?.[1];
    t.ok(hostname && backends.includes(hostname), `answered by ${hostname}`);
    t.match(r.stdout, `RemoteAddr: ${lab.pod('client').ip}:`);

    // Difference (what the datapaths are known for): with iptables the ClusterIP
    // is on the client's wire and the node keeps an nf_conntrack entry for the
    // DNAT; Cilium's socket LB picks the backend at connect(), so neither exists.
    const sentToClusterIP = eth0.packets().some((p) => p.dir === 'out' && p.dst === clusterIP);
    const natEntries = (await lab.conntrack()).filter((e) => e.orig.dst === clusterIP);
    t.equal(sentToClusterIP, datapath === 'iptables');
    t.equal(natEntries.length, datapath === 'iptables' ? 1 : 0);
  });
}

t.test('this file is the README\'s example, but for the import path', async (t) => {
  const { readFileSync } = await import('node:fs');
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf("import t from 'tap';\nimport { Lab } from 'dplab';\n");
  t.ok(start >= 0, 'the README shows the example');
  const example = readme.slice(start, readme.indexOf('```', start)).replace("from 'dplab'", "from '../src/index.ts'");
  const self = readFileSync(new URL(import.meta.url), 'utf8');
  t.equal(self.slice(self.indexOf("import t from 'tap';"), self.indexOf("\nt.test('this file is the README")), example);
});
