// GET /v1/ip[?cidr=]: models.IPListEntry per entry of the node's ipcache.

import { IPv4CidrRange, Validator } from 'ip-num';
import { inPrefix, u32ToIp } from '../../wire/addr.ts';
import { IpcacheKey, RemoteEndpointInfo } from '../../../maps/cilium_ipcache.ts';
import type { CiliumCluster } from '../control.ts';
import type { IPListEntry } from './models.ts';

/** A user's CIDR (or address = /32) parsed with ip-num; a RangeError saying what is wrong otherwise. */
export function parseCidr(s: string): { ip: number; prefixLen: number } {
  const text = s.includes('/') ? s : `${s}/32`;
  const [ok, why] = Validator.isValidIPv4CidrNotation(text);
  if (!ok) throw new RangeError(`invalid CIDR "${s}": ${why.join('; ')}`);
  const r = IPv4CidrRange.fromCidr(text);
  return { ip: Number(r.getFirst().getValue()), prefixLen: Number(r.getPrefix().getValue()) };
}

/** Entries sorted as IPListEntrySlice.Less does for IPv4: by address, then prefix length. */
export function ipList(ctl: CiliumCluster, node: string, cidr?: { ip: number; prefixLen: number }): IPListEntry[] {
  const rows = ctl.agent(node).maps.ipcache.entries().map(([k, v]) => ({ key: IpcacheKey.decode(k), val: RemoteEndpointInfo.decode(v) }));
  rows.sort((x, y) => x.key.ip - y.key.ip || x.key.prefixLen - y.key.prefixLen);
  const out: IPListEntry[] = [];
  for (const { key, val } of rows) {
    // ?cidr= keeps the entries inside the given prefix (the agent's prefix match).
    if (cidr && !(key.prefixLen >= cidr.prefixLen && inPrefix(key.ip, cidr.ip, cidr.prefixLen))) continue;
    const e: IPListEntry = { cidr: `${u32ToIp(key.ip)}/${key.prefixLen}`, identity: val.securityIdentity };
    if (val.tunnelEndpoint) e.hostIP = u32ToIp(val.tunnelEndpoint);
    e.encryptKey = val.key;
    const source = ctl.ipcacheSource(key.ip, key.prefixLen);
    if (source) e.metadata = { source, ...ctl.ipcachePod(key.ip, key.prefixLen) };
    out.push(e);
  }
  return out;
}
