// kubectl with its output streamed, for commands that run until interrupted:
// `kubectl exec ... -- hubble observe -f` in a Cilium agent pod prints each
// flow as it comes and stops when signal aborts (the client's Ctrl-C closes
// the stream). kubectl itself runs as always (pod and container checks, its
// errors); only the agent pod's `hubble observe` is run streamed, straight on
// that node's observer. Anything else runs as the one-shot command it is and
// its output is written when it ends.

import type { HubbleService } from '../../hubble/service.ts';
import { agentHubbleStream, isHubbleObserve, type StreamWrite } from '../exec/hubble.ts';
import type { RemoteEnv } from '../exec/hubble_remote.ts';
import { runKubectl, type KubectlHost } from './index.ts';

export type { StreamWrite };

export interface StreamHost extends KubectlHost {
  /** That node's Hubble observer (undefined: no Hubble on it). */
  hubbleNode(node: string): HubbleService | undefined;
  /** Where that node's `hubble --server HOST:PORT` dials from. */
  hubbleRemoteEnv(node: string): RemoteEnv | undefined;
}

/** Runs kubectl argv, streaming what it prints to write; the exit code. */
export async function runKubectlStream(host: StreamHost, argv: string[], write: StreamWrite, signal: AbortSignal): Promise<number> {
  let streamed = false;
  const streaming: KubectlHost = {
    api: host.api, sim: host.sim,
    exec: (ns, pod, command, stdin) => host.exec(ns, pod, command, stdin),
    identityOf: (ns, pod) => host.identityOf(ns, pod),
    nodeExec: async (node, command, stdin) => {
      // A host-network pod's command on its node: the agent pod's hubble, if Cilium's Hubble runs there.
      if (!isHubbleObserve(command) || !host.hubbleNode(node)) return host.nodeExec(node, command, stdin);
      streamed = true;
      const exitCode = await agentHubbleStream(host.hubbleNode(node), command.slice(1), host.sim.wallMs(), write, signal, () => host.hubbleRemoteEnv(node));
      return { stdout: '', stderr: '', exitCode };
    },
  };
  const r = await runKubectl(streaming, argv);
  if (r.stdout) await write('stdout', r.stdout);
  if (r.stderr) await write('stderr', r.stderr);
  // An interrupted follow is not a failure of the command.
  return streamed && signal.aborted ? 0 : r.exitCode;
}
