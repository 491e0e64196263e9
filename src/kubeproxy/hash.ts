// Chain names as kube-proxy computes them (pkg/proxy/iptables/proxier.go
// portProtoHash / servicePortEndpointChainName): the first 16 characters of
// the standard base32 of sha256(servicePortName + protocol [+ endpoint]),
// protocol lower-case, no separators. 16 because a chain name is at most 28
// characters.

import * as crypto from 'node:crypto';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

const B32_CODES = [...B32].map((c) => c.charCodeAt(0));

/** The first 16 base32 characters of sha256(text): 80 of the 256 bits, no padding ever. */
export function hash16(text: string): string {
  // crypto.hash (one-shot, Node >= 20.12) is ~3x cheaper than createHash per call.
  const d = crypto.hash ? crypto.hash('sha256', text, 'buffer') : crypto.createHash('sha256').update(text).digest();
  const c: number[] = new Array(16);
  // Two groups of 5 bytes -> 8 characters of 5 bits each.
  for (let g = 0, o = 0; g < 10; g += 5, o += 8) {
    const b0 = d[g]!, b1 = d[g + 1]!, b2 = d[g + 2]!, b3 = d[g + 3]!, b4 = d[g + 4]!;
    c[o] = B32_CODES[b0 >> 3]!;
    c[o + 1] = B32_CODES[((b0 & 7) << 2) | (b1 >> 6)]!;
    c[o + 2] = B32_CODES[(b1 >> 1) & 31]!;
    c[o + 3] = B32_CODES[((b1 & 1) << 4) | (b2 >> 4)]!;
    c[o + 4] = B32_CODES[((b2 & 15) << 1) | (b3 >> 7)]!;
    c[o + 5] = B32_CODES[(b3 >> 2) & 31]!;
    c[o + 6] = B32_CODES[((b3 & 3) << 3) | (b4 >> 5)]!;
    c[o + 7] = B32_CODES[b4 & 31]!;
  }
  return String.fromCharCode(...c);
}

/** `ns/name` or `ns/name:port` (ServicePortName.String(): the colon only for named ports). */
export function servicePortName(namespace: string, name: string, port: string): string {
  return port === '' ? `${namespace}/${name}` : `${namespace}/${name}:${port}`;
}

/** `IP:port`, `[IPv6]:port` (net.JoinHostPort). */
export function endpointString(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The hash shared by KUBE-SVC-, KUBE-SVL-, KUBE-EXT- and KUBE-FW-. */
export function portProtoHash(spn: string, protocol: string): string {
  return hash16(spn + protocol.toLowerCase());
}

export const svcChain = (spn: string, proto: string) => 'KUBE-SVC-' + portProtoHash(spn, proto);
export const svlChain = (spn: string, proto: string) => 'KUBE-SVL-' + portProtoHash(spn, proto);
export const extChain = (spn: string, proto: string) => 'KUBE-EXT-' + portProtoHash(spn, proto);
export const fwChain = (spn: string, proto: string) => 'KUBE-FW-' + portProtoHash(spn, proto);
export const sepChain = (spn: string, proto: string, ep: string) => 'KUBE-SEP-' + hash16(spn + proto.toLowerCase() + ep);
