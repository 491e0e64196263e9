// Mirrors bpf/lib/eps.h: __lookup_ip4_endpoint (cilium_lxc) and
// lookup_ip4_remote_endpoint (cilium_ipcache LPM).

import { runLocal, type Runtime } from '../../src/bpf/program.ts';
import type { DatapathEnv } from './common.ts';
import { ENDPOINT_F_HOST, ENDPOINT_INFO, ENDPOINT_KEY, ENDPOINT_KEY_IPV4 } from '../../maps/cilium_lxc.ts';
import { IPCACHE_KEY, IPCACHE_STATIC_PREFIX_BITS, REMOTE_ENDPOINT_INFO } from '../../maps/cilium_ipcache.ts';
import { setU32le, setU32be, u16le, u32le, u32be } from './bytes.ts';
import { WORLD_ID } from './common.ts';

// Offsets from the structs' one description (maps/).
const EPKEY_SIZE = ENDPOINT_KEY.size, EPKEY_IP = ENDPOINT_KEY.off.ip4, EPKEY_FAMILY = ENDPOINT_KEY.off.family;
const EPINFO_IFINDEX = ENDPOINT_INFO.off.ifindex, EPINFO_LXC_ID = ENDPOINT_INFO.off.lxc_id, EPINFO_FLAGS = ENDPOINT_INFO.off.flags,
  EPINFO_MAC = ENDPOINT_INFO.off.mac, EPINFO_NODE_MAC = ENDPOINT_INFO.off.node_mac, EPINFO_SEC_ID = ENDPOINT_INFO.off.sec_id;
const IPCKEY_SIZE = IPCACHE_KEY.size, IPCKEY_PREFIXLEN = IPCACHE_KEY.off.prefixlen, IPCKEY_FAMILY = IPCACHE_KEY.off.family,
  IPCKEY_IP = IPCACHE_KEY.off.ip4;
const IPCVAL_SEC_ID = REMOTE_ENDPOINT_INFO.off.sec_identity, IPCVAL_TUNNEL = REMOTE_ENDPOINT_INFO.off.tunnel_endpoint;
/** The run's lookup keys. */
const KEYS = runLocal(() => ({ ep: new Uint8Array(EPKEY_SIZE), ipc: new Uint8Array(IPCKEY_SIZE) }));

/** Fill an endpoint_key for ip (v4). */
export function endpointKey4(k: Uint8Array, ip: number): Uint8Array {
  k.fill(0); setU32be(k, EPKEY_IP, ip); k[EPKEY_FAMILY] = ENDPOINT_KEY_IPV4; return k;
}
/** Fill an ipcache_key for ip/prefixLen (v4). */
export function ipcacheKey4(k: Uint8Array, ip: number, prefixLen: number): Uint8Array {
  k.fill(0); setU32le(k, IPCKEY_PREFIXLEN, IPCACHE_STATIC_PREFIX_BITS + prefixLen); k[IPCKEY_FAMILY] = ENDPOINT_KEY_IPV4; setU32be(k, IPCKEY_IP, ip); return k;
}

/** endpoint_info of a local endpoint or host IP, or undefined. */
export function lookupIp4Endpoint(rt: Runtime, env: DatapathEnv, ip: number): Uint8Array | undefined {
  return rt.mapLookup(env.maps.lxc, endpointKey4(rt.local(KEYS).ep, ip));
}

/** remote_endpoint_info for ip (longest prefix), or undefined. */
export function lookupIp4RemoteEndpoint(rt: Runtime, env: DatapathEnv, ip: number): Uint8Array | undefined {
  return rt.mapLookup(env.maps.ipcache, ipcacheKey4(rt.local(KEYS).ipc, ip, 32));
}

/** Security identity of ip from the ipcache; WORLD_ID on a miss. */
export function identityOf(info: Uint8Array | undefined): number { return info ? u32le(info, IPCVAL_SEC_ID) : WORLD_ID; }
/** Tunnel endpoint (v4) of an ipcache entry, 0 if none. */
export function tunnelEndpointOf(info: Uint8Array | undefined): number { return info ? u32be(info, IPCVAL_TUNNEL) : 0; }
/** Identity stored in an endpoint_info. */
export function epSecId(info: Uint8Array): number { return u32le(info, EPINFO_SEC_ID); }
/** endpoint_info flags (ENDPOINT_F_*). */
export function epFlags(info: Uint8Array): number { return u32le(info, EPINFO_FLAGS); }
/** A host IP's entry (ENDPOINT_F_HOST), not a pod's. */
export function epIsHost(info: Uint8Array): boolean { return (epFlags(info) & ENDPOINT_F_HOST) !== 0; }
/** The endpoint id (LXC_ID) of an endpoint_info. */
export function epLxcId(info: Uint8Array): number { return u16le(info, EPINFO_LXC_ID); }
/** The host-side ifindex of an endpoint_info. */
export function epIfindex(info: Uint8Array): number { return u32le(info, EPINFO_IFINDEX); }
/** Write the endpoint's MAC as destination and its node MAC as source of the frame at `d` (local delivery). */
export function epSetMacs(d: Uint8Array, info: Uint8Array): void {
  for (let i = 0; i < 6; i++) { d[i] = info[EPINFO_MAC + i]!; d[6 + i] = info[EPINFO_NODE_MAC + i]!; }
}
