// In the spirit of Cilium's alignchecker (pkg/alignchecker): every struct
// description in maps/ against the C layout (sizeof, offsetof, as pahole prints
// them for Cilium 1.16 on x86_64), then every writer and reader of those bytes
// (maps/ codecs, the agent's fast encoders, the programs' key builders and
// accessors, the event decoders and `cilium-dbg monitor`) against the
// description, field by field with random values: an offset changed in any
// one of them fails here.
import t from 'tap';
import { fieldOf, getField, setField, type Struct } from '../maps/struct.ts';
import { ENDPOINT_INFO, ENDPOINT_KEY, EndpointInfo, EndpointKey } from '../maps/cilium_lxc.ts';
import { IPCACHE_KEY, REMOTE_ENDPOINT_INFO, IpcacheKey, RemoteEndpointInfo, ipcacheLookupKey } from '../maps/cilium_ipcache.ts';
import { LB4_KEY, LB4_SERVICE, Service4Key, Service4Value } from '../maps/cilium_lb4_services_v2.ts';
import { LB4_BACKEND, LB4_BACKEND_KEY, Backend4KeyV3, Backend4Value } from '../maps/cilium_lb4_backends_v3.ts';
import { LB4_REVERSE_NAT, LB4_REVERSE_NAT_KEY, RevNat4Key, RevNat4Value } from '../maps/cilium_lb4_reverse_nat.ts';
import { LB4_AFFINITY_KEY, LB_AFFINITY_VAL, Affinity4Key, AffinityValue } from '../maps/cilium_lb4_affinity.ts';
import { LB_AFFINITY_MATCH, AffinityMatchKey } from '../maps/cilium_lb_affinity_match.ts';
import { IPV4_REVNAT_ENTRY, IPV4_REVNAT_TUPLE, SockRevNat4Key, SockRevNat4Value } from '../maps/cilium_lb4_reverse_sk.ts';
import { CT_ENTRY, IPV4_CT_TUPLE, CtEntry, CtKey4Global } from '../maps/cilium_ct4_global.ts';
import { IPV4_NAT_ENTRY, NatEntry4 } from '../maps/cilium_snat_v4_external.ts';
import { METRICS_KEY, METRICS_VALUE, MetricsKey, MetricsValue } from '../maps/cilium_metrics.ts';
import { POLICY_ENTRY, POLICY_KEY, PolicyEntry, PolicyKey } from '../maps/cilium_policy.ts';
import { TUNNEL_KEY, TUNNEL_VALUE, TunnelKey, TunnelValue } from '../maps/cilium_tunnel_map.ts';
import { DROP_NOTIFY, POLICY_VERDICT_NOTIFY, TRACE_NOTIFY, TRACE_SOCK_NOTIFY, decodeDropNotify, decodePolicyVerdictNotify,
  decodeTraceNotify, decodeTraceSockNotify } from '../maps/notify.ts';
import { backend4KeyBytes, backend4ValueBytes, ipcacheKeyBytes, remoteEndpointInfoBytes, revNat4KeyBytes, revNat4ValueBytes,
  service4KeyBytes, service4ValueBytes } from '../src/cilium/codec.ts';
import { endpointKey4, epFlags, epIfindex, epLxcId, epSecId, epSetMacs, identityOf, ipcacheKey4, tunnelEndpointOf } from '../programs/lib/eps.ts';
import { lb4Key, svcCount, svcFlags, svcRevNat } from '../programs/lib/lb.ts';
import { buildTuple4, reverseTuple4 } from '../programs/lib/conntrack.ts';
import { natEntry, natToAddr, natToPort, natTuple } from '../programs/lib/nat.ts';
import { macUpper, macBytes } from '../maps/util.ts';
import { writeEth } from '../src/wire/ethernet.ts';
import { writeIpv4, IPPROTO_TCP } from '../src/wire/ipv4.ts';
import { writeTcp } from '../src/wire/tcp.ts';
import { Rng } from '../src/sim/sim.ts';
import { createNodeMaps } from '../maps/index.ts';
import { IdAllocator } from '../src/bpf/ids.ts';
import type { Runtime, RunLocal, SockAddrCtx } from '../src/bpf/program.ts';
import type { BpfMap } from '../src/bpf/map.ts';
import { newSkb } from '../src/wire/skb.ts';
import type { DatapathEnv, NodeConfig } from '../programs/lib/common.ts';
import { sendTraceNotify, sendTraceSockNotify4 } from '../programs/lib/trace.ts';
import { sendDropNotify } from '../programs/lib/drop.ts';
import { ctCreate4, ctLookup4, ctState, CT_ESTABLISHED } from '../programs/lib/conntrack.ts';
import { lb4LookupService, lb4PickBackend, lb4RevNat, lbState } from '../programs/lib/lb.ts';
import { sock4XlateFwd, sock4XlateRev } from '../programs/lib/sock.ts';
import { formatMonitorEvent } from '../src/cilium/monitor.ts';
import { SVC_FLAG_AFFINITY } from '../maps/cilium_lb4_services_v2.ts';
import { u32ToIp } from '../src/wire/addr.ts';

type V = number | Uint8Array;
type Vals = Record<string, V>;
interface Io { name: string; fields: string[]; write?(v: Vals): Uint8Array; read?(b: Uint8Array): Vals }
/** C facts: sizeof and offsetof of the fields we use, with the header they come from. */
interface Case { s: Struct<string>; src: string; size: number; off: Record<string, number>; gen?: Record<string, () => V>; io: Io[] }

const rng = new Rng(5);
const hex = (x: V) => typeof x === 'number' ? String(x) : Buffer.from(x).toString('hex');
const mac8 = () => { const b = new Uint8Array(8); for (let i = 0; i < 6; i++) b[i] = rng.u32() & 255; return b; };
const u64 = () => rng.u32() * 0x200000 + (rng.u32() & 0x1fffff);
const range = (lo: number, hi: number) => () => lo + rng.below(hi - lo + 1);
const fixed = (x: number) => () => x;
const macStr = (v: V | undefined) => macUpper(v as Uint8Array, 0);
const mac8Of = (s: string) => { const b = new Uint8Array(8); b.set(macBytes(s)); return b; };
const n = (v: V | undefined) => v as number;
const big = (v: V | undefined) => BigInt(n(v));

function randomValue(kind: string): V {
  switch (kind) {
    case 'u8': return rng.u32() & 0xff;
    case 's8': return (rng.u32() & 0xff) - 128;
    case 'u16': case 'be16': return rng.u32() & 0xffff;
    case 's32': return rng.u32() | 0;
    case 'u64': return u64();
    case 'mac': return mac8();
    default: return rng.u32();
  }
}

