// Services: validation and defaulting as the API server does, ClusterIP
// allocation from the service CIDR, NodePort allocation (30000-32767) and
// LoadBalancer ingress IPs from the cluster's pool.

import { inPrefix, u32ToIp } from '../../wire/addr.ts';
import { draw, listObjs, type KubeEnv, type KubeState } from './state.ts';
import type { Any, KObject } from './types.ts';
import { asArray, badValue, checkIp, checkLabels, checkNonSpecialIp, checkPort, checkPortName, checkProtocol, dns1123SubdomainErrors, invalid, parseCidrStrict } from './validate.ts';

const TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
export const NODEPORT_MIN = 30000, NODEPORT_MAX = 32767;

function others(s: KubeState, svc: KObject): KObject[] {
  return listObjs(s, 'Service').filter((o) => !(o.metadata.namespace === svc.metadata.namespace && o.metadata.name === svc.metadata.name));
}

/** Validate, default and allocate a Service in place; `old` is the stored version on update. */
export function admitService(s: KubeState, env: KubeEnv, svc: KObject, old?: KObject): void {
  const spec: Any = (svc.spec ??= {});
  const type = spec.type ?? 'ClusterIP';
  if (!TYPES.includes(type)) invalid(svc, 'spec.type', `Unsupported value: ${JSON.stringify(type)}: supported values: ${TYPES.map((t) => JSON.stringify(t)).join(', ')}`);
  spec.type = type;
  const rest = others(s, svc);
  if (type === 'ExternalName') {
    if (typeof spec.externalName !== 'string' || spec.externalName === '') invalid(svc, 'spec.externalName', 'Required value');
    // A fully qualified name may end with a dot.
    const clean = spec.externalName.replace(/\.$/, '');
    const errs = dns1123SubdomainErrors(clean);
    if (errs.length > 0) badValue(svc, 'spec.externalName', clean, errs[0]!);
    delete spec.clusterIP; delete spec.clusterIPs;
  }
  if ((type === 'NodePort' || type === 'LoadBalancer') && (spec.clusterIP === 'None' || spec.clusterIPs?.[0] === 'None')) {
    badValue(svc, 'spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${type} services`);
  }
  const ports = asArray(svc, 'spec.ports', spec.ports);
  if (ports.length === 0 && type !== 'ExternalName' && spec.clusterIP !== 'None') invalid(svc, 'spec.ports', 'Required value');
  const names = new Set<string>();
  const usedNodePorts = new Set<number>();
  for (const o of rest) for (const p of o.spec.ports ?? []) if (p.nodePort) usedNodePorts.add(p.nodePort);
  const oldNodePorts: number[] = (old?.spec?.ports ?? []).map((p: Any) => p.nodePort).filter(Boolean);
  const wantNodePorts = type === 'NodePort' || type === 'LoadBalancer';
  spec.ports = ports.map((p: Any, i) => {
    const f = `spec.ports[${i}]`;
    if (!p || typeof p !== 'object') badValue(svc, f, p, 'must be an object');
    const out: Any = {};
    if (p.name !== undefined && p.name !== '') out.name = checkPortName(svc, `${f}.name`, p.name);
    else if (ports.length > 1) invalid(svc, `${f}.name`, 'Required value');
    if (out.name !== undefined) {
      if (names.has(out.name)) invalid(svc, `${f}.name`, `Duplicate value: ${JSON.stringify(out.name)}`);
      names.add(out.name);
    }
    out.port = checkPort(svc, `${f}.port`, p.port);
    out.protocol = checkProtocol(svc, `${f}.protocol`, p.protocol);
    const tp = p.targetPort ?? out.port;
    out.targetPort = typeof tp === 'string' && !/^\d+$/.test(tp) ? checkPortName(svc, `${f}.targetPort`, tp) : checkPort(svc, `${f}.targetPort`, Number(tp));
    if (p.nodePort !== undefined && p.nodePort !== null && p.nodePort !== 0) {
      if (!wantNodePorts) badValue(svc, `${f}.nodePort`, p.nodePort, 'may not be used when `type` is \'ClusterIP\'');
      const np = p.nodePort;
      if (typeof np !== 'number' || !Number.isInteger(np) || np < NODEPORT_MIN || np > NODEPORT_MAX) badValue(svc, `${f}.nodePort`, np, `provided port is not in the valid range. The range of valid ports is ${NODEPORT_MIN}-${NODEPORT_MAX}`);
      if (usedNodePorts.has(np)) badValue(svc, `${f}.nodePort`, np, 'provided port is already allocated');
      out.nodePort = np;
      usedNodePorts.add(np);
    }
    return out;
  });
  checkDuplicatePorts(svc, spec.ports);
  if (wantNodePorts) {
    spec.ports.forEach((p: Any, i: number) => {
      if (p.nodePort) return;
      const keep = oldNodePorts[i];
      p.nodePort = keep && !usedNodePorts.has(keep) ? keep : pickNodePort(s, usedNodePorts);
      usedNodePorts.add(p.nodePort);
    });
  }
  if (type !== 'ExternalName') allocateClusterIp(s, env, svc, rest, old);
  spec.sessionAffinity ??= 'None';
  if (spec.sessionAffinity !== 'None' && spec.sessionAffinity !== 'ClientIP') invalid(svc, 'spec.sessionAffinity', `Unsupported value: ${JSON.stringify(spec.sessionAffinity)}: supported values: "ClientIP", "None"`);
  if (spec.sessionAffinity === 'ClientIP') {
    const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > 86400) badValue(svc, 'spec.sessionAffinityConfig.clientIP.timeoutSeconds', t, 'must be greater than 0 and less than 86400');
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: t } };
  } else delete spec.sessionAffinityConfig;
  for (const [k, allowed] of [['internalTrafficPolicy', true], ['externalTrafficPolicy', wantNodePorts]] as const) {
    if (spec[k] === undefined) { if (allowed && type !== 'ExternalName') spec[k] = 'Cluster'; continue; }
    if (spec[k] !== 'Cluster' && spec[k] !== 'Local') invalid(svc, `spec.${k}`, `Unsupported value: ${JSON.stringify(spec[k])}: supported values: "Cluster", "Local"`);
  }
  spec.externalIPs = asArray(svc, 'spec.externalIPs', spec.externalIPs).map((ip, i) => { checkNonSpecialIp(svc, `spec.externalIPs[${i}]`, ip); return ip; });
  if (spec.externalIPs.length === 0) delete spec.externalIPs;
  spec.loadBalancerSourceRanges = asArray(svc, 'spec.loadBalancerSourceRanges', spec.loadBalancerSourceRanges).map((r, i) => {
    if (type !== 'LoadBalancer') invalid(svc, 'spec.loadBalancerSourceRanges', "Forbidden: may only be used when `type` is 'LoadBalancer'");
    const v = typeof r === 'string' ? r.trim() : r;
    if (!parseCidrStrict(v)) badValue(svc, `spec.loadBalancerSourceRanges[${i}]`, r, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)');
    return v;
  });
  if (spec.loadBalancerSourceRanges.length === 0) delete spec.loadBalancerSourceRanges;
  if (spec.selector !== undefined) spec.selector = checkLabels(svc, 'spec.selector', spec.selector);
  svc.status = { loadBalancer: {} };
  if (type === 'LoadBalancer') {
    const ip = allocateLbIp(s, env, svc, rest, old);
    svc.status = { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } };
  }
}

