// One node's Cilium BPF maps (the registry maps.h declares), built from the per-map specs.

import type { BpfMap, MapSpec } from '../src/bpf/map.ts';
import type { IdAllocator } from '../src/bpf/ids.ts';
import {
  createMap, HashMap, LpmTrieMap, LruHashMap, PercpuHashMap, PerfEventArrayMap, ProgArrayMap,
} from '../src/bpf/maps/index.ts';
import { CILIUM_CALL_POLICY } from './cilium_call_policy.ts';
import { callsHostnsMapName, callsMapName, callsNetdevMapName, callsSpec, CILIUM_CALLS_OVERLAY } from './cilium_calls.ts';
import { CILIUM_CT_ANY4_GLOBAL } from './cilium_ct_any4_global.ts';
import { CILIUM_CT4_GLOBAL } from './cilium_ct4_global.ts';
import { CILIUM_EVENTS } from './cilium_events.ts';
import { CILIUM_IPCACHE } from './cilium_ipcache.ts';
import { CILIUM_LB_AFFINITY_MATCH } from './cilium_lb_affinity_match.ts';
import { CILIUM_LB4_AFFINITY } from './cilium_lb4_affinity.ts';
import { CILIUM_LB4_BACKENDS_V3 } from './cilium_lb4_backends_v3.ts';
import { CILIUM_LB4_REVERSE_NAT } from './cilium_lb4_reverse_nat.ts';
import { CILIUM_LB4_REVERSE_SK } from './cilium_lb4_reverse_sk.ts';
import { CILIUM_LB4_SERVICES_V2 } from './cilium_lb4_services_v2.ts';
import { CILIUM_LXC } from './cilium_lxc.ts';
import { CILIUM_METRICS } from './cilium_metrics.ts';
import { policySpec } from './cilium_policy.ts';
import { CILIUM_SNAT_V4_EXTERNAL } from './cilium_snat_v4_external.ts';
import { CILIUM_TUNNEL_MAP } from './cilium_tunnel_map.ts';

/** A node's maps. Global maps are fields; per-endpoint / per-device maps are created on demand. */
export class NodeMaps {
  readonly lxc: HashMap;
  readonly ipcache: LpmTrieMap;
  readonly lbServices: HashMap;
  readonly lbBackends: HashMap;
  readonly lbRevNat: HashMap;
  readonly lbAffinity: LruHashMap;
  readonly lbAffinityMatch: HashMap;
  readonly lbReverseSk: LruHashMap;
  readonly ct4: LruHashMap;
  readonly ctAny4: LruHashMap;
  readonly snat4: LruHashMap;
  readonly metrics: PercpuHashMap;
  readonly events: PerfEventArrayMap;
  readonly callPolicy: ProgArrayMap;
  readonly tunnel: HashMap;
  private readonly ids: IdAllocator;
  private readonly all = new Map<string, BpfMap>();

  constructor(ids: IdAllocator) {
    this.ids = ids;
    // Creation order fixes the map ids, as the agent's init order does.
    this.lxc = this.add(CILIUM_LXC) as HashMap;
    this.ipcache = this.add(CILIUM_IPCACHE) as LpmTrieMap;
    this.metrics = this.add(CILIUM_METRICS) as PercpuHashMap;
    this.events = this.add(CILIUM_EVENTS) as PerfEventArrayMap;
    this.callPolicy = this.add(CILIUM_CALL_POLICY) as ProgArrayMap;
    this.tunnel = this.add(CILIUM_TUNNEL_MAP) as HashMap;
    this.lbServices = this.add(CILIUM_LB4_SERVICES_V2) as HashMap;
    this.lbBackends = this.add(CILIUM_LB4_BACKENDS_V3) as HashMap;
    this.lbRevNat = this.add(CILIUM_LB4_REVERSE_NAT) as HashMap;
    this.lbAffinity = this.add(CILIUM_LB4_AFFINITY) as LruHashMap;
    this.lbAffinityMatch = this.add(CILIUM_LB_AFFINITY_MATCH) as HashMap;
    this.lbReverseSk = this.add(CILIUM_LB4_REVERSE_SK) as LruHashMap;
    this.ct4 = this.add(CILIUM_CT4_GLOBAL) as LruHashMap;
    this.ctAny4 = this.add(CILIUM_CT_ANY4_GLOBAL) as LruHashMap;
    this.snat4 = this.add(CILIUM_SNAT_V4_EXTERNAL) as LruHashMap;
  }

  /** `cilium_calls_<05d>` of endpoint epId (created on first use). */
  callsFor(epId: number): ProgArrayMap { return this.getOrAdd(callsSpec(callsMapName(epId))) as ProgArrayMap; }
  /** `cilium_calls_hostns_<05d>` of the host endpoint. */
  callsHostns(hostEpId: number): ProgArrayMap { return this.getOrAdd(callsSpec(callsHostnsMapName(hostEpId))) as ProgArrayMap; }
  /** `cilium_calls_netdev_<05d>` of a native device. */
  callsNetdev(ifindex: number): ProgArrayMap { return this.getOrAdd(callsSpec(callsNetdevMapName(ifindex))) as ProgArrayMap; }
  /** `cilium_calls_overlay_2`. */
  callsOverlay(): ProgArrayMap { return this.getOrAdd(callsSpec(CILIUM_CALLS_OVERLAY)) as ProgArrayMap; }
  /** `cilium_policy_<05d>` of endpoint epId. */
  policyFor(epId: number): LpmTrieMap { return this.getOrAdd(policySpec(epId)) as LpmTrieMap; }

  /** Remove an endpoint's own maps (calls, policy) and its cilium_call_policy slot. */
  dropEndpoint(epId: number): void {
    this.all.delete(callsMapName(epId));
    this.all.delete(policySpec(epId).name);
    this.callPolicy.setProg(epId, undefined);
  }

  /** Map by its full Cilium name. */
  byName(name: string): BpfMap | undefined { return this.all.get(name); }
  /** Map by id. */
  byId(id: number): BpfMap | undefined { for (const m of this.all.values()) if (m.id === id) return m; return undefined; }
  /** All maps in id order (`bpftool map list`). */
  list(): BpfMap[] { return [...this.all.values()].sort((a, b) => a.id - b.id); }

  private add(spec: MapSpec): BpfMap {
    const m = createMap(spec, this.ids.nextMapId());
    this.all.set(spec.name, m);
    return m;
  }

  private getOrAdd(spec: MapSpec): BpfMap { return this.all.get(spec.name) ?? this.add(spec); }
}

/** Build a node's global maps, taking ids from the node's allocator. */
export function createNodeMaps(ids: IdAllocator): NodeMaps { return new NodeMaps(ids); }
