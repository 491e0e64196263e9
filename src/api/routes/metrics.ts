// GET /metrics: Prometheus text (format 0.0.4) of the cluster: Hubble's flow
// metrics (hubble_flows_processed_total, hubble_drop_total, ...) and the
// agents' datapath counters (cilium_drop_count_total, cilium_forward_count_total,
// ...), summed over nodes. GET /nodes/:node/metrics: one node's, as its agent
// pod serves them. 404 when the CNI has none (not Cilium) or the node is unknown.

import type { FastifyPluginAsync } from 'fastify';
import { ClusterError } from '../../cluster/facade.ts';
import type { RouteOptions } from './options.ts';

export const metricsRoutes: FastifyPluginAsync<RouteOptions> = async (app, { cluster }) => {
  const send = async (node: string | undefined) => {
    const m = await cluster.metrics?.(node);
    if (!m) throw new ClusterError('no metrics: Hubble and the agent metrics come with the Cilium CNI', 404, 'metrics');
    return m;
  };
  app.get('/metrics', async (_req, reply) => {
    const m = await send(undefined);
    return reply.type(m.contentType).send(m.text);
  });
  app.get<{ Params: { node: string } }>('/nodes/:node/metrics', async (req, reply) => {
    const m = await send(req.params.node);
    return reply.type(m.contentType).send(m.text);
  });
};
