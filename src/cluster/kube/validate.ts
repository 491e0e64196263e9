// Field validation with the API server's error wording:
// `The Service "web" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive`.

import { ipToU32 } from '../../wire/addr.ts';
import { ClusterError } from '../facade.ts';
import type { KObject } from './types.ts';

/** The API server's 422 Invalid (StatusReasonInvalid), naming the object and field. */
export function invalid(obj: Pick<KObject, 'kind' | 'metadata'>, field: string, detail: string, status = 422): never {
  throw new ClusterError(`The ${obj.kind} "${obj.metadata?.name ?? ''}" is invalid: ${field}: ${detail}`, status, field);
}

export function badValue(obj: Pick<KObject, 'kind' | 'metadata'>, field: string, value: unknown, why: string, status = 422): never {
  return invalid(obj, field, `Invalid value: ${JSON.stringify(value)}: ${why}`, status);
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUB = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function checkName(obj: KObject, label = false): void {
  const n = obj.metadata?.name;
  if (typeof n !== 'string' || n === '') invalid(obj, 'metadata.name', 'Required value: name or generateName is required');
  const re = label ? DNS1123_LABEL : DNS1123_SUB;
  if (!re.test(n) || n.length > (label ? 63 : 253)) {
    badValue(obj, 'metadata.name', n, label
      ? "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character"
      : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
  }
}

export function checkLabels(obj: KObject, field: string, labels: unknown): Record<string, string> {
  if (labels === undefined || labels === null) return {};
  if (typeof labels !== 'object' || Array.isArray(labels)) badValue(obj, field, labels, 'must be a map of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    if (!/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(k)) badValue(obj, `${field}`, k, 'name part must consist of alphanumeric characters');
    out[k] = v === null || v === undefined ? '' : String(v);
  }
  return out;
}

export function checkPort(obj: KObject, field: string, v: unknown, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (allowZero ? 0 : 1) || v > 65535) badValue(obj, field, v, 'must be between 1 and 65535, inclusive');
  return v;
}

export function checkProtocol(obj: KObject, field: string, v: unknown): 'TCP' | 'UDP' {
  if (v === undefined || v === null) return 'TCP';
  if (v !== 'TCP' && v !== 'UDP') invalid(obj, field, `Unsupported value: ${JSON.stringify(v)}: supported values: "TCP", "UDP"`);
  return v;
}

export function checkIp(obj: KObject, field: string, v: unknown): number {
  if (typeof v !== 'string') badValue(obj, field, v, 'must be a valid IP address');
  try { return ipToU32(v); } catch { return badValue(obj, field, v, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'); }
}

/** An IANA service name (targetPort / port names). */
export function checkPortName(obj: KObject, field: string, v: unknown): string {
  if (typeof v !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v) || v.length > 15 || !/[a-z]/.test(v)) {
    badValue(obj, field, v, 'must be no more than 15 characters, contain only lowercase alphanumerics and \'-\', and contain at least one letter');
  }
  return v;
}

export function asArray(obj: KObject, field: string, v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) badValue(obj, field, v, 'must be a list');
  return v;
}

export function matchesSelector(labels: Record<string, string> | undefined, selector: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  return Object.entries(selector).every(([k, v]) => (labels ?? {})[k] === v);
}
