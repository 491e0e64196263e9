// The few IPv4 helpers the generator needs (kept here so the generator imports nothing outside src/kubeproxy).

/** Dotted quad, no leading zeros (what Go's net.ParseIP accepts for IPv4). */
export function isIPv4(s: string): boolean {
  let parts = 0, val = 0, digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const ch = i < s.length ? s.charCodeAt(i) : 46;
    if (ch === 46) {
      if (digits === 0 || val > 255 || ++parts > 4) return false;
      val = 0; digits = 0;
    } else if (ch >= 48 && ch <= 57) {
      if (digits > 0 && val === 0) return false; // leading zero
      val = val * 10 + (ch - 48);
      if (++digits > 3) return false;
    } else return false;
  }
  return parts === 4;
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
