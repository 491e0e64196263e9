// Mirrors Cilium's per-program tail-call maps cilium_calls_<05d> / _hostns_ / _netdev_ / _overlay_2 (pkg/maps/callsmap).

import type { MapSpec } from '../src/bpf/map.ts';
import type { EntryFormat } from './format.ts';
import { dv, localMapName } from './util.ts';

/** CILIUM_CALL_SIZE: slots per calls map (seed: `cilium_calls_00` max_entries 50). */
export const CILIUM_CALL_SIZE = 50;

/**
 * bpf/lib/tailcall.h CILIUM_CALL_* slot indexes (IPv4 subset; numbering of
 * the 1.16-era tree; FROM_NETDEV / FROM_OVERLAY alias FROM_LXC, TO_HOST_POLICY_ONLY aliases TO_LXC_POLICY_ONLY).
 */
export const CILIUM_CALL_DROP_NOTIFY = 1, CILIUM_CALL_ERROR_NOTIFY = 2, CILIUM_CALL_ARP = 6,
  CILIUM_CALL_IPV4_FROM_LXC = 7, CILIUM_CALL_IPV4_FROM_NETDEV = 7, CILIUM_CALL_IPV4_FROM_OVERLAY = 7,
  CILIUM_CALL_IPV4_TO_LXC_POLICY_ONLY = 11, CILIUM_CALL_IPV4_TO_HOST_POLICY_ONLY = 11, CILIUM_CALL_IPV4_TO_ENDPOINT = 13,
  CILIUM_CALL_IPV4_NODEPORT_NAT_EGRESS = 15, CILIUM_CALL_IPV4_NODEPORT_REVNAT = 17, CILIUM_CALL_IPV4_NODEPORT_NAT_FWD = 20,
  CILIUM_CALL_IPV4_NODEPORT_DSR = 21, CILIUM_CALL_IPV4_FROM_HOST = 23, CILIUM_CALL_IPV4_FROM_LXC_CONT = 26,
  CILIUM_CALL_IPV4_CT_INGRESS = 28, CILIUM_CALL_IPV4_CT_INGRESS_POLICY_ONLY = 29, CILIUM_CALL_IPV4_CT_EGRESS = 30,
  CILIUM_CALL_IPV4_NODEPORT_NAT_INGRESS = 36, CILIUM_CALL_IPV4_NODEPORT_SNAT_FWD = 38, CILIUM_CALL_IPV4_INTER_CLUSTER_REVSNAT = 40,
  CILIUM_CALL_IPV4_CONT_FROM_HOST = 41, CILIUM_CALL_IPV4_CONT_FROM_NETDEV = 42, CILIUM_CALL_IPV4_NO_SERVICE = 45;

/** Spec of a calls map with the given full name. */
export function callsSpec(name: string): MapSpec {
  return { name, type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: CILIUM_CALL_SIZE, flags: 0 };
}
/** `cilium_calls_<05d>` of an endpoint. */
export function callsMapName(epId: number): string { return localMapName('cilium_calls_', epId); }
/** `cilium_calls_hostns_<05d>` of the host endpoint. */
export function callsHostnsMapName(hostEpId: number): string { return localMapName('cilium_calls_hostns_', hostEpId); }
/** `cilium_calls_netdev_<05d>` of a native device (by ifindex). */
export function callsNetdevMapName(ifindex: number): string { return localMapName('cilium_calls_netdev_', ifindex); }
/** The overlay program's calls map (ID_OVERLAY 2). */
export const CILIUM_CALLS_OVERLAY = 'cilium_calls_overlay_2';

/** Keys print as the decimal slot, values as the decimal program id. */
export const CALLS_FORMAT: EntryFormat = {
  key: (k) => String(dv(k).getUint32(0, true)),
  value: (v) => String(dv(v).getUint32(0, true)),
};
