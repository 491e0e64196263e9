// Mirrors Cilium's cilium_lxc map (bpf/lib/eps.h struct endpoint_key / endpoint_info, pkg/maps/lxcmap).

import type { BpfMap, MapSpec } from '../src/bpf/map.ts';
import { tablePrinter, type EntryFormat, formatMapRows, mapCacheRows } from './format.ts';
import { defineStruct } from './struct.ts';
import { dv, getIp4, ip4At, ld, hexN, macBytes, macUpper, putIp4 } from './util.ts';

/** struct endpoint_key (__packed): the v4 arm of the address union, family, key, cluster_id. */
export const ENDPOINT_KEY = defineStruct('endpoint_key', {
  ip4: 'be32', pad4: 'u32', pad5: 'u32', pad6: 'u32', family: 'u8', key: 'u8', cluster_id: 'u16',
}, { packed: true });
/** struct endpoint_info (1.16: sec_id then pad[3], no parent_ifindex). */
export const ENDPOINT_INFO = defineStruct('endpoint_info', {
  ifindex: 'u32', unused: 'u16', lxc_id: 'u16', flags: 'u32', mac: 'mac', node_mac: 'mac', sec_id: 'u32', pad: ['u32', 3],
});

/** HASH, 20-byte endpoint_key -> 48-byte endpoint_info, lxcmap.MaxEntries 65535. */
export const CILIUM_LXC: MapSpec = { name: 'cilium_lxc', type: 'hash', keySize: ENDPOINT_KEY.size, valueSize: ENDPOINT_INFO.size, maxEntries: 65535, flags: 0 };

export const ENDPOINT_KEY_IPV4 = 1;
export const EP_KEY_OFF_IP = ENDPOINT_KEY.off.ip4, EP_KEY_OFF_FAMILY = ENDPOINT_KEY.off.family, EP_KEY_OFF_KEY = ENDPOINT_KEY.off.key,
  EP_KEY_OFF_CLUSTER_ID = ENDPOINT_KEY.off.cluster_id;
export const EP_INFO_OFF_IFINDEX = ENDPOINT_INFO.off.ifindex, EP_INFO_OFF_LXC_ID = ENDPOINT_INFO.off.lxc_id,
  EP_INFO_OFF_FLAGS = ENDPOINT_INFO.off.flags, EP_INFO_OFF_MAC = ENDPOINT_INFO.off.mac, EP_INFO_OFF_NODE_MAC = ENDPOINT_INFO.off.node_mac,
  EP_INFO_OFF_SEC_ID = ENDPOINT_INFO.off.sec_id;
/** endpoint_info flags. */
export const ENDPOINT_F_HOST = 1, ENDPOINT_F_ATHOSTNS = 2;

/** pkg/maps/lxcmap EndpointKey (embeds bpf.EndpointKey). */
export class EndpointKey {
  constructor(public ip: number, public clusterId = 0) {}
  encode(): Uint8Array {
    const b = new Uint8Array(ENDPOINT_KEY.size);
    putIp4(b, EP_KEY_OFF_IP, this.ip);
    b[EP_KEY_OFF_FAMILY] = ENDPOINT_KEY_IPV4;
    dv(b).setUint16(EP_KEY_OFF_CLUSTER_ID, this.clusterId, true);
    return b;
  }
  static decode(b: Uint8Array): EndpointKey {
    return new EndpointKey(getIp4(b, EP_KEY_OFF_IP), dv(b).getUint16(EP_KEY_OFF_CLUSTER_ID, true));
  }
  /** bpf.EndpointKey.String: `<ip>[@cluster]:<key>`. */
  toString(): string { return endpointKeyString(this.encode()); }
}

export function endpointKeyString(b: Uint8Array): string {
  const c = dv(b).getUint16(EP_KEY_OFF_CLUSTER_ID, true);
  return `${ip4At(b, EP_KEY_OFF_IP)}${c ? '@' + c : ''}:${b[EP_KEY_OFF_KEY]!}`;
}

