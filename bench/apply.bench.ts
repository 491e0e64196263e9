// Time and heap to bring up a large cluster from YAML text: a Cluster document
// with N nodes plus D Deployments x R replicas and D Services selecting them,
// through Cluster.fromYaml until every pod's CNI ADD is done and every
// service is in every node's LB maps. Each figure is the median of rounds
// (bench/lib/harness.ts), a fresh cluster each round. Prints one JSON object.
// Run: node --expose-gc --import tsx bench/apply.bench.ts [nodes deployments replicas] [--rounds N]

import { Cluster } from '../src/cluster/cluster.ts';
import type { BpfMap } from '../src/bpf/map.ts';
import type { LinuxNode } from '../src/kernel/node.ts';
import { benchArgs, runBench } from './lib/harness.ts';
import { millis, size, span, type Figures } from './lib/figures.ts';

const args = benchArgs();
const [NODES, DEPLOYS, REPLICAS] = args.rest.map(Number).concat([100, 1000, 10]).slice(0, 3) as [number, number, number];
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

/** A node kernel's BPF map by name, as bpftool finds it (the check needs no datapath model). */
function kernelMap(cluster: Cluster, node: string, name: string): BpfMap {
  const m = [...(cluster.kernel(node) as LinuxNode).maps.values()].find((x) => x.spec.name === name);
  if (m === undefined) throw new Error(`${node}: no ${name}`);
  return m;
}

/** Every pod plugged in (eth0 holds its IP), every ClusterIP frontend and backend in every node's LB map, every pod in every ipcache. */
function check(cluster: Cluster) {
  const pods = cluster.api.list('Pod').filter((p) => !p.spec.hostNetwork);
  const plugged = pods.filter((p) => cluster.podContext(p.metadata.namespace ?? 'default', p.metadata.name).netns.device('eth0')?.addrs.length).length;
  let minSvcEntries = Infinity, minIpcache = Infinity;
  for (const n of cluster.nodeNames()) {
    minSvcEntries = Math.min(minSvcEntries, kernelMap(cluster, n, 'cilium_lb4_services_v2').size);
    minIpcache = Math.min(minIpcache, kernelMap(cluster, n, 'cilium_ipcache').size);
  }
  const wantSvcEntries = DEPLOYS * (1 + REPLICAS);
  if (plugged !== pods.length) throw new Error(`CNI ADD: ${plugged}/${pods.length} pods`);
  if (minSvcEntries < wantSvcEntries) throw new Error(`LB maps: ${minSvcEntries} < ${wantSvcEntries} entries on some node`);
  if (minIpcache < pods.length) throw new Error(`ipcache: ${minIpcache} < ${pods.length} entries on some node`);
  return { pods: pods.length, services: cluster.api.list('Service').length, lbServicesEntriesPerNode: minSvcEntries, ipcacheEntriesPerNode: minIpcache };
}

const text = clusterYaml();

/** One round: a fresh cluster from the same text, timed, measured, checked, closed. */
function apply(): Figures {
  gc?.(); gc?.();
  const heap0 = process.memoryUsage();
  const stop = span();
  const cluster = Cluster.fromYaml(text, { seed: 1 });
  const t = stop();
  gc?.(); gc?.();
  const heap1 = process.memoryUsage();
  const c = check(cluster);
  cluster.close();
  return {
    nodes: NODES, deployments: DEPLOYS, replicas: REPLICAS, pods: c.pods, services: c.services, yamlBytes: text.length,
    // Calibrated per pod: the cost of one pod's apply in reference lookups.
    applyMs: millis(t.wallMs, 'wall', c.pods),
    /** CPU time of the process (main thread plus GC helpers) over the same span; less sensitive to other load. */
    applyCpuMs: millis(t.cpuMs, 'cpu', c.pods),
    floorMs: 5000,
    heapUsedMB: size(Math.round((heap1.heapUsed - heap0.heapUsed) / 2 ** 20)),
    arrayBuffersMB: size(Math.round((heap1.arrayBuffers - heap0.arrayBuffers) / 2 ** 20)),
    rssMB: size(Math.round(heap1.rss / 2 ** 20)),
    lbServicesEntriesPerNode: c.lbServicesEntriesPerNode, ipcacheEntriesPerNode: c.ipcacheEntriesPerNode,
  };
}

await runBench({
  header: {
    method: 'Cluster.fromYaml(Cluster doc + Deployments + Services as one YAML text), time until it returns; then checked: every pod has eth0 addressed in its netns, every node kernel has every service + backend slot in cilium_lb4_services_v2 and every pod in cilium_ipcache; heap after gc() before/after; a fresh cluster each round (the previous one closed)',
  },
  rounds: 3,
  cases: [{ name: 'apply', at: '', run: apply }],
}, args);
