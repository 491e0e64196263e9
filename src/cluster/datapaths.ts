// The composition point: every datapath implementation the lab knows, by
// name. The only file of the cluster layer that imports an implementation; a
// new CNI or service proxy (kube-proxy, kindnet, Calico) adds its bundle here
// and nothing else in the cluster changes.

import { ciliumDatapaths } from '../cilium/plugin.ts';
import { DatapathRegistry } from '../datapath/registry.ts';

export const DATAPATHS = new DatapathRegistry([ciliumDatapaths]);