/** Random values for every field some writer or reader of the case covers. */
function values(c: Case): Vals {
  const v: Vals = {};
  for (const io of c.io) for (const f of io.fields) v[f] ??= c.gen?.[f]?.() ?? randomValue(fieldOf(c.s, f).kind);
  return v;
}
/** The reference writer: the description itself. */
function describe(c: Case, v: Vals): Uint8Array {
  const b = new Uint8Array(c.s.size);
  for (const [f, x] of Object.entries(v)) setField(c.s, b, f, x);
  return b;
}

const cases: Case[] = [
  { s: ENDPOINT_KEY, src: 'bpf/lib/eps.h struct endpoint_key (__packed)', size: 20, off: { ip4: 0, family: 16, key: 17, cluster_id: 18 },
    gen: { family: fixed(1) }, io: [
      { name: 'EndpointKey.encode', fields: ['ip4', 'family', 'cluster_id'], write: (v) => new EndpointKey(n(v.ip4), n(v.cluster_id)).encode() },
      { name: 'EndpointKey.decode', fields: ['ip4', 'cluster_id'], read: (b) => { const k = EndpointKey.decode(b); return { ip4: k.ip, cluster_id: k.clusterId }; } },
      { name: 'programs endpointKey4', fields: ['ip4', 'family'], write: (v) => endpointKey4(new Uint8Array(20), n(v.ip4)) },
    ] },
  { s: ENDPOINT_INFO, src: 'bpf/lib/eps.h struct endpoint_info', size: 48,
    off: { ifindex: 0, lxc_id: 6, flags: 8, mac: 16, node_mac: 24, sec_id: 32 }, io: [
      { name: 'EndpointInfo.encode', fields: ['ifindex', 'lxc_id', 'flags', 'mac', 'node_mac', 'sec_id'],
        write: (v) => new EndpointInfo({ ifIndex: n(v.ifindex), lxcId: n(v.lxc_id), flags: n(v.flags), mac: macStr(v.mac), nodeMac: macStr(v.node_mac), secId: n(v.sec_id) }).encode() },
      { name: 'EndpointInfo.decode', fields: ['ifindex', 'lxc_id', 'flags', 'mac', 'node_mac', 'sec_id'], read: (b) => {
        const e = EndpointInfo.decode(b);
        return { ifindex: e.ifIndex, lxc_id: e.lxcId, flags: e.flags, mac: mac8Of(e.mac), node_mac: mac8Of(e.nodeMac), sec_id: e.secId };
      } },
      { name: 'programs ep accessors', fields: ['ifindex', 'lxc_id', 'flags', 'sec_id', 'mac', 'node_mac'], read: (b) => {
        const frame = new Uint8Array(12); epSetMacs(frame, b);
        const mac = new Uint8Array(8), nodeMac = new Uint8Array(8); mac.set(frame.subarray(0, 6)); nodeMac.set(frame.subarray(6, 12));
        return { ifindex: epIfindex(b), lxc_id: epLxcId(b), flags: epFlags(b), sec_id: epSecId(b), mac, node_mac: nodeMac };
      } },
    ] },
  { s: IPCACHE_KEY, src: 'bpf/lib/eps.h struct ipcache_key (__packed)', size: 24, off: { prefixlen: 0, cluster_id: 4, family: 7, ip4: 8 },
    gen: { prefixlen: range(32, 64), family: fixed(1) }, io: [
      { name: 'IpcacheKey.encode', fields: ['prefixlen', 'cluster_id', 'family', 'ip4'], write: (v) => new IpcacheKey(n(v.ip4), n(v.prefixlen) - 32, n(v.cluster_id)).encode() },
      { name: 'IpcacheKey.decode', fields: ['prefixlen', 'cluster_id', 'ip4'], read: (b) => { const k = IpcacheKey.decode(b); return { prefixlen: k.prefixLen + 32, cluster_id: k.clusterId, ip4: k.ip }; } },
      { name: 'agent ipcacheKeyBytes', fields: ['prefixlen', 'family', 'ip4'], write: (v) => ipcacheKeyBytes(n(v.ip4), n(v.prefixlen) - 32) },
      { name: 'programs ipcacheKey4', fields: ['prefixlen', 'family', 'ip4'], write: (v) => ipcacheKey4(new Uint8Array(24), n(v.ip4), n(v.prefixlen) - 32) },
      { name: 'maps ipcacheLookupKey (/32)', fields: ['family', 'ip4'], write: (v) => ipcacheLookupKey(new Uint8Array(24), n(v.ip4)) },
    ] },
  { s: REMOTE_ENDPOINT_INFO, src: 'bpf/lib/eps.h struct remote_endpoint_info (1.16)', size: 12,
    off: { sec_identity: 0, tunnel_endpoint: 4, key: 10, flags: 11 }, io: [
      { name: 'RemoteEndpointInfo.encode', fields: ['sec_identity', 'tunnel_endpoint', 'key', 'flags'],
        write: (v) => new RemoteEndpointInfo(n(v.sec_identity), n(v.tunnel_endpoint), n(v.key), n(v.flags)).encode() },
      { name: 'RemoteEndpointInfo.decode', fields: ['sec_identity', 'tunnel_endpoint', 'key', 'flags'], read: (b) => {
        const r = RemoteEndpointInfo.decode(b); return { sec_identity: r.securityIdentity, tunnel_endpoint: r.tunnelEndpoint, key: r.key, flags: r.flags };
      } },
      { name: 'agent remoteEndpointInfoBytes', fields: ['sec_identity', 'tunnel_endpoint', 'key', 'flags'],
        write: (v) => remoteEndpointInfoBytes(n(v.sec_identity), n(v.tunnel_endpoint), n(v.key), n(v.flags)) },
      { name: 'programs identityOf / tunnelEndpointOf', fields: ['sec_identity', 'tunnel_endpoint'],
        read: (b) => ({ sec_identity: identityOf(b), tunnel_endpoint: tunnelEndpointOf(b) }) },
    ] },
  { s: LB4_KEY, src: 'bpf/lib/common.h struct lb4_key', size: 12, off: { address: 0, dport: 4, backend_slot: 6, proto: 8, scope: 9 }, io: [
    { name: 'Service4Key.encode', fields: ['address', 'dport', 'backend_slot', 'proto', 'scope'],
      write: (v) => new Service4Key(n(v.address), n(v.dport), n(v.proto), n(v.backend_slot), n(v.scope)).encode() },
    { name: 'Service4Key.decode', fields: ['address', 'dport', 'backend_slot', 'proto', 'scope'], read: (b) => {
      const k = Service4Key.decode(b); return { address: k.address, dport: k.port, backend_slot: k.backendSlot, proto: k.proto, scope: k.scope };
    } },
    { name: 'agent service4KeyBytes', fields: ['address', 'dport', 'backend_slot', 'proto', 'scope'],
      write: (v) => service4KeyBytes(n(v.address), n(v.dport), n(v.proto), n(v.backend_slot), n(v.scope)) },
    { name: 'programs lb4Key', fields: ['address', 'dport', 'backend_slot', 'proto', 'scope'],
      write: (v) => lb4Key(new Uint8Array(12), n(v.address), n(v.dport), n(v.proto), n(v.backend_slot), n(v.scope)) },
  ] },
  { s: LB4_SERVICE, src: 'bpf/lib/common.h struct lb4_service', size: 12,
    off: { backend_id: 0, count: 4, rev_nat_index: 6, flags: 8, flags2: 9, qcount: 10 }, io: [
      { name: 'Service4Value.encode', fields: ['backend_id', 'count', 'rev_nat_index', 'flags', 'flags2', 'qcount'],
        write: (v) => new Service4Value(n(v.backend_id), n(v.count), n(v.rev_nat_index), n(v.flags), n(v.flags2), n(v.qcount)).encode() },
      { name: 'Service4Value.decode', fields: ['backend_id', 'count', 'rev_nat_index', 'flags', 'flags2', 'qcount'], read: (b) => {
        const s = Service4Value.decode(b);
        return { backend_id: s.backendId, count: s.count, rev_nat_index: s.revNat, flags: s.flags, flags2: s.flags2, qcount: s.qcount };
      } },
      { name: 'agent service4ValueBytes', fields: ['backend_id', 'count', 'rev_nat_index', 'flags', 'flags2'],
        write: (v) => service4ValueBytes(n(v.backend_id), n(v.count), n(v.rev_nat_index), n(v.flags), n(v.flags2)) },
      { name: 'programs svcCount / svcRevNat / svcFlags', fields: ['count', 'rev_nat_index', 'flags'],
        read: (b) => ({ count: svcCount(b), rev_nat_index: svcRevNat(b), flags: svcFlags(b) }) },
    ] },
  { s: LB4_BACKEND_KEY, src: 'pkg/maps/lbmap Backend4KeyV3 (__u32)', size: 4, off: { backend_id: 0 }, io: [
    { name: 'Backend4KeyV3.encode', fields: ['backend_id'], write: (v) => new Backend4KeyV3(n(v.backend_id)).encode() },
    { name: 'Backend4KeyV3.decode', fields: ['backend_id'], read: (b) => ({ backend_id: Backend4KeyV3.decode(b).id }) },
    { name: 'agent backend4KeyBytes', fields: ['backend_id'], write: (v) => backend4KeyBytes(n(v.backend_id)) },
  ] },
  { s: LB4_BACKEND, src: 'bpf/lib/common.h struct lb4_backend', size: 12,
    off: { address: 0, port: 4, proto: 6, flags: 7, cluster_id: 8, zone: 10 }, io: [
      { name: 'Backend4Value.encode', fields: ['address', 'port', 'proto', 'flags', 'cluster_id', 'zone'],
        write: (v) => new Backend4Value(n(v.address), n(v.port), n(v.proto), n(v.flags), n(v.cluster_id), n(v.zone)).encode() },
      { name: 'Backend4Value.decode', fields: ['address', 'port', 'proto', 'flags', 'cluster_id', 'zone'], read: (b) => {
        const x = Backend4Value.decode(b); return { address: x.address, port: x.port, proto: x.proto, flags: x.flags, cluster_id: x.clusterId, zone: x.zone };
      } },
      { name: 'agent backend4ValueBytes', fields: ['address', 'port', 'proto', 'flags'],
        write: (v) => backend4ValueBytes(n(v.address), n(v.port), n(v.proto), n(v.flags)) },
    ] },
  { s: LB4_REVERSE_NAT_KEY, src: 'pkg/maps/lbmap RevNat4Key (__be16)', size: 2, off: { rev_nat_index: 0 }, io: [
    { name: 'RevNat4Key.encode', fields: ['rev_nat_index'], write: (v) => new RevNat4Key(n(v.rev_nat_index)).encode() },
    { name: 'RevNat4Key.decode', fields: ['rev_nat_index'], read: (b) => ({ rev_nat_index: RevNat4Key.decode(b).key }) },
    { name: 'agent revNat4KeyBytes', fields: ['rev_nat_index'], write: (v) => revNat4KeyBytes(n(v.rev_nat_index)) },
  ] },
  { s: LB4_REVERSE_NAT, src: 'bpf/lib/common.h struct lb4_reverse_nat (__packed)', size: 6, off: { address: 0, port: 4 }, io: [
    { name: 'RevNat4Value.encode', fields: ['address', 'port'], write: (v) => new RevNat4Value(n(v.address), n(v.port)).encode() },
    { name: 'RevNat4Value.decode', fields: ['address', 'port'], read: (b) => { const x = RevNat4Value.decode(b); return { address: x.address, port: x.port }; } },
    { name: 'agent revNat4ValueBytes', fields: ['address', 'port'], write: (v) => revNat4ValueBytes(n(v.address), n(v.port)) },
  ] },
  { s: LB4_AFFINITY_KEY, src: 'bpf/lib/common.h struct lb4_affinity_key (__packed)', size: 16, off: { client_id: 0, rev_nat_id: 8, netns_cookie: 10 }, io: [
    { name: 'Affinity4Key.encode', fields: ['client_id', 'rev_nat_id', 'netns_cookie'],
      write: (v) => new Affinity4Key(big(v.client_id), n(v.rev_nat_id), n(v.netns_cookie)).encode() },
    { name: 'Affinity4Key.decode', fields: ['client_id', 'rev_nat_id', 'netns_cookie'], read: (b) => {
      const k = Affinity4Key.decode(b); return { client_id: Number(k.clientId), rev_nat_id: k.revNatId, netns_cookie: k.netnsCookie };
    } },
  ] },
  { s: LB_AFFINITY_VAL, src: 'bpf/lib/common.h struct lb_affinity_val', size: 16, off: { last_used: 0, backend_id: 8 }, io: [
    { name: 'AffinityValue.encode', fields: ['last_used', 'backend_id'], write: (v) => new AffinityValue(big(v.last_used), n(v.backend_id)).encode() },
    { name: 'AffinityValue.decode', fields: ['last_used', 'backend_id'], read: (b) => { const x = AffinityValue.decode(b); return { last_used: Number(x.lastUsed), backend_id: x.backendId }; } },
  ] },
  { s: LB_AFFINITY_MATCH, src: 'bpf/lib/common.h struct lb_affinity_match (__packed)', size: 8, off: { backend_id: 0, rev_nat_id: 4 }, io: [
    { name: 'AffinityMatchKey.encode', fields: ['backend_id', 'rev_nat_id'], write: (v) => new AffinityMatchKey(n(v.backend_id), n(v.rev_nat_id)).encode() },
    { name: 'AffinityMatchKey.decode', fields: ['backend_id', 'rev_nat_id'], read: (b) => { const k = AffinityMatchKey.decode(b); return { backend_id: k.backendId, rev_nat_id: k.revNatId }; } },
  ] },
  { s: IPV4_REVNAT_TUPLE, src: 'bpf/bpf_sock.c struct ipv4_revnat_tuple', size: 16, off: { cookie: 0, address: 8, port: 12 }, io: [
    { name: 'SockRevNat4Key.encode', fields: ['cookie', 'address', 'port'], write: (v) => new SockRevNat4Key(big(v.cookie), n(v.address), n(v.port)).encode() },
    { name: 'SockRevNat4Key.decode', fields: ['cookie', 'address', 'port'], read: (b) => { const k = SockRevNat4Key.decode(b); return { cookie: Number(k.cookie), address: k.address, port: k.port }; } },
  ] },
  { s: IPV4_REVNAT_ENTRY, src: 'bpf/bpf_sock.c struct ipv4_revnat_entry', size: 8, off: { address: 0, port: 4, rev_nat_index: 6 }, io: [
    { name: 'SockRevNat4Value.encode', fields: ['address', 'port', 'rev_nat_index'], write: (v) => new SockRevNat4Value(n(v.address), n(v.port), n(v.rev_nat_index)).encode() },
    { name: 'SockRevNat4Value.decode', fields: ['address', 'port', 'rev_nat_index'], read: (b) => {
      const x = SockRevNat4Value.decode(b); return { address: x.address, port: x.port, rev_nat_index: x.revNatIndex };
    } },
  ] },
  { s: IPV4_CT_TUPLE, src: 'bpf/lib/common.h struct ipv4_ct_tuple (__packed)', size: 14,
    off: { daddr: 0, saddr: 4, dport: 8, sport: 10, nexthdr: 12, flags: 13 }, gen: { flags: range(0, 7), nexthdr: fixed(IPPROTO_TCP) }, io: [
      { name: 'CtKey4Global.encode', fields: ['daddr', 'saddr', 'dport', 'sport', 'nexthdr', 'flags'],
        write: (v) => new CtKey4Global({ daddr: n(v.daddr), saddr: n(v.saddr), dport: n(v.dport), sport: n(v.sport), nexthdr: n(v.nexthdr), flags: n(v.flags) }).encode() },
      { name: 'CtKey4Global.decode', fields: ['daddr', 'saddr', 'dport', 'sport', 'nexthdr', 'flags'], read: (b) => { const k = CtKey4Global.decode(b); return { ...k }; } },
      { name: 'programs natTuple', fields: ['daddr', 'saddr', 'dport', 'sport', 'nexthdr', 'flags'],
        write: (v) => natTuple(new Uint8Array(14), n(v.daddr), n(v.saddr), n(v.sport), n(v.dport), n(v.nexthdr), n(v.flags)) },
      // ct_lookup4 stores the packet's source in daddr (cilium#5848): a frame src->dst gives daddr=src, saddr=dst.
      { name: 'programs buildTuple4', fields: ['daddr', 'saddr', 'dport', 'sport', 'nexthdr', 'flags'], write: (v) => {
        const f = tcpFrame(n(v.daddr), n(v.saddr), n(v.sport), n(v.dport));
        const tuple = new Uint8Array(14); buildTuple4(tuple, f, 14, 34, IPPROTO_TCP, n(v.flags)); return tuple;
      } },
      { name: 'programs reverseTuple4', fields: ['daddr', 'saddr', 'dport', 'sport', 'nexthdr', 'flags'], write: (v) => {
        const fwd = new CtKey4Global({ daddr: n(v.saddr), saddr: n(v.daddr), dport: n(v.sport), sport: n(v.dport), nexthdr: n(v.nexthdr), flags: n(v.flags) ^ 1 }).encode();
        const rev = new Uint8Array(14); reverseTuple4(rev, fwd); return rev;
      } },
    ] },
  { s: CT_ENTRY, src: 'bpf/lib/common.h struct ct_entry', size: 56,
    off: { backend_id: 8, packets: 16, bytes: 24, lifetime: 32, flags: 36, rev_nat_index: 38, ifindex: 40, tx_flags_seen: 42,
      rx_flags_seen: 43, src_sec_id: 44, last_tx_report: 48, last_rx_report: 52 }, io: [
      { name: 'CtEntry.encode', fields: ['backend_id', 'packets', 'bytes', 'lifetime', 'flags', 'rev_nat_index', 'ifindex', 'tx_flags_seen',
        'rx_flags_seen', 'src_sec_id', 'last_tx_report', 'last_rx_report'], write: (v) => new CtEntry(ctFields(v)).encode() },
      { name: 'CtEntry.decode', fields: ['backend_id', 'packets', 'bytes', 'lifetime', 'flags', 'rev_nat_index', 'ifindex', 'tx_flags_seen',
        'rx_flags_seen', 'src_sec_id', 'last_tx_report', 'last_rx_report'], read: (b) => {
        const e = CtEntry.decode(b);
        return { backend_id: e.backendId, packets: e.packets, bytes: e.bytes, lifetime: e.lifetime, flags: e.flags, rev_nat_index: e.revNat,
          ifindex: e.ifindex, tx_flags_seen: e.txFlagsSeen, rx_flags_seen: e.rxFlagsSeen, src_sec_id: e.sourceSecurityId,
          last_tx_report: e.lastTxReport, last_rx_report: e.lastRxReport };
      } },
    ] },
  { s: IPV4_NAT_ENTRY, src: 'bpf/lib/nat.h struct ipv4_nat_entry', size: 40, off: { created: 0, needs_ct: 8, to_saddr: 32, to_sport: 36 },
    gen: { needs_ct: fixed(1) }, io: [
      { name: 'NatEntry4.encode', fields: ['created', 'needs_ct', 'to_saddr', 'to_sport'], write: (v) => new NatEntry4(n(v.created), n(v.needs_ct), n(v.to_saddr), n(v.to_sport)).encode() },
      { name: 'NatEntry4.decode', fields: ['created', 'needs_ct', 'to_saddr', 'to_sport'], read: (b) => {
        const e = NatEntry4.decode(b); return { created: e.created, needs_ct: e.needsCt, to_saddr: e.toSaddr, to_sport: e.toSport };
      } },
      { name: 'programs natEntry', fields: ['created', 'needs_ct', 'to_saddr', 'to_sport'], write: (v) => natEntry(new Uint8Array(40), n(v.created), n(v.to_saddr), n(v.to_sport)) },
      { name: 'programs natToAddr / natToPort', fields: ['to_saddr', 'to_sport'], read: (b) => ({ to_saddr: natToAddr(b), to_sport: natToPort(b) }) },
    ] },
  { s: METRICS_KEY, src: 'bpf/lib/metrics.h struct metrics_key', size: 8, off: { reason: 0, dir: 1, line: 2, file: 4 }, gen: { dir: range(0, 3) }, io: [
    { name: 'MetricsKey.encode', fields: ['reason', 'dir', 'line', 'file'], write: (v) => new MetricsKey(n(v.reason), n(v.dir), n(v.line), n(v.file)).encode() },
    { name: 'MetricsKey.decode', fields: ['reason', 'dir', 'line', 'file'], read: (b) => { const k = MetricsKey.decode(b); return { reason: k.reason, dir: k.dir, line: k.line, file: k.file }; } },
  ] },
  { s: METRICS_VALUE, src: 'bpf/lib/metrics.h struct metrics_value', size: 16, off: { count: 0, bytes: 8 }, io: [
    { name: 'MetricsValue.encode', fields: ['count', 'bytes'], write: (v) => new MetricsValue(n(v.count), n(v.bytes)).encode() },
    { name: 'MetricsValue.decode', fields: ['count', 'bytes'], read: (b) => { const x = MetricsValue.decode(b); return { count: x.count, bytes: x.bytes }; } },
  ] },
  { s: POLICY_KEY, src: 'bpf/lib/policy.h struct policy_key', size: 12, off: { lpm_key: 0, sec_label: 4, egress: 8, protocol: 9, dport: 10 },
    gen: { lpm_key: range(48, 64), protocol: range(1, 255) }, io: [
      { name: 'PolicyKey.encode', fields: ['lpm_key', 'sec_label', 'egress', 'protocol', 'dport'],
        write: (v) => new PolicyKey(n(v.sec_label), n(v.egress), n(v.protocol), n(v.dport), n(v.lpm_key) - 48).encode() },
      { name: 'PolicyKey.decode', fields: ['lpm_key', 'sec_label', 'egress', 'protocol', 'dport'], read: (b) => {
        const k = PolicyKey.decode(b); return { lpm_key: k.portPrefixLen + 48, sec_label: k.identity, egress: k.egress, protocol: k.protocol, dport: k.dport };
      } },
    ] },
  { s: POLICY_ENTRY, src: 'bpf/lib/policy.h struct policy_entry (1.16)', size: 24, off: { proxy_port: 0, flags: 2, auth_type: 3, packets: 8, bytes: 16 }, io: [
    { name: 'PolicyEntry.encode', fields: ['proxy_port', 'flags', 'auth_type', 'packets', 'bytes'],
      write: (v) => new PolicyEntry(n(v.proxy_port), n(v.flags), n(v.auth_type), n(v.packets), n(v.bytes)).encode() },
    { name: 'PolicyEntry.decode', fields: ['proxy_port', 'flags', 'auth_type', 'packets', 'bytes'], read: (b) => {
      const e = PolicyEntry.decode(b); return { proxy_port: e.proxyPort, flags: e.flags, auth_type: e.authType, packets: e.packets, bytes: e.bytes };
    } },
  ] },
  { s: TUNNEL_KEY, src: 'bpf/lib/common.h struct tunnel_key (__packed)', size: 20, off: { ip4: 0, family: 16, cluster_id: 18 }, gen: { family: fixed(1) }, io: [
    { name: 'TunnelKey.encode', fields: ['ip4', 'family', 'cluster_id'], write: (v) => new TunnelKey(n(v.ip4), n(v.cluster_id)).encode() },
    { name: 'TunnelKey.decode', fields: ['ip4', 'cluster_id'], read: (b) => { const k = TunnelKey.decode(b); return { ip4: k.ip, cluster_id: k.clusterId }; } },
  ] },
  { s: TUNNEL_VALUE, src: 'bpf/lib/common.h struct tunnel_value (__packed)', size: 20, off: { ip4: 0, family: 16, key: 17, node_id: 18 },
    gen: { family: fixed(1) }, io: [
      { name: 'TunnelValue.encode', fields: ['ip4', 'family', 'key', 'node_id'], write: (v) => new TunnelValue(n(v.ip4), n(v.key), n(v.node_id)).encode() },
      { name: 'TunnelValue.decode', fields: ['ip4', 'key', 'node_id'], read: (b) => { const x = TunnelValue.decode(b); return { ip4: x.ip, key: x.key, node_id: x.nodeId }; } },
    ] },
  { s: TRACE_NOTIFY, src: 'bpf/lib/trace.h struct trace_notify (v1)', size: 48,
    off: { type: 0, subtype: 1, source: 2, hash: 4, len_orig: 8, len_cap: 12, version: 14, src_label: 16, dst_label: 20, dst_id: 24,
      reason: 26, flags: 27, ifindex: 28, orig_ip4: 32 }, gen: { version: fixed(1) }, io: [
      { name: 'decodeTraceNotify', fields: ['type', 'subtype', 'source', 'hash', 'len_orig', 'len_cap', 'version', 'src_label', 'dst_label',
        'dst_id', 'reason', 'flags', 'ifindex', 'orig_ip4'], read: (b) => {
        const x = decodeTraceNotify(b);
        return { type: x.type, subtype: x.obsPoint, source: x.source, hash: x.hash, len_orig: x.lenOrig, len_cap: x.lenCap, version: x.version,
          src_label: x.srcLabel, dst_label: x.dstLabel, dst_id: x.dstId, reason: x.reason, flags: x.flags, ifindex: x.ifindex, orig_ip4: x.origIp };
      } },
    ] },
  { s: DROP_NOTIFY, src: 'bpf/lib/drop.h struct drop_notify (v2)', size: 40,
    off: { type: 0, subtype: 1, source: 2, hash: 4, len_orig: 8, len_cap: 12, version: 14, src_label: 16, dst_label: 20, dst_id: 24,
      line: 28, file: 30, ext_error: 31, ifindex: 32, flags: 36 }, gen: { version: fixed(2) }, io: [
      { name: 'decodeDropNotify', fields: ['type', 'subtype', 'source', 'hash', 'len_orig', 'len_cap', 'version', 'src_label', 'dst_label',
        'dst_id', 'line', 'file', 'ext_error', 'ifindex', 'flags'], read: (b) => {
        const x = decodeDropNotify(b);
        return { type: x.type, subtype: x.reason, source: x.source, hash: x.hash, len_orig: x.lenOrig, len_cap: x.lenCap, version: x.version,
          src_label: x.srcLabel, dst_label: x.dstLabel, dst_id: x.dstId, line: x.line, file: x.file, ext_error: x.extError, ifindex: x.ifindex, flags: x.flags };
      } },
    ] },
  { s: TRACE_SOCK_NOTIFY, src: 'bpf/lib/trace_sock.h struct trace_sock_notify (__packed)', size: 38,
    off: { type: 0, xlate_point: 1, dst_ip4: 2, dst_port: 18, sock_cookie: 20, cgroup_id: 28, l4_proto: 36, flags: 37 }, io: [
      { name: 'decodeTraceSockNotify', fields: ['type', 'xlate_point', 'dst_ip4', 'dst_port', 'sock_cookie', 'cgroup_id', 'l4_proto', 'flags'], read: (b) => {
        const x = decodeTraceSockNotify(b);
        return { type: x.type, xlate_point: x.xlatePoint, dst_ip4: x.dstIp, dst_port: x.dstPort, sock_cookie: x.sockCookie, cgroup_id: x.cgroupId,
          l4_proto: x.l4Proto, flags: x.flags };
      } },
    ] },
  { s: POLICY_VERDICT_NOTIFY, src: 'bpf/lib/policy_log.h struct policy_verdict_notify (1.16)', size: 32,
    off: { type: 0, subtype: 1, source: 2, version: 14, remote_label: 16, verdict: 20, dst_port: 24, proto: 26, flags: 27, auth_type: 28 }, io: [
      { name: 'decodePolicyVerdictNotify', fields: ['type', 'subtype', 'source', 'version', 'remote_label', 'verdict', 'dst_port', 'proto', 'flags', 'auth_type'],
        read: (b) => {
          const x = decodePolicyVerdictNotify(b);
          return { type: x.type, subtype: x.subtype, source: x.source, version: x.version, remote_label: x.remoteLabel, verdict: x.verdict,
            dst_port: x.dstPort, proto: x.proto, flags: x.flags, auth_type: x.authType };
        } },
    ] },
];

