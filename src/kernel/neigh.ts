// The neighbour table (ARP): resolution with real request/reply frames,
// packets queued while a neighbour is incomplete, answers for local addresses.

import type { SkBuff } from '../wire/skb.ts';
import { newSkb } from '../wire/skb.ts';
import { ARPOP_REPLY, ARPOP_REQUEST, ARP_FRAME_LEN, arpIsEthIpv4, arpOp, arpSenderIp, arpSenderMac, arpTargetIp, buildArpReply, buildArpRequest } from '../wire/arp.ts';
import { ETH_HLEN, ETH_P_IP, writeEth } from '../wire/ethernet.ts';
import { IP_SADDR } from '../wire/ipv4.ts';
import { readU32 } from '../wire/addr.ts';
import type { TimerHandle } from '../sim/sim.ts';
import type { Device } from './device.ts';
import type { NetnsImpl } from './netns.ts';
import { devXmit } from './path.ts';
import { ipipOutput } from './ipip.ts';
import { proxyArpAnswers } from './ipip_proxy_arp.ts';

export const NUD_INCOMPLETE = 0x01, NUD_REACHABLE = 0x02, NUD_STALE = 0x04, NUD_FAILED = 0x20, NUD_PERMANENT = 0x80;
/** include/net/neighbour.h NUD_VALID (of the states modelled here). */
const NUD_VALID = NUD_REACHABLE | NUD_STALE | NUD_PERMANENT;

export interface Neigh {
  ip: number;
  dev: Device;
  mac: Uint8Array | null;
  state: number;
  queue: SkBuff[];
  probes: number;
  timer: TimerHandle | null;
  /** Source IP of the packet that triggered resolution (arp_solicit uses it when local). */
  hintSrc: number;
}

/** Linux defaults: retrans_time 1s, mcast_solicit 3, unres_qlen ~100 packets. */
const RETRANS_NS = 1_000_000_000, MAX_PROBES = 3, MAX_QUEUE = 101;
const ZERO_MAC = new Uint8Array(6);

export class NeighTable {
  readonly entries = new Map<number, Neigh>();
  constructor(private readonly ns: NetnsImpl) {}

  private key(dev: Device, ip: number): number { return dev.ifindex * 0x100000000 + ip; }

  get(dev: Device, ip: number): Neigh | undefined {
    // An established flow asks for the same next hop every packet: remember the last hit.
    if (this.memoDev === dev && this.memoIp === ip) return this.memo;
    const n = this.entries.get(this.key(dev, ip));
    if (n !== undefined) { this.memoDev = dev; this.memoIp = ip; this.memo = n; }
    return n;
  }
  /** Last get() hit; entries are only ever added or replaced here (set() clears it), never deleted. */
  private memoDev: Device | null = null;
  private memoIp = 0;
  private memo: Neigh | undefined = undefined;
  private set(dev: Device, ip: number, n: Neigh): void {
    this.memoDev = null; this.memo = undefined;
    this.entries.set(this.key(dev, ip), n);
  }

  /**
   * The MAC of a NUD_VALID neighbour (reachable, stale, permanent), else undefined. A pure
   * lookup, as bpf_fib_lookup's: it never creates an entry or sends a probe.
   */
  validMac(dev: Device, ip: number): Uint8Array | undefined {
    const n = this.get(dev, ip);
    return n !== undefined && n.mac !== null && (n.state & NUD_VALID) !== 0 ? n.mac : undefined;
  }

  /**
   * neigh_output(): send skb (IPv4 at ETH_HLEN) to next hop ip on dev, resolving first if
   * needed (the packet then waits in the entry's queue behind the ARP request).
   * `depth` is the caller's xmit recursion level.
   */
  output(dev: Device, ip: number, skb: SkBuff, depth = 0): void {
    if (dev.kind === 'ipip') { ipipOutput(dev, ip, skb, depth); return; }
    if (dev.kind === 'loopback' || dev.kind === 'vxlan' || dev.kind === 'dummy') {
      writeEth(skb.data, dev.kind === 'loopback' ? ZERO_MAC : dev.mac, dev.kind === 'loopback' ? ZERO_MAC : dev.mac, ETH_P_IP);
      devXmit(dev, skb, depth);
      return;
    }
    const n = this.get(dev, ip);
    if (n && n.mac && n.state !== NUD_INCOMPLETE) {
      writeEth(skb.data, n.mac, dev.mac, ETH_P_IP);
      devXmit(dev, skb, depth);
      return;
    }
    this.startResolve(dev, ip, readU32(skb.data, ETH_HLEN + IP_SADDR), n, skb);
  }

