// Mirrors Cilium 1.16's cilium_tunnel_map (bpf/lib/common.h struct tunnel_key / tunnel_value, pkg/maps/tunnel):
// remote pod CIDR prefix -> node IP of the tunnel endpoint.

import type { MapSpec } from '../src/bpf/map.ts';
import type { EntryFormat } from './format.ts';
import { defineStruct } from './struct.ts';
import { dv, getIp4, ip4At, putIp4 } from './util.ts';

/** struct tunnel_key (__packed): the v4 arm of the address union, family, pad, cluster_id. */
export const TUNNEL_KEY = defineStruct('tunnel_key', {
  ip4: 'be32', pad4: 'u32', pad5: 'u32', pad6: 'u32', family: 'u8', pad: 'u8', cluster_id: 'u16',
}, { packed: true });
/** struct tunnel_value (__packed): address, family, key (IPsec SPI), node_id. */
export const TUNNEL_VALUE = defineStruct('tunnel_value', {
  ip4: 'be32', pad4: 'u32', pad5: 'u32', pad6: 'u32', family: 'u8', key: 'u8', node_id: 'u16',
}, { packed: true });

/** HASH, 20-byte tunnel_key -> 20-byte tunnel_value, tunnel.MaxEntries 65536. */
export const CILIUM_TUNNEL_MAP: MapSpec = { name: 'cilium_tunnel_map', type: 'hash', keySize: TUNNEL_KEY.size, valueSize: TUNNEL_VALUE.size, maxEntries: 65536, flags: 0 };
export const TUNNEL_KEY_OFF_IP = TUNNEL_KEY.off.ip4, TUNNEL_KEY_OFF_FAMILY = TUNNEL_KEY.off.family, TUNNEL_KEY_OFF_CLUSTER_ID = TUNNEL_KEY.off.cluster_id;
export const TUNNEL_VAL_OFF_IP = TUNNEL_VALUE.off.ip4, TUNNEL_VAL_OFF_FAMILY = TUNNEL_VALUE.off.family, TUNNEL_VAL_OFF_KEY = TUNNEL_VALUE.off.key,
  TUNNEL_VAL_OFF_NODE_ID = TUNNEL_VALUE.off.node_id;

/** TunnelKey: the remote pod CIDR's network address. */
export class TunnelKey {
  constructor(public ip: number, public clusterId = 0) {}
  encode(): Uint8Array {
    const b = new Uint8Array(TUNNEL_KEY.size);
    putIp4(b, TUNNEL_KEY_OFF_IP, this.ip); b[TUNNEL_KEY_OFF_FAMILY] = 1; dv(b).setUint16(TUNNEL_KEY_OFF_CLUSTER_ID, this.clusterId, true);
    return b;
  }
  static decode(b: Uint8Array): TunnelKey { return new TunnelKey(getIp4(b, TUNNEL_KEY_OFF_IP), dv(b).getUint16(TUNNEL_KEY_OFF_CLUSTER_ID, true)); }
  /** `<ip>:0` like bpf.EndpointKey. */
  toString(): string { return `${ip4At(this.encode(), TUNNEL_KEY_OFF_IP)}${this.clusterId ? '@' + this.clusterId : ''}:0`; }
}

/** TunnelValue: the node IP to encapsulate to. */
export class TunnelValue {
  constructor(public ip: number, public key = 0, public nodeId = 0) {}
  encode(): Uint8Array {
    const b = new Uint8Array(TUNNEL_VALUE.size);
    putIp4(b, TUNNEL_VAL_OFF_IP, this.ip); b[TUNNEL_VAL_OFF_FAMILY] = 1; b[TUNNEL_VAL_OFF_KEY] = this.key; dv(b).setUint16(TUNNEL_VAL_OFF_NODE_ID, this.nodeId, true);
    return b;
  }
  static decode(b: Uint8Array): TunnelValue { return new TunnelValue(getIp4(b, TUNNEL_VAL_OFF_IP), b[TUNNEL_VAL_OFF_KEY]!, dv(b).getUint16(TUNNEL_VAL_OFF_NODE_ID, true)); }
  toString(): string { return `${ip4At(this.encode(), TUNNEL_VAL_OFF_IP)}:0`; }
}

export const TUNNEL_FORMAT: EntryFormat = {
  key: (k) => TunnelKey.decode(k).toString(),
  value: (v) => TunnelValue.decode(v).toString(),
};