function ctFields(v: Vals) {
  return { backendId: n(v.backend_id), packets: n(v.packets), bytes: n(v.bytes), lifetime: n(v.lifetime), flags: n(v.flags), revNat: n(v.rev_nat_index),
    ifindex: n(v.ifindex), txFlagsSeen: n(v.tx_flags_seen), rxFlagsSeen: n(v.rx_flags_seen), sourceSecurityId: n(v.src_sec_id),
    lastTxReport: n(v.last_tx_report), lastRxReport: n(v.last_rx_report) };
}

/** A TCP frame src:sport -> dst:dport (Ethernet + IPv4 at 14 + TCP at 34). */
function tcpFrame(src: number, dst: number, sport: number, dport: number): Uint8Array {
  const f = new Uint8Array(14 + 40);
  writeEth(f, new Uint8Array(6), new Uint8Array(6), 0x0800);
  writeIpv4(f, 14, { src, dst, proto: IPPROTO_TCP, ttl: 64, id: 1 }, 20);
  writeTcp(f, 34, src, dst, { sport, dport, seq: 1, ack: 0, flags: 2, window: 1000 }, 0);
  return f;
}

for (const c of cases) {
  t.test(`${c.s.name} (${c.src})`, async (t) => {
    t.equal(c.s.size, c.size, 'sizeof');
    const off: Record<string, number> = {};
    for (const f of Object.keys(c.off)) off[f] = (c.s.off as Record<string, number>)[f]!;
    t.same(off, c.off, 'offsetof');
    for (const io of c.io) {
      const bad: string[] = [];
      for (let i = 0; i < 50 && bad.length === 0; i++) {
        const v = values(c);
        if (io.write) {
          const b = io.write(v);
          for (const f of io.fields) if (hex(getField(c.s, b, f)) !== hex(v[f]!)) bad.push(`${f}: wrote ${hex(v[f]!)}, the description reads ${hex(getField(c.s, b, f))}`);
        }
        if (io.read) {
          const got = io.read(describe(c, v));
          for (const f of io.fields) if (hex(got[f]!) !== hex(v[f]!)) bad.push(`${f}: described ${hex(v[f]!)}, read ${hex(got[f]!)}`);
        }
      }
      t.same(bad, [], `${io.name} agrees with the description`);
    }
  });
}

