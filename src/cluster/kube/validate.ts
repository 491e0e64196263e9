// Field validation with the API server's error wording
// (k8s.io/apimachinery/pkg/util/validation and pkg/apis/core/validation):
// `The Service "web" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive`.

import { IPv4, Validator } from 'ip-num';
import { ClusterError } from '../facade.ts';
import type { KObject } from './types.ts';

type Named = Pick<KObject, 'kind' | 'metadata'>;

/** The API server's 422 Invalid (StatusReasonInvalid), naming the object and field. */
export function invalid(obj: Named, field: string, detail: string, status = 422): never {
  throw new ClusterError(`The ${obj.kind} "${obj.metadata?.name ?? ''}" is invalid: ${field}: ${detail}`, status, field);
}

export function badValue(obj: Named, field: string, value: unknown, why: string, status = 422): never {
  return invalid(obj, field, `Invalid value: ${JSON.stringify(value)}: ${why}`, status);
}

/** Go's JSON decoder refusing a value of the wrong type: a 400 before validation runs. */
export function decodeError(obj: Named, field: string, goField: string, goType: string, value: unknown): never {
  const got = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value === 'object' ? 'object' : typeof value;
  throw new ClusterError(`Error from server (BadRequest): ${obj.kind} in version "${versionOf(obj)}" cannot be handled as a ${obj.kind}: json: cannot unmarshal ${got} into Go struct field ${goField} of type ${goType}`, 400, field);
}

function versionOf(obj: Named): string { return String((obj as KObject).apiVersion ?? 'v1').split('/').pop()!; }

const LABEL_FMT = '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?';
const NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUB_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1035_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const full = (fmt: string) => new RegExp(`^${fmt}$`);

/** validation.RegexError: the message with its examples and the regex. */
function regexError(msg: string, fmt: string, ...examples: string[]): string {
  return `${msg} (e.g. ${examples.map((e) => `'${e}'`).join(',  or ')}, regex used for validation is '${fmt}')`;
}

/** validation.IsDNS1123Label. */
export function dns1123LabelErrors(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push('must be no more than 63 characters');
  if (!full(DNS1123_LABEL_FMT).test(v)) out.push(regexError("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", DNS1123_LABEL_FMT, 'my-name', '123-abc'));
  return out;
}

/** validation.IsDNS1123Subdomain. */
export function dns1123SubdomainErrors(v: string): string[] {
  const out: string[] = [];
  if (v.length > 253) out.push('must be no more than 253 characters');
  if (!full(DNS1123_SUB_FMT).test(v)) out.push(regexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", DNS1123_SUB_FMT, 'example.com'));
  return out;
}

/** validation.IsDNS1035Label (Service names). */
export function dns1035LabelErrors(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push('must be no more than 63 characters');
  if (!full(DNS1035_FMT).test(v)) out.push(regexError("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character", DNS1035_FMT, 'my-name', 'abc-123'));
  return out;
}

/** validation.IsQualifiedName (label and annotation keys). */
export function qualifiedNameErrors(v: string): string[] {
  const parts = v.split('/');
  let name = parts[0]!;
  const out: string[] = [];
  if (parts.length === 2) {
    const prefix = parts[0]!; name = parts[1]!;
    if (prefix.length === 0) out.push('prefix part must be non-empty');
    else out.push(...dns1123SubdomainErrors(prefix).map((m) => `prefix part ${m}`));
  } else if (parts.length > 2) {
    return [regexError("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", NAME_FMT, 'MyName', 'my.name', '123-abc') + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
  }
  if (name.length === 0) out.push('name part must be non-empty');
  else if (name.length > 63) out.push('name part must be no more than 63 characters');
  if (!full(NAME_FMT).test(name)) out.push(regexError("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", NAME_FMT, 'MyName', 'my.name', '123-abc'));
  return out;
}

/** validation.IsValidLabelValue. */
export function labelValueErrors(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push('must be no more than 63 characters');
  if (!full(LABEL_FMT).test(v)) out.push(regexError("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", LABEL_FMT, 'MyValue', 'my_value', '12345'));
  return out;
}

/** Fail with the first message of a validation.IsXxx result. */
function first(obj: Named, field: string, value: unknown, errs: string[]): void {
  if (errs.length > 0) badValue(obj, field, value, errs[0]!);
}

export function checkName(obj: KObject, kind: 'subdomain' | 'dns1123label' | 'dns1035' = 'subdomain'): void {
  const n = obj.metadata?.name;
  if (typeof n !== 'string' || n === '') invalid(obj, 'metadata.name', 'Required value: name or generateName is required');
  first(obj, 'metadata.name', n, kind === 'dns1035' ? dns1035LabelErrors(n) : kind === 'dns1123label' ? dns1123LabelErrors(n) : dns1123SubdomainErrors(n));
}

/** Go struct owning a string map at `field`, for the decoder's wording. */
function goOwner(field: string): string {
  const last = field.split('.').pop()!;
  if (last === 'labels' || last === 'annotations') return `ObjectMeta.${field}`;
  if (last === 'matchLabels') return `LabelSelector.${field}`;
  if (last === 'nodeSelector') return `PodSpec.${field}`;
  return `ServiceSpec.${field}`;
}

/** A map[string]string as Go decodes it (a fresh object: own keys only, whatever they are called). */
export function stringMap(obj: Named, field: string, v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) decodeError(obj, field, goOwner(field), 'map[string]string', v);
  const entries = Object.entries(v as Record<string, unknown>);
  for (const [, x] of entries) if (typeof x !== 'string') decodeError(obj, field, goOwner(field), 'string', x);
  return Object.fromEntries(entries) as Record<string, string>;
}

/** ValidateLabels: keys are qualified names, values label values. */
export function checkLabels(obj: Named, field: string, labels: unknown): Record<string, string> {
  const out = stringMap(obj, field, labels);
  for (const [k, v] of Object.entries(out)) {
    first(obj, field, k, qualifiedNameErrors(k));
    first(obj, field, v, labelValueErrors(v));
  }
  return out;
}

/** The API server's limit on all annotations of an object together (apimachinery TotalAnnotationSizeLimitB). */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** ValidateAnnotations: qualified-name keys (lower-cased), at most 256 KiB of keys and values together. */
export function checkAnnotations(obj: Named, field: string, annotations: unknown): Record<string, string> {
  const out = stringMap(obj, field, annotations);
  let size = 0;
  for (const [k, v] of Object.entries(out)) {
    first(obj, field, k, qualifiedNameErrors(k.toLowerCase()));
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) invalid(obj, field, `Too long: must have at most ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes`);
  return out;
}

export function checkPort(obj: Named, field: string, v: unknown, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (allowZero ? 0 : 1) || v > 65535) badValue(obj, field, v, 'must be between 1 and 65535, inclusive');
  return v;
}

