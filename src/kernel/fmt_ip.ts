// iproute2 output: `ip addr`, `ip link`, `ip neigh` for one netns, plain or
// coloured as `ip -c` prints them (lib/color.c: each coloured field is its
// printf conversion wrapped in an SGR code and a reset, trailing blank included).

import { macToString, prefixMask, u32ToIp } from '../wire/addr.ts';
import { ipv6ToString } from '../wire/ipv6addr.ts';
import type { NetDevice } from './api.ts';
import type { Device } from './device.ts';
import type { NetnsImpl } from './netns.ts';
import { NUD_FAILED, NUD_INCOMPLETE, NUD_PERMANENT, NUD_REACHABLE, NUD_STALE } from './neigh.ts';

/** iproute2's light-background palette (the default: no COLORFGBG in a container). */
const SGR = { ifname: '\x1b[36m', mac: '\x1b[33m', inet: '\x1b[35m', inet6: '\x1b[34m', up: '\x1b[32m', down: '\x1b[31m' } as const;
const CLEAR = '\x1b[0m';
type Attr = keyof typeof SGR;
/** color_fprintf: `text` in its colour when colours are on. */
type Paint = (attr: Attr | null, text: string) => string;
const plain: Paint = (_a, t) => t;
const coloured: Paint = (a, t) => (a === null ? t : `${SGR[a]}${t}${CLEAR}`);
export const paint = (color: boolean): Paint => (color ? coloured : plain);

function flags(d: NetDevice): string {
  const f = d.kind === 'loopback' ? ['LOOPBACK'] : d.kind === 'dummy' ? ['BROADCAST', 'NOARP'] : d.kind === 'ipip' ? ['NOARP'] : ['BROADCAST', 'MULTICAST'];
  if (d.up) f.push('UP', 'LOWER_UP');
  return f.join(',');
}

/** The uplink's veth peer outside the node (a kind node's eth0: docker's bridge port). */
const hostPeer = (d: NetDevice) => (d as Device).hostPeer;

function state(d: NetDevice): string {
  if (!d.up) return 'DOWN';
  return d.kind === 'veth' || d.kind === 'netdev' ? 'UP' : 'UNKNOWN';
}

/** oper_state_color: UP green, DOWN red, the others uncoloured. */
function stateAttr(s: string): Attr | null { return s === 'UP' ? 'up' : s === 'DOWN' ? 'down' : null; }

/** `eth0@if10` for a peer in another netns, `cilium_host@cilium_net` for one in the same. */
function ifname(d: NetDevice): string {
  if (d.kind === 'ipip') return `${d.name}@NONE`; // tunl0: no underlying link
  const hp = hostPeer(d);
  if (hp) return `${d.name}@if${hp.ifindex}`;
  if (!d.peer) return d.name;
  return d.peer.netns === d.netns ? `${d.name}@${d.peer.name}` : `${d.name}@if${d.peer.ifindex}`;
}

/** ` link-netnsid 0` / ` link-netns NAME` for a veth whose peer lives in another netns. */
function linkNetns(d: NetDevice, ns: NetnsImpl): string {
  const hp = hostPeer(d);
  if (hp) return ` link-netnsid ${hp.netnsid}`;
  const p = d.peer;
  if (!p || p.netns === d.netns) return '';
  const id = ns.nsids.get(p.netns as NetnsImpl);
  return id !== undefined ? ` link-netnsid ${id}` : ` link-netns ${p.netns.name}`;
}

function header(d: NetDevice, mode: boolean, c: Paint): string {
  // A device never set up keeps the noop qdisc.
  // A veth (docker's uplink too) is queueless: noqueue.
  const qdisc = !d.up ? 'noop' : d.kind === 'netdev' && !hostPeer(d) ? 'mq' : 'noqueue';
  const st = state(d);
  // print_queuelen prints no `qlen 0` (kube-ipvs0: kube-proxy's netlink LinkAdd sends txqlen 0).
  const qlen = (d as Device).txqlen;
  return `${d.ifindex}: ${c('ifname', `${ifname(d)}: `)}<${flags(d)}> mtu ${d.mtu} qdisc ${qdisc} state ${c(stateAttr(st), `${st} `)}${mode ? 'mode DEFAULT ' : ''}group default${qlen ? ` qlen ${qlen}` : ''}`;
}

function linkLine(d: NetDevice, ns: NetnsImpl, c: Paint): string {
  if (d.kind === 'ipip') return '    link/ipip 0.0.0.0 brd 0.0.0.0';
  if (d.kind === 'loopback') return `    link/loopback ${c('mac', '00:00:00:00:00:00')} brd ${c('mac', '00:00:00:00:00:00')}`;
  return `    link/ether ${c('mac', macToString(d.mac))} brd ${c('mac', 'ff:ff:ff:ff:ff:ff')}${linkNetns(d, ns)}`;
}