/** Two ports with the same (port, protocol) pair: the API server names the second with Go's %#v of the pair. */
function checkDuplicatePorts(svc: KObject, ports: Any[]): void {
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${p.protocol}/${p.port}`;
    if (seen.has(key)) invalid(svc, `spec.ports[${i}]`, `Duplicate value: core.ServicePort{Name:"", Protocol:"${p.protocol}", AppProtocol:(*string)(nil), Port:${p.port}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`);
    seen.add(key);
  });
}

function pickNodePort(s: KubeState, used: Set<number>): number {
  const span = NODEPORT_MAX - NODEPORT_MIN + 1;
  const start = draw(s) % span;
  for (let i = 0; i < span; i++) {
    const p = NODEPORT_MIN + ((start + i) % span);
    if (!used.has(p)) return p;
  }
  throw new Error('node ports exhausted');
}

function allocateClusterIp(s: KubeState, env: KubeEnv, svc: KObject, rest: KObject[], old?: KObject): void {
  const spec = svc.spec;
  const cidr = env.spec.serviceCIDR;
  const used = new Set<string>(rest.map((o) => o.spec.clusterIP).filter((x) => x && x !== 'None'));
  const want = spec.clusterIP ?? spec.clusterIPs?.[0] ?? old?.spec?.clusterIP;
  if (old?.spec?.clusterIP && want !== old.spec.clusterIP) badValue(svc, 'spec.clusterIP', want, 'field is immutable');
  let ip: string;
  if (want === 'None') ip = 'None';
  else if (want !== undefined && want !== '') {
    const v = checkIp(svc, 'spec.clusterIP', want);
    const last = (cidr.ip + 2 ** (32 - cidr.prefixLen) - 1) >>> 0;
    // The allocator's range leaves out the network and broadcast addresses.
    if (!inPrefix(v, cidr.ip, cidr.prefixLen) || v === cidr.ip || v === last) badValue(svc, 'spec.clusterIP', want, `provided IP is not in the valid range. The range of valid IPs is ${u32ToIp(cidr.ip)}/${cidr.prefixLen}`);
    if (used.has(want)) badValue(svc, 'spec.clusterIP', want, 'provided IP is already allocated');
    ip = want;
  } else {
    // Random like the apiserver's bitmap allocator; the low 16 addresses are kept for fixed IPs (kube-dns .10).
    const size = 2 ** (32 - cidr.prefixLen);
    const lowSkip = Math.min(16, size / 4);
    const span = size - 2 - lowSkip;
    const start = draw(s) % span;
    let found: string | undefined;
    for (let i = 0; i < span && !found; i++) {
      const cand = u32ToIp((cidr.ip + 1 + lowSkip + ((start + i) % span)) >>> 0);
      if (!used.has(cand)) found = cand;
    }
    if (!found) invalid(svc, 'spec.clusterIP', 'Internal error: range is full');
    ip = found;
  }
  spec.clusterIP = ip;
  spec.clusterIPs = [ip];
  if (ip !== 'None' || true) { spec.ipFamilies = ['IPv4']; spec.ipFamilyPolicy = 'SingleStack'; }
}

function allocateLbIp(s: KubeState, env: KubeEnv, svc: KObject, rest: KObject[], old?: KObject): string {
  const pool = env.spec.loadBalancerIPs;
  const used = new Set<string>(rest.flatMap((o) => (o.status?.loadBalancer?.ingress ?? []).map((i: Any) => i.ip)));
  const want = svc.spec.loadBalancerIP;
  if (want) {
    const v = checkIp(svc, 'spec.loadBalancerIP', want);
    if (!inPrefix(v, pool.ip, pool.prefixLen)) badValue(svc, 'spec.loadBalancerIP', want, `not in the LoadBalancer IP pool ${u32ToIp(pool.ip)}/${pool.prefixLen}`);
    if (used.has(want)) badValue(svc, 'spec.loadBalancerIP', want, 'address already in use by another LoadBalancer service');
    return want;
  }
  const prev = old?.status?.loadBalancer?.ingress?.[0]?.ip;
  if (prev && !used.has(prev)) return prev;
  const size = 2 ** (32 - pool.prefixLen);
  for (let i = 0; i < size; i++) {
    const cand = u32ToIp((pool.ip + i) >>> 0);
    if (!used.has(cand)) return cand;
  }
  return invalid(svc, 'spec.loadBalancerIP', `Required value: the pool ${u32ToIp(pool.ip)}/${pool.prefixLen} is exhausted`);
}
