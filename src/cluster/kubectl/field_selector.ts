// `kubectl get --field-selector`: the fields the API server can select on
// (metadata.name and metadata.namespace for every kind; pods add the ones of
// pod/strategy.go's PodToSelectableFields), with =, == and !=, comma-ANDed.

import { ClusterError } from '../facade.ts';
import { kindInfo, type Any, type KObject } from '../kube/types.ts';

const POD_FIELDS: Record<string, (p: KObject) => string> = {
  'spec.nodeName': (p) => p.spec?.nodeName ?? '',
  'spec.restartPolicy': (p) => p.spec?.restartPolicy ?? '',
  'spec.schedulerName': (p) => p.spec?.schedulerName ?? '',
  'spec.serviceAccountName': (p) => p.spec?.serviceAccountName ?? '',
  'spec.hostNetwork': (p) => String(!!p.spec?.hostNetwork),
  'status.phase': (p) => p.status?.phase ?? '',
  'status.podIP': (p) => p.status?.podIP ?? '',
  'status.podIPs': (p) => (p.status?.podIPs ?? []).map((x: Any) => x.ip).join(','),
  'status.nominatedNodeName': (p) => p.status?.nominatedNodeName ?? '',
};

/** objs of kind that match every term of sel; BadRequest naming an unsupported field or a malformed term. */
export function byFieldSelector(objs: KObject[], kind: string, sel: string, labelSel = ''): KObject[] {
  const info = kindInfo(kind)!;
  const gv = info.apiVersion === 'v1' ? '/v1' : info.apiVersion;
  const bad = (why: string): never => {
    throw new ClusterError(`Error from server (BadRequest): Unable to find "${gv}, Resource=${info.resource}" that match label selector "${labelSel}", field selector "${sel}": ${why}`, 400, 'field-selector');
  };
  const terms = sel.split(',').filter(Boolean).map((term) => {
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(term);
    if (!m) bad(`invalid selector: '${term}'; can't understand '${term}'`);
    const field = m![1]!.trim();
    const get = field === 'metadata.name' ? (o: KObject) => o.metadata.name
      : field === 'metadata.namespace' ? (o: KObject) => o.metadata.namespace ?? ''
      : kind === 'Pod' ? POD_FIELDS[field] : undefined;
    if (!get) bad(`field label not supported: ${field}`);
    return { get: get!, neg: m![2] === '!=', value: m![3]!.trim() };
  });
  return objs.filter((o) => terms.every((t) => (t.get(o) === t.value) !== t.neg));
}
