// The agent's bulk map writes (ipcache, LB) encoded into reused buffers:
// byte for byte what maps/' IpcacheKey, RemoteEndpointInfo, Service4Key,
// Service4Value, Backend4KeyV3, Backend4Value, RevNat4Key and RevNat4Value
// encode() return, without two allocations and a DataView per entry (a 100-node
// cluster writes ~1M ipcache entries when 10k pods come up). Maps copy the
// bytes they store, so one buffer per entry kind suffices. Offsets and sizes
// come from the structs' one description in maps/.

import { IPCACHE_KEY, IPCACHE_KEY_OFF_CLUSTER_ID, IPCACHE_KEY_OFF_FAMILY, IPCACHE_KEY_OFF_IP, IPCACHE_KEY_OFF_PREFIXLEN, IPCACHE_STATIC_PREFIX_BITS,
  IPCACHE_VAL_OFF_FLAGS, IPCACHE_VAL_OFF_KEY, IPCACHE_VAL_OFF_SEC_IDENTITY, IPCACHE_VAL_OFF_TUNNEL_ENDPOINT, REMOTE_ENDPOINT_INFO } from '../../maps/cilium_ipcache.ts';
import { LB4_KEY, LB4_SERVICE, LB4_KEY_OFF_ADDRESS, LB4_KEY_OFF_BACKEND_SLOT, LB4_KEY_OFF_DPORT, LB4_KEY_OFF_PROTO, LB4_KEY_OFF_SCOPE, LB4_SVC_OFF_BACKEND_ID,
  LB4_SVC_OFF_COUNT, LB4_SVC_OFF_FLAGS, LB4_SVC_OFF_FLAGS2, LB4_SVC_OFF_QCOUNT, LB4_SVC_OFF_REV_NAT_INDEX } from '../../maps/cilium_lb4_services_v2.ts';
import { LB4_BACKEND, LB4_BACKEND_KEY, LB4_BACKEND_KEY_OFF_ID, LB4_BACKEND_OFF_ADDRESS, LB4_BACKEND_OFF_FLAGS, LB4_BACKEND_OFF_PORT,
  LB4_BACKEND_OFF_PROTO } from '../../maps/cilium_lb4_backends_v3.ts';
import { LB4_REVERSE_NAT, LB4_REVERSE_NAT_KEY, REVNAT4_KEY_OFF_INDEX, REVNAT4_OFF_ADDRESS, REVNAT4_OFF_PORT } from '../../maps/cilium_lb4_reverse_nat.ts';

const be32 = (b: Uint8Array, o: number, v: number) => { b[o] = v >>> 24; b[o + 1] = (v >>> 16) & 255; b[o + 2] = (v >>> 8) & 255; b[o + 3] = v & 255; };
const le32 = (b: Uint8Array, o: number, v: number) => { b[o] = v & 255; b[o + 1] = (v >>> 8) & 255; b[o + 2] = (v >>> 16) & 255; b[o + 3] = v >>> 24; };
const be16 = (b: Uint8Array, o: number, v: number) => { b[o] = (v >>> 8) & 255; b[o + 1] = v & 255; };
const le16 = (b: Uint8Array, o: number, v: number) => { b[o] = v & 255; b[o + 1] = (v >>> 8) & 255; };

const ipcKey = new Uint8Array(IPCACHE_KEY.size), ipcVal = new Uint8Array(REMOTE_ENDPOINT_INFO.size);
/** = new IpcacheKey(ip, prefixLen).encode() (cluster id 0), in a reused buffer. */
export function ipcacheKeyBytes(ip: number, prefixLen: number): Uint8Array {
  const b = ipcKey; b.fill(0);
  le32(b, IPCACHE_KEY_OFF_PREFIXLEN, IPCACHE_STATIC_PREFIX_BITS + prefixLen);
  le16(b, IPCACHE_KEY_OFF_CLUSTER_ID, 0);
  b[IPCACHE_KEY_OFF_FAMILY] = 1;
  be32(b, IPCACHE_KEY_OFF_IP, ip);
  return b;
}
/** = new RemoteEndpointInfo(identity, tunnelEndpoint, key, flags).encode(), in a reused buffer. */
export function remoteEndpointInfoBytes(identity: number, tunnelEndpoint: number, key = 0, flags = 0): Uint8Array {
  const b = ipcVal; b.fill(0);
  le32(b, IPCACHE_VAL_OFF_SEC_IDENTITY, identity);
  be32(b, IPCACHE_VAL_OFF_TUNNEL_ENDPOINT, tunnelEndpoint);
  b[IPCACHE_VAL_OFF_KEY] = key; b[IPCACHE_VAL_OFF_FLAGS] = flags;
  return b;
}

const svcKey = new Uint8Array(LB4_KEY.size), svcVal = new Uint8Array(LB4_SERVICE.size);
/** = new Service4Key(address, port, proto, slot, scope).encode(). */
export function service4KeyBytes(address: number, port: number, proto: number, slot: number, scope: number): Uint8Array {
  const b = svcKey; b.fill(0);
  be32(b, LB4_KEY_OFF_ADDRESS, address); be16(b, LB4_KEY_OFF_DPORT, port); le16(b, LB4_KEY_OFF_BACKEND_SLOT, slot);
  b[LB4_KEY_OFF_PROTO] = proto; b[LB4_KEY_OFF_SCOPE] = scope;
  return b;
}
/** = new Service4Value(backendId, count, revNat, flags, flags2).encode() (qcount 0). */
export function service4ValueBytes(backendId: number, count: number, revNat: number, flags = 0, flags2 = 0): Uint8Array {
  const b = svcVal; b.fill(0);
  le32(b, LB4_SVC_OFF_BACKEND_ID, backendId); le16(b, LB4_SVC_OFF_COUNT, count); be16(b, LB4_SVC_OFF_REV_NAT_INDEX, revNat);
  b[LB4_SVC_OFF_FLAGS] = flags; b[LB4_SVC_OFF_FLAGS2] = flags2; le16(b, LB4_SVC_OFF_QCOUNT, 0);
  return b;
}

const beKey = new Uint8Array(LB4_BACKEND_KEY.size), beVal = new Uint8Array(LB4_BACKEND.size);
/** = new Backend4KeyV3(id).encode(). */
export function backend4KeyBytes(id: number): Uint8Array { le32(beKey, LB4_BACKEND_KEY_OFF_ID, id); return beKey; }
/** = new Backend4Value(address, port, proto, flags).encode() (cluster id and zone 0). */
export function backend4ValueBytes(address: number, port: number, proto: number, flags: number): Uint8Array {
  const b = beVal; b.fill(0);
  be32(b, LB4_BACKEND_OFF_ADDRESS, address); be16(b, LB4_BACKEND_OFF_PORT, port);
  b[LB4_BACKEND_OFF_PROTO] = proto; b[LB4_BACKEND_OFF_FLAGS] = flags;
  return b;
}

const rnKey = new Uint8Array(LB4_REVERSE_NAT_KEY.size), rnVal = new Uint8Array(LB4_REVERSE_NAT.size);
/** = new RevNat4Key(id).encode(). */
export function revNat4KeyBytes(id: number): Uint8Array { be16(rnKey, REVNAT4_KEY_OFF_INDEX, id); return rnKey; }
/** = new RevNat4Value(address, port).encode(). */
export function revNat4ValueBytes(address: number, port: number): Uint8Array {
  be32(rnVal, REVNAT4_OFF_ADDRESS, address); be16(rnVal, REVNAT4_OFF_PORT, port); return rnVal;
}
