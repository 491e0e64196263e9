// kindnet as kind installs it (kind's default CNI manifest): a host-network
// DaemonSet `kindnet` in kube-system, one kindnet-cni pod per node.

import type { SystemObject } from '../../datapath/contract.ts';

export const KINDNET_IMAGE = 'docker.io/kindest/kindnetd:v20240813-c6f155d6';

export function kindnetSystemObjects(podSubnet: string): SystemObject[] {
  const labels = { app: 'kindnet', 'k8s-app': 'kindnet', tier: 'node' };
  return [{
    apiVersion: 'apps/v1', kind: 'DaemonSet',
    metadata: { name: 'kindnet', namespace: 'kube-system', labels },
    spec: {
      selector: { matchLabels: { app: 'kindnet' } },
      template: {
        metadata: { labels },
        spec: {
          containers: [{
            name: 'kindnet-cni', image: KINDNET_IMAGE,
            env: [{ name: 'POD_SUBNET', value: podSubnet }],
            securityContext: { capabilities: { add: ['NET_RAW', 'NET_ADMIN'] }, privileged: false },
          }],
          hostNetwork: true, serviceAccountName: 'kindnet', nodeSelector: { 'kubernetes.io/os': 'linux' }, tolerations: [{ operator: 'Exists' }],
        },
      },
    },
  }];
}
