// Mirrors Cilium 1.16's cilium_ipcache LPM map (bpf/lib/eps.h struct ipcache_key / remote_endpoint_info, pkg/maps/ipcache).

import type { BpfMap, MapSpec } from '../src/bpf/map.ts';
import { type EntryFormat, formatMapRows, mapCacheRows } from './format.ts';
import { defineStruct } from './struct.ts';
import { dv, getIp4, ip4At, putIp4 } from './util.ts';

/** struct ipcache_key (__packed): bpf_lpm_trie_key prefixlen, cluster_id, pad1, family, the v4 arm of the address union. */
export const IPCACHE_KEY = defineStruct('ipcache_key', {
  prefixlen: 'u32', cluster_id: 'u16', pad1: 'u8', family: 'u8', ip4: 'be32', pad4: 'u32', pad5: 'u32', pad6: 'u32',
}, { packed: true });
/** struct remote_endpoint_info (1.16, v4 tunnel endpoint; flags is a u8 of bit fields). */
export const REMOTE_ENDPOINT_INFO = defineStruct('remote_endpoint_info', {
  sec_identity: 'u32', tunnel_endpoint: 'be32', pad: 'u16', key: 'u8', flags: 'u8',
});

/** LPM_TRIE (BPF_F_NO_PREALLOC), 24-byte key -> 12-byte v1 value, ipcache.MaxEntries 512000. */
export const CILIUM_IPCACHE: MapSpec = { name: 'cilium_ipcache', type: 'lpm_trie', keySize: IPCACHE_KEY.size, valueSize: REMOTE_ENDPOINT_INFO.size, maxEntries: 512000, flags: 1 };

/** Bits of cluster_id + pad1 + family that precede the address in the LPM key. */
export const IPCACHE_STATIC_PREFIX_BITS = 32;
export const IPCACHE_KEY_OFF_PREFIXLEN = IPCACHE_KEY.off.prefixlen, IPCACHE_KEY_OFF_CLUSTER_ID = IPCACHE_KEY.off.cluster_id,
  IPCACHE_KEY_OFF_FAMILY = IPCACHE_KEY.off.family, IPCACHE_KEY_OFF_IP = IPCACHE_KEY.off.ip4;
export const IPCACHE_VAL_OFF_SEC_IDENTITY = REMOTE_ENDPOINT_INFO.off.sec_identity, IPCACHE_VAL_OFF_TUNNEL_ENDPOINT = REMOTE_ENDPOINT_INFO.off.tunnel_endpoint,
  IPCACHE_VAL_OFF_KEY = REMOTE_ENDPOINT_INFO.off.key, IPCACHE_VAL_OFF_FLAGS = REMOTE_ENDPOINT_INFO.off.flags;
export const IPCACHE_F_SKIP_TUNNEL = 1, IPCACHE_F_HAS_TUNNEL_EP = 2, IPCACHE_F_IPV6_TUNNEL_EP = 4, IPCACHE_F_REMOTE_CLUSTER = 8;

/** pkg/maps/ipcache Key: an IPv4 prefix (ip = u32 host value). */
export class IpcacheKey {
  constructor(public ip: number, public prefixLen = 32, public clusterId = 0) {}
  encode(): Uint8Array {
    const b = new Uint8Array(IPCACHE_KEY.size), d = dv(b);
    d.setUint32(IPCACHE_KEY_OFF_PREFIXLEN, IPCACHE_STATIC_PREFIX_BITS + this.prefixLen, true);
    d.setUint16(IPCACHE_KEY_OFF_CLUSTER_ID, this.clusterId, true);
    b[IPCACHE_KEY_OFF_FAMILY] = 1;
    putIp4(b, IPCACHE_KEY_OFF_IP, this.ip);
    return b;
  }
  static decode(b: Uint8Array): IpcacheKey {
    const d = dv(b);
    return new IpcacheKey(getIp4(b, IPCACHE_KEY_OFF_IP), d.getUint32(IPCACHE_KEY_OFF_PREFIXLEN, true) - IPCACHE_STATIC_PREFIX_BITS, d.getUint16(IPCACHE_KEY_OFF_CLUSTER_ID, true));
  }
  /** `10.0.0.0/24`, or `10.0.0.0/24@3` with a cluster id. */
  toString(): string { return ipcacheKeyString(this.encode()); }
}

