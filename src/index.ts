// The package's entry point (`import { Lab, compare } from 'dplab'`): the
// library API for users' own tests. A small surface: Lab builds a cluster from
// YAML with a chosen datapath and seed and reads it as a user at the nodes
// would (exec, captures, conntrack / Cilium CT entries, counters); compare runs
// the same traffic through two datapaths. README: "Library API".

export {
  Lab, Capture, CAPTURE_MAX_FRAMES, compare, defaultTraffic, parseTraffic, parseVariants, formatReport, withDatapath, DEFAULT_VARIANTS, STATE_LINES,
  MAX_STEPS, MAX_REPEAT, MAX_REQUESTS,
} from './compare/index.ts';
export type {
  LabOptions, CaptureTarget, PodInfo, ServiceInfo, CompareOptions, CompareReport, StepReport, StepResult, RequestResult, WireView,
  NodeState, VariantInfo, Variant, TrafficStep, DatapathOverride, Packet, ConntrackEntry, CiliumCtEntry, Counter, Tuple,
} from './compare/index.ts';
export { ClusterError, type CapturedFrame, type ExecResult } from './cluster/facade.ts';
export { Cluster, type ClusterOptions } from './cluster/cluster.ts';
