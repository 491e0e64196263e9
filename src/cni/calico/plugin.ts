// Calico as a CNI behind the datapath seam (`cni: calico`, `routing: ipip`).

import type { CniPlugin } from '../../datapath/contract.ts';
import { createCalico } from './calico.ts';

export const calicoCni: CniPlugin = {
  name: 'calico',
  routings: ['ipip'],
  create: ({ config }) => createCalico(config),
};
