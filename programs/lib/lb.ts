// Mirrors bpf/lib/lb.h: lb4_lookup_service, lb4_local (backend slot choice by
// prandom, reuse through the CT_SERVICE entry, session affinity via
// cilium_lb4_affinity), DNAT with incremental checksums and lb4_rev_nat.

import { runLocal, type Runtime } from '../../src/bpf/program.ts';
import type { DatapathEnv } from './common.ts';
import { LB4_KEY, LB4_SERVICE, SVC_FLAG_AFFINITY } from '../../maps/cilium_lb4_services_v2.ts';
import { LB4_BACKEND, LB4_BACKEND_KEY } from '../../maps/cilium_lb4_backends_v3.ts';
import { LB4_REVERSE_NAT, LB4_REVERSE_NAT_KEY } from '../../maps/cilium_lb4_reverse_nat.ts';
import { LB4_AFFINITY_KEY, LB_AFFINITY_VAL } from '../../maps/cilium_lb4_affinity.ts';
import { CT_ENTRY, IPV4_CT_TUPLE, TUPLE_F_SERVICE } from '../../maps/cilium_ct4_global.ts';
import { u16le, setU16le, u16be, setU16be, u32le, setU32le, u32be, setU32be, u64le, setU64le } from './bytes.ts';
import { rewriteAddr, rewritePort } from './csum.ts';
import { buildTuple4, ctMapFor, CT_CONNECTION_LIFETIME_TCP, CT_CONNECTION_LIFETIME_NONTCP } from './conntrack.ts';

// Offsets from the structs' one description (maps/).
const LB4KEY_SIZE = LB4_KEY.size, LB4KEY_ADDR = LB4_KEY.off.address, LB4KEY_DPORT = LB4_KEY.off.dport, LB4KEY_SLOT = LB4_KEY.off.backend_slot,
  LB4KEY_PROTO = LB4_KEY.off.proto, LB4KEY_SCOPE = LB4_KEY.off.scope;
const LB4SVC_BACKEND_ID = LB4_SERVICE.off.backend_id, LB4SVC_COUNT = LB4_SERVICE.off.count, LB4SVC_REV_NAT = LB4_SERVICE.off.rev_nat_index,
  LB4SVC_FLAGS = LB4_SERVICE.off.flags;
const BEKEY_SIZE = LB4_BACKEND_KEY.size, BEKEY_ID = LB4_BACKEND_KEY.off.backend_id, LB4BE_ADDR = LB4_BACKEND.off.address,
  LB4BE_PORT = LB4_BACKEND.off.port;
const REVKEY_SIZE = LB4_REVERSE_NAT_KEY.size, REVKEY_INDEX = LB4_REVERSE_NAT_KEY.off.rev_nat_index, REVNAT_ADDR = LB4_REVERSE_NAT.off.address,
  REVNAT_PORT = LB4_REVERSE_NAT.off.port;
const AFFKEY_SIZE = LB4_AFFINITY_KEY.size, AFFKEY_CLIENT = LB4_AFFINITY_KEY.off.client_id, AFFKEY_REV_NAT = LB4_AFFINITY_KEY.off.rev_nat_id,
  AFFKEY_NETNS = LB4_AFFINITY_KEY.off.netns_cookie;
const AFFVAL_SIZE = LB_AFFINITY_VAL.size, AFFVAL_LAST_USED = LB_AFFINITY_VAL.off.last_used, AFFVAL_BACKEND = LB_AFFINITY_VAL.off.backend_id;
const TUPLE_SIZE = IPV4_CT_TUPLE.size, CT_SIZE = CT_ENTRY.size, CT_BACKEND_ID = CT_ENTRY.off.backend_id,
  CT_REV_NAT = CT_ENTRY.off.rev_nat_index, CT_LIFETIME = CT_ENTRY.off.lifetime, CT_SRC_SEC_ID = CT_ENTRY.off.src_sec_id;

/** Result of lb4_local: chosen backend. */
export interface LbState { backendId: number; revNat: number; addr: number; port: number }