  /** Permanent entry (ip neigh add ... nud permanent). */
  addPermanent(dev: Device, ip: number, mac: Uint8Array): void {
    this.set(dev, ip, { ip, dev, mac: mac.slice(0, 6), state: NUD_PERMANENT, queue: [], probes: 0, timer: null, hintSrc: 0 });
  }

  /** Queue skb (if any) before probing: with synchronous hops the reply may arrive inside probe(). */
  private startResolve(dev: Device, ip: number, hintSrc: number, n: Neigh | undefined, skb?: SkBuff): void {
    const queue = (e: Neigh): void => { if (!skb) return; if (e.queue.length < MAX_QUEUE) e.queue.push(skb); else dev.stats.txDropped++; };
    if (n && n.state === NUD_INCOMPLETE) { queue(n); return; }
    const e: Neigh = n ?? { ip, dev, mac: null, state: NUD_INCOMPLETE, queue: [], probes: 0, timer: null, hintSrc };
    e.state = NUD_INCOMPLETE; e.mac = null; e.probes = 0; e.hintSrc = hintSrc;
    this.set(dev, ip, e);
    queue(e);
    this.probe(e);
  }

  private probe(e: Neigh): void {
    if (e.probes >= MAX_PROBES) {
      e.state = NUD_FAILED; e.timer = null;
      e.dev.stats.txDropped += e.queue.length; e.queue.length = 0;
      return;
    }
    e.probes++;
    const src = this.ns.isLocal(e.hintSrc) ? e.hintSrc : this.ns.selectSource(e.dev, undefined);
    const f = buildArpRequest(e.dev.mac, src, e.ip);
    devXmit(e.dev, newSkb(f, ARP_FRAME_LEN, e.dev.ifindex), 0);
    e.timer = this.ns.node.sim.schedule(RETRANS_NS, () => { if (e.state === NUD_INCOMPLETE) this.probe(e); });
  }

  /** Learn ip -> mac on dev and flush packets waiting for it. */
  update(dev: Device, ip: number, mac: Uint8Array, create: boolean): void {
    let e = this.get(dev, ip);
    if (!e) {
      if (!create) return;
      e = { ip, dev, mac: null, state: NUD_REACHABLE, queue: [], probes: 0, timer: null, hintSrc: 0 };
      this.set(dev, ip, e);
    }
    if (e.state === NUD_PERMANENT) return;
    e.mac = mac.slice(0, 6); e.state = NUD_REACHABLE;
    if (e.timer) { e.timer.cancel(); e.timer = null; }
    const q = e.queue; e.queue = [];
    for (const skb of q) { writeEth(skb.data, e.mac, dev.mac, ETH_P_IP); devXmit(dev, skb, 0); }
  }

  /** arp_rcv: answer requests for local addresses (arp_ignore=0), learn from requests and replies. */
  rcv(dev: Device, skb: SkBuff): void {
    const f = skb.data;
    if (!arpIsEthIpv4(f)) { dev.stats.rxDropped++; return; }
    const op = arpOp(f), sip = arpSenderIp(f), tip = arpTargetIp(f);
    const smac = arpSenderMac(f);
    if (op === ARPOP_REQUEST) {
      const proxied = !this.ns.local.has(tip) && proxyArpAnswers(this.ns, dev, sip, tip);
      if (!this.ns.local.has(tip) && !proxied) { this.update(dev, sip, smac, false); return; }
      if (sip !== 0) this.update(dev, sip, smac, true);
      const reply = buildArpReply(dev.mac, tip, smac, sip);
      devXmit(dev, newSkb(reply, ARP_FRAME_LEN, dev.ifindex), 0);
    } else if (op === ARPOP_REPLY) {
      this.update(dev, sip, smac, false);
    }
  }
}
