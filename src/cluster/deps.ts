// The datapath and runtime pieces a Cluster plugs together. Injected so the
// Kubernetes side runs (and is tested) with stand-ins for each piece.

import type { DatapathRegistry } from '../datapath/registry.ts';
import { DATAPATHS } from './datapaths.ts';
import { execInPod, execOnNode } from './exec/index.ts';
import { startContainers } from './images/index.ts';
import type { ExecInPod, ExecOnNode, StartContainers } from './runtime_contract.ts';

export interface ClusterDeps {
  /** CNIs and service proxies by name; the spec's `cni` / `serviceProxy` pick from it. */
  datapaths: DatapathRegistry;
  startContainers?: StartContainers;
  execInPod?: ExecInPod;
  execOnNode?: ExecOnNode;
}

/** The real pieces: every registered datapath, container images, the exec shell. */
export const defaultDeps: ClusterDeps = { datapaths: DATAPATHS, startContainers, execInPod, execOnNode };
