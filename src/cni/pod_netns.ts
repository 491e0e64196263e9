// The pods a CNI plumbed, by namespace/name. Deleting one deletes its netns,
// which takes the veth pair, its addresses, routes and ARP entries with it.

import type { KernelNode, Netns } from '../kernel/api.ts';

export class PodNetnsRegistry {
  private readonly pods = new Map<string, { kernel: KernelNode; netns: Netns }>();

  add(namespace: string, name: string, kernel: KernelNode, netns: Netns): void {
    this.pods.set(`${namespace}/${name}`, { kernel, netns });
  }

  delete(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const p = this.pods.get(key);
    if (!p) return;
    p.kernel.deleteNetns(p.netns.name);
    this.pods.delete(key);
  }
}