// Programs through real maps: what they write, the description reads; what the
// description writes, they read. The monitor prints what the programs' events hold.

/** The helpers these library functions call, over real maps, with a fixed clock. */
function lab(now = 5000) {
  const locals = new Map<number, unknown>();
  const events: Uint8Array[] = [];
  const rt = {
    kernel: { monoSeconds: () => now, ktimeNs: () => now * 1e9, prandomU32: () => 0, fibLookup: () => { throw new Error('no FIB here'); } },
    recorder: null,
    local<T>(slot: RunLocal<T>): T { if (!locals.has(slot.id)) locals.set(slot.id, slot.make()); return locals.get(slot.id) as T; },
    mapLookup: (m: BpfMap, k: Uint8Array) => m.lookup(k),
    mapUpdate: (m: BpfMap, k: Uint8Array, v: Uint8Array, f = 0) => m.update(k, v, f),
    mapDelete: (m: BpfMap, k: Uint8Array) => m.delete(k),
    perfEventOutput: (_m: BpfMap, d: Uint8Array) => { events.push(d.slice()); },
  } as unknown as Runtime;
  const maps = createNodeMaps(new IdAllocator());
  const env: DatapathEnv = { maps, node: { aggregation: 0 } as NodeConfig };
  return { rt, env, maps, events, now };
}
const field = (s: Struct<string>, b: Uint8Array, f: string) => getField(s, b, f);
const fields = (s: Struct<string>, b: Uint8Array, fs: string[]) => Object.fromEntries(fs.map((f) => [f, field(s, b, f)]));
const resolver = { ifname: (i: number) => `if${i}` };
const u16 = () => rng.u32() & 0xffff, u8 = () => rng.u32() & 0xff;

