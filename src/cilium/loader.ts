// The agent's loader (pkg/datapath/loader): turns program specs into loaded
// BpfPrograms with ids, registers them with the kernel and attaches them.

import type { KernelNode, NetDevice, TcxDirection, CgroupHook } from '../kernel/api.ts';
import type { BpfProgram, SockAddrCtx } from '../bpf/program.ts';
import type { BpfMap } from '../bpf/map.ts';
import type { SkBuff } from '../wire/skb.ts';
import { TC_ACT_OK } from '../bpf/ctx.ts';
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

/**
 * Program names of one ELF object load, in the order the kernel hands out
 * their ids. Loading a collection loads every program the object keeps after
 * unreachable tail calls are pruned, not only the entry points. cilium/ebpf's
 * NewCollectionWithOptions loads them by ranging over a Go map (spec.Programs),
 * so each load of an object draws its own order; dplab replays the draws the
 * seed shows: bpf_host with its entry slots 6th and 12th of 12 (three loads
 * alike), and bpf_lxc once with cil_from_container before cil_to_container (the
 * health endpoint: 1302, 1303) and once after (netpod: 1312, 1311).
 */
export const BPF_HOST_TAILS = ['tail_handle_ipv4_from_host', 'tail_handle_ipv4_from_netdev', 'tail_nodeport_nat_egress_ipv4',
  'tail_nodeport_nat_ingress_ipv4', 'tail_rev_nodeport_lb4', 'tail_handle_snat_fwd_ipv4', 'tail_handle_nat_fwd_ipv4',
  'tail_no_service_ipv4', 'tail_drop_notify', 'tail_handle_ipv4_cont'];
export function bpfHostObject(first: string, second: string): string[] {
  return [...BPF_HOST_TAILS.slice(0, 5), first, ...BPF_HOST_TAILS.slice(5), second];
}
const BPF_LXC_TAILS = ['tail_handle_ipv4', 'tail_ipv4_ct_egress', 'cil_lxc_policy', 'tail_ipv4_ct_ingress', 'tail_ipv4_policy',
  'tail_ipv4_to_endpoint', 'tail_drop_notify'];
/** bpf_lxc as the health endpoint's load ordered it. */
export const BPF_LXC_HEALTH_OBJECT = [...BPF_LXC_TAILS, 'cil_from_container', 'cil_to_container'];
/** bpf_lxc as a pod endpoint's load ordered it (the seed's netpod). */
export const BPF_LXC_OBJECT = [...BPF_LXC_TAILS, 'cil_to_container', 'cil_from_container'];

/** The body of the object's programs we do not emulate (never run): one function for all of them. */
function runOk(): number { return TC_ACT_OK; }
const NO_MAPS: BpfMap[] = [];

/**
 * The program's used_maps: the verifier appends each map the first time an
 * instruction references it (resolve_pseudo_ldimm64 walks them in order), and
 * bpftool prints map_ids in that order. A spec lists its maps in that order.
 */
function uniqueIds(maps: BpfMap[]): number[] {
  const out: number[] = [];
  for (const m of maps) if (!out.includes(m.id)) out.push(m.id);
  return out.slice(); // exact size: 10k endpoints keep 9 of these each
}

export class Loader {
  readonly ids: IdAllocator;
  constructor(readonly kernel: LoaderKernel) { this.ids = kernel.ids ?? new IdAllocator(); }

  /** One program: cilium/ebpf loads its BTF (func info, full name) first, then the program. */
  load<C>(spec: ProgSpec<C>): BpfProgram<C> {
    const btfId = this.ids.nextBtfId();
    const p = defineProgram<C>({ id: this.ids.nextProgId(), name: spec.name, type: spec.type, run: spec.run,
      mapIds: uniqueIds(spec.maps), loadedAtMs: this.kernel.sim.wallMs(), btfId });
    this.kernel.registerProg?.(p as BpfProgram<unknown>);
    return p;
  }

  /**
   * Load one ELF object: every slot of `layout` gets a program id in order;
   * slots with a spec load it, the others load that object's tail-call
   * program we do not emulate (never run: its tail-call slot stays empty).
   */
  loadObject(layout: string[], specs: Array<ProgSpec<SkBuff>>): Map<string, BpfProgram<SkBuff>> {
    const out = new Map<string, BpfProgram<SkBuff>>();
    const pending = specs.slice();
    for (const name of layout) {
      const i = pending.findIndex((s) => s !== undefined && s.name === name);
      if (i >= 0) { out.set(name, this.load(pending[i]!)); pending[i] = undefined as never; continue; }
      this.load<SkBuff>({ name, type: 'sched_cls', maps: NO_MAPS, run: runOk });
    }
    for (const s of pending) if (s !== undefined && !out.has(s.name)) out.set(s.name, this.load(s));
    return out;
  }

  attach(dev: NetDevice, dir: TcxDirection, spec: ProgSpec<SkBuff>): BpfProgram<SkBuff> {
    const p = this.load(spec);
    this.kernel.attachTcx(dev, dir, p);
    return p;
  }

  attachLoaded(dev: NetDevice, dir: TcxDirection, p: BpfProgram<SkBuff>): void { this.kernel.attachTcx(dev, dir, p); }

  attachCgroup(hook: CgroupHook, spec: ProgSpec<SockAddrCtx>): void { this.kernel.attachCgroup(hook, this.load(spec)); }
}
