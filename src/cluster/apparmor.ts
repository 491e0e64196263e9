// AppArmor as a Kubernetes node runs it. The lab's nodes are Ubuntu 24.04 on
// 6.8 kernels (kube/bootstrap.ts nodeInfo), where AppArmor is on and Ubuntu's
// socket mediation with it; kubelet asks containerd for the runtime's default
// profile (cri-containerd.apparmor.d) for every container that names none,
// except privileged ones.

import type { Any, KObject } from './kube/types.ts';

/** Whether the lab's nodes run AppArmor with Ubuntu's socket mediation. */
export const NODE_APPARMOR = true;

const UNCONFINED_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';

/** True when the container's processes run confined: no `privileged`, no Unconfined profile (field or beta annotation). */
export function appArmorConfined(pod: KObject, container: Any): boolean {
  if (container.securityContext?.privileged === true) return false;
  const type = container.securityContext?.appArmorProfile?.type ?? pod.spec.securityContext?.appArmorProfile?.type;
  if (type !== undefined) return type !== 'Unconfined';
  return pod.metadata.annotations?.[UNCONFINED_ANNOTATION + container.name] !== 'unconfined';
}
