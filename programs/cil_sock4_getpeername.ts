// Mirrors bpf/bpf_sock.c cil_sock4_getpeername: cgroup/getpeername4 hook of socket LB (backend -> service frontend for getpeername()).

import type { SockAddrCtx } from '../src/bpf/program.ts';
import type { DatapathEnv, ProgSpec } from './lib/common.ts';
import { sock4XlateRev } from './lib/sock.ts';

/** Build cil_sock4_getpeername for a node (attached to the root cgroup). */
export function cilSock4Getpeername(env: DatapathEnv): ProgSpec<SockAddrCtx> {
  const m = env.maps;
  return {
    name: 'cil_sock4_getpeername', type: 'cgroup_sock_addr',
    maps: [m.lbServices, m.lbBackends, m.lbAffinity, m.events, ...(m.lbReverseSk ? [m.lbReverseSk] : [])],
    run(ctx, rt) { return sock4XlateRev(ctx, rt, env); },
  };
}
