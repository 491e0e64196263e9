// `kubectl port-forward TYPE/NAME [LOCAL:]REMOTE...`: the part that reads
// the API (kubectl 1.30's portforward.go: the pod a TYPE/NAME lands on, a
// Service's ports translated to the pod's target ports, client-go's parsePorts
// with their error texts) and kubelet's part (a TCP connection to
// localhost:PORT inside the pod's network namespace). Listening on the user's
// machine is the CLI's (src/cli/port_forward.ts).

import { SocketError, type Netns, type TcpConnection } from '../../kernel/api.ts';
import { ClusterError } from '../facade.ts';
import type { KubeApi } from '../kube/api.ts';
import type { Any, KObject } from '../kube/types.ts';
import { execPod } from './exec_target.ts';

export interface ForwardedPort { local: number; remote: number }
/** Where kubectl forwards to: the pod and the ports, remote ports as the pod listens on them. */
export interface PortForwardPlan { namespace: string; pod: string; ports: ForwardedPort[] }

/** Ports one port-forward may ask for (kubectl has no limit; each is a listener here). */
export const MAX_FORWARDED_PORTS = 16;

const LOCALHOST = 0x7f000001;

/** "[LOCAL:]REMOTE" as kubectl's splitPort splits it. */
function splitPort(port: string): [string, string] {
  const parts = port.split(':');
  return parts.length === 2 ? [parts[0]!, parts[1]!] : [parts[0]!, parts[0]!];
}

/** Go's strconv.ParseUint(s, 10, 16) error text, or the value. */
function parseUint16(s: string): number | string {
  if (!/^\d+$/.test(s)) return `strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`;
  const n = Number(s);
  return n > 65535 ? `strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range` : n;
}

function fail(message: string, status = 400): never { throw new ClusterError(`error: ${message}`, status, 'ports'); }

/** util.LookupContainerPortNumberByName. */
function containerPortByName(pod: KObject, name: string): number {
  for (const c of pod.spec.containers ?? []) for (const p of c.ports ?? []) if (p.name === name) return p.containerPort;
  return fail(`Pod '${pod.metadata.name}' does not have a named port '${name}'`);
}

/** translateServicePortToTargetPort: each REMOTE is a service port (number or name) turned into the pod's port. */
function translateServicePorts(svc: KObject, pod: KObject, ports: string[]): string[] {
  return ports.map((port) => {
    let [local, remote] = splitPort(port);
    let portnum = /^[+-]?\d+$/.test(remote) ? Number(remote) : NaN;
    if (Number.isNaN(portnum)) {
      const named = (svc.spec.ports ?? []).find((p: Any) => p.name === remote);
      if (!named) fail(`Service '${svc.metadata.name}' does not have a named port '${remote}'`);
      portnum = named.port;
      if (local === remote) local = String(portnum);
    }
    if (portnum < 0 || portnum > 65535) fail(`port ${port} is not a valid port number`);
    const sp = (svc.spec.ports ?? []).find((p: Any) => p.port === portnum);
    if (!sp) fail(`Service ${svc.metadata.name} does not have a service port ${portnum}`);
    let target: number;
    if (svc.spec.clusterIP === 'None') target = portnum;
    else if (typeof sp.targetPort === 'string' && !/^\d+$/.test(sp.targetPort)) target = containerPortByName(pod, sp.targetPort);
    else target = Number(sp.targetPort ?? 0) || sp.port;
    remote = String(target);
    return local !== remote ? `${local}:${remote}` : remote;
  });
}

/** convertPodNamedPortToNumber: a named REMOTE is the pod's container port of that name. */
function podNamedPorts(pod: KObject, ports: string[]): string[] {
  return ports.map((port) => {
    const [local, remote] = splitPort(port);
    if (/^\d+$/.test(remote)) return port;
    const n = containerPortByName(pod, remote);
    return local === remote ? String(n) : `${local}:${n}`;
  });
}

/** client-go's parsePorts. */
function parsePorts(ports: string[]): ForwardedPort[] {
  return ports.map((s) => {
    const parts = s.split(':');
    let localS: string, remoteS: string;
    if (parts.length === 1) localS = remoteS = parts[0]!;
    else if (parts.length === 2) { localS = parts[0] === '' ? '0' : parts[0]!; remoteS = parts[1]!; }
    else return fail(`invalid port format '${s}'`);
    const local = parseUint16(localS);
    if (typeof local === 'string') fail(`error parsing local port '${localS}': ${local}`);
    const remote = parseUint16(remoteS);
    if (typeof remote === 'string') fail(`error parsing remote port '${remoteS}': ${remote}`);
    if (remote === 0) fail('remote port must be > 0');
    return { local, remote };
  });
}

/** The plan for `kubectl port-forward -n NAMESPACE RESOURCE PORTS...`; ClusterError with kubectl's line otherwise. */
export function portForwardPlan(api: KubeApi, namespace: string, resource: string, ports: string[]): PortForwardPlan {
  if (resource === '' || ports.length === 0) fail('TYPE/NAME and list of ports are required for port-forward\nSee \'kubectl port-forward -h\' for help and examples');
  if (ports.length > MAX_FORWARDED_PORTS) fail(`dplab forwards at most ${MAX_FORWARDED_PORTS} ports at once`);
  const slash = resource.indexOf('/');
  const isService = slash > 0 && /^(services?|svc)$/i.test(resource.slice(0, slash));
  const { name, pod } = execPod(api, namespace, resource);
  if (!pod) throw new ClusterError(`Error from server (NotFound): pods "${name}" not found`, 404, 'pod');
  const translated = isService ? translateServicePorts(api.get('Service', namespace, resource.slice(slash + 1))!, pod, ports) : podNamedPorts(pod, ports);
  const parsed = parsePorts(translated);
  if (pod.status?.phase !== 'Running') fail(`unable to forward port because pod is not running. Current status=${pod.status?.phase ?? 'Pending'}`);
  return { namespace, pod: pod.metadata.name, ports: parsed };
}

/**
 * kubelet's port-forward: a TCP connection to localhost:port in the pod's
 * network namespace (the node's for a host-network pod). A refused
 * connection is kubelet's error, which kubectl prints for that connection.
 */
export async function podConnect(netns: Netns, podName: string, port: number): Promise<TcpConnection> {
  try {
    return await netns.sockets.tcpConnect({ ip: LOCALHOST, port }, { timeoutNs: 5e9 });
  } catch (e) {
    if (!(e instanceof SocketError)) throw e;
    const why = e.code === 'ECONNREFUSED' ? 'connect: connection refused' : e.code === 'ETIMEDOUT' ? 'i/o timeout' : e.message;
    throw new ClusterError(`error forwarding port ${port} to pod ${podName}, uid : failed to connect to localhost:${port} inside namespace ${JSON.stringify(netns.name)}, IPv4: dial tcp4 127.0.0.1:${port}: ${why}`, 502, 'port');
  }
}
