// GET /v1/endpoint, /v1/endpoint/{id}, /v1/identity[/{id}]: models.Endpoint and
// models.Identity from the agent's endpoints and the identity allocator.

import { createHash } from 'node:crypto';
import { u32ToIp } from '../../wire/addr.ts';
import type { EndpointModel } from '../agent.ts';
import type { CiliumCluster } from '../control.ts';
import type { Endpoint, Identity } from './models.ts';

/**
 * labels.Labels.SHA256Sum(): sha256 over the sorted labels, each written
 * `source:key=value;` (value empty for reserved labels).
 */
export function labelsSHA256(labels: string[]): string {
  const s = [...labels].sort().map((l) => `${l.includes('=') ? l : `${l}=`};`).join('');
  return createHash('sha256').update(s).digest('hex');
}

export function identityModel(id: number, labels: string[]): Identity {
  const sorted = [...labels].sort();
  return { id, labels: sorted, labelsSHA256: labelsSHA256(sorted) };
}

/** Every identity the node's agent knows, by id. */
export function identityList(ctl: CiliumCluster, node: string): Identity[] {
  return ctl.identities().map(({ id }) => identityModel(id, ctl.identityLabels(node, id) ?? []));
}

/** Endpoint options the agent reports (defaults of a 1.16 agent without policy enforcement). */
const EP_OPTIONS: Record<string, string> = {
  Conntrack: 'Enabled', ConntrackAccounting: 'Enabled', ConntrackLocal: 'Disabled', Debug: 'Disabled', DebugLB: 'Disabled',
  DebugPolicy: 'Disabled', DropNotification: 'Enabled', MonitorAggregationLevel: 'Medium', PolicyAccounting: 'Enabled',
  PolicyAuditMode: 'Disabled', PolicyVerdictNotification: 'Enabled', SourceIPVerification: 'Enabled', TraceNotification: 'Enabled',
};

const lowerMac = (m: string) => m.toLowerCase();

export function endpointModel(ctl: CiliumCluster, node: string, ep: EndpointModel): Endpoint {
  const labels = [...ep.labels].sort();
  const policy = { id: ep.identity, build: 1, 'policy-revision': 1, 'policy-enabled': 'none' as const };
  const pod = ep.podName && ep.namespace ? { 'k8s-namespace': ep.namespace, 'k8s-pod-name': ep.podName, 'pod-name': `${ep.namespace}/${ep.podName}` } : undefined;
  // The host endpoint has one addressing entry with no address (endpoint list prints blanks, not "No address").
  const networking: Endpoint['status']['networking'] = { addressing: [ep.ipv4 ? { ipv4: u32ToIp(ep.ipv4) } : {}] };
  if (ep.nodeMac) networking['host-mac'] = lowerMac(ep.nodeMac);
  if (ep.ifindex) networking['interface-index'] = ep.ifindex;
  if (ep.ifname) networking['interface-name'] = ep.ifname;
  if (ep.mac) networking.mac = lowerMac(ep.mac);
  const status: Endpoint['status'] = {
    health: { bpf: 'OK', policy: 'OK', connected: true, overallHealth: 'OK' },
    identity: identityModel(ep.identity, ctl.identityLabels(node, ep.identity) ?? labels),
    labels: { realized: {}, 'security-relevant': labels },
    networking,
    policy: { realized: policy, spec: policy },
    state: ep.state,
  };
  if (pod) status['external-identifiers'] = pod;
  return { id: ep.id, spec: { options: EP_OPTIONS, 'label-configuration': {} }, status };
}

export function endpointList(ctl: CiliumCluster, node: string): Endpoint[] {
  return ctl.endpoints(node).map((ep) => endpointModel(ctl, node, ep));
}

/**
 * An endpoint by the id forms GET /endpoint/{id} takes: a number (cilium-local),
 * `cilium-local:N`, or `pod-name:NAMESPACE/NAME`. undefined when none matches;
 * throws a RangeError for a malformed id.
 */
export function findEndpoint(ctl: CiliumCluster, node: string, id: string): EndpointModel | undefined {
  const eps = ctl.endpoints(node);
  const m = /^(?:cilium-local:)?(\d{1,10})$/.exec(id);
  if (m) return eps.find((e) => e.id === Number(m[1]));
  const p = /^pod-name:([a-z0-9-.]+)\/([a-z0-9-.]+)$/.exec(id);
  if (p) return eps.find((e) => e.namespace === p[1] && e.podName === p[2]);
  throw new RangeError(`unsupported endpoint ID "${id}": want a number, cilium-local:N or pod-name:NAMESPACE/NAME`);
}
