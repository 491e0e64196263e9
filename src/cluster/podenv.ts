// What kubelet puts into a container besides the image: service-link env
// vars, KUBERNETES_*, /etc/resolv.conf, /etc/hostname, /etc/hosts.

import type { KubeState } from './kube/state.ts';
import { listObjs } from './kube/state.ts';
import type { Any, KObject } from './kube/types.ts';

function envName(svcName: string): string { return svcName.toUpperCase().replace(/-/g, '_'); }

/** Docker-link style vars for one service, as kubelet's makeEnvironmentVariables does. */
export function serviceEnv(svc: KObject): Record<string, string> {
  const ip = svc.spec.clusterIP;
  const out: Record<string, string> = {};
  if (!ip || ip === 'None' || svc.spec.type === 'ExternalName') return out;
  const n = envName(svc.metadata.name);
  const ports: Any[] = svc.spec.ports ?? [];
  if (ports.length === 0) return out;
  out[`${n}_SERVICE_HOST`] = ip;
  out[`${n}_SERVICE_PORT`] = String(ports[0].port);
  for (const p of ports) if (p.name) out[`${n}_SERVICE_PORT_${envName(p.name)}`] = String(p.port);
  const first = ports[0];
  out[`${n}_PORT`] = `${first.protocol.toLowerCase()}://${ip}:${first.port}`;
  for (const p of ports) {
    const pre = `${n}_PORT_${p.port}_${p.protocol}`;
    out[pre] = `${p.protocol.toLowerCase()}://${ip}:${p.port}`;
    out[`${pre}_PROTO`] = p.protocol.toLowerCase();
    out[`${pre}_PORT`] = String(p.port);
    out[`${pre}_ADDR`] = ip;
  }
  return out;
}

/**
 * A pod's environment, taken when its containers start (so `s` holds the
 * services that existed by then): services of its namespace (when
 * enableServiceLinks), the master service's KUBERNETES_* vars, then the
 * container's own env (which wins).
 */
export function podEnv(s: KubeState, pod: KObject, containerEnv: Array<{ name: string; value: string }> = []): Record<string, string> {
  const out: Record<string, string> = {};
  if (pod.spec.enableServiceLinks !== false) {
    for (const svc of listObjs(s, 'Service', pod.metadata.namespace)) Object.assign(out, serviceEnv(svc));
  }
  const master = listObjs(s, 'Service', 'default').find((x) => x.metadata.name === 'kubernetes');
  if (master) Object.assign(out, serviceEnv(master));
  out.HOSTNAME = pod.spec.hostname ?? pod.metadata.name;
  for (const e of containerEnv) out[e.name] = e.value;
  return out;
}

const PLAIN = {};

/** The service part of podEnv, shared by the pods of one namespace started from the same state. */
const bases = new WeakMap<KubeState, Map<string, Record<string, string>>>();
function serviceEnvBase(s: KubeState, namespace: string | undefined, links: boolean): Record<string, string> {
  let m = bases.get(s);
  if (!m) { m = new Map(); bases.set(s, m); }
  const key = `${links ? 1 : 0}/${namespace ?? ''}`;
  let out = m.get(key);
  if (!out) {
    // The same assignments, in the same order, as podEnv's first two steps.
    out = {};
    if (links) for (const svc of listObjs(s, 'Service', namespace)) Object.assign(out, serviceEnv(svc));
    const master = listObjs(s, 'Service', 'default').find((x) => x.metadata.name === 'kubernetes');
    if (master) Object.assign(out, serviceEnv(master));
    m.set(key, out);
  }
  return out;
}

/**
 * podEnv(s, pod, containerEnv) without building it per pod: a read-only view
 * over the namespace's shared service vars plus the pod's own; it turns into
 * the very object podEnv returns (same keys, same order) the first time it is
 * listed or written (exec's `env`), so a 1,000-service namespace does not cost
 * 7,000 strings per pod at start-up.
 */
