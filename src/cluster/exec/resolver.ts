// Stub resolvers: glibc's (/etc/resolv.conf nameservers, search list and
// ndots, UDP queries with timeout/attempts, A and AAAA sent together
// (getaddrinfo AF_UNSPEC) from one socket per name) and c-ares' (curl's: one
// connected socket per nameserver for the whole search walk).

import { SocketError, type Netns, type UdpSocket } from '../../kernel/api.ts';
import type { Sim } from '../../sim/sim.ts';
import { ipToU32, isIpv4 } from '../../wire/addr.ts';
import { DNS_RCODE, DNS_TYPE, decodeDns, dnsQuery, encodeDns, type DnsMessage } from '../../wire/dns.ts';

export interface ResolvConf { nameservers: string[]; search: string[]; ndots: number; timeoutS: number; attempts: number }

export function parseResolvConf(text: string | undefined): ResolvConf {
  const rc: ResolvConf = { nameservers: [], search: [], ndots: 1, timeoutS: 5, attempts: 2 };
  for (const raw of (text ?? '').split('\n')) {
    const w = raw.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (w[0] === 'nameserver' && w[1]) rc.nameservers.push(w[1]);
    else if ((w[0] === 'search' || w[0] === 'domain') && w.length > 1) rc.search = w.slice(1);
    else if (w[0] === 'options') {
      for (const o of w.slice(1)) {
        const [k, v] = o.split(':');
        if (k === 'ndots' && v) rc.ndots = Math.min(15, Number(v));
        if (k === 'timeout' && v) rc.timeoutS = Number(v);
        if (k === 'attempts' && v) rc.attempts = Number(v);
      }
    }
  }
  if (rc.nameservers.length === 0) rc.nameservers.push('127.0.0.1');
  return rc;
}

/** Candidate FQDNs in glibc's order: as-is first when it has >= ndots dots, else the search list first. */
export function searchCandidates(name: string, rc: ResolvConf): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1)];
  const dots = name.split('.').length - 1;
  const searched = rc.search.map((s) => `${name}.${s}`);
  return dots >= rc.ndots ? [name, ...searched] : [...searched, name];
}

/** Query ids come from the cluster's Rng so a seed replays byte for byte. */
function queryId(sim: Sim): number { return sim.rng.u32() & 0xffff; }

export interface Exchange { server: string; replies: (DnsMessage | null)[] }

/** Sends one query per type and collects the replies, matched by id, until resolv.conf's timeout; a missing reply is null. */
async function exchange(sim: Sim, rc: ResolvConf, sock: UdpSocket, name: string, types: number[], send: (query: Uint8Array) => void): Promise<(DnsMessage | null)[]> {
  const ids = types.map(() => queryId(sim));
  const replies: (DnsMessage | null)[] = types.map(() => null);
  types.forEach((t, i) => send(encodeDns(dnsQuery(ids[i]!, name, t))));
  const deadline = sim.now() + rc.timeoutS * 1e9;
  while (replies.some((r) => r === null) && sim.now() < deadline) {
    const m = await sock.recv(deadline - sim.now());
    if (!m) break;
    let msg: DnsMessage;
    try { msg = decodeDns(m.data); } catch { continue; }
    const i = ids.indexOf(msg.id);
    if (i >= 0 && msg.qr) replies[i] = msg;
  }
  return replies;
}

/**
 * Send queries (one per type) from one socket to the first nameserver that
 * answers; retry per resolv.conf. Replies are matched by id; a missing reply is null.
 */
export async function queryTypes(netns: Netns, sim: Sim, rc: ResolvConf, name: string, types: number[], server?: string): Promise<Exchange> {
  const servers = server ? [server] : rc.nameservers;
  for (let attempt = 0; attempt < rc.attempts; attempt++) {
    for (const ns of servers) {
      const sock = netns.sockets.udpBind(0);
      try {
        const replies = await exchange(sim, rc, sock, name, types, (q) => sock.send({ ip: ipToU32(ns), port: 53 }, q));
        if (replies.every((r) => r !== null)) return { server: ns, replies };
      } finally { sock.close(); }
    }
  }
  return { server: servers[0]!, replies: types.map(() => null) };
}

export type ResolveResult = { ok: true; name: string; v4: string[]; v6: string[] } | { ok: false; error: 'NXDOMAIN' | 'NODATA' | 'TIMEOUT' };

