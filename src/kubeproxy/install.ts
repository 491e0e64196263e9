// kube-proxy as kubeadm installs it: a host-network DaemonSet in kube-system,
// one pod per node (kubeadm's manifests/proxy addon). The image tag is the
// release whose rules src/kubeproxy writes (v1.30).

import type { SystemObject } from '../datapath/contract.ts';

export const KUBE_PROXY_IMAGE = 'registry.k8s.io/kube-proxy:v1.30.4';

export function kubeProxySystemObjects(): SystemObject[] {
  const labels = { 'k8s-app': 'kube-proxy' };
  return [{
    apiVersion: 'apps/v1', kind: 'DaemonSet',
    metadata: { name: 'kube-proxy', namespace: 'kube-system', labels },
    spec: {
      selector: { matchLabels: labels },
      updateStrategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 }, type: 'RollingUpdate' },
      template: {
        metadata: { labels },
        spec: {
          containers: [{
            name: 'kube-proxy', image: KUBE_PROXY_IMAGE, imagePullPolicy: 'IfNotPresent',
            command: ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=$(NODE_NAME)'],
            securityContext: { privileged: true },
          }],
          hostNetwork: true, priorityClassName: 'system-node-critical', serviceAccountName: 'kube-proxy',
          nodeSelector: { 'kubernetes.io/os': 'linux' }, tolerations: [{ operator: 'Exists' }],
        },
      },
    },
  }];
}
