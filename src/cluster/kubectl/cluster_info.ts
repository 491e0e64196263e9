// `kubectl cluster-info [dump]` (kubectl 1.30 clusterinfo.go and
// clusterinfo_dump.go): the dump prints the nodes, then for kube-system and
// the current namespace its events, replication controllers, services,
// daemonsets, deployments, replicasets and pods as typed lists through the
// JSON printer (4-space indent: a pod's command words sit at 28 columns, which
// seed 000 greps), then each container's log between START/END markers.
// Simplified: fields keep the order the lab stores them in (kubectl: Go
// struct order), and the lab keeps no container logs.

import { ClusterError, type ExecResult } from '../facade.ts';
import type { KObject } from '../kube/types.ts';
import type { KubectlHost } from './index.ts';

const DUMP_KINDS: Array<[string, string]> = [['Event', 'EventList'], ['ReplicationController', 'ReplicationControllerList'], ['Service', 'ServiceList'],
  ['DaemonSet', 'DaemonSetList'], ['Deployment', 'DeploymentList'], ['ReplicaSet', 'ReplicaSetList'], ['Pod', 'PodList']];
const API_VERSION: Record<string, string> = { DaemonSetList: 'apps/v1', DeploymentList: 'apps/v1', ReplicaSetList: 'apps/v1' };

/** An item of a typed list: no kind/apiVersion of its own; metadata, spec, status first. */
function item(o: KObject): Record<string, unknown> {
  const { kind: _k, apiVersion: _a, metadata, spec, status, ...rest } = o as KObject & Record<string, unknown>;
  const out: Record<string, unknown> = { metadata };
  if (spec !== undefined) out.spec = spec;
  if (status !== undefined) out.status = status;
  return { ...out, ...rest };
}

/** The list's resourceVersion: the newest of its items' (the lab keeps no list-level version). */
function list(listKind: string, objs: KObject[]): string {
  const rv = objs.map((o) => Number(o.metadata.resourceVersion ?? 0)).reduce((a, b) => Math.max(a, b), 0);
  const v = { kind: listKind, apiVersion: API_VERSION[listKind] ?? 'v1', metadata: { resourceVersion: String(rv) }, items: objs.map(item) };
  return JSON.stringify(v, null, 4) + '\n';
}

function tryList(host: KubectlHost, kind: string, ns?: string): KObject[] {
  try { return host.api.list(kind, ns); } catch { return []; }
}

/** `kubectl cluster-info dump` (the bare `cluster-info` is not emulated: it names the kubeconfig's server). */
export function clusterInfo(host: KubectlHost, args: string[], ns: string | undefined): ExecResult {
  if (args[0] !== 'dump' || args.length > 1) throw new ClusterError(`error: only "kubectl cluster-info dump" is emulated`, 400, 'verb');
  let out = list('NodeList', tryList(host, 'Node'));
  for (const namespace of [...new Set(['kube-system', ns ?? 'default'])]) {
    for (const [kind, listKind] of DUMP_KINDS) out += list(listKind, tryList(host, kind, namespace));
    for (const pod of tryList(host, 'Pod', namespace)) {
      for (const c of (pod.spec?.containers ?? []) as Array<{ name: string }>) {
        out += `==== START logs for container ${c.name} of pod ${namespace}/${pod.metadata.name} ====\n==== END logs for container ${c.name} of pod ${namespace}/${pod.metadata.name} ====\n`;
      }
    }
  }
  return { stdout: out + 'Cluster info dumped to standard output\n', stderr: '', exitCode: 0 };
}
