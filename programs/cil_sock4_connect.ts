// Mirrors bpf/bpf_sock.c cil_sock4_connect: cgroup/connect4 hook of socket LB (service frontend -> backend at connect()).

import type { SockAddrCtx } from '../src/bpf/program.ts';
import type { DatapathEnv, ProgSpec } from './lib/common.ts';
import { sock4XlateFwd } from './lib/sock.ts';

/** Build cil_sock4_connect for a node (attached to the root cgroup). */
export function cilSock4Connect(env: DatapathEnv): ProgSpec<SockAddrCtx> {
  const m = env.maps;
  return {
    name: 'cil_sock4_connect', type: 'cgroup_sock_addr',
    maps: [m.lbServices, m.lbBackends, m.lbAffinity, m.events, ...(m.lbReverseSk ? [m.lbReverseSk] : [])],
    run(ctx, rt) { return sock4XlateFwd(ctx, rt, env); },
  };
}
