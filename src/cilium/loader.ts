// The agent's loader (pkg/datapath/loader): turns program specs into loaded
// BpfPrograms with ids, registers them with the kernel and attaches them.

import type { KernelNode, NetDevice, TcxDirection, CgroupHook } from '../kernel/api.ts';
import type { BpfProgram, SockAddrCtx } from '../bpf/program.ts';
import type { BpfMap } from '../bpf/map.ts';
import type { SkBuff } from '../bpf/ctx.ts';
import { defineProgram } from '../bpf/define.ts';
import { IdAllocator } from '../bpf/ids.ts';
import type { ProgSpec } from '../../programs/lib/common.ts';

/** The extra LinuxNode surface the agent uses when the kernel offers it (adapter over KernelNode). */
export interface LoaderKernel extends KernelNode {
  ids?: IdAllocator;
  registerProg?(p: BpfProgram<unknown>): void;
  registerMap?(m: BpfMap): void;
  createVxlan?(name: string, opts?: { port?: number; mtu?: number }): NetDevice;
  createDevice?(ns: KernelNode['hostNs'], name: string, kind: NetDevice['kind'], opts?: { mtu?: number; mac?: Uint8Array }): NetDevice;
  netdev?: NetDevice;
}

export class Loader {
  readonly ids: IdAllocator;
  constructor(readonly kernel: LoaderKernel) { this.ids = kernel.ids ?? new IdAllocator(); }

  load<C>(spec: ProgSpec<C>): BpfProgram<C> {
    const p = defineProgram<C>({ id: this.ids.nextProgId(), name: spec.name, type: spec.type, run: spec.run,
      mapIds: [...new Set(spec.maps.map((m) => m.id))], loadedAtMs: this.kernel.sim.wallMs() });
    this.kernel.registerProg?.(p as BpfProgram<unknown>);
    return p;
  }

  attach(dev: NetDevice, dir: TcxDirection, spec: ProgSpec<SkBuff>): BpfProgram<SkBuff> {
    const p = this.load(spec);
    this.kernel.attachTcx(dev, dir, p);
    return p;
  }

  attachCgroup(hook: CgroupHook, spec: ProgSpec<SockAddrCtx>): void { this.kernel.attachCgroup(hook, this.load(spec)); }
}
