// Chain names as kube-proxy computes them (pkg/proxy/iptables/proxier.go
// portProtoHash / servicePortEndpointChainName): the first 16 characters of
// the standard base32 of sha256(servicePortName + protocol [+ endpoint]),
// protocol lower-case, no separators. 16 because a chain name is at most 28
// characters.

import { createHash } from 'node:crypto';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The first 16 base32 characters of sha256(text): 80 of the 256 bits, no padding ever. */
export function hash16(text: string): string {
  const d = createHash('sha256').update(text).digest();
  let out = '';
  // 16 characters x 5 bits = 80 bits = the first 10 bytes.
  for (let i = 0; i < 10; i += 5) {
    const hi = (d[i]! << 24 | d[i + 1]! << 16 | d[i + 2]! << 8 | d[i + 3]!) >>> 0;
    const lo = d[i + 4]!;
    // 40 bits -> 8 characters: top 32 bits in hi, low 8 in lo.
    const big = hi * 256 + lo;
    for (let s = 35; s >= 0; s -= 5) out += B32[Math.floor(big / 2 ** s) % 32];
  }
  return out;
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
