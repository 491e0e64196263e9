// `kubectl describe` for pods, services, endpoints and nodes (the common
// sections, kubectl's label/value layout).

import type { Any, KObject } from '../kube/types.ts';
import { tabwrite } from './format.ts';
import type { KubectlHost } from './index.ts';

function kv(map: Record<string, string> | undefined, indent: string): string {
  const e = Object.entries(map ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (e.length === 0) return '<none>';
  return e.map(([k, v], i) => `${i ? indent : ''}${k}=${v}`).join('\n');
}

/** LEVEL_0 "Label:\tvalue" lines through describe's tabwriter (padding 2). */
function block(pairs: Array<[string, string]>): string {
  const w = Math.max(...pairs.map(([k]) => k.length + 1)) + 2;
  return pairs.map(([k, v]) => {
    const lines = v.split('\n');
    return `${`${k}:`.padEnd(w)}${lines[0]}${lines.slice(1).map((l) => `\n${' '.repeat(w)}${l.trimStart()}`).join('')}`;
  }).join('\n');
}

/**
 * describe service's Endpoints line (kubectl 1.30 formatEndpointSlices): the
 * ready addresses of the service's EndpointSlices for that port, in slice
 * order, the first three then "+ N more...".
 */
function endpointsOf(host: KubectlHost, svc: KObject, portName: string | undefined): string {
  const slices = host.api.list('EndpointSlice', svc.metadata.namespace).filter((sl) => sl.metadata.labels?.['kubernetes.io/service-name'] === svc.metadata.name);
  const out: string[] = [];
  for (const sl of slices) {
    const port = ((sl as Any).ports ?? []).find((p: Any) => (p.name ?? '') === (portName ?? ''));
    if (!port) continue;
    for (const ep of (sl as Any).endpoints ?? []) if (ep.conditions?.ready !== false) for (const a of ep.addresses ?? []) out.push(`${a}:${port.port}`);
  }
  if (out.length === 0) return '<none>';
  return out.length > 3 ? `${out.slice(0, 3).join(',')} + ${out.length - 3} more...` : out.join(',');
}

function when(ts: string | undefined): string {
  return ts ? new Date(ts).toUTCString().replace('GMT', '+0000') : '<unknown>';
}

/** The scheduler's FailedScheduling event of a Pending pod (kept as its PodScheduled condition), else none. */
function podEvents(o: KObject, nowMs: number): string {
  const c = (o.status?.conditions ?? []).find((x: Any) => x.type === 'PodScheduled' && x.status === 'False');
  if (!c) return 'Events:                      <none>';
  const age = Math.max(0, Math.round((nowMs - Date.parse(c.lastTransitionTime)) / 1000));
  return `Events:\n${tabwrite([['  Type', 'Reason', 'Age', 'From', 'Message'], ['  ----', '------', '----', '----', '-------'], ['  Warning', 'FailedScheduling', `${age}s`, 'default-scheduler', c.message]]).trimEnd()}`;
}

export function describe(host: KubectlHost, o: KObject): string {
  const m = o.metadata;
  switch (o.kind) {
    case 'Pod': {
      const cs: Any[] = o.status?.containerStatuses ?? [];
      const containers = o.spec.containers.map((c: Any) => {
        const st = cs.find((x) => x.name === c.name);
        const port = (c.ports ?? []).map((p: Any) => `${p.containerPort}/${p.protocol}`).join(', ') || '<none>';
        return [`  ${c.name}:`,
          `    Container ID:  ${st?.containerID ?? ''}`, `    Image:         ${c.image}`, `    Image ID:      ${st?.imageID ?? ''}`,
          `    Port:          ${port}`, `    Host Port:     ${port === '<none>' || o.spec.hostNetwork ? port : port.replace(/\d+\//g, '0/')}`,
          ...(c.command ? ['    Command:', ...c.command.map((x: string) => `      ${x}`)] : []),
          ...(c.args ? ['    Args:', ...c.args.map((x: string) => `      ${x}`)] : []),
          // An unscheduled pod has no container yet: kubectl prints no state for it.
          ...(st ? ['    State:          Running', `      Started:      ${when(st.state?.running?.startedAt)}`,
            `    Ready:          ${st.ready ? 'True' : 'False'}`, `    Restart Count:  ${st.restartCount ?? 0}`] : []),
          `    Environment:    ${(c.env ?? []).length ? '' : '<none>'}`, ...(c.env ?? []).map((e: Any) => `      ${e.name}:  ${e.value}`),
        ].join('\n');
      }).join('\n');
      return `${block([['Name', m.name], ['Namespace', m.namespace!], ['Priority', String(o.spec.priority ?? 0)], ['Service Account', o.spec.serviceAccountName],
        ['Node', o.spec.nodeName ? `${o.spec.nodeName}/${o.status?.hostIP ?? ''}` : '<none>'], ['Start Time', when(o.status?.startTime)], ['Labels', kv(m.labels, '')], ['Annotations', kv(m.annotations, '')],
        ['Status', o.status?.phase ?? 'Pending'], ['IP', o.status?.podIP ?? '']])}\nIPs:\n  IP:  ${o.status?.podIP ?? ''}\n${m.ownerReferences?.length ? `Controlled By:  ${m.ownerReferences[0]!.kind}/${m.ownerReferences[0]!.name}\n` : ''}Containers:\n${containers}\nConditions:\n${tabwrite([['  Type', 'Status'], ...(o.status?.conditions ?? []).map((c: Any) => [`  ${c.type}`, c.status])]).trimEnd()}\nQoS Class:                   ${o.status?.qosClass ?? 'BestEffort'}\nNode-Selectors:              ${kv(o.spec.nodeSelector, '')}\n${podEvents(o, host.sim.wallMs())}`;
    }
    case 'Service': {
      const s = o.spec;
      const lines: Array<[string, string]> = [['Name', m.name], ['Namespace', m.namespace!], ['Labels', kv(m.labels, '')], ['Annotations', kv(m.annotations, '')], ['Selector', Object.entries(s.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>'], ['Type', s.type]];
      if (s.type !== 'ExternalName') lines.push(['IP Family Policy', s.ipFamilyPolicy], ['IP Families', 'IPv4'], ['IP', s.clusterIP], ['IPs', s.clusterIP]);
      else lines.push(['External Name', s.externalName]);
      for (const ip of s.externalIPs ?? []) lines.push(['External IPs', ip]);
      for (const ing of o.status?.loadBalancer?.ingress ?? []) lines.push(['LoadBalancer Ingress', `${ing.ip} (${ing.ipMode ?? 'VIP'})`]);
      for (const p of s.ports ?? []) {
        lines.push(['Port', `${p.name || '<unset>'}  ${p.port}/${p.protocol}`], ['TargetPort', `${p.targetPort}/${p.protocol}`]);
        if (p.nodePort) lines.push(['NodePort', `${p.name || '<unset>'}  ${p.nodePort}/${p.protocol}`]);
        lines.push(['Endpoints', endpointsOf(host, o, p.name)]);
      }
      lines.push(['Session Affinity', s.sessionAffinity]);
      if (s.externalTrafficPolicy) lines.push(['External Traffic Policy', s.externalTrafficPolicy]);
      if (s.internalTrafficPolicy) lines.push(['Internal Traffic Policy', s.internalTrafficPolicy]);
      lines.push(['Events', '<none>']);
      return block(lines);
    }
    case 'Endpoints': {
      const subs = (o.subsets ?? []).map((sub: Any) => `  Addresses:          ${(sub.addresses ?? []).map((a: Any) => a.ip).join(',') || '<none>'}\n  NotReadyAddresses:  ${(sub.notReadyAddresses ?? []).map((a: Any) => a.ip).join(',') || '<none>'}\n  Ports:\n${tabwrite([['    Name', 'Port', 'Protocol'], ['    ----', '----', '--------'], ...(sub.ports ?? []).map((p: Any) => [`    ${p.name || '<unset>'}`, String(p.port), p.protocol])]).trimEnd()}`);
      return `${block([['Name', m.name], ['Namespace', m.namespace!], ['Labels', kv(m.labels, '')], ['Annotations', kv(m.annotations, '')]])}\nSubsets:\n${subs.join('\n\n')}\n\nEvents:  <none>`;
    }
    case 'Node': {
      const addrs = (o.status.addresses ?? []).map((a: Any) => `  ${a.type}:  ${a.address}`).join('\n');
      return `${block([['Name', m.name], ['Roles', Object.keys(m.labels ?? {}).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice(24)).join(',') || '<none>'], ['Labels', kv(m.labels, '')], ['Annotations', kv(m.annotations, '')], ['CreationTimestamp', when(m.creationTimestamp)], ['Taints', (o.spec.taints ?? []).map((t: Any) => `${t.key}:${t.effect}`).join('\n') || '<none>']])}\nAddresses:\n${addrs}\nSystem Info:\n  Kernel Version:             ${o.status.nodeInfo.kernelVersion}\n  OS Image:                   ${o.status.nodeInfo.osImage}\n  Container Runtime Version:  ${o.status.nodeInfo.containerRuntimeVersion}\n  Kubelet Version:            ${o.status.nodeInfo.kubeletVersion}\nPodCIDR:                      ${o.spec.podCIDR}\nPodCIDRs:                     ${o.spec.podCIDRs.join(',')}\nEvents:                       <none>`;
    }
    case 'DaemonSet': return describeDaemonSet(host, o);
    default:
      return block([['Name', m.name], ...(m.namespace ? [['Namespace', m.namespace] as [string, string]] : []), ['Labels', kv(m.labels, '')], ['Annotations', kv(m.annotations, '')], ['API Version', o.apiVersion], ['Kind', o.kind]]);
  }
}

/** kubectl's DescribeDaemonSet: counts, pod phases of its pods, the template's containers. */
function describeDaemonSet(host: KubectlHost, o: KObject): string {
  const m = o.metadata, st = o.status ?? {}, t = o.spec.template;
  const pods = host.api.list('Pod', m.namespace).filter((p) => p.metadata.ownerReferences?.some((r) => r.controller && r.uid === m.uid));
  const phase = (ph: string) => pods.filter((p) => (p.status?.phase ?? 'Pending') === ph).length;
  const ann = Object.entries(m.annotations ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v], i) => `${i ? '                ' : ''}${k}: ${v}`).join('\n') || '<none>';
  // describe's container block: one port is "Port:", several "Ports:"; a host-network pod's host ports are its container ports.
  const container = (c: Any): string => {
    const ports = (c.ports ?? []).map((p: Any) => `${p.containerPort}/${p.protocol}`);
    const many = ports.length > 1;
    const host = t.spec.hostNetwork ? ports : (c.ports ?? []).map((p: Any) => `${p.hostPort ?? 0}/${p.protocol}`);
    return [`   ${c.name}:`, `    Image:      ${c.image}`,
      `    ${many ? 'Ports:     ' : 'Port:      '} ${ports.join(', ') || '<none>'}`, `    ${many ? 'Host Ports:' : 'Host Port: '} ${host.join(', ') || '<none>'}`,
      // describeContainerCommand: every line of every word on its own indented line.
      ...(c.command ? ['    Command:', ...c.command.flatMap((x: string) => x.split('\n')).map((x: string) => `      ${x}`)] : []),
      ...(c.args ? ['    Args:', ...c.args.flatMap((x: string) => x.split('\n')).map((x: string) => `      ${x}`)] : []),
    ].join('\n');
  };
  const containers = (t.spec.containers as Any[]).map(container).join('\n');
  const inits = (t.spec.initContainers as Any[] | undefined ?? []).map(container).join('\n');
  return [
    `Name:           ${m.name}`, `Selector:       ${Object.entries(o.spec.selector.matchLabels).map(([k, v]) => `${k}=${v}`).join(',')}`,
    `Node-Selector:  ${Object.entries(t.spec.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>'}`,
    `Labels:         ${kv(m.labels, '                ')}`, `Annotations:    ${ann}`,
    `Desired Number of Nodes Scheduled: ${st.desiredNumberScheduled ?? 0}`, `Current Number of Nodes Scheduled: ${st.currentNumberScheduled ?? 0}`,
    `Number of Nodes Scheduled with Up-to-date Pods: ${st.updatedNumberScheduled ?? 0}`, `Number of Nodes Scheduled with Available Pods: ${st.numberAvailable ?? 0}`,
    `Number of Nodes Misscheduled: ${st.numberMisscheduled ?? 0}`,
    `Pods Status:  ${phase('Running')} Running / ${phase('Pending')} Waiting / ${phase('Succeeded')} Succeeded / ${phase('Failed')} Failed`,
    'Pod Template:', `  Labels:           ${kv(t.metadata?.labels, '                    ')}`,
    ...(t.metadata?.annotations ? [`  Annotations:      ${kv(t.metadata.annotations, '                    ').replace(/=/g, ': ')}`] : []),
    `  Service Account:  ${t.spec.serviceAccountName}`,
    ...(inits ? ['  Init Containers:', inits] : []), '  Containers:', containers,
    '  Volumes:                  <none>', `  Priority Class Name:      ${t.spec.priorityClassName ?? '<none>'}`,
    `  Node-Selectors:           ${Object.entries(t.spec.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>'}`,
    `  Tolerations:              ${(t.spec.tolerations ?? []).map((x: Any) => (x.key ? `${x.key}${x.operator === 'Exists' ? '' : `=${x.value ?? ''}`}:${x.effect ?? ''}${x.operator === 'Exists' ? ' op=Exists' : ''}` : 'op=Exists')).join('\n                            ') || '<none>'}`,
    'Events:                     <none>',
  ].join('\n');
}
