// Time and heap to bring up a large cluster from YAML text: a Cluster document
// with N nodes plus D Deployments x R replicas and D Services selecting them,
// through Cluster.fromYaml until every pod's CNI ADD is done and every
// service is in every node's LB maps. Prints one JSON object.
// Run: node --expose-gc --import tsx bench/apply.bench.ts [nodes deployments replicas]

import { performance } from 'node:perf_hooks';
import { Cluster } from '../src/cluster/cluster.ts';
import type { CiliumCluster } from '../src/cilium/control.ts';

const [NODES, DEPLOYS, REPLICAS] = process.argv.slice(2).map(Number).concat([100, 1000, 10]).slice(0, 3) as [number, number, number];
const gc = (globalThis as { gc?: () => void }).gc;

function clusterYaml(): string {
  const nodes = Array.from({ length: NODES }, (_, i) => (i === 0 ? '    - {controlPlane: true}' : '    - {}')).join('\n');
  const out = [`apiVersion: dplab.dev/v1alpha1
kind: Cluster
metadata: {name: scale}
spec:
  datapath: cilium
  routing: tunnel
  podCIDR: 10.244.0.0/16
  underlay: 172.18.0.0/16
  nodes:
${nodes}`];
  for (let i = 0; i < DEPLOYS; i++) {
    out.push(`apiVersion: apps/v1
kind: Deployment
metadata: {name: app${i}}
spec:
  replicas: ${REPLICAS}
  selector: {matchLabels: {app: app${i}}}
  template:
    metadata: {labels: {app: app${i}}}
    spec: {containers: [{name: web, image: traefik/whoami, ports: [{containerPort: 80}]}]}`);
    out.push(`apiVersion: v1
kind: Service
metadata: {name: app${i}}
spec:
  selector: {app: app${i}}
  ports: [{port: 80, targetPort: 80}]`);
  }
  return out.join('\n---\n');
}

const text = clusterYaml();
gc?.(); gc?.();
const heap0 = process.memoryUsage();
const t0 = performance.now(), c0 = process.cpuUsage();
const cluster = Cluster.fromYaml(text, { seed: 1 });
const ms = performance.now() - t0, cpu = process.cpuUsage(c0);
gc?.(); gc?.();
const heap1 = process.memoryUsage();

// Verify: every pod plugged in, every ClusterIP frontend (and its backends) in every node's LB maps.
const cilium = cluster.cilium as CiliumCluster;
const pods = cluster.api.list('Pod').filter((p) => !p.spec.hostNetwork);
let endpoints = 0, minSvcEntries = Infinity, minIpcache = Infinity;
for (const n of cluster.nodeNames()) {
  endpoints += cilium.endpoints(n).filter((e) => e.podName !== undefined).length;
  const a = cilium.agent(n);
  minSvcEntries = Math.min(minSvcEntries, a.maps.lbServices.size);
  minIpcache = Math.min(minIpcache, a.maps.ipcache.size);
}
const services = cluster.api.list('Service').length;
const wantSvcEntries = DEPLOYS * (1 + REPLICAS);
if (endpoints !== pods.length) throw new Error(`CNI ADD: ${endpoints}/${pods.length} pods`);
if (minSvcEntries < wantSvcEntries) throw new Error(`LB maps: ${minSvcEntries} < ${wantSvcEntries} entries on some node`);
if (minIpcache < pods.length) throw new Error(`ipcache: ${minIpcache} < ${pods.length} entries on some node`);

console.log(JSON.stringify({
  method: 'Cluster.fromYaml(Cluster doc + Deployments + Services as one YAML text), wall time until it returns; then checked: every pod has a Cilium endpoint, every node has every service + backend slot in cilium_lb4_services_v2 and every pod in cilium_ipcache',
  nodes: NODES, deployments: DEPLOYS, replicas: REPLICAS, pods: pods.length, services, yamlBytes: text.length,
  applyMs: Math.round(ms),
  /** CPU time of the process (main thread plus GC helpers) over the same span; less sensitive to other load. */
  applyCpuMs: Math.round((cpu.user + cpu.system) / 1000),
  floorMs: 5000,
  heapUsedMB: Math.round((heap1.heapUsed - heap0.heapUsed) / 2 ** 20),
  arrayBuffersMB: Math.round((heap1.arrayBuffers - heap0.arrayBuffers) / 2 ** 20),
  rssMB: Math.round(heap1.rss / 2 ** 20),
  lbServicesEntriesPerNode: minSvcEntries, ipcacheEntriesPerNode: minIpcache,
  gcExposed: gc !== undefined,
}, null, 2));
