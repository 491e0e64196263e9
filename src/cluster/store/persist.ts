// How a Cluster uses a store: which cluster owns it, what the datapath keeps
// beside the objects, and where a lab's data directory is by default.

import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { Cni, ServiceProxy } from '../../datapath/contract.ts';
import type { CorednsPin } from '../kube/bootstrap.ts';
import type { KObject } from '../kube/types.ts';
import type { ClusterSpec } from '../spec.ts';
import { StoreError, type StoreOwner } from './store.ts';

/** The owner a store records: the cluster's name, a hash of what it was built from, and the seed. */
export function storeOwner(spec: ClusterSpec, manifests: KObject[], coredns: CorednsPin | undefined, seed: number): StoreOwner {
  const fingerprint = createHash('sha256').update(JSON.stringify({ spec, manifests, coredns: coredns ?? null })).digest('hex');
  return { label: `cluster "${spec.name}"`, fingerprint, seed };
}

/** What the CNI and the service proxy keep (Cilium: identities). */
export function datapathMemory(cni: Cni, proxy: ServiceProxy): unknown {
  return { cni: cni.memory?.save() ?? null, serviceProxy: proxy.memory?.save() ?? null };
}

/** Gives the datapath back what it kept, before any pod is added; a value it cannot use means a damaged store. */
export function restoreDatapath(cni: Cni, proxy: ServiceProxy, saved: unknown, path: string): void {
  const s = saved as { cni?: unknown; serviceProxy?: unknown } | undefined;
  try {
    if (s?.cni != null) cni.memory?.restore(s.cni);
    if (s?.serviceProxy != null) proxy.memory?.restore(s.serviceProxy);
  } catch (e) {
    throw new StoreError(`the store ${path} is damaged (${(e as Error).message}): start afresh with \`dplab serve --reset\` (deletes the saved objects)`);
  }
}

/** `$XDG_STATE_HOME/dplab/<name>` (`~/.local/state/dplab/<name>` when unset or relative, as the XDG spec says). */
export function defaultDataDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'dplab', dirName(name));
}

/** A name as one path segment: anything but [A-Za-z0-9._-] becomes `_`; `.`/`..` cannot escape. */
function dirName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return safe === '' || /^\.+$/.test(safe) ? `_${safe}` : safe;
}
