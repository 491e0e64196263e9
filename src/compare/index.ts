// src/compare: the library wrapper (Lab) and the datapath comparison.
export { Lab, Capture, CAPTURE_MAX_FRAMES, type LabOptions, type CaptureTarget, type PodInfo, type ServiceInfo } from './lab.ts';
export { compare, defaultTraffic, parseVariants, DEFAULT_VARIANTS, STATE_LINES, type CompareOptions, type CompareReport, type StepReport, type StepResult, type RequestResult, type WireView, type NodeState, type VariantInfo, type Variant } from './run.ts';
export { parseTraffic, MAX_STEPS, MAX_REPEAT, MAX_REQUESTS, type TrafficStep } from './traffic.ts';
export { formatReport } from './report.ts';
export { withDatapath, type DatapathOverride } from './datapath_doc.ts';
export type { Packet } from './packets.ts';
export type { DatapathWork, IptablesWork, CiliumWork, PerClass } from './work.ts';
export type { ConntrackEntry, CiliumCtEntry, Counter, Tuple } from './state.ts';