/** The run's LB scratch: the chosen backend and the keys/values it builds. */
interface LbScratch {
  state: LbState; svcKey: Uint8Array; beKey: Uint8Array; revKey: Uint8Array;
  affKey: Uint8Array; affVal: Uint8Array; svcTuple: Uint8Array; svcEntry: Uint8Array;
}
const LB = runLocal<LbScratch>(() => ({
  state: { backendId: 0, revNat: 0, addr: 0, port: 0 },
  svcKey: new Uint8Array(LB4KEY_SIZE), beKey: new Uint8Array(BEKEY_SIZE), revKey: new Uint8Array(REVKEY_SIZE),
  affKey: new Uint8Array(AFFKEY_SIZE), affVal: new Uint8Array(AFFVAL_SIZE),
  svcTuple: new Uint8Array(TUPLE_SIZE), svcEntry: new Uint8Array(CT_SIZE),
}));

/** The backend lb4Local / lb4PickBackend chose in this run. */
export function lbState(rt: Runtime): LbState { return rt.local(LB).state; }

/** Fill an lb4_key. */
export function lb4Key(k: Uint8Array, addr: number, port: number, proto: number, slot: number, scope: number): Uint8Array {
  k.fill(0); setU32be(k, LB4KEY_ADDR, addr); setU16be(k, LB4KEY_DPORT, port); setU16le(k, LB4KEY_SLOT, slot);
  k[LB4KEY_PROTO] = proto; k[LB4KEY_SCOPE] = scope; return k;
}

/** lb4_lookup_service(): the master (slot 0) value of addr:port/proto, or undefined. */
export function lb4LookupService(rt: Runtime, env: DatapathEnv, addr: number, port: number, proto: number, scope = 0): Uint8Array | undefined {
  return rt.mapLookup(env.maps.lbServices, lb4Key(rt.local(LB).svcKey, addr, port, proto, 0, scope));
}
export function svcCount(svc: Uint8Array): number { return u16le(svc, LB4SVC_COUNT); }
export function svcRevNat(svc: Uint8Array): number { return u16be(svc, LB4SVC_REV_NAT); }
export function svcFlags(svc: Uint8Array): number { return svc[LB4SVC_FLAGS]!; }

/** lb4_lookup_backend(): fills lbState addr/port; false if the backend is gone. */
function lookupBackend(rt: Runtime, env: DatapathEnv, id: number): boolean {
  const s = rt.local(LB), lbState = s.state;
  setU32le(s.beKey, BEKEY_ID, id);
  const be = rt.mapLookup(env.maps.lbBackends, s.beKey);
  if (!be) return false;
  lbState.backendId = id; lbState.addr = u32be(be, LB4BE_ADDR); lbState.port = u16be(be, LB4BE_PORT);
  return true;
}

/** Random slot (lb4_select_backend_id, random algorithm). */
function selectBackend(rt: Runtime, env: DatapathEnv, addr: number, port: number, proto: number, count: number, slotSeed?: number): boolean {
  const slot = ((slotSeed ?? rt.kernel.prandomU32()) % count) + 1;
  const v = rt.mapLookup(env.maps.lbServices, lb4Key(rt.local(LB).svcKey, addr, port, proto, slot, 0));
  return v ? lookupBackend(rt, env, u32le(v, LB4SVC_BACKEND_ID)) : false;
}

/** Affinity key for a client: IPv4 address (tc) or netns cookie (socket LB). */
function affinityKey(affKey: Uint8Array, clientId: number, revNat: number, isCookie: boolean): Uint8Array {
  affKey.fill(0);
  if (isCookie) setU64le(affKey, AFFKEY_CLIENT, clientId); else setU32be(affKey, AFFKEY_CLIENT, clientId);
  setU16le(affKey, AFFKEY_REV_NAT, revNat); affKey[AFFKEY_NETNS] = isCookie ? 1 : 0;
  return affKey;
}

/**
 * Pick a backend for a service hit (no CT): affinity first, then random, or by slotSeed when given
 * (bpf_sock.c's sock_select_slot: a UDP socket's cookie, so its every datagram reaches one backend).
 * clientId is the client IP (tc) or netns cookie (socket LB).
 */