export function lazyPodEnv(s: KubeState, pod: KObject, containerEnv: Array<{ name: string; value: string }> = []): Record<string, string> {
  const base = serviceEnvBase(s, pod.metadata.namespace, pod.spec.enableServiceLinks !== false);
  const hostname: string = pod.spec.hostname ?? pod.metadata.name;
  // One shared handler for every pod (no closures per pod); the per-pod state is the proxy target.
  return new Proxy(new LazyEnv(base, hostname, containerEnv), lazyEnvHandler) as unknown as Record<string, string>;
}

/** Per-pod state of a lazyPodEnv view (its Proxy target; the traps never expose its fields). */
class LazyEnv {
  real: Record<string, string> | undefined = undefined;
  constructor(readonly base: Record<string, string>, readonly hostname: string, readonly containerEnv: Array<{ name: string; value: string }>) {}
  materialize(): Record<string, string> {
    if (!this.real) {
      const real = { ...this.base };
      real.HOSTNAME = this.hostname;
      for (const e of this.containerEnv) real[e.name] = e.value;
      this.real = real;
    }
    return this.real;
  }
  lookup(k: string): string | undefined {
    // The container's own env wins (the last entry of a repeated name, as in podEnv).
    const ce = this.containerEnv;
    for (let i = ce.length - 1; i >= 0; i--) if (ce[i]!.name === k) return ce[i]!.value;
    return k === 'HOSTNAME' ? this.hostname : Object.hasOwn(this.base, k) ? this.base[k] : undefined;
  }
}

const lazyEnvHandler: ProxyHandler<LazyEnv> = {
  // Misses fall through to a plain object, as inherited members (toString...) would.
  get: (t, k) => t.real ? Reflect.get(t.real, k) : (typeof k === 'string' ? t.lookup(k) : undefined) ?? Reflect.get(PLAIN, k),
  has: (t, k) => t.real ? Reflect.has(t.real, k) : (typeof k === 'string' && t.lookup(k) !== undefined) || Reflect.has(PLAIN, k),
  set: (t, k, v) => Reflect.set(t.materialize(), k, v),
  deleteProperty: (t, k) => Reflect.deleteProperty(t.materialize(), k),
  defineProperty: (t, k, d) => Reflect.defineProperty(t.materialize(), k, d),
  ownKeys: (t) => Reflect.ownKeys(t.materialize()),
  getOwnPropertyDescriptor: (t, k) => Reflect.getOwnPropertyDescriptor(t.materialize(), k),
};

/** /etc/resolv.conf for dnsPolicy ClusterFirst: the cluster's search domains, then the node's (kubelet appends them). */
export function resolvConf(namespace: string, dnsIp: string, domain = 'cluster.local', hostSearch: string[] = []): string {
  return `search ${[`${namespace}.svc.${domain}`, `svc.${domain}`, domain, ...hostSearch].join(' ')}\nnameserver ${dnsIp}\noptions ndots:5\n`;
}

/** Kubelet-managed /etc/hosts. */
export function etcHosts(podIp: string, hostname: string, fqdn?: string): string {
  return '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n'
    + `${podIp}\t${fqdn ? `${fqdn}\t` : ''}${hostname}\n`;
}

/** The three files kubelet mounts into every container. */
export function podFiles(pod: KObject, dnsIp: string, domain = 'cluster.local', hostSearch: string[] = []): Record<string, string> {
  const hostname = pod.spec.hostname ?? pod.metadata.name;
  const fqdn = pod.spec.subdomain ? `${hostname}.${pod.spec.subdomain}.${pod.metadata.namespace}.svc.${domain}` : undefined;
  return {
    '/etc/resolv.conf': pod.spec.dnsPolicy === 'Default' ? 'nameserver 8.8.8.8\n' : resolvConf(pod.metadata.namespace!, dnsIp, domain, hostSearch),
    '/etc/hostname': `${hostname}\n`,
    '/etc/hosts': etcHosts(pod.status?.podIP ?? '', hostname, fqdn),
  };
}
