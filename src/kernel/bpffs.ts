// The BPF filesystem of a node, as far as bpftool reads it: which maps are
// pinned where. A loader that pins its maps says under which directory, by
// map name (Cilium's agent: /sys/fs/bpf/tc/globals/<name>); the kernel knows
// no loader's convention.

import type { BpfMap } from '../bpf/map.ts';
import type { KernelNode } from './api.ts';
import type { LinuxNode } from './node.ts';

const pinDirs = new WeakMap<object, string[]>();

/** Every map this kernel holds is pinned at `dir/<map name>` (the loader pins each map it creates there). */
export function pinMapsUnder(kernel: KernelNode, dir: string): void {
  const dirs = pinDirs.get(kernel) ?? [];
  const d = dir.replace(/\/+$/, '');
  if (!dirs.includes(d)) pinDirs.set(kernel, [...dirs, d]);
}

/** Pinned paths per map id (bpftool -f's table). */
export function pinnedPaths(node: LinuxNode): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const dir of pinDirs.get(node) ?? []) {
    for (const m of node.maps.values()) out.set(m.id, [...(out.get(m.id) ?? []), `${dir}/${m.spec.name}`]);
  }
  return out;
}

/** The map pinned at path (`//` and `/./` folded as the VFS does), if any. */
export function mapAtPath(node: LinuxNode, path: string): BpfMap | undefined {
  const p = path.replace(/\/+/g, '/').replace(/\/(\.\/)+/g, '/');
  const slash = p.lastIndexOf('/');
  const dir = p.slice(0, slash), name = p.slice(slash + 1);
  if (!(pinDirs.get(node) ?? []).includes(dir)) return undefined;
  for (const m of node.maps.values()) if (m.spec.name === name) return m;
  return undefined;
}
