// What a fresh kubeadm/kind cluster already holds: namespaces, Node objects,
// the `kubernetes` service and kube-dns backed by two coredns pods.

import { u32ToIp } from '../../wire/addr.ts';
import { cidrString, type ClusterSpec } from '../spec.ts';
import { reconcile } from './controllers.ts';
import { admit } from './admit.ts';
import { daemonPod, eligibleNodes, pinnedStream } from './daemonsets.ts';
import { fnv32a, putObj, safeEncode, type KubeEnv, type KubeState } from './state.ts';
import { clone, POD_IP_ANNOTATION, type Any, type KObject } from './types.ts';

export const KUBE_VERSION = 'v1.30.4';
export const COREDNS_IMAGE = 'registry.k8s.io/coredns/coredns:v1.11.1';

/** Pinned coredns pods (the seed's names and IPs); generated when absent. */
export interface CorednsPin { hash: string; pods: Array<{ name: string; ip?: string; node?: string }> }

/** The n-th address of the service CIDR (1 = kubernetes, 10 = kube-dns). */
export function serviceIp(spec: ClusterSpec, n: number): string { return u32ToIp((spec.serviceCIDR.ip + n) >>> 0); }

export function bootstrap(s: KubeState, env: KubeEnv, pin?: CorednsPin, system: KObject[] = []): void {
  const spec = env.spec;
  const add = (o: KObject) => { admit(s, env, o); putObj(s, env, o); };
  for (const ns of ['default', 'kube-node-lease', 'kube-public', 'kube-system']) add({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (const n of spec.nodes) putObj(s, env, nodeObject(spec, n.name));
  add({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { clusterIP: serviceIp(spec, 1), ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] } });
  add({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' }, annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' } },
    spec: { clusterIP: serviceIp(spec, 10), selector: { 'k8s-app': 'kube-dns' }, ports: [
      { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }, { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 }, { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 }] } });
  const template: Any = {
    metadata: { labels: { 'k8s-app': 'kube-dns' } },
    spec: { serviceAccountName: 'coredns', priorityClassName: 'system-cluster-critical', containers: [{
      name: 'coredns', image: COREDNS_IMAGE, args: ['-conf', '/etc/coredns/Corefile'],
      ports: [{ containerPort: 53, name: 'dns', protocol: 'UDP' }, { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' }, { containerPort: 9153, name: 'metrics', protocol: 'TCP' }] }] },
  };
  const deploy: KObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'coredns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
    spec: { replicas: pin?.pods.length ?? 2, selector: { matchLabels: { 'k8s-app': 'kube-dns' } }, template } };
  add(deploy);
  if (pin) {
    const rsName = `coredns-${pin.hash}`;
    const labels = { 'k8s-app': 'kube-dns', 'pod-template-hash': pin.hash };
    const rs: KObject = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: rsName, namespace: 'kube-system', labels,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'coredns', uid: deploy.metadata.uid!, controller: true, blockOwnerDeletion: true }] },
      spec: { replicas: pin.pods.length, selector: { matchLabels: labels }, template: { ...template, metadata: { labels } } } };
    add(rs);
    for (const p of pin.pods) {
      add({ apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: 'kube-system', labels, ...(p.ip ? { annotations: { [POD_IP_ANNOTATION]: p.ip } } : {}),
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: rs.metadata.uid!, controller: true, blockOwnerDeletion: true }] },
        spec: { ...structuredClone(template.spec), ...(p.node ? { nodeName: p.node } : {}) } });
    }
  }
  for (const o of system) addSystemObject(s, env, clone(o));
  reconcile(s, env);
}

/**
 * A datapath's own workload (a DaemonSet, a Deployment), with the pods its
 * controller would have made before the lab starts; their names and uids come
 * from a stream pinned to the seed and the object (pinnedStream), so the
 * state's own stream, and every later name, stays as without them.
 */
function addSystemObject(s: KubeState, env: KubeEnv, o: KObject): void {
  const add = (x: KObject) => { admit(s, env, x); putObj(s, env, x); };
  const pins = pinnedStream(s, `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
  o.metadata.uid = pins.uid();
  add(o);
  if (o.kind === 'DaemonSet') {
    for (const n of eligibleNodes(s, o)) add(daemonPod(o, n.metadata.name, `${o.metadata.name}-${pins.suffix()}`, pins.uid()));
  } else if (o.kind === 'Deployment') {
    // The replica set the deployment controller would make (same name and template), then its pods.
    const hash = safeEncode(fnv32a(JSON.stringify(o.spec.template))).slice(0, 10);
    const labels = { ...o.spec.template.metadata.labels, 'pod-template-hash': hash };
    const rs: KObject = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: `${o.metadata.name}-${hash}`, namespace: o.metadata.namespace, labels, uid: pins.uid(),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: o.metadata.name, uid: o.metadata.uid, controller: true, blockOwnerDeletion: true }] },
      spec: { replicas: o.spec.replicas, selector: { matchLabels: { ...o.spec.selector.matchLabels, 'pod-template-hash': hash } }, template: { ...clone(o.spec.template), metadata: { ...o.spec.template.metadata, labels } } } };
    add(rs);
    for (let i = 0; i < o.spec.replicas; i++) {
      add({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${rs.metadata.name}-${pins.suffix()}`, generateName: `${rs.metadata.name}-`, namespace: o.metadata.namespace, labels: { ...labels }, uid: pins.uid(),
        ...(o.spec.template.metadata.annotations ? { annotations: { ...o.spec.template.metadata.annotations } } : {}),
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name, uid: rs.metadata.uid!, controller: true, blockOwnerDeletion: true }] },
        spec: clone(o.spec.template.spec) });
    }
  }
}

function nodeObject(spec: ClusterSpec, name: string): KObject {
  const n = spec.nodes.find((x) => x.name === name)!;
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels: { 'beta.kubernetes.io/arch': 'amd64', 'beta.kubernetes.io/os': 'linux', ...n.labels }, annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' } },
    spec: { podCIDR: cidrString(n.podCIDR), podCIDRs: [cidrString(n.podCIDR)], ...(n.controlPlane ? { taints: [{ effect: 'NoSchedule', key: 'node-role.kubernetes.io/control-plane' }] } : {}) },
    status: {
      addresses: [{ address: u32ToIp(n.ip), type: 'InternalIP' }, { address: name, type: 'Hostname' }],
      conditions: [{ message: 'kubelet is posting ready status', reason: 'KubeletReady', status: 'True', type: 'Ready' }],
      nodeInfo: { architecture: 'amd64', containerRuntimeVersion: 'containerd://1.7.18', kernelVersion: '6.8.0-1015-aws', kubeProxyVersion: KUBE_VERSION, kubeletVersion: KUBE_VERSION, operatingSystem: 'linux', osImage: 'Ubuntu 24.04.1 LTS' },
    },
  };
}
