// registry.k8s.io/coredns/coredns with kubeadm's Corefile: kubernetes plugin
// for the cluster zone, `forward . /etc/resolv.conf` (the emulated internet
// resolver) for the rest; :53 UDP+TCP, :9153 metrics, :8080 health, :8181 ready.

import { SocketError, type Netns } from '../../kernel/api.ts';
import type { Sim } from '../../sim/sim.ts';
import { decodeDns, dnsQuery, encodeDns, DNS_RCODE, type DnsMessage, type DnsRecord } from '../../wire/dns.ts';
import { answerCluster, inClusterZone, type ClusterDnsExt } from './coredns_records.ts';
import { replyTo, serveDns } from './dns_server.ts';
import { httpDate, serveHttp } from './http_server.ts';
import { goIo } from './app_io.ts';

const FORWARD_TIMEOUT_NS = 2e9;

/**
 * Ask the upstream resolver once from an ephemeral port; null on timeout or an ICMP error. As the forward plugin
 * (miekg/dns over net.Dial("udp")): a connected socket read with read(2), so no recvmsg4 runs on the answers.
 */
async function forward(netns: Netns, sim: Sim, dns: ClusterDnsExt, name: string, type: number, rd: boolean): Promise<DnsMessage | null> {
  const sock = netns.sockets.udpBind(0);
  try {
    const id = sim.rng.u32() & 0xffff;
    const q = dnsQuery(id, name, type); q.rd = rd;
    sock.connect(dns.upstream);
    sock.write(encodeDns(q));
    const deadline = sim.now() + FORWARD_TIMEOUT_NS;
    for (;;) {
      const m = await sock.recv(Math.max(0, deadline - sim.now()), { address: false }).catch((e: unknown) => { if (e instanceof SocketError) return null; throw e; });
      if (!m) return null;
      try { const r = decodeDns(m.data); if (r.id === id && r.qr) return r; } catch { /* ignore junk */ }
    }
  } finally { sock.close(); }
}

export function corednsHandler(netns: Netns, sim: Sim, dns: ClusterDnsExt): (q: DnsMessage) => Promise<DnsMessage> {
  const serial = Math.floor(sim.epochMs / 1000);
  return async (q) => {
    const { name, type } = q.questions[0]!;
    if (inClusterZone(dns, name)) {
      const a = answerCluster(dns, name, type, serial);
      const answers: DnsRecord[] = [...a.answers];
      if (a.chase) {
        const up = await forward(netns, sim, dns, a.chase, type, true);
        if (up) answers.push(...up.answers);
      }
      return replyTo(q, { aa: true, rcode: a.rcode, answers, authority: a.authority, additional: a.additional });
    }
    const up = await forward(netns, sim, dns, name, type, q.rd);
    if (!up) return replyTo(q, { rcode: DNS_RCODE.SERVFAIL, ra: true });
    return replyTo(q, { rcode: up.rcode, ra: up.ra, aa: false, answers: up.answers, authority: up.authority, additional: up.additional });
  };
}

/** confined: coredns's container runs under AppArmor (a Go server: read(2)/write(2) on its TCP connections). */
export function startCoredns(netns: Netns, sim: Sim, dns: ClusterDnsExt, confined = false): { close(): void } {
  let queries = 0;
  const handle = corednsHandler(netns, sim, dns);
  const io = goIo(confined);
  const servers = [
    serveDns(netns, 53, (q) => { queries++; return handle(q); }, undefined, io),
    serveHttp(netns, 9153, () => {
      const body = '# HELP coredns_dns_requests_total Counter of DNS requests made per zone, protocol and family.\n# TYPE coredns_dns_requests_total counter\n'
        + `coredns_dns_requests_total{family="1",proto="udp",server="dns://:53",type="A",view="",zone="."} ${queries}\n`;
      return { status: 200, reason: 'OK', headers: [['Content-Type', 'text/plain; version=0.0.4; charset=utf-8'], ['Date', httpDate(sim)], ['Content-Length', String(body.length)]], body };
    }, io),
    serveHttp(netns, 8080, () => ({ status: 200, reason: 'OK', headers: [['Date', httpDate(sim)], ['Content-Length', '2'], ['Content-Type', 'text/plain; charset=utf-8']], body: 'OK' }), io),
    serveHttp(netns, 8181, () => ({ status: 200, reason: 'OK', headers: [['Date', httpDate(sim)], ['Content-Length', '2'], ['Content-Type', 'text/plain; charset=utf-8']], body: 'OK' }), io),
  ];
  return { close: () => { for (const s of servers) s.close(); } };
}

