// Docker's embedded DNS in a kind node. Docker listens on 127.0.0.11 at two
// ephemeral ports (UDP, TCP) inside the container's netns and adds nat rules
// sending 127.0.0.11:53 there (DOCKER_OUTPUT, DOCKER_POSTROUTING); kind's
// entrypoint rewrites them to the network's gateway (and adds the PREROUTING
// jump, so pods' queries take them too) and puts that gateway in the node's
// resolv.conf. Docker answers with its host's resolvers: dockerd runs on the
// host, here the lab's docker host (the emulated internet at the gateway), so
// the forwarded question leaves from there, as docker asks a loopback resolver
// of its host (systemd-resolved).

import { createHash } from 'node:crypto';
import { SocketError, type Netns } from '../../kernel/api.ts';
import type { LinuxNode } from '../../kernel/node.ts';
import { iptables } from '../../netfilter/exec.ts';
import type { Netfilter } from '../../netfilter/netfilter.ts';
import type { Sim } from '../../sim/sim.ts';
import { u32ToIp } from '../../wire/addr.ts';
import { decodeDns, encodeDns, DNS_RCODE, type DnsMessage } from '../../wire/dns.ts';
import { replyTo, serveDns } from './dns_server.ts';

/** Docker's embedded DNS address in every container on a user-defined network. */
export const DOCKER_DNS_IP = '127.0.0.11';
/** libnetwork's extIOTimeout: how long docker waits for its upstream. */
const UPSTREAM_TIMEOUT_NS = 4e9;
/** Linux's default ip_local_port_range (32768-60999): where the kernel picks docker's two listener ports. */
const PORT_LOW = 32768, PORT_SPAN = 60999 - 32768 + 1;

/** The node's two listener ports: fixed per node name (the kernel's pick on a real node; here stable across runs). */
export function dockerDnsPorts(node: string): { tcp: number; udp: number } {
  const h = createHash('sha256').update(`docker-dns/${node}`).digest();
  const tcp = PORT_LOW + (h.readUInt32BE(0) % PORT_SPAN);
  let udp = PORT_LOW + (h.readUInt32BE(4) % PORT_SPAN);
  if (udp === tcp) udp = PORT_LOW + ((udp - PORT_LOW + 1) % PORT_SPAN);
  return { tcp, udp };
}

/** docker's rules for its listener ports after kind's rewrite (127.0.0.11 -> the gateway; `iptables -t nat -S` order). */
export function dockerDnsRules(gateway: string, ports: { tcp: number; udp: number }): string[][] {
  const to = `${gateway}/32`;
  return [
    ['-N', 'DOCKER_OUTPUT'], ['-N', 'DOCKER_POSTROUTING'],
    ['-A', 'PREROUTING', '-d', to, '-j', 'DOCKER_OUTPUT'],
    ['-A', 'OUTPUT', '-d', to, '-j', 'DOCKER_OUTPUT'],
    ['-A', 'POSTROUTING', '-d', to, '-j', 'DOCKER_POSTROUTING'],
    ['-A', 'DOCKER_OUTPUT', '-d', to, '-p', 'tcp', '-m', 'tcp', '--dport', '53', '-j', 'DNAT', '--to-destination', `${DOCKER_DNS_IP}:${ports.tcp}`],
    ['-A', 'DOCKER_OUTPUT', '-d', to, '-p', 'udp', '-m', 'udp', '--dport', '53', '-j', 'DNAT', '--to-destination', `${DOCKER_DNS_IP}:${ports.udp}`],
    ['-A', 'DOCKER_POSTROUTING', '-s', `${DOCKER_DNS_IP}/32`, '-p', 'tcp', '-m', 'tcp', '--sport', String(ports.tcp), '-j', 'SNAT', '--to-source', `${gateway}:53`],
    ['-A', 'DOCKER_POSTROUTING', '-s', `${DOCKER_DNS_IP}/32`, '-p', 'udp', '-m', 'udp', '--sport', String(ports.udp), '-j', 'SNAT', '--to-source', `${gateway}:53`],
  ];
}

function installRules(nf: Netfilter, gateway: string, ports: { tcp: number; udp: number }): void {
  for (const argv of dockerDnsRules(gateway, ports)) {
    const r = iptables(nf.rules, ['-t', 'nat', ...argv]);
    if (r.code !== 0) throw new Error(`docker dns: iptables -t nat ${argv.join(' ')}: ${r.stderr.trim()}`);
  }
}

/** Ask the docker host's resolver once, from the host's netns; null when it does not answer in time. */
async function upstream(host: Netns, sim: Sim, resolver: number, q: DnsMessage): Promise<DnsMessage | null> {
  const sock = host.sockets.udpBind(0);
  try {
    sock.connect({ ip: resolver, port: 53 });
    sock.write(encodeDns(q));
    const deadline = sim.now() + UPSTREAM_TIMEOUT_NS;
    for (;;) {
      const m = await sock.recv(Math.max(0, deadline - sim.now()), { address: false }).catch((e: unknown) => { if (e instanceof SocketError) return null; throw e; });
      if (!m) return null;
      try { const r = decodeDns(m.data); if (r.id === q.id && r.qr) return r; } catch { /* not an answer */ }
    }
  } finally { sock.close(); }
}

/**
 * Start docker's DNS in a kind node: the listeners in the node's netns, and
 * the rules, which the node's netfilter gets when a datapath enables it
 * (before the datapath's own rules, as at boot).
 */
export function startDockerDns(node: LinuxNode, gateway: number, host: Netns, sim: Sim): { close(): void } {
  const ports = dockerDnsPorts(node.name);
  node.bootNetfilter = (nf) => installRules(nf, u32ToIp(gateway), ports);
  const handle = async (q: DnsMessage): Promise<DnsMessage> => (await upstream(host, sim, gateway, q)) ?? replyTo(q, { rcode: DNS_RCODE.SERVFAIL, ra: true });
  const servers = [serveDns(node.hostNs, ports.udp, handle, 'udp'), serveDns(node.hostNs, ports.tcp, handle, 'tcp')];
  return { close: () => { for (const s of servers) s.close(); } };
}