export function ipcacheKeyString(b: Uint8Array): string {
  const d = dv(b), c = d.getUint16(IPCACHE_KEY_OFF_CLUSTER_ID, true);
  return `${ip4At(b, IPCACHE_KEY_OFF_IP)}/${d.getUint32(IPCACHE_KEY_OFF_PREFIXLEN, true) - IPCACHE_STATIC_PREFIX_BITS}${c ? '@' + c : ''}`;
}

/** ipcache key for a full /32 lookup of ip, written into `out` (one reused buffer). */
export function ipcacheLookupKey(out: Uint8Array, ip: number): Uint8Array {
  out.fill(0);
  // prefixlen is a little-endian u32 below 256: its low byte is all there is to write (no DataView per lookup).
  out[IPCACHE_KEY_OFF_PREFIXLEN] = IPCACHE_STATIC_PREFIX_BITS + 32; out[IPCACHE_KEY_OFF_FAMILY] = 1;
  putIp4(out, IPCACHE_KEY_OFF_IP, ip);
  return out;
}

/** Flags string: comma list of skiptunnel/hastunnel/ipv6tunnel/remotecluster, or `<none>`. */
export function remoteEndpointFlagsString(f: number): string {
  const s: string[] = [];
  if (f & IPCACHE_F_SKIP_TUNNEL) s.push('skiptunnel');
  if (f & IPCACHE_F_HAS_TUNNEL_EP) s.push('hastunnel');
  if (f & IPCACHE_F_IPV6_TUNNEL_EP) s.push('ipv6tunnel');
  if (f & IPCACHE_F_REMOTE_CLUSTER) s.push('remotecluster');
  return s.length ? s.join(',') : '<none>';
}

/** pkg/maps/ipcache RemoteEndpointInfo (v1 value: IPv4 tunnel endpoint). tunnelEndpoint 0 = none. */
export class RemoteEndpointInfo {
  constructor(public securityIdentity: number, public tunnelEndpoint = 0, public key = 0, public flags = 0) {}
  encode(): Uint8Array {
    const b = new Uint8Array(REMOTE_ENDPOINT_INFO.size);
    dv(b).setUint32(IPCACHE_VAL_OFF_SEC_IDENTITY, this.securityIdentity, true);
    putIp4(b, IPCACHE_VAL_OFF_TUNNEL_ENDPOINT, this.tunnelEndpoint);
    b[IPCACHE_VAL_OFF_KEY] = this.key;
    b[IPCACHE_VAL_OFF_FLAGS] = this.flags;
    return b;
  }
  static decode(b: Uint8Array): RemoteEndpointInfo {
    return new RemoteEndpointInfo(dv(b).getUint32(IPCACHE_VAL_OFF_SEC_IDENTITY, true), getIp4(b, IPCACHE_VAL_OFF_TUNNEL_ENDPOINT), b[IPCACHE_VAL_OFF_KEY]!, b[IPCACHE_VAL_OFF_FLAGS]!);
  }
  /** As Cilium 1.16 prints it (seed): `identity=%d encryptkey=%d tunnelendpoint=%s, flags=%s`. */
  toString(): string {
    const b = this.encode();
    return `identity=${this.securityIdentity} encryptkey=${this.key} tunnelendpoint=${ip4At(b, IPCACHE_VAL_OFF_TUNNEL_ENDPOINT)}, flags=${remoteEndpointFlagsString(this.flags)}`;
  }
}

export const IPCACHE_FORMAT: EntryFormat = {
  key: ipcacheKeyString,
  value: (v) => RemoteEndpointInfo.decode(v).toString(),
};

/** `cilium-dbg map get cilium_ipcache`. */
export function formatIpcacheMapGet(map: BpfMap): string {
  return formatMapRows(mapCacheRows(map, IPCACHE_FORMAT));
}
