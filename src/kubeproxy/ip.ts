// The few IPv4 helpers the generator needs (kept here so the generator imports nothing outside src/kubeproxy).

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function isIPv4(s: string): boolean {
  const p = s.split('.');
  return p.length === 4 && p.every((o) => OCTET.test(o));
}

export function ipv4ToInt(s: string): number {
  const p = s.split('.');
  return ((+p[0]! << 24) | (+p[1]! << 16) | (+p[2]! << 8) | +p[3]!) >>> 0;
}

export const intToIPv4 = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/** `a.b.c.d/len` (or a bare address, /32); undefined when malformed. */
export function parseCidr(s: string): { net: number; len: number } | undefined {
  const [ip, l, extra] = s.trim().split('/');
  if (extra !== undefined || !ip || !isIPv4(ip)) return undefined;
  const len = l === undefined ? 32 : /^\d{1,2}$/.test(l) ? +l : NaN;
  if (!(len >= 0 && len <= 32)) return undefined;
  const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
  return { net: (ipv4ToInt(ip) & mask) >>> 0, len };
}

export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr);
  if (!c || !isIPv4(ip)) return false;
  const mask = c.len === 0 ? 0 : (~0 << (32 - c.len)) >>> 0;
  return ((ipv4ToInt(ip) & mask) >>> 0) === c.net;
}

export const isLoopback = (ip: string) => ip.startsWith('127.');