t.test('trace_notify: sendTraceNotify writes, the description and the monitor read', async (t) => {
  const { rt, env, events } = lab();
  const frame = tcpFrame(rng.u32(), rng.u32(), 1 + u16() % 60000, 80);
  const v = { source: u16(), obs: 0, src: rng.u32(), dst: rng.u32(), dstId: u16(), ifindex: rng.u32(), reason: 2, orig: rng.u32() };
  sendTraceNotify(newSkb(frame, frame.length, 3), rt, env, v.source, v.obs, v.src, v.dst, v.dstId, v.ifindex, v.reason, 128, v.orig);
  const ev = events[0]!;
  t.same(fields(TRACE_NOTIFY, ev, ['type', 'subtype', 'source', 'len_orig', 'len_cap', 'version', 'src_label', 'dst_label', 'dst_id', 'reason', 'ifindex', 'orig_ip4']),
    { type: 4, subtype: v.obs, source: v.source, len_orig: frame.length, len_cap: frame.length, version: 1, src_label: v.src, dst_label: v.dst,
      dst_id: v.dstId, reason: v.reason, ifindex: v.ifindex, orig_ip4: v.orig });
  t.same([...ev.subarray(TRACE_NOTIFY.size)], [...frame], 'the frame follows the header');
  const line = formatMonitorEvent(ev, resolver, { numeric: true })!;
  t.match(line, new RegExp(`^-> endpoint ${v.dstId} flow 0x[0-9a-f]+ , identity ${v.src}->${v.dst} state reply ifindex if${v.ifindex} orig-ip ${u32ToIp(v.orig).replace(/\./g, '\\.')}: `));
});

