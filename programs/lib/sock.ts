// Mirrors bpf/bpf_sock.c __sock4_xlate_fwd / __sock4_xlate_rev: socket-level service translation
// with cilium_lb4_reverse_sk entries keyed by socket cookie.

import { runLocal, type Runtime, type SockAddrCtx } from '../../src/bpf/program.ts';
import type { DatapathEnv } from './common.ts';
import { IPV4_REVNAT_ENTRY, IPV4_REVNAT_TUPLE } from '../../maps/cilium_lb4_reverse_sk.ts';
import { setU16be, setU32be, setU64le, u16be, u32be } from './bytes.ts';
import { lb4LookupService, lb4PickBackend, lbState, svcCount } from './lb.ts';
import { sendTraceSockNotify4, XLATE_PRE_DIRECTION_FWD, XLATE_POST_DIRECTION_FWD, XLATE_PRE_DIRECTION_REV, XLATE_POST_DIRECTION_REV } from './trace.ts';

// Offsets from the structs' one description (maps/).
const RSKKEY_SIZE = IPV4_REVNAT_TUPLE.size, RSKKEY_COOKIE = IPV4_REVNAT_TUPLE.off.cookie, RSKKEY_ADDR = IPV4_REVNAT_TUPLE.off.address,
  RSKKEY_PORT = IPV4_REVNAT_TUPLE.off.port;
const RSKVAL_SIZE = IPV4_REVNAT_ENTRY.size, RSKVAL_ADDR = IPV4_REVNAT_ENTRY.off.address, RSKVAL_PORT = IPV4_REVNAT_ENTRY.off.port,
  RSKVAL_REV_NAT = IPV4_REVNAT_ENTRY.off.rev_nat_index;

export const SYS_REJECT = 0, SYS_PROCEED = 1;
/** The run's cilium_lb4_reverse_sk key and value. */
const RSK = runLocal(() => ({ key: new Uint8Array(RSKKEY_SIZE), val: new Uint8Array(RSKVAL_SIZE) }));

function revKey(rkey: Uint8Array, cookie: number, addr: number, port: number): Uint8Array {
  rkey.fill(0); setU64le(rkey, RSKKEY_COOKIE, cookie); setU32be(rkey, RSKKEY_ADDR, addr); setU16be(rkey, RSKKEY_PORT, port); return rkey;
}

/** __sock4_xlate_fwd(): rewrite a service frontend to a backend; reject when it has none. */
export function sock4XlateFwd(ctx: SockAddrCtx, rt: Runtime, env: DatapathEnv): number {
  if (ctx.protocol !== 6 && ctx.protocol !== 17) return SYS_PROCEED;
  const svc = lb4LookupService(rt, env, ctx.userIp4, ctx.userPort, ctx.protocol);
  if (!svc) return SYS_PROCEED;
  if (svcCount(svc) === 0) return SYS_REJECT; // -EHOSTUNREACH
  sendTraceSockNotify4(rt, env, XLATE_PRE_DIRECTION_FWD, ctx.userIp4, ctx.userPort, ctx.sockCookie, ctx.epId, ctx.protocol);
  // sock_select_slot(): TCP draws at random, UDP by the socket's cookie.
  const slotSeed = ctx.protocol === 17 ? ctx.sockCookie : undefined;
  if (!lb4PickBackend(rt, env, svc, ctx.userIp4, ctx.userPort, ctx.protocol, ctx.netnsCookie, true, slotSeed)) return SYS_REJECT;
  const rsk = env.maps.lbReverseSk;
  const be = lbState(rt);
  sendTraceSockNotify4(rt, env, XLATE_POST_DIRECTION_FWD, be.addr, be.port, ctx.sockCookie, ctx.epId, ctx.protocol);
  if (rsk) {
    const { key, val: rval } = rt.local(RSK);
    rval.fill(0); setU32be(rval, RSKVAL_ADDR, ctx.userIp4); setU16be(rval, RSKVAL_PORT, ctx.userPort); setU16be(rval, RSKVAL_REV_NAT, be.revNat);
    rt.mapUpdate(rsk, revKey(key, ctx.sockCookie, be.addr, be.port), rval, 0);
  }
  ctx.userIp4 = be.addr; ctx.userPort = be.port;
  return SYS_PROCEED;
}

/** __sock4_xlate_rev(): show the service address to recvmsg()/getpeername() callers. */
export function sock4XlateRev(ctx: SockAddrCtx, rt: Runtime, env: DatapathEnv): number {
  sendTraceSockNotify4(rt, env, XLATE_PRE_DIRECTION_REV, ctx.userIp4, ctx.userPort, ctx.sockCookie, ctx.epId, ctx.protocol);
  const rsk = env.maps.lbReverseSk;
  if (!rsk) return SYS_PROCEED;
  const v = rt.mapLookup(rsk, revKey(rt.local(RSK).key, ctx.sockCookie, ctx.userIp4, ctx.userPort));
  if (!v) return SYS_PROCEED;
  ctx.userIp4 = u32be(v, RSKVAL_ADDR); ctx.userPort = u16be(v, RSKVAL_PORT);
  sendTraceSockNotify4(rt, env, XLATE_POST_DIRECTION_REV, ctx.userIp4, ctx.userPort, ctx.sockCookie, ctx.epId, ctx.protocol);
  return SYS_PROCEED;
}
