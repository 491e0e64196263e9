// The CNIs of this package behind the datapath seam: kindnet (kind's
// default, `routing: direct`). Bundled for src/cluster/datapaths.ts.

import type { CniPlugin } from '../datapath/contract.ts';
import type { DatapathBundle } from '../datapath/registry.ts';
import { createKindnet } from './kindnet/kindnet.ts';
import { calicoCni } from './calico/plugin.ts';

export const kindnetCni: CniPlugin = {
  name: 'kindnet',
  routings: ['direct'],
  create: ({ config }) => createKindnet(config),
};

export const cniDatapaths: DatapathBundle = { cnis: [kindnetCni, calicoCni] };
