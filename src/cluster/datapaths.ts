// The composition point: every datapath implementation the lab knows, by
// name. The only file of the cluster layer that imports an implementation; a
// new CNI or service proxy (kube-proxy, kindnet, Calico) adds its bundle here
// and nothing else in the cluster changes.

import { ciliumDatapaths, ciliumOf } from '../cilium/plugin.ts';
import { cniDatapaths } from '../cni/plugin.ts';
import { kubeProxyDatapaths } from '../kubeproxy/plugin.ts';
import type { Cni } from '../datapath/contract.ts';
import { DatapathRegistry } from '../datapath/registry.ts';
import { HubbleCluster, type HubbleOptions } from '../hubble/hubble.ts';
import type { Sim } from '../sim/sim.ts';

export const DATAPATHS = new DatapathRegistry([
  ciliumDatapaths, cniDatapaths, kubeProxyDatapaths,
  // kind's default: kindnet routes, kube-proxy's iptables rules; or its IPVS mode (kubeProxyMode: ipvs).
  { shortForms: { iptables: { cni: 'kindnet', serviceProxy: 'iptables' }, ipvs: { cni: 'kindnet', serviceProxy: 'ipvs' } } },
]);

/** Hubble (an observer per agent, the relay) when the CNI is Cilium; undefined for any other CNI. */
export function hubbleFor(cni: Cni, sim: Sim, opts: HubbleOptions = {}): HubbleCluster | undefined {
  const ctl = ciliumOf(cni);
  return ctl ? new HubbleCluster(ctl, sim, opts) : undefined;
}
