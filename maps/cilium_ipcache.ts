// Mirrors Cilium 1.16's cilium_ipcache LPM map (bpf/lib/eps.h struct ipcache_key / remote_endpoint_info, pkg/maps/ipcache).

import type { BpfMap, MapSpec } from '../src/bpf/map.ts';
import { type EntryFormat, formatMapRows, mapCacheRows } from './format.ts';
import { dv, getIp4, ip4At, putIp4 } from './util.ts';

/** LPM_TRIE (BPF_F_NO_PREALLOC), 24-byte key -> 12-byte v1 value, ipcache.MaxEntries 512000. */
export const CILIUM_IPCACHE: MapSpec = { name: 'cilium_ipcache', type: 'lpm_trie', keySize: 24, valueSize: 12, maxEntries: 512000, flags: 1 };

/** Bits of cluster_id + pad1 + family that precede the address in the LPM key. */
export const IPCACHE_STATIC_PREFIX_BITS = 32;
/** ipcache_key offsets: lpm prefixlen (u32 host order), cluster_id u16, pad1, family, ip[16]. */
export const IPCACHE_KEY_OFF_PREFIXLEN = 0, IPCACHE_KEY_OFF_CLUSTER_ID = 4, IPCACHE_KEY_OFF_FAMILY = 7, IPCACHE_KEY_OFF_IP = 8;
/** remote_endpoint_info offsets: sec_identity u32 (host order), tunnel_endpoint (v4, network order), pad, key, flags. */
export const IPCACHE_VAL_OFF_SEC_IDENTITY = 0, IPCACHE_VAL_OFF_TUNNEL_ENDPOINT = 4, IPCACHE_VAL_OFF_KEY = 10, IPCACHE_VAL_OFF_FLAGS = 11;
export const IPCACHE_F_SKIP_TUNNEL = 1, IPCACHE_F_HAS_TUNNEL_EP = 2, IPCACHE_F_IPV6_TUNNEL_EP = 4, IPCACHE_F_REMOTE_CLUSTER = 8;

/** pkg/maps/ipcache Key: an IPv4 prefix (ip = u32 host value). */
export class IpcacheKey {
  constructor(public ip: number, public prefixLen = 32, public clusterId = 0) {}
  encode(): Uint8Array {
    const b = new Uint8Array(24), d = dv(b);
    d.setUint32(IPCACHE_KEY_OFF_PREFIXLEN, IPCACHE_STATIC_PREFIX_BITS + this.prefixLen, true);
    d.setUint16(IPCACHE_KEY_OFF_CLUSTER_ID, this.clusterId, true);
    b[IPCACHE_KEY_OFF_FAMILY] = 1;
    putIp4(b, IPCACHE_KEY_OFF_IP, this.ip);
    return b;
  }
  static decode(b: Uint8Array): IpcacheKey {
    const d = dv(b);
    return new IpcacheKey(getIp4(b, IPCACHE_KEY_OFF_IP), d.getUint32(0, true) - IPCACHE_STATIC_PREFIX_BITS, d.getUint16(IPCACHE_KEY_OFF_CLUSTER_ID, true));
  }
  /** `10.0.0.0/24`, or `10.0.0.0/24@3` with a cluster id. */
  toString(): string { return ipcacheKeyString(this.encode()); }
}

export function ipcacheKeyString(b: Uint8Array): string {
  const d = dv(b), c = d.getUint16(IPCACHE_KEY_OFF_CLUSTER_ID, true);
  return `${ip4At(b, IPCACHE_KEY_OFF_IP)}/${d.getUint32(0, true) - IPCACHE_STATIC_PREFIX_BITS}${c ? '@' + c : ''}`;
}

/** ipcache key for a full /32 lookup of ip, written into `out` (programs reuse one buffer). */
export function ipcacheLookupKey(out: Uint8Array, ip: number): Uint8Array {
  out.fill(0);
  out[0] = IPCACHE_STATIC_PREFIX_BITS + 32; out[IPCACHE_KEY_OFF_FAMILY] = 1;
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
    const b = new Uint8Array(12);
    dv(b).setUint32(IPCACHE_VAL_OFF_SEC_IDENTITY, this.securityIdentity, true);
    putIp4(b, IPCACHE_VAL_OFF_TUNNEL_ENDPOINT, this.tunnelEndpoint);
    b[IPCACHE_VAL_OFF_KEY] = this.key;
    b[IPCACHE_VAL_OFF_FLAGS] = this.flags;
    return b;
  }
  static decode(b: Uint8Array): RemoteEndpointInfo {
    return new RemoteEndpointInfo(dv(b).getUint32(0, true), getIp4(b, IPCACHE_VAL_OFF_TUNNEL_ENDPOINT), b[IPCACHE_VAL_OFF_KEY]!, b[IPCACHE_VAL_OFF_FLAGS]!);
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