export function checkProtocol(obj: Named, field: string, v: unknown): 'TCP' | 'UDP' {
  if (v === undefined || v === null) return 'TCP';
  if (v !== 'TCP' && v !== 'UDP') invalid(obj, field, `Unsupported value: ${JSON.stringify(v)}: supported values: "TCP", "UDP"`);
  return v;
}

/** Parse a user's IPv4 address with ip-num (strict dotted quad, no leading zeros). */
export function parseIp(v: unknown): number | undefined {
  if (typeof v !== 'string' || !Validator.isValidIPv4String(v)[0]) return undefined;
  return Number(IPv4.fromString(v).getValue());
}

export function checkIp(obj: Named, field: string, v: unknown): number {
  const ip = parseIp(v);
  if (ip === undefined) badValue(obj, field, v, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
  return ip;
}

/** validateNonSpecialIP (externalIPs, endpoints): an address a client could reach. */
export function checkNonSpecialIp(obj: Named, field: string, v: unknown): number {
  const ip = checkIp(obj, field, v);
  const a = ip >>> 24, b = (ip >>> 16) & 255, c = (ip >>> 8) & 255;
  if (ip === 0) badValue(obj, field, v, 'may not be unspecified (0.0.0.0)');
  if (a === 127) badValue(obj, field, v, 'may not be in the loopback range (127.0.0.0/8, ::1/128)');
  if (a === 169 && b === 254) badValue(obj, field, v, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)');
  if (a === 224 && b === 0 && c === 0) badValue(obj, field, v, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)');
  return ip;
}

/** A CIDR as ip-num reads it; undefined when malformed. */
export function parseCidrStrict(v: unknown): { ip: number; prefixLen: number } | undefined {
  if (typeof v !== 'string' || !Validator.isValidIPv4CidrNotation(v)[0]) return undefined;
  const [addr, len] = v.split('/');
  return { ip: parseIp(addr)!, prefixLen: Number(len) };
}

/** An IANA service name (targetPort / port names). */
export function checkPortName(obj: Named, field: string, v: unknown): string {
  if (typeof v !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v) || v.length > 15 || !/[a-z]/.test(v)) {
    badValue(obj, field, v, 'must be no more than 15 characters, contain only lowercase alphanumerics and \'-\', and contain at least one letter');
  }
  return v;
}

export function asArray(obj: Named, field: string, v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) badValue(obj, field, v, 'must be a list');
  return v;
}

export function matchesSelector(labels: Record<string, string> | undefined, selector: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  return Object.entries(selector).every(([k, v]) => Object.hasOwn(labels ?? {}, k) && labels![k] === v);
}
