// CoreDNS's kubernetes plugin answers (Corefile of kubeadm/kind: `kubernetes
// cluster.local in-addr.arpa ip6.arpa { pods insecure; ttl 30 }`): services,
// headless endpoints, SRV, pod A records, PTR, ExternalName CNAME, NXDOMAIN
// with the cluster SOA.

import { DNS_CLASS_IN, DNS_RCODE, DNS_TYPE, type DnsRecord } from '../../wire/dns.ts';
import type { ClusterDns, DnsService } from '../runtime_contract.ts';

export const CLUSTER_TTL = 30;

/** Optional extension a cluster may offer so PTR can find services and endpoints by IP. */
export type ClusterDnsExt = ClusterDns & { listServices?(): DnsService[] };

export interface ZoneAnswer {
  rcode: number;
  answers: DnsRecord[];
  authority: DnsRecord[];
  additional: DnsRecord[];
  /** ExternalName: the CNAME target still to resolve upstream for A/AAAA. */
  chase?: string;
}

/** True when the kubernetes plugin is authoritative for name. */
export function inClusterZone(dns: ClusterDns, name: string): boolean {
  const n = name.toLowerCase(), z = dns.clusterDomain;
  return n === z || n.endsWith('.' + z) || n.endsWith('.in-addr.arpa') || n === 'in-addr.arpa';
}

export function clusterSoa(dns: ClusterDns, serial: number): DnsRecord {
  const z = dns.clusterDomain;
  return { name: z, type: DNS_TYPE.SOA, class: DNS_CLASS_IN, ttl: CLUSTER_TTL,
    soa: { mname: `ns.dns.${z}`, rname: `hostmaster.${z}`, serial, refresh: 7200, retry: 1800, expire: 86400, minimum: CLUSTER_TTL } };
}

const rr = (name: string, type: number, data: Partial<DnsRecord>): DnsRecord => ({ name, type, class: DNS_CLASS_IN, ttl: CLUSTER_TTL, ...data });
const dashed = (ip: string): string => ip.replace(/\./g, '-');
const undashed = (l: string): string | null => (/^\d{1,3}(-\d{1,3}){3}$/.test(l) ? l.replace(/-/g, '.') : null);

