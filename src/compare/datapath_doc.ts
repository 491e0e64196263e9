// A cluster file re-targeted at another datapath: the Cluster document's
// `datapath:` replaced (its `cni:` / `serviceProxy:` dropped), a routing mode
// the new CNI lacks dropped for that CNI's default, the manifests untouched.
// This is how compare builds "the same cluster" twice.

import { parseAllDocuments, stringify } from 'yaml';
import { DATAPATHS } from '../cluster/datapaths.ts';
import { ClusterError } from '../cluster/facade.ts';
import { isClusterDoc, kindToClusterDoc } from '../cluster/spec.ts';

type Doc = Record<string, unknown>;

/** What to change in the cluster file; each field left out keeps the file's value. */
export interface DatapathOverride {
  /** A datapath short form (`cilium`, `iptables`). */
  datapath?: string;
  /** Cilium's socket LB (ClusterIP translated at connect()). */
  socketLB?: boolean;
}

/** The cluster YAML with its Cluster document re-targeted; ClusterError on YAML it cannot parse or an unknown datapath. */
export function withDatapath(text: string, o: DatapathOverride): string {
  if (o.datapath === undefined && o.socketLB === undefined) return text;
  const docs = parseAllDocuments(text);
  for (const [i, d] of docs.entries()) {
    if (d.errors.length) throw new ClusterError(`error parsing cluster YAML: document ${i + 1}: ${d.errors[0]!.message.split('\n')[0]}`, 400, 'yaml');
  }
  const parts: string[] = [];
  let found = false;
  for (const d of docs) {
    const js = d.toJS() as Doc | null;
    if (js && typeof js === 'object' && !found && isClusterDoc(js)) {
      found = true;
      parts.push(stringify(retarget(js, o)));
    } else if (js !== null && js !== undefined) parts.push(d.toString());
  }
  if (!found) parts.unshift(stringify(retarget({ apiVersion: 'dplab.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'kind' }, spec: {} }, o)));
  return parts.join('---\n');
}

function retarget(doc: Doc, o: DatapathOverride): Doc {
  const d = String(doc.apiVersion).startsWith('kind.x-k8s.io/') ? kindToClusterDoc(doc) : structuredClone(doc);
  const spec = { ...((d.spec ?? {}) as Doc) };
  if (o.datapath !== undefined) {
    const choice = DATAPATHS.expand(o.datapath);
    if ('field' in choice) throw new ClusterError(choice.message, 400, 'datapath');
    // A plugin's own settings go only to the same plugin.
    const was = DATAPATHS.expand(typeof spec.datapath === 'string' ? spec.datapath : 'cilium');
    const wasCni = typeof spec.cni === 'string' ? spec.cni : 'field' in was ? '' : was.cni;
    const wasProxy = typeof spec.serviceProxy === 'string' ? spec.serviceProxy : 'field' in was ? '' : was.serviceProxy;
    if (wasCni !== choice.cni) delete spec.cniConfig;
    if (wasProxy !== choice.serviceProxy) delete spec.serviceProxyConfig;
    delete spec.cni;
    delete spec.serviceProxy;
    spec.datapath = o.datapath;
    const routings = DATAPATHS.routings(choice.cni) ?? [];
    if (typeof spec.routing === 'string' && !routings.includes(spec.routing)) delete spec.routing;
  }
  if (o.socketLB !== undefined) spec.socketLB = o.socketLB;
  return { ...d, spec };
}