t.test('drop_notify: sendDropNotify writes event and metric, the description and the monitor read', async (t) => {
  const { rt, env, maps, events } = lab();
  const frame = tcpFrame(rng.u32(), rng.u32(), 1000, 80);
  const v = { source: u16(), src: rng.u32(), dst: rng.u32(), dstId: rng.u32(), line: u16(), ifindex: 7 };
  sendDropNotify(newSkb(frame, frame.length, v.ifindex), rt, env, v.source, v.src, v.dst, v.dstId, 133, 2, 108, v.line);
  const ev = events[0]!;
  t.same(fields(DROP_NOTIFY, ev, ['type', 'subtype', 'source', 'len_orig', 'len_cap', 'version', 'src_label', 'dst_label', 'dst_id', 'line', 'file', 'ifindex']),
    { type: 1, subtype: 133, source: v.source, len_orig: frame.length, len_cap: frame.length, version: 2, src_label: v.src, dst_label: v.dst,
      dst_id: v.dstId, line: v.line, file: 108, ifindex: v.ifindex });
  t.match(formatMonitorEvent(ev, resolver, { numeric: true })!,
    new RegExp(`^xx drop \\(Policy denied\\) flow 0x[0-9a-f]+ to endpoint ${v.dstId}, ifindex ${v.ifindex}, file conntrack.h:${v.line}, , identity ${v.src}->${v.dst}: `));
  const [k, val] = maps.metrics.entries()[0]!;
  t.same(fields(METRICS_KEY, k!, ['reason', 'dir', 'line', 'file']), { reason: 133, dir: 2, line: v.line, file: 108 }, 'metrics_key');
  t.same(fields(METRICS_VALUE, val!, ['count', 'bytes']), { count: 1, bytes: frame.length }, 'metrics_value');
});