/** The answer of the kubernetes plugin for (name, type). */
export function answerCluster(dns: ClusterDnsExt, qname: string, qtype: number, serial: number): ZoneAnswer {
  const name = qname.toLowerCase();
  const soa = clusterSoa(dns, serial);
  const nx = (): ZoneAnswer => ({ rcode: DNS_RCODE.NXDOMAIN, answers: [], authority: [soa], additional: [] });
  const nodata = (): ZoneAnswer => ({ rcode: DNS_RCODE.NOERROR, answers: [], authority: [soa], additional: [] });
  const ok = (answers: DnsRecord[], additional: DnsRecord[] = []): ZoneAnswer => (answers.length ? { rcode: 0, answers, authority: [], additional } : nodata());

  if (name.endsWith('.in-addr.arpa')) return qtype === DNS_TYPE.PTR ? reverse(dns, name, nx, ok) : nx();
  const zone = dns.clusterDomain;
  if (name === zone) return qtype === DNS_TYPE.SOA ? ok([soa]) : nodata();
  const labels = name.slice(0, -(zone.length + 1)).split('.');
  const kind = labels[labels.length - 1];
  if (kind === 'pod' && labels.length === 3) {
    const ip = undashed(labels[0]!);
    if (!ip || !dns.hasNamespace(labels[1]!)) return nx();
    return qtype === DNS_TYPE.A ? ok([rr(name, DNS_TYPE.A, { address: ip })]) : nodata();
  }
  if (kind !== 'svc') return labels.length === 1 && kind === 'pod' ? nodata() : nx();
  if (labels.length === 1) return nodata();
  const ns = labels[labels.length - 2]!;
  if (!dns.hasNamespace(ns)) return nx();
  if (labels.length === 2) return nodata();
  const svc = dns.lookupService(ns, labels[labels.length - 3]!);
  if (!svc) return nx();
  const svcName = `${svc.name}.${svc.namespace}.svc.${zone}`;
  const rest = labels.slice(0, -3);
  if (svc.type === 'ExternalName') {
    if (rest.length) return nx();
    const target = (svc.externalName ?? '').replace(/\.$/, '');
    return { rcode: 0, answers: [rr(name, DNS_TYPE.CNAME, { target })], authority: [], additional: [], chase: qtype === DNS_TYPE.A || qtype === DNS_TYPE.AAAA ? target : undefined };
  }
  const epName = (e: DnsService['endpoints'][number]): string => `${e.hostname ?? dashed(e.ip)}.${svcName}`;
  if (rest.length === 2 && rest[0]!.startsWith('_') && rest[1]!.startsWith('_')) {
    const pname = rest[0]!.slice(1), proto = rest[1]!.slice(1).toUpperCase();
    const ports = svc.ports.filter((p) => p.name === pname && p.protocol === proto);
    if (!ports.length) return nx();
    return qtype === DNS_TYPE.SRV ? srv(name, svc, ports, svcName, epName) : nodata();
  }
  if (rest.length === 1) {
    const ep = svc.endpoints.find((e) => (e.hostname ?? dashed(e.ip)) === rest[0]);
    if (!ep) return nx();
    return qtype === DNS_TYPE.A ? ok([rr(name, DNS_TYPE.A, { address: ep.ip })]) : nodata();
  }
  if (rest.length) return nx();
  if (qtype === DNS_TYPE.A) {
    if (svc.clusterIP) return ok([rr(name, DNS_TYPE.A, { address: svc.clusterIP })]);
    return ok(svc.endpoints.map((e) => rr(name, DNS_TYPE.A, { address: e.ip })));
  }
  if (qtype === DNS_TYPE.SRV) return srv(name, svc, svc.ports.filter((p) => p.name), svcName, epName);
  return nodata();

  function srv(qn: string, s: DnsService, ports: DnsService['ports'], target: string, ep: (e: DnsService['endpoints'][number]) => string): ZoneAnswer {
    const answers: DnsRecord[] = [], additional: DnsRecord[] = [];
    if (s.clusterIP) {
      for (const p of ports) answers.push(rr(qn, DNS_TYPE.SRV, { priority: 0, weight: 100, port: p.port, target }));
      additional.push(rr(target, DNS_TYPE.A, { address: s.clusterIP }));
    } else {
      const n = s.endpoints.length * ports.length;
      const weight = n ? Math.floor(100 / n) : 0;
      for (const p of ports) for (const e of s.endpoints) {
        answers.push(rr(qn, DNS_TYPE.SRV, { priority: 0, weight, port: p.port, target: ep(e) }));
        additional.push(rr(ep(e), DNS_TYPE.A, { address: e.ip }));
      }
    }
    return ok(answers, additional);
  }
}

function reverse(dns: ClusterDnsExt, name: string, nx: () => ZoneAnswer, ok: (a: DnsRecord[]) => ZoneAnswer): ZoneAnswer {
  const parts = name.slice(0, -'.in-addr.arpa'.length).split('.');
  if (parts.length !== 4) return nx();
  const ip = parts.reverse().join('.');
  const z = dns.clusterDomain;
  const ptr = (target: string): ZoneAnswer => ok([rr(name, DNS_TYPE.PTR, { target })]);
  for (const s of dns.listServices?.() ?? []) {
    if (s.clusterIP === ip) return ptr(`${s.name}.${s.namespace}.svc.${z}`);
    const e = s.endpoints.find((x) => x.ip === ip);
    if (e) return ptr(`${e.hostname ?? dashed(ip)}.${s.name}.${s.namespace}.svc.${z}`);
  }
  const pod = dns.lookupPodByIp(ip);
  if (pod) return ptr(`${dashed(ip)}.${pod.namespace}.pod.${z}`);
  return nx();
}
