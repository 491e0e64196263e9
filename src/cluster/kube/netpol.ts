// NetworkPolicy admission as the API server's ValidateNetworkPolicySpec:
// label selectors, peers, ports and ipBlock CIDRs (parsed with ip-num), in
// its words. The policy is stored as given once valid.

import { inPrefix } from '../../wire/addr.ts';
import type { Any, KObject } from './types.ts';
import { asArray, badValue, checkLabels, checkPortName, invalid, parseCidrStrict } from './validate.ts';

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const POLICY_TYPES = ['Ingress', 'Egress'];
const supported = (xs: string[]) => xs.map((x) => JSON.stringify(x)).join(', ');

/** ValidateLabelSelector: matchLabels as labels, matchExpressions with a known operator and values only where they belong. */
export function checkLabelSelector(obj: KObject, field: string, sel: unknown): void {
  if (sel === undefined || sel === null) return;
  if (typeof sel !== 'object' || Array.isArray(sel)) badValue(obj, field, sel, 'must be a label selector');
  const s = sel as Any;
  if (s.matchLabels !== undefined) s.matchLabels = checkLabels(obj, `${field}.matchLabels`, s.matchLabels);
  asArray(obj, `${field}.matchExpressions`, s.matchExpressions).forEach((e: Any, i) => {
    const f = `${field}.matchExpressions[${i}]`;
    if (!e || typeof e !== 'object') badValue(obj, f, e, 'must be a label selector requirement');
    if (typeof e.key !== 'string' || e.key === '') invalid(obj, `${f}.key`, 'Required value');
    checkLabels(obj, `${f}.key`, { [e.key]: '' });
    if (!OPERATORS.includes(e.operator)) invalid(obj, `${f}.operator`, `Unsupported value: ${JSON.stringify(e.operator)}: supported values: ${supported(OPERATORS)}`);
    const values = asArray(obj, `${f}.values`, e.values);
    if ((e.operator === 'In' || e.operator === 'NotIn') && values.length === 0) invalid(obj, `${f}.values`, 'Required value: must be specified when `operator` is \'In\' or \'NotIn\'');
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && values.length > 0) invalid(obj, `${f}.values`, 'Forbidden: may not be specified when `operator` is \'Exists\' or \'DoesNotExist\'');
  });
}

function checkPorts(obj: KObject, field: string, ports: unknown): void {
  asArray(obj, field, ports).forEach((p: Any, i) => {
    const f = `${field}[${i}]`;
    if (!p || typeof p !== 'object') badValue(obj, f, p, 'must be a network policy port');
    if (p.protocol !== undefined && !PROTOCOLS.includes(p.protocol)) invalid(obj, `${f}.protocol`, `Unsupported value: ${JSON.stringify(p.protocol)}: supported values: ${supported(PROTOCOLS)}`);
    if (p.port === undefined || p.port === null) return;
    if (typeof p.port === 'string') { checkPortName(obj, `${f}.port`, p.port); return; }
    if (typeof p.port !== 'number' || !Number.isInteger(p.port) || p.port < 1 || p.port > 65535) badValue(obj, `${f}.port`, p.port, 'must be between 1 and 65535, inclusive');
    if (p.endPort !== undefined && (typeof p.endPort !== 'number' || p.endPort < p.port)) badValue(obj, `${f}.endPort`, p.endPort, 'must be greater than or equal to `port`');
  });
}

/** ValidateIPBlock: a CIDR, and exceptions strictly inside it. */
function checkIpBlock(obj: KObject, field: string, b: Any): void {
  if (!b || typeof b !== 'object') badValue(obj, field, b, 'must be an IP block');
  if (b.cidr === undefined || b.cidr === '') invalid(obj, `${field}.cidr`, 'Required value');
  const cidr = parseCidrStrict(b.cidr);
  if (!cidr) badValue(obj, `${field}.cidr`, b.cidr, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)');
  asArray(obj, `${field}.except`, b.except).forEach((x, i) => {
    const ex = parseCidrStrict(x);
    if (!ex) badValue(obj, `${field}.except[${i}]`, x, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)');
    if (ex.prefixLen <= cidr.prefixLen || !inPrefix(ex.ip, cidr.ip, cidr.prefixLen)) badValue(obj, `${field}.except[${i}]`, x, 'must be a strict subset of `cidr`');
  });
}

function checkPeers(obj: KObject, field: string, peers: unknown): void {
  asArray(obj, field, peers).forEach((p: Any, i) => {
    const f = `${field}[${i}]`;
    if (!p || typeof p !== 'object') badValue(obj, f, p, 'must be a network policy peer');
    const kinds = ['podSelector', 'namespaceSelector', 'ipBlock'].filter((k) => p[k] !== undefined && p[k] !== null);
    if (kinds.length === 0) invalid(obj, f, 'Required value: must specify a peer');
    if (p.ipBlock !== undefined && p.ipBlock !== null && kinds.length > 1) invalid(obj, f, 'Forbidden: may not specify more than 1 peer type');
    checkLabelSelector(obj, `${f}.podSelector`, p.podSelector);
    checkLabelSelector(obj, `${f}.namespaceSelector`, p.namespaceSelector);
    if (p.ipBlock !== undefined && p.ipBlock !== null) checkIpBlock(obj, `${f}.ipBlock`, p.ipBlock);
  });
}

export function admitNetworkPolicy(obj: KObject): void {
  const spec: Any = (obj.spec ??= {});
  checkLabelSelector(obj, 'spec.podSelector', spec.podSelector);
  spec.podSelector ??= {};
  asArray(obj, 'spec.ingress', spec.ingress).forEach((r: Any, i) => {
    checkPorts(obj, `spec.ingress[${i}].ports`, r?.ports);
    checkPeers(obj, `spec.ingress[${i}].from`, r?.from);
  });
  asArray(obj, 'spec.egress', spec.egress).forEach((r: Any, i) => {
    checkPorts(obj, `spec.egress[${i}].ports`, r?.ports);
    checkPeers(obj, `spec.egress[${i}].to`, r?.to);
  });
  const types = asArray(obj, 'spec.policyTypes', spec.policyTypes);
  if (types.length > POLICY_TYPES.length) invalid(obj, 'spec.policyTypes', `Too many: ${types.length}: must have at most ${POLICY_TYPES.length} items`);
  types.forEach((p, i) => { if (!POLICY_TYPES.includes(p as string)) invalid(obj, `spec.policyTypes[${i}]`, `Unsupported value: ${JSON.stringify(p)}: supported values: ${supported(POLICY_TYPES)}`); });
}