t.test('trace_sock_notify: sendTraceSockNotify4 writes, the description and the monitor read', async (t) => {
  const { rt, env, events } = lab();
  const v = { xlate: 4, ip: rng.u32(), port: u16(), cookie: u64(), cgroup: u64() };
  sendTraceSockNotify4(rt, env, v.xlate, v.ip, v.port, v.cookie, v.cgroup, 17);
  const ev = events[0]!;
  t.same(fields(TRACE_SOCK_NOTIFY, ev, ['type', 'xlate_point', 'dst_ip4', 'dst_port', 'sock_cookie', 'cgroup_id', 'l4_proto']),
    { type: 7, xlate_point: v.xlate, dst_ip4: v.ip, dst_port: v.port, sock_cookie: v.cookie, cgroup_id: v.cgroup, l4_proto: 2 });
  t.equal(formatMonitorEvent(ev, resolver, { debug: true }),
    `[post-xlate-rev] cgroup_id: ${v.cgroup} sock_cookie: ${v.cookie}, dst [${u32ToIp(v.ip)}]:${v.port} udp `);
});

t.test('ct_entry: ctCreate4 writes and ctLookup4 reads what the description holds', async (t) => {
  const { rt, env, maps, now } = lab();
  const frame = tcpFrame(rng.u32(), rng.u32(), 1000 + u16() % 9000, 443);
  const v = { revNat: u16(), backend: rng.u32(), secId: rng.u32() };
  ctLookup4(rt, env, frame, frame.length, 14, 34, IPPROTO_TCP, 0);
  t.equal(ctCreate4(rt, env, frame, frame.length, 34, IPPROTO_TCP, v.revNat, v.backend, v.secId, true), 0);
  const e = maps.ct4.entries()[0]![1];
  t.same(fields(CT_ENTRY, e!, ['backend_id', 'packets', 'bytes', 'rev_nat_index', 'src_sec_id', 'flags', 'lifetime', 'last_tx_report']),
    { backend_id: v.backend, packets: 1, bytes: frame.length, rev_nat_index: v.revNat, src_sec_id: v.secId, flags: 1 << 5, lifetime: now + 60, last_tx_report: now });
  const k = maps.ct4.entries()[0]![0];
  const w = { backend_id: rng.u32(), rev_nat_index: u16(), src_sec_id: rng.u32(), packets: u64(), bytes: u64(), lifetime: now + 100, flags: 1 << 4 };
  const entry = new Uint8Array(CT_ENTRY.size);
  for (const [f, x] of Object.entries(w)) setField(CT_ENTRY as Struct<string>, entry, f, x);
  maps.ct4.update(k!, entry, 0);
  t.equal(ctLookup4(rt, env, frame, frame.length, 14, 34, IPPROTO_TCP, 0), CT_ESTABLISHED);
  const st = ctState(rt);
  t.same({ backend: st.backendId, revNat: st.revNat, secId: st.srcSecId }, { backend: w.backend_id, revNat: w.rev_nat_index, secId: w.src_sec_id }, 'ct_state');
  const after = maps.ct4.lookup(k!)!;
  t.same(fields(CT_ENTRY, after, ['packets', 'bytes']), { packets: w.packets + 1, bytes: w.bytes + frame.length }, 'counters');
});

