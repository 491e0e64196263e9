// REST-backed list commands of cilium-dbg (1.16): endpoint list, identity list, ip list, service list.

import { u32ToIp } from '../../wire/addr.ts';
import { tabwrite } from '../../../maps/tabwriter.ts';
import { ipcacheKeyString, IpcacheKey, RemoteEndpointInfo } from '../../../maps/cilium_ipcache.ts';
import { Service4Key, Service4Value, serviceFlagsString } from '../../../maps/cilium_lb4_services_v2.ts';
import { Backend4KeyV3, Backend4Value } from '../../../maps/cilium_lb4_backends_v3.ts';
import type { CiliumCluster } from '../control.ts';

/** cilium-dbg/cmd/endpoint_list.go: sorted by id, labels one per line, two-line header. */
export function formatEndpointList(ctl: CiliumCluster, node: string, noHeaders = false): string {
  let s = noHeaders ? '' : 'ENDPOINT\tPOLICY (ingress)\tPOLICY (egress)\tIDENTITY\tLABELS (source:key[=value])\tIPv6\tIPv4\tSTATUS\t\n' +
    '\tENFORCEMENT\tENFORCEMENT\t\t\t\t\t\n';
  for (const ep of ctl.endpoints(node)) {
    const labels = ep.labels.length ? [...ep.labels].sort() : ['no labels'];
    const ipv4 = ep.ipv4 ? u32ToIp(ep.ipv4) : '';
    labels.forEach((l, i) => {
      s += i === 0 ? `${ep.id}\tDisabled\tDisabled\t${ep.identity}\t${l}\t\t${ipv4}\t${ep.state}\t\n` : `\t\t\t\t${l}\t\t\t\t\n`;
    });
  }
  return tabwrite(s, 5, 3);
}

/** identity_list.go: every identity the agent knows, sorted by id (tabwriter minwidth 2, padding 3). */
export function formatIdentityList(ctl: CiliumCluster, node: string): string {
  let s = 'ID\tLABELS\n';
  for (const { id } of ctl.identities()) {
    const labels = ctl.identityLabels(node, id) ?? [];
    labels.forEach((l, i) => { s += i === 0 ? `${id}\t${l}\n` : `\t${l}\n`; });
  }
  return tabwrite(s, 2, 3);
}

/**
 * ip_list.go over the agent's ipcache: sorted by address then prefix length;
 * identities print their labels (or the number with -n); SOURCE is the entry's origin.
 */
export function formatIpList(ctl: CiliumCluster, node: string, numeric = false): string {
  const a = ctl.agent(node);
  const rows = a.maps.ipcache.entries().map(([k, v]) => ({ key: IpcacheKey.decode(k), cidr: ipcacheKeyString(k), id: RemoteEndpointInfo.decode(v).securityIdentity }));
  rows.sort((x, y) => x.key.ip - y.key.ip || x.key.prefixLen - y.key.prefixLen);
  let s = 'IP\tIDENTITY\tSOURCE\n';
  for (const r of rows) {
    const src = ctl.ipcacheSource(r.key.ip, r.key.prefixLen);
    const ids = numeric ? [String(r.id)] : ctl.identityLabels(node, r.id) ?? [String(r.id)];
    ids.forEach((l, i) => { s += i === 0 ? `${r.cidr}\t${l}\t${src}\n` : `\t${l}\t\n`; });
  }
  return tabwrite(s, 5, 3);
}

/** One service of the agent's LB maps: id (= rev-NAT index), frontend, type, backends. */
export interface ServiceRow { id: number; frontend: string; type: string; backends: string[] }

/** Services as the agent holds them, read back from cilium_lb4_services_v2 / backends_v3. */
export function servicesOf(ctl: CiliumCluster, node: string): ServiceRow[] {
  const m = ctl.agent(node).maps;
  const masters = new Map<string, { key: Service4Key; val: Service4Value }>();
  const slots = new Map<string, Array<[number, number]>>();
  for (const [kb, vb] of m.lbServices.entries()) {
    const k = Service4Key.decode(kb), v = Service4Value.decode(vb);
    const fe = `${u32ToIp(k.address)}:${k.port}/${k.proto === 6 ? 'TCP' : k.proto === 17 ? 'UDP' : 'ANY'}`;
    if (k.backendSlot === 0) masters.set(fe, { key: k, val: v });
    else (slots.get(fe) ?? slots.set(fe, []).get(fe)!).push([k.backendSlot, v.backendId]);
  }
  const out: ServiceRow[] = [];
  for (const [fe, { val }] of masters) {
    const backends = (slots.get(fe) ?? []).sort((x, y) => x[0] - y[0]).map(([, id], i) => {
      const b = m.lbBackends.lookup(new Backend4KeyV3(id).encode());
      return `${i + 1} => ${b ? Backend4Value.decode(b).addrString() : `backend ${id}`} (active)`;
    });
    out.push({ id: val.revNat, frontend: fe, type: serviceFlagsString(val.flags | (val.flags2 << 8)).split(', ')[0]!, backends });
  }
  return out.sort((x, y) => x.id - y.id);
}

/** service_list.go (1.16, with the ID column): rows sorted by id, extra backends on continuation rows. */
export function formatServiceList(ctl: CiliumCluster, node: string): string {
  let s = 'ID\tFrontend\tService Type\tBackend\t\n';
  for (const r of servicesOf(ctl, node)) {
    s += `${r.id}\t${r.frontend}\t${r.type}\t${r.backends[0] ?? ''}\t\n`;
    for (const b of r.backends.slice(1)) s += `\t\t\t${b}\t\n`;
  }
  return tabwrite(s, 5, 3);
}