/** getaddrinfo(): IP literals pass through; names walk the search list. */
export async function resolveHost(netns: Netns, sim: Sim, rc: ResolvConf, host: string, family: 4 | 0 = 0): Promise<ResolveResult> {
  if (isIpv4(host)) return { ok: true, name: host, v4: [host], v6: [] };
  if (host === 'localhost') return { ok: true, name: host, v4: ['127.0.0.1'], v6: [] };
  let sawTimeout = false;
  const types = family === 4 ? [DNS_TYPE.A] : [DNS_TYPE.A, DNS_TYPE.AAAA];
  for (const cand of searchCandidates(host, rc)) {
    const ex = await queryTypes(netns, sim, rc, cand, types);
    if (ex.replies.some((r) => r === null)) { sawTimeout = true; continue; }
    const v4 = ex.replies.flatMap((r) => r!.answers.filter((a) => a.type === DNS_TYPE.A).map((a) => a.address!));
    const v6 = ex.replies.flatMap((r) => r!.answers.filter((a) => a.type === DNS_TYPE.AAAA).map((a) => a.address!));
    if (v4.length + v6.length > 0) return { ok: true, name: cand, v4, v6 };
    if (ex.replies.every((r) => r!.rcode === DNS_RCODE.NXDOMAIN)) continue;
  }
  return { ok: false, error: sawTimeout ? 'TIMEOUT' : 'NXDOMAIN' };
}

/** A candidate's A/AAAA answers as a result, or what sends the walk on (NXDOMAIN/NODATA). */
function answerOf(name: string, replies: DnsMessage[]): ResolveResult | 'next' {
  const v4 = replies.flatMap((r) => r.answers.filter((a) => a.type === DNS_TYPE.A).map((a) => a.address!));
  const v6 = replies.flatMap((r) => r.answers.filter((a) => a.type === DNS_TYPE.AAAA).map((a) => a.address!));
  if (v4.length + v6.length > 0) return { ok: true, name, v4, v6 };
  return replies.every((r) => r.rcode === DNS_RCODE.NXDOMAIN || r.rcode === DNS_RCODE.NOERROR) ? 'next' : { ok: false, error: 'NXDOMAIN' };
}

/**
 * c-ares' ares_getaddrinfo, as curl built with c-ares resolves: one UDP socket per nameserver, connect()ed once
 * and kept for the whole search walk (so socket LB translates the ClusterIP at connect, and every answer is read
 * back through recvmsg4); each candidate's A and AAAA go out together and the next candidate waits for both.
 * An ICMP error on the connected socket (ECONNREFUSED) drops that server's socket and moves to the next server.
 */
export async function resolveHostAres(netns: Netns, sim: Sim, rc: ResolvConf, host: string): Promise<ResolveResult> {
  if (isIpv4(host)) return { ok: true, name: host, v4: [host], v6: [] };
  if (host === 'localhost') return { ok: true, name: host, v4: ['127.0.0.1'], v6: [] };
  const socks = new Map<string, UdpSocket>();
  const sockFor = (server: string): UdpSocket => {
    let s = socks.get(server);
    if (!s) { s = netns.sockets.udpBind(0); socks.set(server, s); s.connect({ ip: ipToU32(server), port: 53 }); }
    return s;
  };
  const drop = (server: string): void => { socks.get(server)?.close(); socks.delete(server); };
  try {
    for (const cand of searchCandidates(host, rc)) {
      const replies = await aresQuery(sim, rc, cand, sockFor, drop);
      if (!replies) return { ok: false, error: 'TIMEOUT' };
      const r = answerOf(cand, replies);
      if (r !== 'next') return r;
    }
    return { ok: false, error: 'NXDOMAIN' };
  } finally { for (const s of socks.values()) s.close(); }
}

/** A and AAAA for one name over the servers' connected sockets, tries as resolv.conf says; null when none answered. */
async function aresQuery(sim: Sim, rc: ResolvConf, name: string, sockFor: (server: string) => UdpSocket, drop: (server: string) => void): Promise<DnsMessage[] | null> {
  const types = [DNS_TYPE.A, DNS_TYPE.AAAA];
  for (let attempt = 0; attempt < rc.attempts; attempt++) {
    for (const server of rc.nameservers) {
      let sock: UdpSocket;
      try { sock = sockFor(server); } catch (e) { if (e instanceof SocketError) continue; throw e; }
      let replies: (DnsMessage | null)[];
      try {
        replies = await exchange(sim, rc, sock, name, types, (q) => sock.write(q));
      } catch (e) {
        if (!(e instanceof SocketError)) throw e;
        drop(server);
        continue;
      }
      if (replies.every((r) => r !== null)) return replies as DnsMessage[];
    }
  }
  return null;
}