t.test('lb4: lookups, backend choice, affinity and rev NAT read and write the described bytes', async (t) => {
  const { rt, env, maps, now } = lab();
  const vip = rng.u32(), port = u16(), revNat = 1 + u16() % 1000, beId = 1 + rng.below(1000), be = { addr: rng.u32(), port: u16() }, timeout = 1000;
  const put = (m: BpfMap, ks: Struct<string>, kv: Vals, vs: Struct<string>, vv: Vals) => {
    const k = new Uint8Array(ks.size), val = new Uint8Array(vs.size);
    for (const [f, x] of Object.entries(kv)) setField(ks, k, f, x);
    for (const [f, x] of Object.entries(vv)) setField(vs, val, f, x);
    m.update(k, val, 0);
  };
  put(maps.lbServices, LB4_KEY, { address: vip, dport: port, proto: IPPROTO_TCP }, LB4_SERVICE, { backend_id: timeout, count: 1, rev_nat_index: revNat, flags: SVC_FLAG_AFFINITY });
  put(maps.lbServices, LB4_KEY, { address: vip, dport: port, proto: IPPROTO_TCP, backend_slot: 1 }, LB4_SERVICE, { backend_id: beId });
  put(maps.lbBackends, LB4_BACKEND_KEY, { backend_id: beId }, LB4_BACKEND, { address: be.addr, port: be.port, proto: IPPROTO_TCP });
  put(maps.lbRevNat, LB4_REVERSE_NAT_KEY, { rev_nat_index: revNat }, LB4_REVERSE_NAT, { address: vip, port });
  const svc = lb4LookupService(rt, env, vip, port, IPPROTO_TCP)!;
  t.ok(svc, 'service found by the described key');
  const cookie = u64();
  t.ok(lb4PickBackend(rt, env, svc, vip, port, IPPROTO_TCP, cookie, true));
  const st = lbState(rt);
  t.same({ ...st }, { backendId: beId, revNat, addr: be.addr, port: be.port }, 'backend from the described slot and backend');
  const [ak, av] = maps.lbAffinity.entries()[0]!;
  t.same(fields(LB4_AFFINITY_KEY, ak!, ['client_id', 'rev_nat_id', 'netns_cookie']), { client_id: cookie, rev_nat_id: revNat, netns_cookie: 1 }, 'affinity key');
  t.same(fields(LB_AFFINITY_VAL, av!, ['last_used', 'backend_id']), { last_used: now, backend_id: beId }, 'affinity value');
  // A second backend in slot 1: the affinity entry (timeout in the master's backend_id) still picks the first.
  put(maps.lbServices, LB4_KEY, { address: vip, dport: port, proto: IPPROTO_TCP, backend_slot: 1 }, LB4_SERVICE, { backend_id: beId + 1 });
  put(maps.lbBackends, LB4_BACKEND_KEY, { backend_id: beId + 1 }, LB4_BACKEND, { address: rng.u32(), port: u16(), proto: IPPROTO_TCP });
  t.ok(lb4PickBackend(rt, env, svc, vip, port, IPPROTO_TCP, cookie, true));
  t.same({ ...lbState(rt) }, { backendId: beId, revNat, addr: be.addr, port: be.port }, 'the affinity entry keeps the client on its backend');
  const reply = tcpFrame(be.addr, rng.u32(), be.port, 40000);
  t.ok(lb4RevNat(rt, env, reply, 14, 34, IPPROTO_TCP, revNat));
  t.same({ src: getField(IPV4_CT_TUPLE, reply.subarray(26), 'daddr'), sport: (reply[34]! << 8) | reply[35]! }, { src: vip, sport: port }, 'reply source is the frontend');
});

t.test('ipv4_revnat_tuple / entry: socket LB writes and reads the described bytes', async (t) => {
  const { rt, env, maps } = lab();
  const vip = rng.u32(), port = u16(), revNat = 1 + u16() % 1000, be = { addr: rng.u32(), port: u16() };
  const k = new Uint8Array(LB4_KEY.size), sv = new Uint8Array(LB4_SERVICE.size);
  setField(LB4_KEY, k, 'address', vip); setField(LB4_KEY, k, 'dport', port); setField(LB4_KEY, k, 'proto', IPPROTO_TCP);
  setField(LB4_SERVICE, sv, 'count', 1); setField(LB4_SERVICE, sv, 'rev_nat_index', revNat);
  maps.lbServices.update(k.slice(), sv.slice(), 0);
  setField(LB4_KEY, k, 'backend_slot', 1); sv.fill(0); setField(LB4_SERVICE, sv, 'backend_id', 9);
  maps.lbServices.update(k, sv, 0);
  maps.lbBackends.update(new Backend4KeyV3(9).encode(), new Backend4Value(be.addr, be.port, IPPROTO_TCP).encode(), 0);
  const ctx: SockAddrCtx = { userIp4: vip, userPort: port, protocol: IPPROTO_TCP, sockCookie: u64(), netnsCookie: 1, srcIp4: 0, srcPort: 0, epId: 0 };
  sock4XlateFwd(ctx, rt, env);
  const [rk, rv] = maps.lbReverseSk!.entries()[0]!;
  t.same(fields(IPV4_REVNAT_TUPLE, rk!, ['cookie', 'address', 'port']), { cookie: ctx.sockCookie, address: be.addr, port: be.port }, 'reverse_sk key');
  t.same(fields(IPV4_REVNAT_ENTRY, rv!, ['address', 'port', 'rev_nat_index']), { address: vip, port, rev_nat_index: revNat }, 'reverse_sk value');
  const other = rng.u32(), otherPort = u16();
  setField(IPV4_REVNAT_ENTRY, rv!, 'address', other); setField(IPV4_REVNAT_ENTRY, rv!, 'port', otherPort);
  maps.lbReverseSk!.update(rk!, rv!, 0);
  sock4XlateRev(ctx, rt, env);
  t.same([ctx.userIp4, ctx.userPort], [other, otherPort], 'getpeername() reads the described entry');
});
