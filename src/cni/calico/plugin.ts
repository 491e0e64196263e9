// Calico as a CNI behind the datapath seam (`cni: calico`, `routing: ipip`).

import type { CniPlugin } from '../../datapath/contract.ts';
import { createCalico } from './calico.ts';

export const calicoCni: CniPlugin = {
  name: 'calico',
  routings: ['ipip'],
  // The IPPool's natOutgoing (cniConfig: {natOutgoing: false} to turn it off).
  configError(config) {
    for (const [k, v] of Object.entries(config)) {
      if (k !== 'natOutgoing') return `unknown field "${k}"`;
      if (typeof v !== 'boolean') return 'natOutgoing: must be true or false';
    }
    return undefined;
  },
  create: ({ config }) => createCalico(config),
};
