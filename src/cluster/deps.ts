// The datapath and runtime pieces a Cluster plugs together. Injected so the
// Kubernetes side runs (and is tested) before or without each piece.

import type { CiliumConfig, CiliumControl } from '../cilium/api.ts';
import type { Sim } from '../sim/sim.ts';
import type { MonitorLine } from './facade.ts';
import type { ExecInPod, ExecOnNode, NodeExecContext, StartContainers } from './runtime_contract.ts';
import type { ExecResult } from './facade.ts';
import { execInPod, execOnNode } from './exec/index.ts';
import { startContainers } from './images/index.ts';
import { ciliumOnKernel, createCiliumControl, type CiliumCluster } from '../cilium/control.ts';
import { runCiliumDbg } from '../cilium/dbg/index.ts';
import { NODE_CPUS } from '../cilium/dbg/status.ts';
import { monitorHeader } from '../cilium/monitor.ts';

export interface ClusterDeps {
  /** Build the Cilium control plane (src/cilium createCiliumControl). */
  createCilium?: (sim: Sim, config: CiliumConfig) => CiliumControl;
  startContainers?: StartContainers;
  execInPod?: ExecInPod;
  execOnNode?: ExecOnNode;
  /** Extra node commands (cilium-dbg, bpftool...) for nodeExec. */
  nodeCommands?: (ctx: NodeExecContext) => Record<string, (argv: string[], stdin: string) => Promise<ExecResult>>;
  /** `cilium-dbg monitor` stream of a node. */
  monitor?: (cilium: CiliumControl, node: string, cb: (l: MonitorLine) => void) => () => void;
  /** Security identity of a pod for `kubectl get ciliumendpoints`. */
  identityOf?: (cilium: CiliumControl, namespace: string, name: string) => number | undefined;
}

/** The real pieces: Cilium agents, container images, the exec shell. */
export const defaultDeps: ClusterDeps = {
  createCilium: (sim, config) => createCiliumControl(config, sim),
  startContainers,
  execInPod,
  execOnNode,
  // wallMs is stamped by Cluster.monitor from the cluster's clock.
  nodeCommands: (ctx): Record<string, (argv: string[], stdin: string) => Promise<ExecResult>> => {
    const on = ciliumOnKernel(ctx.kernel);
    if (!on) return {};
    const run = async (argv: string[]): Promise<ExecResult> => runCiliumDbg(on.ctl, on.node, argv, { nowNs: ctx.sim.now(), wallMs: ctx.sim.wallMs() });
    return { 'cilium-dbg': run, cilium: run };
  },
  monitor: (cilium, node, cb) => {
    // `cilium-dbg monitor` prints its two header lines before any event.
    for (const text of monitorHeader(NODE_CPUS)) cb({ node, text, wallMs: 0 });
    return (cilium as CiliumCluster).subscribeMonitor(node, (text) => cb({ node, text, wallMs: 0 }));
  },
};
