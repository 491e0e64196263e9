// Mirrors bpf/lib/eps.h: __lookup_ip4_endpoint (cilium_lxc) and
// lookup_ip4_remote_endpoint (cilium_ipcache LPM).

import { runLocal, type Runtime } from '../../src/bpf/program.ts';
import type { DatapathEnv } from './common.ts';
import { EPKEY_SIZE, EPKEY_FAMILY, IPCKEY_SIZE, IPCKEY_FAMILY, IPCKEY_IP, IPCACHE_STATIC_PREFIX, EPINFO_SEC_ID, IPCVAL_SEC_ID, IPCVAL_TUNNEL } from './layout.ts';
import { setU32le, setU32be, u32le, u32be } from './bytes.ts';
import { WORLD_ID } from './common.ts';

const ENDPOINT_KEY_IPV4 = 1;
/** The run's lookup keys. */
const KEYS = runLocal(() => ({ ep: new Uint8Array(EPKEY_SIZE), ipc: new Uint8Array(IPCKEY_SIZE) }));

/** Fill an endpoint_key for ip (v4). */
export function endpointKey4(k: Uint8Array, ip: number): Uint8Array {
  k.fill(0); setU32be(k, 0, ip); k[EPKEY_FAMILY] = ENDPOINT_KEY_IPV4; return k;
}
/** Fill an ipcache_key for ip/prefixLen (v4). */
export function ipcacheKey4(k: Uint8Array, ip: number, prefixLen: number): Uint8Array {
  k.fill(0); setU32le(k, 0, IPCACHE_STATIC_PREFIX + prefixLen); k[IPCKEY_FAMILY] = ENDPOINT_KEY_IPV4; setU32be(k, IPCKEY_IP, ip); return k;
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
