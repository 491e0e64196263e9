// Mirrors Cilium 1.16's cilium_tunnel_map (bpf/lib/common.h struct tunnel_key / tunnel_value, pkg/maps/tunnel):
// remote pod CIDR prefix -> node IP of the tunnel endpoint.

import type { MapSpec } from '../src/bpf/map.ts';
import type { EntryFormat } from './format.ts';
import { dv, getIp4, ip4At, putIp4 } from './util.ts';

/** HASH, 20-byte tunnel_key -> 20-byte tunnel_value, tunnel.MaxEntries 65536. */
export const CILIUM_TUNNEL_MAP: MapSpec = { name: 'cilium_tunnel_map', type: 'hash', keySize: 20, valueSize: 20, maxEntries: 65536, flags: 0 };
/** tunnel_key: ip[16] (v4 first), family, pad, cluster_id u16. tunnel_value: ip[16], family, key (SPI), node_id u16. */
export const TUNNEL_KEY_OFF_IP = 0, TUNNEL_KEY_OFF_FAMILY = 16, TUNNEL_KEY_OFF_CLUSTER_ID = 18;
export const TUNNEL_VAL_OFF_IP = 0, TUNNEL_VAL_OFF_FAMILY = 16, TUNNEL_VAL_OFF_KEY = 17, TUNNEL_VAL_OFF_NODE_ID = 18;

/** TunnelKey: the remote pod CIDR's network address. */
export class TunnelKey {
  constructor(public ip: number, public clusterId = 0) {}
  encode(): Uint8Array {
    const b = new Uint8Array(20);
    putIp4(b, 0, this.ip); b[TUNNEL_KEY_OFF_FAMILY] = 1; dv(b).setUint16(TUNNEL_KEY_OFF_CLUSTER_ID, this.clusterId, true);
    return b;
  }
  static decode(b: Uint8Array): TunnelKey { return new TunnelKey(getIp4(b, 0), dv(b).getUint16(TUNNEL_KEY_OFF_CLUSTER_ID, true)); }
  /** `<ip>:0` like bpf.EndpointKey. */
  toString(): string { return `${ip4At(this.encode(), 0)}${this.clusterId ? '@' + this.clusterId : ''}:0`; }
}

/** TunnelValue: the node IP to encapsulate to. */
export class TunnelValue {
  constructor(public ip: number, public key = 0, public nodeId = 0) {}
  encode(): Uint8Array {
    const b = new Uint8Array(20);
    putIp4(b, 0, this.ip); b[TUNNEL_VAL_OFF_FAMILY] = 1; b[TUNNEL_VAL_OFF_KEY] = this.key; dv(b).setUint16(TUNNEL_VAL_OFF_NODE_ID, this.nodeId, true);
    return b;
  }
  static decode(b: Uint8Array): TunnelValue { return new TunnelValue(getIp4(b, 0), b[TUNNEL_VAL_OFF_KEY]!, dv(b).getUint16(TUNNEL_VAL_OFF_NODE_ID, true)); }
  toString(): string { return `${ip4At(this.encode(), 0)}:0`; }
}

export const TUNNEL_FORMAT: EntryFormat = {
  key: (k) => TunnelKey.decode(k).toString(),
  value: (v) => TunnelValue.decode(v).toString(),
};