/** fe80::/64 from the MAC by EUI-64, as addrconf assigns it. */
export function linkLocal6(mac: Uint8Array): string {
  const b = new Uint8Array(16);
  b[0] = 0xfe; b[1] = 0x80;
  b[8] = mac[0]! ^ 2; b[9] = mac[1]!; b[10] = mac[2]!; b[11] = 0xff; b[12] = 0xfe; b[13] = mac[3]!; b[14] = mac[4]!; b[15] = mac[5]!;
  return ipv6ToString(b);
}

export interface IpAddrOpts { family?: 4 | 6; dev?: string; color?: boolean }

function sorted(ns: NetnsImpl): Device[] { return [...ns.byIndex.values()].sort((a, b) => a.ifindex - b.ifindex); }

/** `ip [-4|-6] addr [show [dev X]]`. */
export function formatIpAddr(ns: NetnsImpl, o: IpAddrOpts = {}): string {
  const c = paint(o.color === true);
  const out: string[] = [];
  for (const d of sorted(ns)) {
    if (o.dev !== undefined && d.name !== o.dev) continue;
    const v4 = o.family === 6 ? [] : d.addrs;
    const global6 = (d as Device).inet6?.map((a) => ({ ip: a.ip, plen: a.plen, scope: `global${a.flags ? ` ${a.flags}` : ''}` })) ?? [];
    const v6 = o.family === 4 ? [] : d.kind === 'loopback' ? [{ ip: '::1', plen: 128, scope: 'host' }] : d.kind === 'ipip' || !d.up ? [] : [...global6, { ip: linkLocal6(d.mac), plen: 64, scope: 'link' }];
    if (o.family === 4 && v4.length === 0) continue;
    if (o.family === 4) out.push(header(d, false, c) + linkNetns(d, ns));
    else { out.push(header(d, false, c)); out.push(linkLine(d, ns, c)); }
    for (const a of v4) {
      // Calico adds tunl0's /32 with a broadcast equal to the address, which ip prints.
      const brd = d.kind === 'ipip' ? `brd ${c('inet', `${u32ToIp(a.ip)} `)}` : a.prefixLen < 31 && d.kind !== 'loopback' ? `brd ${c('inet', `${u32ToIp((a.ip | ~prefixMask(a.prefixLen)) >>> 0)} `)}` : '';
      out.push(`    inet ${c('inet', u32ToIp(a.ip))}/${a.prefixLen} ${brd}scope ${a.scope} ${d.name}`);
      out.push('       valid_lft forever preferred_lft forever');
    }
    for (const a of v6) { out.push(`    inet6 ${c('inet6', a.ip)}/${a.plen} scope ${a.scope}`); out.push('       valid_lft forever preferred_lft forever'); }
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** `ip link [show [dev X]]`. */
export function formatIpLink(ns: NetnsImpl, dev?: string, color = false): string {
  const c = paint(color);
  const out: string[] = [];
  for (const d of sorted(ns)) {
    if (dev !== undefined && d.name !== dev) continue;
    out.push(header(d, true, c)); out.push(linkLine(d, ns, c));
  }
  return out.length ? out.join('\n') + '\n' : '';
}

function nudName(s: number): string {
  switch (s) {
    case NUD_REACHABLE: return 'REACHABLE';
    case NUD_STALE: return 'STALE';
    case NUD_INCOMPLETE: return 'INCOMPLETE';
    case NUD_FAILED: return 'FAILED';
    case NUD_PERMANENT: return 'PERMANENT';
    default: return 'NONE';
  }
}

/** `ip neigh [show [dev D]]`: one line per entry, `IP dev DEV lladdr MAC STATE`; filtered by a device, without `dev D` (as iproute2's print_neigh). */
export function formatIpNeigh(ns: NetnsImpl, color = false, dev?: string): string {
  const c = paint(color);
  const out: string[] = [];
  for (const e of ns.neigh.entries.values()) {
    if (dev !== undefined && e.dev.name !== dev) continue;
    const ll = e.mac ? `lladdr ${c('mac', `${macToString(e.mac)} `)}` : '';
    const on = dev === undefined ? `dev ${c('ifname', `${e.dev.name} `)}` : '';
    out.push(`${c('inet', `${u32ToIp(e.ip)} `)}${on}${ll}${nudName(e.state)}`);
  }
  return out.length ? out.join('\n') + '\n' : '';
}