/** Fields of EndpointInfo; MACs as "AA:BB:CC:DD:EE:FF". */
export interface EndpointInfoFields { ifIndex: number; lxcId: number; flags: number; mac: string; nodeMac: string; secId: number }

/** pkg/maps/lxcmap EndpointInfo (Cilium 1.16 layout: no parent_ifindex). */
export class EndpointInfo implements EndpointInfoFields {
  ifIndex: number; lxcId: number; flags: number; mac: string; nodeMac: string; secId: number;
  constructor(f: EndpointInfoFields) {
    this.ifIndex = f.ifIndex; this.lxcId = f.lxcId; this.flags = f.flags; this.mac = f.mac; this.nodeMac = f.nodeMac; this.secId = f.secId;
  }
  /** The `(localhost)` entry Cilium writes for each host IP. */
  static host(): EndpointInfo {
    return new EndpointInfo({ ifIndex: 0, lxcId: 0, flags: ENDPOINT_F_HOST, mac: '00:00:00:00:00:00', nodeMac: '00:00:00:00:00:00', secId: 0 });
  }
  encode(): Uint8Array {
    const b = new Uint8Array(ENDPOINT_INFO.size), d = dv(b);
    d.setUint32(EP_INFO_OFF_IFINDEX, this.ifIndex, true);
    d.setUint16(EP_INFO_OFF_LXC_ID, this.lxcId, true);
    d.setUint32(EP_INFO_OFF_FLAGS, this.flags, true);
    b.set(macBytes(this.mac), EP_INFO_OFF_MAC);
    b.set(macBytes(this.nodeMac), EP_INFO_OFF_NODE_MAC);
    d.setUint32(EP_INFO_OFF_SEC_ID, this.secId, true);
    return b;
  }
  static decode(b: Uint8Array): EndpointInfo {
    const d = dv(b);
    return new EndpointInfo({
      ifIndex: d.getUint32(EP_INFO_OFF_IFINDEX, true), lxcId: d.getUint16(EP_INFO_OFF_LXC_ID, true),
      flags: d.getUint32(EP_INFO_OFF_FLAGS, true), mac: macUpper(b, EP_INFO_OFF_MAC),
      nodeMac: macUpper(b, EP_INFO_OFF_NODE_MAC), secId: d.getUint32(EP_INFO_OFF_SEC_ID, true),
    });
  }
  /** EndpointInfo.String (1.16): `(localhost)` or `id=%-5d sec_id=%-5d flags=0x%04X ifindex=%-3d mac=%s nodemac=%s`. */
  toString(): string {
    if (this.flags & ENDPOINT_F_HOST) return '(localhost)';
    return `id=${ld(this.lxcId, 5)} sec_id=${ld(this.secId, 5)} flags=${hexN(this.flags, 4).toUpperCase().replace('0X', '0x')} ` +
      `ifindex=${ld(this.ifIndex, 3)} mac=${this.mac} nodemac=${this.nodeMac}`;
  }
}

/** Printing for cilium_lxc; host entries are written outside the agent's map cache, so `map get` omits them. */
export const LXC_FORMAT: EntryFormat = {
  key: endpointKeyString,
  value: (v) => EndpointInfo.decode(v).toString(),
  cached: (_k, v) => (dv(v).getUint32(EP_INFO_OFF_FLAGS, true) & ENDPOINT_F_HOST) === 0,
};

/** `cilium-dbg map get cilium_lxc`. */
export function formatLxcMapGet(map: BpfMap): string {
  return formatMapRows(mapCacheRows(map, LXC_FORMAT));
}

/** `cilium-dbg bpf endpoint list` (map iteration order). */
export function formatBpfEndpointList(map: BpfMap): string {
  return tablePrinter('IP ADDRESS', 'LOCAL ENDPOINT INFO',
    map.entries().map(([k, v]) => [endpointKeyString(k), [EndpointInfo.decode(v).toString()]]));
}
