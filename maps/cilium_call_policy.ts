// Mirrors Cilium's cilium_call_policy prog array: endpoint id -> that endpoint's cil_lxc_policy (pkg/maps/policymap PolicyCallMapName).

import type { MapSpec } from '../src/bpf/map.ts';
export { CALLS_FORMAT as CALL_POLICY_FORMAT } from './cilium_calls.ts';

/** PROG_ARRAY, u32 endpoint id -> program, PolicyCallMaxEntries 65535. */
export const CILIUM_CALL_POLICY: MapSpec = { name: 'cilium_call_policy', type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 65535, flags: 0 };
