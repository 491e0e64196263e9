// What `helm install cilium cilium/cilium --version 1.16.3 -n kube-system`
// leaves in the cluster besides CRDs and config: the agent DaemonSet (host
// network, one pod per node, its six init containers), the standalone Envoy
// DaemonSet 1.16 deploys by default, and the operator Deployment. Shapes
// follow the chart's templates (cilium-agent/daemonset.yaml,
// cilium-envoy/daemonset.yaml, cilium-operator/deployment.yaml); the lab's
// operator runs one replica (`--set operator.replicas=1`, as the study does).

import type { SystemObject } from '../datapath/contract.ts';

export const CILIUM_VERSION = 'v1.16.3';
/** Where the agent pins its maps: <bpffs root>/tc/globals. */
export const TC_GLOBALS = '/sys/fs/bpf/tc/globals';
const AGENT_IMAGE = `quay.io/cilium/cilium:${CILIUM_VERSION}`;
const ENVOY_IMAGE = 'quay.io/cilium/cilium-envoy:v1.29.9-1728346947-0d05e48bfbb8c4737ec40d5781d970a550ed2bbd';
const OPERATOR_IMAGE = `quay.io/cilium/operator-generic:${CILIUM_VERSION}`;

const LINUX = { 'kubernetes.io/os': 'linux' };
/** Agents run on every node, tainted or not. */
const EVERYWHERE = [{ operator: 'Exists' }];

/** What Helm 3 puts on every object of a release (ownership for upgrades). */
const HELM_LABELS = { 'app.kubernetes.io/managed-by': 'Helm' };
const HELM_ANNOTATIONS = { 'meta.helm.sh/release-name': 'cilium', 'meta.helm.sh/release-namespace': 'kube-system' };

const init = (name: string, command: string[]): Record<string, unknown> => ({ name, image: AGENT_IMAGE, imagePullPolicy: 'IfNotPresent', command, terminationMessagePolicy: 'FallbackToLogsOnError' });

function agent(): SystemObject {
  const labels = { 'k8s-app': 'cilium', 'app.kubernetes.io/name': 'cilium-agent', 'app.kubernetes.io/part-of': 'cilium' };
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet',
    metadata: { name: 'cilium', namespace: 'kube-system', labels: { ...labels, ...HELM_LABELS }, annotations: HELM_ANNOTATIONS },
    spec: {
      selector: { matchLabels: { 'k8s-app': 'cilium' } },
      updateStrategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 2 }, type: 'RollingUpdate' },
      template: {
        metadata: { annotations: { 'kubectl.kubernetes.io/default-container': 'cilium-agent' }, labels },
        spec: {
          containers: [{
            name: 'cilium-agent', image: AGENT_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['cilium-agent'], args: ['--config-dir=/tmp/cilium/config-map'],
            ports: [{ name: 'peer-service', containerPort: 4244, protocol: 'TCP' }, { name: 'prometheus', containerPort: 9962, protocol: 'TCP' }, { name: 'hubble-metrics', containerPort: 9965, protocol: 'TCP' }],
          }],
          initContainers: [
            init('config', ['cilium-dbg', 'build-config']),
            init('mount-cgroup', ['sh', '-ec', 'cp /usr/bin/cilium-mount /hostbin/cilium-mount;\nnsenter --cgroup=/hostproc/1/ns/cgroup --mount=/hostproc/1/ns/mnt "${BIN_PATH}/cilium-mount" $CGROUP_ROOT;\nrm /hostbin/cilium-mount\n']),
            init('apply-sysctl-overwrites', ['sh', '-ec', 'cp /usr/bin/cilium-sysctlfix /hostbin/cilium-sysctlfix;\nnsenter --mount=/hostproc/1/ns/mnt "${BIN_PATH}/cilium-sysctlfix";\nrm /hostbin/cilium-sysctlfix\n']),
            init('mount-bpf-fs', ['/bin/bash', '-c', '--']),
            init('clean-cilium-state', ['/init-container.sh']),
            init('install-cni-binaries', ['/install-plugin.sh']),
          ],
          hostNetwork: true, priorityClassName: 'system-node-critical', restartPolicy: 'Always', serviceAccountName: 'cilium',
          terminationGracePeriodSeconds: 1, nodeSelector: LINUX, tolerations: EVERYWHERE,
        },
      },
    },
  };
}

function envoy(): SystemObject {
  const labels = { 'k8s-app': 'cilium-envoy', 'app.kubernetes.io/part-of': 'cilium', 'app.kubernetes.io/name': 'cilium-envoy', name: 'cilium-envoy' };
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet',
    metadata: { name: 'cilium-envoy', namespace: 'kube-system', labels: { ...labels, ...HELM_LABELS }, annotations: HELM_ANNOTATIONS },
    spec: {
      selector: { matchLabels: { 'k8s-app': 'cilium-envoy' } },
      updateStrategy: { rollingUpdate: { maxUnavailable: 2 }, type: 'RollingUpdate' },
      template: {
        metadata: { labels },
        spec: {
          containers: [{
            name: 'cilium-envoy', image: ENVOY_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['/usr/bin/cilium-envoy-starter'],
            args: ['--', '-c /var/run/cilium/envoy/bootstrap-config.json', '--base-id 0', '--log-level info'],
            ports: [{ name: 'envoy-metrics', containerPort: 9964, protocol: 'TCP' }],
          }],
          hostNetwork: true, priorityClassName: 'system-node-critical', restartPolicy: 'Always', serviceAccountName: 'cilium-envoy',
          terminationGracePeriodSeconds: 1, nodeSelector: LINUX, tolerations: EVERYWHERE,
        },
      },
    },
  };
}

function operator(): SystemObject {
  const selector = { 'io.cilium/app': 'operator', name: 'cilium-operator' };
  const labels = { ...selector, 'app.kubernetes.io/part-of': 'cilium', 'app.kubernetes.io/name': 'cilium-operator' };
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'cilium-operator', namespace: 'kube-system', labels: { ...labels, ...HELM_LABELS }, annotations: HELM_ANNOTATIONS },
    spec: {
      replicas: 1, selector: { matchLabels: selector },
      strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: '50%' }, type: 'RollingUpdate' },
      template: {
        metadata: { labels },
        spec: {
          containers: [{
            name: 'cilium-operator', image: OPERATOR_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['cilium-operator-generic'],
            args: ['--config-dir=/tmp/cilium/config-map', '--debug=$(CILIUM_DEBUG)'],
            ports: [{ name: 'prometheus', containerPort: 9963, protocol: 'TCP' }],
          }],
          hostNetwork: true, priorityClassName: 'system-cluster-critical', restartPolicy: 'Always', serviceAccountName: 'cilium-operator',
          nodeSelector: LINUX, tolerations: EVERYWHERE,
        },
      },
    },
  };
}

/** The chart's workloads, in the order helm applies them (DaemonSets, then Deployments). */
export function ciliumSystemObjects(): SystemObject[] {
  return [agent(), envoy(), operator()];
}