export function lb4PickBackend(rt: Runtime, env: DatapathEnv, svc: Uint8Array, addr: number, port: number, proto: number,
  clientId: number, isCookie: boolean, slotSeed?: number): boolean {
  const count = svcCount(svc); const revNat = svcRevNat(svc);
  const s = rt.local(LB), lbState = s.state;
  lbState.revNat = revNat;
  if (count === 0) return false;
  const aff = (svcFlags(svc) & SVC_FLAG_AFFINITY) !== 0;
  const now = rt.kernel.monoSeconds();
  if (aff) {
    const timeout = u32le(svc, LB4SVC_BACKEND_ID) & 0xffffff;
    const v = rt.mapLookup(env.maps.lbAffinity, affinityKey(s.affKey, clientId, revNat, isCookie));
    if (v && u64le(v, AFFVAL_LAST_USED) + timeout >= now && lookupBackend(rt, env, u32le(v, AFFVAL_BACKEND))) {
      setU64le(v, AFFVAL_LAST_USED, now);
      return true;
    }
  }
  if (!selectBackend(rt, env, addr, port, proto, count, slotSeed)) return false;
  if (aff) {
    const affVal = s.affVal;
    affVal.fill(0); setU64le(affVal, AFFVAL_LAST_USED, now); setU32le(affVal, AFFVAL_BACKEND, lbState.backendId);
    rt.mapUpdate(env.maps.lbAffinity, affinityKey(s.affKey, clientId, revNat, isCookie), affVal, 0);
  }
  return true;
}

/**
 * lb4_local(): choose the backend for the packet at ipOff/l4off, reusing the
 * one recorded in its CT_SERVICE entry. Returns false when there is none.
 */
export function lb4Local(rt: Runtime, env: DatapathEnv, svc: Uint8Array, d: Uint8Array, ipOff: number, l4off: number,
  proto: number, addr: number, port: number, srcSecId: number): boolean {
  const map = ctMapFor(env, proto);
  const s = rt.local(LB), lbState = s.state, svcTuple = s.svcTuple, svcEntry = s.svcEntry;
  buildTuple4(svcTuple, d, ipOff, l4off, proto, TUPLE_F_SERVICE);
  const now = rt.kernel.monoSeconds();
  const e = rt.mapLookup(map, svcTuple);
  lbState.revNat = svcRevNat(svc);
  if (e && u32le(e, CT_LIFETIME) >= now && lookupBackend(rt, env, u32le(e, CT_BACKEND_ID))) {
    setU32le(e, CT_LIFETIME, now + (proto === 6 ? CT_CONNECTION_LIFETIME_TCP : CT_CONNECTION_LIFETIME_NONTCP));
    return true;
  }
  if (!lb4PickBackend(rt, env, svc, addr, port, proto, u32be(d, ipOff + 12), false)) return false;
  svcEntry.fill(0);
  setU64le(svcEntry, CT_BACKEND_ID, lbState.backendId); setU16be(svcEntry, CT_REV_NAT, lbState.revNat);
  setU32le(svcEntry, CT_LIFETIME, now + (proto === 6 ? CT_CONNECTION_LIFETIME_TCP : CT_CONNECTION_LIFETIME_NONTCP));
  setU32le(svcEntry, CT_SRC_SEC_ID, srcSecId);
  rt.mapUpdate(map, svcTuple, svcEntry, 0);
  return true;
}

/** L4 offset of the destination port for proto, -1 when there is no port. */
function dportOff(proto: number): number { return proto === 6 || proto === 17 ? 2 : -1; }

/** lb4_xlate(): DNAT daddr:dport to the chosen backend. */
export function lb4Dnat(d: Uint8Array, ipOff: number, l4off: number, proto: number, addr: number, port: number): void {
  rewriteAddr(d, ipOff + 16, proto, l4off, addr);
  const po = dportOff(proto);
  if (po >= 0 && port) rewritePort(d, l4off + po, proto, l4off, port);
}

/** lb4_rev_nat(): rewrite the reply's source back to the frontend. Returns false if rev_nat_index is unknown. */
export function lb4RevNat(rt: Runtime, env: DatapathEnv, d: Uint8Array, ipOff: number, l4off: number, proto: number, revNat: number): boolean {
  const revKey = rt.local(LB).revKey;
  setU16be(revKey, REVKEY_INDEX, revNat);
  const v = rt.mapLookup(env.maps.lbRevNat, revKey);
  if (!v) return false;
  rewriteAddr(d, ipOff + 12, proto, l4off, u32be(v, REVNAT_ADDR));
  const port = u16be(v, REVNAT_PORT);
  if ((proto === 6 || proto === 17) && port) rewritePort(d, l4off, proto, l4off, port);
  return true;
}
